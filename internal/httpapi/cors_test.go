package httpapi_test

import (
	"net/url"
	"strings"
	"testing"

	"seen/internal/httpapi"
)

func TestOriginAllowed(t *testing.T) {
	patterns := []string{"localhost:*", "app.example.com", "https://*.example.org"}
	tests := []struct {
		origin, host string
		want         bool
	}{
		{"http://seen.example.net", "seen.example.net", true}, // same host
		{"https://SEEN.example.net", "seen.example.net", true},
		{"http://localhost:3000", "seen.example.net", true},
		{"http://localhost", "seen.example.net", false}, // no port: "localhost:*" does not match
		{"https://app.example.com", "seen.example.net", true},
		{"http://app.example.com", "seen.example.net", true}, // host patterns ignore the scheme
		{"https://a.example.org", "seen.example.net", true},
		{"http://a.example.org", "seen.example.net", false}, // scheme patterns do not
		{"https://evil.com", "seen.example.net", false},
		{"https://app.example.com.evil.com", "seen.example.net", false},
		{"null", "seen.example.net", false},
		{"", "seen.example.net", false},
	}
	for _, tt := range tests {
		if got := httpapi.OriginAllowed(tt.origin, tt.host, patterns); got != tt.want {
			t.Errorf("OriginAllowed(%q, %q) = %v, want %v", tt.origin, tt.host, got, tt.want)
		}
	}
	if err := httpapi.CheckOriginPatterns([]string{"[bad"}); err == nil {
		t.Errorf("CheckOriginPatterns([bad) = nil, want an error")
	}
	if err := httpapi.CheckOriginPatterns(patterns); err != nil {
		t.Errorf("CheckOriginPatterns(%v) = %v", patterns, err)
	}
}

func TestCORS(t *testing.T) {
	h := newHarness(t) // allows "localhost:*" and "https://app.example.com"
	alice := h.user("alice")
	self := "http://" + mustHost(t, h.srv.URL)

	preflight := func(origin string) resp {
		return h.do(req{method: "OPTIONS", path: "/api/v1/messages", header: map[string]string{
			"Origin": origin, "Access-Control-Request-Method": "POST", "Access-Control-Request-Headers": "authorization, content-type, x-seen-device",
		}})
	}
	for _, origin := range []string{"https://app.example.com", "http://localhost:5173", self} {
		r := preflight(origin)
		if r.status != 204 {
			t.Errorf("preflight from %s = %d %s, want 204", origin, r.status, r.raw)
		}
		if got := r.header.Get("Access-Control-Allow-Origin"); got != origin {
			t.Errorf("preflight from %s: Allow-Origin = %q", origin, got)
		}
		allowed := strings.ToLower(r.header.Get("Access-Control-Allow-Headers"))
		for _, want := range []string{"authorization", "content-type", "x-seen-device"} {
			if !strings.Contains(allowed, want) {
				t.Errorf("preflight from %s: Allow-Headers = %q, want %s", origin, allowed, want)
			}
		}
		if m := r.header.Get("Access-Control-Allow-Methods"); !strings.Contains(m, "DELETE") || !strings.Contains(m, "PUT") {
			t.Errorf("preflight from %s: Allow-Methods = %q", origin, m)
		}
	}
	for _, origin := range []string{"https://evil.com", "http://app.example.com"} {
		r := preflight(origin)
		if r.status != 403 || r.code() != "permission_denied" {
			t.Errorf("preflight from %s = %d %s, want 403 permission_denied", origin, r.status, r.raw)
		}
		if got := r.header.Get("Access-Control-Allow-Origin"); got != "" {
			t.Errorf("preflight from %s: Allow-Origin = %q, want none", origin, got)
		}
	}

	// Actual requests: allowed origins get the header echoed ...
	r := h.must(200, req{method: "GET", path: "/api/v1/groups", token: alice, header: map[string]string{"Origin": "https://app.example.com"}})
	if got := r.header.Get("Access-Control-Allow-Origin"); got != "https://app.example.com" {
		t.Errorf("Allow-Origin = %q, want the origin", got)
	}
	if !strings.Contains(strings.Join(r.header.Values("Vary"), ","), "Origin") {
		t.Errorf("Vary = %q, want Origin", r.header.Values("Vary"))
	}
	// ... error replies too, so the page can read them ...
	r = h.wantErr(401, "unauthorized", req{method: "GET", path: "/api/v1/groups", header: map[string]string{"Origin": "http://localhost:3000"}})
	if got := r.header.Get("Access-Control-Allow-Origin"); got != "http://localhost:3000" {
		t.Errorf("error reply Allow-Origin = %q, want the origin", got)
	}
	// ... and others are refused before anything happens.
	r = h.wantErr(403, "permission_denied", req{method: "POST", path: "/api/v1/users", header: map[string]string{"Origin": "https://evil.com"},
		body: map[string]string{"username": "mallory", "password": "password"}})
	if got := r.header.Get("Access-Control-Allow-Origin"); got != "" {
		t.Errorf("refused request Allow-Origin = %q, want none", got)
	}
	h.wantErr(401, "unauthorized", req{method: "POST", path: "/api/v1/token", body: map[string]string{"username": "mallory", "password": "password"}})
	// Requests without Origin (not from a browser page) are not CORS.
	r = h.must(200, req{method: "GET", path: "/api/v1/groups", token: alice})
	if got := r.header.Get("Access-Control-Allow-Origin"); got != "" {
		t.Errorf("Allow-Origin without Origin = %q, want none", got)
	}
}

func mustHost(t *testing.T, raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		t.Fatal(err)
	}
	return u.Host
}
