package httpapi_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"seen/internal/chat"
	"seen/internal/httpapi"
)

func TestStatusTableCoversEveryCode(t *testing.T) {
	for code := range chat.Numbers {
		if _, ok := httpapi.Statuses[code]; !ok {
			t.Errorf("Statuses[%q] missing", code)
		}
	}
	for code := range httpapi.Statuses {
		if _, ok := chat.Numbers[code]; !ok {
			t.Errorf("Statuses has %q, which chat does not define", code)
		}
	}
}

func TestStatus(t *testing.T) {
	tests := []struct {
		code chat.Code
		want int
	}{
		{chat.CodeBadRequest, 400},
		{chat.CodeUnauthorized, 401},
		{chat.CodeTokenExpired, 401},
		{chat.CodeRegistrationOff, 403},
		{chat.CodeUserExists, 409},
		{chat.CodeUserNotFound, 404},
		{chat.CodePermissionDenied, 403},
		{chat.CodeGroupNotFound, 404},
		{chat.CodeNotMember, 403},
		{chat.CodeAlreadyMember, 409},
		{chat.CodeGroupFull, 409},
		{chat.CodeMessageNotFound, 404},
		{chat.CodeTooLarge, 413},
		{chat.CodeRateLimited, 429},
		{chat.CodeLimitExceeded, 403},
		{chat.CodeNotAllowed, 409},
		{chat.CodeUnavailable, 503},
		{chat.CodeInternal, 500},
		{chat.Code("no_such_code"), 500},
	}
	for _, tt := range tests {
		if got := httpapi.Status(tt.code); got != tt.want {
			t.Errorf("Status(%q) = %d, want %d", tt.code, got, tt.want)
		}
	}
}

func TestAccounts(t *testing.T) {
	h := newHarness(t)

	r := h.must(201, req{method: "POST", path: "/api/v1/users", body: map[string]string{"username": "Alice", "password": "password"}})
	if r.body["username"] != "alice" {
		t.Errorf("register reply = %s, want username alice", r.raw)
	}
	h.wantErr(409, "user_exists", req{method: "POST", path: "/api/v1/users", body: map[string]string{"username": "alice", "password": "password"}})
	h.wantErr(400, "bad_request", req{method: "POST", path: "/api/v1/users", body: map[string]string{"username": "no spaces", "password": "password"}})
	h.wantErr(400, "bad_request", req{method: "POST", path: "/api/v1/users", body: map[string]string{"username": "bob", "password": "short"}})

	// Login.
	r = h.must(200, req{method: "POST", path: "/api/v1/token", body: map[string]string{"username": "alice", "password": "password"}})
	tok, _ := r.body["access_token"].(string)
	if tok == "" || r.body["user"] != "alice" {
		t.Fatalf("token reply = %s", r.raw)
	}
	if exp, _ := r.body["expires_in"].(float64); exp < 7*24*3600-60 || exp > 7*24*3600 {
		t.Errorf("expires_in = %v, want about 7 days in seconds", r.body["expires_in"])
	}
	h.wantErr(401, "unauthorized", req{method: "POST", path: "/api/v1/token", body: map[string]string{"username": "alice", "password": "wrong-password"}})
	h.wantErr(401, "unauthorized", req{method: "POST", path: "/api/v1/token", body: map[string]string{"username": "nobody", "password": "password"}})

	// Authentication failures.
	r = h.wantErr(401, "unauthorized", req{method: "GET", path: "/api/v1/groups"})
	if !strings.HasPrefix(r.header.Get("WWW-Authenticate"), "Bearer") {
		t.Errorf("WWW-Authenticate = %q, want Bearer", r.header.Get("WWW-Authenticate"))
	}
	h.wantErr(401, "unauthorized", req{method: "GET", path: "/api/v1/groups", token: "not-a-token"})
	h.wantErr(401, "unauthorized", req{method: "GET", path: "/api/v1/groups", header: map[string]string{"Authorization": "Basic " + tok}})
	h.wantErr(400, "bad_request", req{method: "GET", path: "/api/v1/groups", token: tok, header: map[string]string{"X-Seen-Device": "has space"}})
	h.must(200, req{method: "GET", path: "/api/v1/groups", token: tok})

	// Logout revokes that token only.
	other := h.login("alice", "password")
	h.must(204, req{method: "DELETE", path: "/api/v1/token", token: tok})
	h.wantErr(401, "unauthorized", req{method: "GET", path: "/api/v1/groups", token: tok})
	h.must(200, req{method: "GET", path: "/api/v1/groups", token: other})

	// Changing the password revokes every token.
	third := h.login("alice", "password")
	h.wantErr(401, "unauthorized", req{method: "PUT", path: "/api/v1/me/password", token: other,
		body: map[string]string{"oldPassword": "wrong-password", "newPassword": "password2"}})
	h.must(200, req{method: "GET", path: "/api/v1/groups", token: other}) // the refused change changed nothing
	h.must(204, req{method: "PUT", path: "/api/v1/me/password", token: other,
		body: map[string]string{"oldPassword": "password", "newPassword": "password2"}})
	h.wantErr(401, "unauthorized", req{method: "GET", path: "/api/v1/groups", token: other})
	h.wantErr(401, "unauthorized", req{method: "GET", path: "/api/v1/groups", token: third})
	h.wantErr(401, "unauthorized", req{method: "POST", path: "/api/v1/token", body: map[string]string{"username": "alice", "password": "password"}})
	h.login("alice", "password2")
}

