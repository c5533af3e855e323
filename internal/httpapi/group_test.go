package httpapi_test

import (
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestGroups(t *testing.T) {
	h := newHarness(t)
	alice, bob, carol, dave := h.user("alice"), h.user("bob"), h.user("carol"), h.user("dave")

	r := h.must(201, req{method: "POST", path: "/api/v1/groups", token: alice, body: map[string]any{
		"name": "team", "description": "the team", "members": []string{"bob"}, "ext": map[string]any{"color": "red"},
	}})
	gid := r.body["groupId"].(string)
	want := map[string]any{
		"groupId": gid, "name": "team", "description": "the team", "public": false, "owner": "alice",
		"maxMembers": 100000.0, "memberCount": 2.0, "createdAt": r.body["createdAt"], "ext": map[string]any{"color": "red"},
		"receiptPolicy": map[string]any{"request": "admins", "visibility": "admins", "lists": true},
	}
	if diff := cmp.Diff(want, r.body); diff != "" {
		t.Errorf("create group reply (-want +got):\n%s", diff)
	}
	if r.body["createdAt"].(float64) <= 0 {
		t.Errorf("createdAt = %v, want Unix ms", r.body["createdAt"])
	}
	// Users cannot name an owner.
	h.wantErr(400, "bad_request", req{method: "POST", path: "/api/v1/groups", token: alice, body: map[string]any{"name": "x", "owner": "bob"}})
	h.wantErr(404, "user_not_found", req{method: "POST", path: "/api/v1/groups", token: alice, body: map[string]any{"name": "x", "members": []string{"nobody"}}})

	// Info: members see it, others do not (private group).
	r = h.must(200, req{method: "GET", path: "/api/v1/groups/" + gid, token: bob})
	if r.body["owner"] != "alice" || r.body["memberCount"] != 2.0 {
		t.Errorf("group info = %s", r.raw)
	}
	h.wantErr(403, "not_member", req{method: "GET", path: "/api/v1/groups/" + gid, token: carol})
	h.wantErr(404, "group_not_found", req{method: "GET", path: "/api/v1/groups/999", token: alice})
	h.wantErr(400, "bad_request", req{method: "GET", path: "/api/v1/groups/abc", token: alice})

	// Mine.
	pub := h.group(bob, map[string]any{"name": "public", "public": true})
	r = h.must(200, req{method: "GET", path: "/api/v1/groups", token: bob})
	if got := strs(r, "groups", "groupId"); len(got) != 2 {
		t.Errorf("bob's groups = %v, want 2", got)
	}
	r = h.must(200, req{method: "GET", path: "/api/v1/groups?limit=1", token: bob})
	if got := strs(r, "groups", "groupId"); len(got) != 1 || r.body["cursor"] == "" {
		t.Errorf("bob's groups page 1 = %v cursor %v, want 1 and a cursor", got, r.body["cursor"])
	}
	r = h.must(200, req{method: "GET", path: "/api/v1/groups?limit=1&cursor=" + r.body["cursor"].(string), token: bob})
	if got := strs(r, "groups", "groupId"); len(got) != 1 || r.body["cursor"] != "" {
		t.Errorf("bob's groups page 2 = %v cursor %v, want 1 and no cursor", got, r.body["cursor"])
	}
	r = h.must(200, req{method: "GET", path: "/api/v1/groups/" + pub, token: carol}) // public
	if r.body["owner"] != "bob" {
		t.Errorf("public group owner = %v, want bob", r.body["owner"])
	}

	// Adding: owner and admins only.
	h.wantErr(403, "permission_denied", req{method: "POST", path: "/api/v1/groups/" + gid + "/members", token: bob, body: map[string]any{"users": []string{"carol"}}})
	h.wantErr(403, "not_member", req{method: "POST", path: "/api/v1/groups/" + gid + "/members", token: carol, body: map[string]any{"users": []string{"carol"}}})
	r = h.must(200, req{method: "POST", path: "/api/v1/groups/" + gid + "/members", token: alice, body: map[string]any{"users": []string{"carol", "bob"}}})
	if got, want := strs(r, "added", ""), []string{"carol"}; !cmp.Equal(got, want) {
		t.Errorf("added = %v, want %v", got, want)
	}

	// Members, paged.
	r = h.must(200, req{method: "GET", path: "/api/v1/groups/" + gid + "/members?limit=2", token: carol})
	if got, want := strs(r, "members", "username"), []string{"alice", "bob"}; !cmp.Equal(got, want) || r.body["cursor"] == "" {
		t.Errorf("members page 1 = %v cursor %v, want %v and a cursor", got, r.body["cursor"], want)
	}
	if m := list(r, "members")[0].(map[string]any); m["role"] != "owner" || m["joinedAt"].(float64) <= 0 {
		t.Errorf("member = %v, want owner with joinedAt", m)
	}
	r = h.must(200, req{method: "GET", path: "/api/v1/groups/" + gid + "/members?limit=2&cursor=" + r.body["cursor"].(string), token: carol})
	if got, want := strs(r, "members", "username"), []string{"carol"}; !cmp.Equal(got, want) || r.body["cursor"] != "" {
		t.Errorf("members page 2 = %v cursor %v, want %v", got, r.body["cursor"], want)
	}
	h.wantErr(400, "bad_request", req{method: "GET", path: "/api/v1/groups/" + gid + "/members?cursor=zzz", token: carol})

	// Admins.
	h.wantErr(403, "permission_denied", req{method: "PUT", path: "/api/v1/groups/" + gid + "/admins/carol", token: bob})
	h.must(204, req{method: "PUT", path: "/api/v1/groups/" + gid + "/admins/bob", token: alice})
	r = h.must(200, req{method: "GET", path: "/api/v1/groups/" + gid + "/admins", token: carol})
	if got, want := strs(r, "members", "username"), []string{"alice", "bob"}; !cmp.Equal(got, want) {
		t.Errorf("admins = %v, want %v", got, want)
	}
	if _, ok := r.body["cursor"]; ok {
		t.Errorf("admins reply has a cursor: %s", r.raw)
	}
	// An admin may add, and may not remove another admin.
	h.must(200, req{method: "POST", path: "/api/v1/groups/" + gid + "/members", token: bob, body: map[string]any{"users": []string{"dave"}}})
	h.must(204, req{method: "DELETE", path: "/api/v1/groups/" + gid + "/members/dave", token: bob})
	h.wantErr(403, "not_member", req{method: "GET", path: "/api/v1/groups/" + gid, token: dave})
	h.wantErr(403, "permission_denied", req{method: "DELETE", path: "/api/v1/groups/" + gid + "/members/alice", token: bob})
	h.wantErr(403, "not_member", req{method: "DELETE", path: "/api/v1/groups/" + gid + "/members/dave", token: alice})
	h.must(204, req{method: "DELETE", path: "/api/v1/groups/" + gid + "/admins/bob", token: alice})
	r = h.must(200, req{method: "GET", path: "/api/v1/groups/" + gid + "/admins", token: carol})
	if got, want := strs(r, "members", "username"), []string{"alice"}; !cmp.Equal(got, want) {
		t.Errorf("admins after removeAdmin = %v, want %v", got, want)
	}

	// Transfer, then the old owner may leave.
	h.wantErr(409, "not_allowed", req{method: "POST", path: "/api/v1/groups/" + gid + "/leave", token: alice})
	h.wantErr(400, "bad_request", req{method: "PUT", path: "/api/v1/groups/" + gid + "/owner", token: alice, body: map[string]any{}})
	h.wantErr(403, "not_member", req{method: "PUT", path: "/api/v1/groups/" + gid + "/owner", token: alice, body: map[string]any{"user": "dave"}})
	h.must(204, req{method: "PUT", path: "/api/v1/groups/" + gid + "/owner", token: alice, body: map[string]any{"user": "carol"}})
	r = h.must(200, req{method: "GET", path: "/api/v1/groups/" + gid, token: bob})
	if r.body["owner"] != "carol" {
		t.Errorf("owner after transfer = %v, want carol", r.body["owner"])
	}
	h.must(204, req{method: "POST", path: "/api/v1/groups/" + gid + "/leave", token: alice})
	h.wantErr(403, "not_member", req{method: "POST", path: "/api/v1/groups/" + gid + "/leave", token: alice})

	// Destroy: owner only.
	h.wantErr(403, "permission_denied", req{method: "DELETE", path: "/api/v1/groups/" + gid, token: bob})
	h.must(204, req{method: "DELETE", path: "/api/v1/groups/" + gid, token: carol})
	h.wantErr(404, "group_not_found", req{method: "GET", path: "/api/v1/groups/" + gid, token: carol})
	h.wantErr(404, "group_not_found", req{method: "DELETE", path: "/api/v1/groups/" + gid, token: carol})
}

func TestGroupFull(t *testing.T) {
	h := newHarness(t)
	alice := h.user("alice")
	h.user("bob")
	h.user("carol")
	gid := h.group(alice, map[string]any{"name": "pair", "maxMembers": 2, "members": []string{"bob"}})
	h.wantErr(409, "group_full", req{method: "POST", path: "/api/v1/groups/" + gid + "/members", token: alice, body: map[string]any{"users": []string{"carol"}}})
	r := h.must(200, req{method: "GET", path: "/api/v1/groups/" + gid, token: alice})
	if r.body["memberCount"] != 2.0 {
		t.Errorf("memberCount after refused add = %v, want 2", r.body["memberCount"])
	}
}
