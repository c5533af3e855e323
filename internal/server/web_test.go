package server_test

import (
	"io"
	"net/http"
	"strings"
	"testing"

	"seen/sdk"
)

// TestWeb: the demo app at /, the SDK bundle at /sdk/webim.js, and the
// API still answering its own paths.
func TestWeb(t *testing.T) {
	r := start(t, testConfig(t))
	code, body := r.get(t, "/")
	if code != http.StatusOK || !strings.Contains(body, `<script src="/sdk/webim.js">`) {
		t.Errorf("GET / = %d, want 200 with the demo page loading /sdk/webim.js; got %.200s", code, body)
	}
	resp, err := r.client.Get(r.url + "/sdk/webim.js")
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || string(b) != string(sdk.Bundle) || !strings.HasPrefix(resp.Header.Get("Content-Type"), "application/javascript") {
		t.Errorf("GET /sdk/webim.js = %d %q, %d bytes; want 200, JavaScript, the embedded bundle", resp.StatusCode, resp.Header.Get("Content-Type"), len(b))
	}
	etag := resp.Header.Get("ETag")
	req, _ := http.NewRequest("GET", r.url+"/sdk/webim.js", nil)
	req.Header.Set("If-None-Match", etag)
	resp, err = r.client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if etag == "" || resp.StatusCode != http.StatusNotModified {
		t.Errorf("GET /sdk/webim.js with If-None-Match %q = %d, want 304", etag, resp.StatusCode)
	}
	for _, tc := range []struct {
		method, path string
		want         int
	}{
		{"GET", "/assets/app.js", http.StatusOK},
		{"GET", "/no-such-file", http.StatusNotFound},
		{"POST", "/", http.StatusMethodNotAllowed},
		{"GET", "/api/v1/no-such-endpoint", http.StatusNotFound},
		{"GET", "/healthz", http.StatusOK},
	} {
		req, _ := http.NewRequest(tc.method, r.url+tc.path, nil)
		resp, err := r.client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != tc.want {
			t.Errorf("%s %s = %d, want %d", tc.method, tc.path, resp.StatusCode, tc.want)
		}
	}
}
