package httpapi

import (
	"net/http"
	"net/url"
	"path"
	"strings"

	"seen/internal/chat"
)

// CORS: the allowed-headers and methods a cross-origin page may use.
const (
	corsHeaders = "Authorization, Content-Type, X-Seen-Device"
	corsMethods = "GET, POST, PUT, DELETE"
	corsMaxAge  = "600"
)

// cors applies the cross-origin policy and reports whether the request
// should go on. A request from an origin that is not allowed is refused
// with permission_denied and no CORS headers, before anything is done;
// an allowed preflight is answered here.
func (a *API) cors(w http.ResponseWriter, r *http.Request) bool {
	h := w.Header()
	h.Add("Vary", "Origin")
	origin := r.Header.Get("Origin")
	if origin == "" {
		return true // not a browser cross-origin request
	}
	if !OriginAllowed(origin, r.Host, a.cfg.AllowedOrigins) {
		writeError(w, chat.Errorf(chat.CodePermissionDenied, "origin %s is not allowed; see --allowed-origins", origin))
		return false
	}
	h.Set("Access-Control-Allow-Origin", origin)
	if r.Method == http.MethodOptions && r.Header.Get("Access-Control-Request-Method") != "" {
		h.Add("Vary", "Access-Control-Request-Method")
		h.Add("Vary", "Access-Control-Request-Headers")
		h.Set("Access-Control-Allow-Methods", corsMethods)
		h.Set("Access-Control-Allow-Headers", corsHeaders)
		h.Set("Access-Control-Max-Age", corsMaxAge)
		w.WriteHeader(http.StatusNoContent)
		return false
	}
	return true
}

// OriginAllowed reports whether a page at origin may use a server reached
// as host. The rules are those of the WebSocket origin check
// (github.com/coder/websocket AcceptOptions.OriginPatterns), so REST and
// WebSocket agree: the server's own host is always allowed; each pattern
// is matched case-insensitively with path.Match against the origin's
// host, or against "scheme://host" when the pattern contains "://".
func OriginAllowed(origin, host string, patterns []string) bool {
	u, err := url.Parse(origin)
	if err != nil || u.Host == "" {
		return false
	}
	if strings.EqualFold(u.Host, host) {
		return true
	}
	for _, p := range patterns {
		target := u.Host
		if strings.Contains(p, "://") {
			target = u.Scheme + "://" + u.Host
		}
		if ok, err := path.Match(strings.ToLower(p), strings.ToLower(target)); err == nil && ok {
			return true
		}
	}
	return false
}

// CheckOriginPatterns reports the first malformed origin pattern.
func CheckOriginPatterns(patterns []string) error {
	for _, p := range patterns {
		if _, err := path.Match(strings.ToLower(p), ""); err != nil || p == "" {
			return chat.Errorf(chat.CodeBadRequest, "allowed origin %q is not a valid pattern", p)
		}
	}
	return nil
}
