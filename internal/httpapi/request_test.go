package httpapi_test

import (
	"strings"
	"testing"
)

// chunked is a body sent without Content-Length.
type chunked string

func TestBadBodies(t *testing.T) {
	h := newHarness(t)
	alice := h.user("alice")
	gid := h.group(alice, map[string]any{"name": "team"})
	huge := `{"username": "` + strings.Repeat("a", 1<<20) + `", "password": "password"}`

	endpoints := []struct {
		method, path, token string
		valid               string // a valid body, to show the endpoint itself works
	}{
		{"POST", "/api/v1/users", "", `{"username": "bob", "password": "password"}`},
		{"POST", "/api/v1/groups", alice, `{"name": "g2"}`},
		{"POST", "/api/v1/messages", alice, `{"localId": "x", "type": "txt", "chatType": "groupChat", "to": "` + gid + `", "msg": "hi"}`},
		{"POST", "/api/v1/admin/users", adminToken, `[{"username": "carol", "password": "password"}]`},
		{"PUT", "/api/v1/me/password", alice, `{"oldPassword": "password", "newPassword": "password"}`},
	}
	bodies := []struct {
		name   string
		body   any
		ctype  string // "" keeps application/json; "-" removes it
		status int
		code   string
	}{
		{"malformed", `{"username": `, "", 400, "bad_request"},
		{"not json", `hello`, "", 400, "bad_request"},
		{"unknown field", `{"username": "x", "password": "password", "admin": true}`, "", 400, "bad_request"},
		{"unknown field in array", `[{"username": "x", "password": "password", "admin": true}]`, "", 400, "bad_request"},
		{"wrong type", `{"username": 42, "name": 42, "localId": 42, "oldPassword": 42}`, "", 400, "bad_request"},
		{"array for object", `[1, 2]`, "", 400, "bad_request"},
		{"object for array", `{"username": "x"}`, "", 400, "bad_request"},
		{"trailing data", `{} {}`, "", 400, "bad_request"},
		{"empty", ``, "", 400, "bad_request"},
		{"oversize", huge, "", 413, "too_large"},
		{"oversize chunked", chunked(huge), "", 413, "too_large"},
		{"text/plain", `{}`, "text/plain", 400, "bad_request"},
		{"form", `username=x`, "application/x-www-form-urlencoded", 400, "bad_request"},
		{"no content type", `{}`, "-", 400, "bad_request"},
	}
	for _, ep := range endpoints {
		for _, b := range bodies {
			if ep.path == "/api/v1/admin/users" && b.name == "object for array" {
				continue // the admin endpoint is the one that takes an array
			}
			if ep.path != "/api/v1/admin/users" && (b.name == "object for array" || b.name == "unknown field in array") {
				continue
			}
			hdr := map[string]string{}
			switch b.ctype {
			case "":
			case "-":
				hdr["Content-Type"] = ""
			default:
				hdr["Content-Type"] = b.ctype
			}
			r := h.do(req{method: ep.method, path: ep.path, token: ep.token, body: b.body, header: hdr})
			if r.status != b.status || r.code() != b.code {
				t.Errorf("%s %s with %s = %d %.200s, want %d %s", ep.method, ep.path, b.name, r.status, r.raw, b.status, b.code)
			}
			if msg, _ := r.body["error"].(map[string]any)["message"].(string); msg == "" {
				t.Errorf("%s %s with %s: no error message", ep.method, ep.path, b.name)
			}
		}
	}

	// Nothing changed: no users but alice, one group, no messages, and
	// alice's password is still "password".
	r := h.must(200, req{method: "GET", path: "/api/v1/admin/users", token: adminToken})
	if got := strs(r, "users", "username"); len(got) != 1 || got[0] != "alice" {
		t.Errorf("users after bad bodies = %v, want [alice]", got)
	}
	r = h.must(200, req{method: "GET", path: "/api/v1/groups", token: alice})
	if got := strs(r, "groups", "groupId"); len(got) != 1 {
		t.Errorf("groups after bad bodies = %v, want 1", got)
	}
	r = h.must(200, req{method: "GET", path: "/api/v1/history?chatType=groupChat&to=" + gid, token: alice})
	if got := list(r, "messages"); len(got) != 0 {
		t.Errorf("messages after bad bodies = %s, want none", r.raw)
	}
	h.login("alice", "password")

	// And each endpoint works with its valid body.
	for _, ep := range endpoints {
		r := h.do(req{method: ep.method, path: ep.path, token: ep.token, body: ep.valid})
		if r.status >= 300 {
			t.Errorf("%s %s with a valid body = %d %s", ep.method, ep.path, r.status, r.raw)
		}
	}
}

func TestBadBodyMessages(t *testing.T) {
	h := newHarness(t)
	tests := []struct {
		body, want string
	}{
		{`{"username": 42}`, `field \"username\" must be a string, not number`},
		{`{"username": "x", "extra": 1}`, `unknown field \"extra\"`},
		{`[]`, `the body must be an object, not array`},
		{`{"username": "x"`, `ends in the middle`},
		{`{"username": x}`, `malformed JSON at byte`},
	}
	for _, tt := range tests {
		r := h.do(req{method: "POST", path: "/api/v1/users", body: tt.body})
		if !strings.Contains(string(r.raw), tt.want) {
			t.Errorf("POST /api/v1/users %s = %s, want a message containing %s", tt.body, r.raw, tt.want)
		}
	}
}
