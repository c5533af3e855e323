// Package appkey is the rule of the vendor SDK's app key, "org#app",
// shared by the endpoints that serve the SDK (internal/emrest's REST
// paths, internal/msync's PROVISION) and by the server's configuration.
// It is a leaf package so that neither transport imports the other.
package appkey

import (
	"fmt"
	"strings"
)

// Parse splits an app key "org#app" into its two parts. Each must be
// 1-64 characters of ASCII letters, digits, '-' and '_': they are path
// segments of every REST call, and the SDK splits the key on '#'. The org
// "api" is refused: /api/ is seen's own REST API.
func Parse(key string) (org, app string, err error) {
	parts := strings.Split(key, "#")
	if len(parts) != 2 {
		return "", "", fmt.Errorf("app key %q is not org#app", key)
	}
	for _, p := range parts {
		if err := checkPart(p); err != nil {
			return "", "", fmt.Errorf("app key %q: %w", key, err)
		}
	}
	if strings.EqualFold(parts[0], "api") {
		return "", "", fmt.Errorf("app key %q: the org name api is seen's own REST API (/api/)", key)
	}
	return parts[0], parts[1], nil
}

// checkPart checks one part of an app key.
func checkPart(p string) error {
	if len(p) < 1 || len(p) > 64 {
		return fmt.Errorf("%q must be 1-64 characters", p)
	}
	for _, r := range p {
		ok := r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' || r == '_'
		if !ok {
			return fmt.Errorf("%q may hold only letters, digits, '-' and '_'", p)
		}
	}
	return nil
}