func TestRegistrationClosed(t *testing.T) {
	h := newHarness(t, closedRegistration())
	h.wantErr(403, "registration_closed", req{method: "POST", path: "/api/v1/users", body: map[string]string{"username": "alice", "password": "password"}})
	h.wantErr(401, "unauthorized", req{method: "POST", path: "/api/v1/token", body: map[string]string{"username": "alice", "password": "password"}})
	admin := req{method: "POST", path: "/api/v1/admin/users", token: adminToken, body: []map[string]string{{"username": "alice", "password": "password"}}}
	h.must(201, admin)
	h.login("alice", "password")
}

func TestAdmin(t *testing.T) {
	h := newHarness(t)
	alice := h.user("alice")

	// Credentials.
	list := req{method: "GET", path: "/api/v1/admin/users"}
	h.wantErr(401, "unauthorized", list)
	list.token = "wrong"
	h.wantErr(401, "unauthorized", list)
	list.token = alice // a user token is not the admin token
	h.wantErr(401, "unauthorized", list)

	// Bulk creation: all or none.
	create := req{method: "POST", path: "/api/v1/admin/users", token: adminToken, body: []map[string]string{
		{"username": "bob", "password": "password"},
		{"username": "alice", "password": "password"}, // taken
	}}
	h.wantErr(409, "user_exists", create)
	create.body = []map[string]string{{"username": "bob", "password": "password"}, {"username": "carol", "password": "password"}}
	r := h.must(201, create)
	if got, want := strs(r, "users", "username"), []string{"bob", "carol"}; !cmp.Equal(got, want) {
		t.Errorf("created users = %v, want %v", got, want)
	}
	h.wantErr(400, "bad_request", req{method: "POST", path: "/api/v1/admin/users", token: adminToken, body: []map[string]string{}})

	// Listing, paged.
	r = h.must(200, req{method: "GET", path: "/api/v1/admin/users?limit=2", token: adminToken})
	if got, want := strs(r, "users", "username"), []string{"alice", "bob"}; !cmp.Equal(got, want) {
		t.Errorf("users page 1 = %v, want %v", got, want)
	}
	if r.body["cursor"] != "bob" {
		t.Errorf("users page 1 cursor = %v, want bob", r.body["cursor"])
	}
	r = h.must(200, req{method: "GET", path: "/api/v1/admin/users?limit=2&after=bob", token: adminToken})
	if got, want := strs(r, "users", "username"), []string{"carol"}; !cmp.Equal(got, want) || r.body["cursor"] != "" {
		t.Errorf("users page 2 = %v cursor %v, want %v and no cursor", got, r.body["cursor"], want)
	}
	h.wantErr(400, "bad_request", req{method: "GET", path: "/api/v1/admin/users?limit=x", token: adminToken})

	// Password reset revokes the user's tokens.
	h.must(204, req{method: "PUT", path: "/api/v1/admin/users/alice/password", token: adminToken, body: map[string]string{"password": "newpassword"}})
	h.wantErr(401, "unauthorized", req{method: "GET", path: "/api/v1/groups", token: alice})
	alice = h.login("alice", "newpassword")
	h.wantErr(404, "user_not_found", req{method: "PUT", path: "/api/v1/admin/users/nobody/password", token: adminToken, body: map[string]string{"password": "newpassword"}})

	// Groups on someone's behalf.
	h.wantErr(400, "bad_request", req{method: "POST", path: "/api/v1/admin/groups", token: adminToken, body: map[string]any{"name": "g"}})
	r = h.must(201, req{method: "POST", path: "/api/v1/admin/groups", token: adminToken, body: map[string]any{
		"owner": "alice", "name": "team", "description": "d", "public": false, "maxMembers": 10, "members": []string{"bob"},
	}})
	if r.body["owner"] != "alice" || r.body["memberCount"] != 2.0 || r.body["maxMembers"] != 10.0 || r.body["name"] != "team" {
		t.Errorf("admin group = %s", r.raw)
	}
	gid := r.body["groupId"].(string)
	r = h.must(200, req{method: "POST", path: "/api/v1/admin/groups/" + gid + "/members", token: adminToken, body: map[string]any{"users": []string{"bob", "carol"}}})
	if got, want := strs(r, "added", ""), []string{"carol"}; !cmp.Equal(got, want) {
		t.Errorf("admin add = %v, want %v", got, want)
	}
	r = h.must(200, req{method: "GET", path: "/api/v1/groups/" + gid + "/members", token: alice})
	if got, want := strs(r, "members", "username"), []string{"alice", "bob", "carol"}; !cmp.Equal(got, want) {
		t.Errorf("members = %v, want %v", got, want)
	}
	h.wantErr(404, "group_not_found", req{method: "POST", path: "/api/v1/admin/groups/12345/members", token: adminToken, body: map[string]any{"users": []string{"bob"}}})
}

