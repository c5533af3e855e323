package httpapi_test

import (
	"net/http/httptest"
	"testing"

	"seen/internal/httpapi"
)

// TestBearerCheck: the one check of a configured bearer secret (admin
// API, /metrics): the scheme is case-insensitive, the token must match
// exactly, and an empty secret matches nothing.
func TestBearerCheck(t *testing.T) {
	const secret = "s3cret-token-0123456789"
	for _, tc := range []struct {
		name, secret, header string
		want                 bool
	}{
		{"match", secret, "Bearer " + secret, true},
		{"scheme case", secret, "bearer " + secret, true},
		{"spaces around the token", secret, "Bearer   " + secret + " ", true},
		{"wrong token", secret, "Bearer wrong-token-0123456789", false},
		{"prefix of the token", secret, "Bearer " + secret[:10], false},
		{"longer token", secret, "Bearer " + secret + "x", false},
		{"other scheme", secret, "Basic " + secret, false},
		{"no token", secret, "Bearer", false},
		{"no header", secret, "", false},
		{"empty secret, empty token", "", "Bearer ", false},
		{"empty secret", "", "Bearer x", false},
	} {
		r := httptest.NewRequest("GET", "/", nil)
		if tc.header != "" {
			r.Header.Set("Authorization", tc.header)
		}
		if got := httpapi.BearerCheck(tc.secret)(r); got != tc.want {
			t.Errorf("%s: BearerCheck(%q) with %q = %v, want %v", tc.name, tc.secret, tc.header, got, tc.want)
		}
	}
}