func TestAdminDisabled(t *testing.T) {
	h := newHarness(t, noAdmin())
	for _, tok := range []string{"", adminToken, "anything"} {
		r := h.wantErr(403, "permission_denied", req{method: "GET", path: "/api/v1/admin/users", token: tok})
		if !strings.Contains(string(r.raw), "--admin-token") {
			t.Errorf("disabled admin reply = %s, want a hint at --admin-token", r.raw)
		}
	}
}

func TestErrorBody(t *testing.T) {
	h := newHarness(t)
	r := h.do(req{method: "GET", path: "/api/v1/groups"})
	if ct := r.header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
		t.Errorf("Content-Type = %q, want JSON", ct)
	}
	e, _ := r.body["error"].(map[string]any)
	if e["code"] != 202.0 || e["name"] != "unauthorized" || e["message"] == "" {
		t.Errorf("error body = %s, want code 202, name unauthorized and a message", r.raw)
	}
}

func TestUnknownRoutes(t *testing.T) {
	h := newHarness(t)
	r := h.wantErr(http.StatusNotFound, "bad_request", req{method: "GET", path: "/api/v1/nothing"})
	if !strings.Contains(string(r.raw), "no endpoint") {
		t.Errorf("404 body = %s", r.raw)
	}
	r = h.wantErr(http.StatusMethodNotAllowed, "bad_request", req{method: "PATCH", path: "/api/v1/token"})
	if allow := r.header.Get("Allow"); !strings.Contains(allow, "POST") || !strings.Contains(allow, "DELETE") {
		t.Errorf("405 Allow = %q, want POST and DELETE", allow)
	}
}
