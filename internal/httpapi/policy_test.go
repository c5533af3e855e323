package httpapi_test

import (
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestReceiptPolicy(t *testing.T) { onStores(t, testReceiptPolicy) }

func testReceiptPolicy(t *testing.T, dsn string) {
	h := newHarnessAt(t, dsn)
	g := h.receiptGroup()
	path := "/api/v1/groups/" + g.gid + "/receipts/policy"
	policy := func(request, visibility string, lists bool) map[string]any {
		return map[string]any{"request": request, "visibility": visibility, "lists": lists}
	}

	// Any member reads it: the server's defaults.
	r := h.must(200, req{method: "GET", path: path, token: g.carol})
	if diff := cmp.Diff(policy("admins", "admins", true), r.body); diff != "" {
		t.Errorf("default policy (-want +got):\n%s", diff)
	}
	h.wantErr(403, "not_member", req{method: "GET", path: path, token: g.eve})
	h.wantErr(403, "permission_denied", req{method: "GET", path: msgPath(g.gid, g.mid, "readers"), token: g.carol})

	// Only the owner and admins change it; the fields sent change.
	h.wantErr(403, "permission_denied", req{method: "PUT", path: path, token: g.carol, body: map[string]any{"visibility": "members"}})
	r = h.must(200, req{method: "PUT", path: path, token: g.alice, body: map[string]any{"visibility": "members"}})
	if diff := cmp.Diff(policy("admins", "members", true), r.body); diff != "" {
		t.Errorf("policy after the change (-want +got):\n%s", diff)
	}
	// A notice board: every member sees the counts and lists.
	h.must(200, req{method: "GET", path: msgPath(g.gid, g.mid, "readers"), token: g.carol})
	h.must(200, req{method: "GET", path: "/api/v1/groups/" + g.gid + "/receipts/counts?msgIds=" + g.mid, token: g.carol})
	r = h.must(200, req{method: "GET", path: "/api/v1/groups/" + g.gid, token: g.carol})
	if diff := cmp.Diff(policy("admins", "members", true), r.body["receiptPolicy"]); diff != "" {
		t.Errorf("group info's receiptPolicy (-want +got):\n%s", diff)
	}

	// Counts only: no lists, for anyone but the administrator.
	h.must(200, req{method: "PUT", path: path, token: g.alice, body: map[string]any{"lists": false, "request": "all"}})
	h.wantErr(403, "permission_denied", req{method: "GET", path: msgPath(g.gid, g.mid, "readers"), token: g.alice})
	h.wantErr(403, "permission_denied", req{method: "GET", path: msgPath(g.gid, g.mid, "unread"), token: g.alice})
	h.must(200, req{method: "GET", path: "/api/v1/groups/" + g.gid + "/receipts/counts?msgIds=" + g.mid, token: g.carol})
	res := h.get(exportPath(g.gid, g.mid, "?format=jsonl"), nil)
	if n := len(jsonLines(t, res.Body)); res.StatusCode != 200 || n != 3 {
		t.Errorf("admin export of a counts-only group = %d, %d lines; want 200, 3", res.StatusCode, n)
	}
	// request=all: any member may ask for receipts.
	h.notice(g.carol, g.gid)

	// Refusals change nothing.
	for _, c := range []struct {
		what   string
		q      req
		status int
		name   string
	}{
		{"nothing to change", req{method: "PUT", path: path, token: g.alice, body: map[string]any{}}, 400, "bad_request"},
		{"bad visibility", req{method: "PUT", path: path, token: g.alice, body: map[string]any{"visibility": "everyone"}}, 400, "bad_request"},
		{"bad request", req{method: "PUT", path: path, token: g.alice, body: map[string]any{"request": "owner", "lists": true}}, 400, "bad_request"},
		{"lists not a boolean", req{method: "PUT", path: path, token: g.alice, body: map[string]any{"lists": "yes"}}, 400, "bad_request"},
		{"unknown field", req{method: "PUT", path: path, token: g.alice, body: map[string]any{"group": g.gid, "lists": true}}, 400, "bad_request"},
		{"no body", req{method: "PUT", path: path, token: g.alice}, 400, "bad_request"},
		{"bad group id", req{method: "PUT", path: "/api/v1/groups/x/receipts/policy", token: g.alice, body: map[string]any{"lists": true}}, 400, "bad_request"},
		{"no such group", req{method: "GET", path: "/api/v1/groups/123/receipts/policy", token: g.alice}, 404, "group_not_found"},
		{"no token", req{method: "GET", path: path}, 401, "unauthorized"},
	} {
		t.Run(c.what, func(t *testing.T) { h.wantErr(c.status, c.name, c.q) })
	}
	r = h.must(200, req{method: "GET", path: path, token: g.alice})
	if diff := cmp.Diff(policy("all", "members", false), r.body); diff != "" {
		t.Errorf("policy after the refusals (-want +got):\n%s", diff)
	}
}

func TestSettings(t *testing.T) { onStores(t, testSettings) }

func testSettings(t *testing.T, dsn string) {
	h := newHarnessAt(t, dsn)
	g := h.receiptGroup()
	const path = "/api/v1/me/settings"

	r := h.must(200, req{method: "GET", path: path, token: g.carol})
	if diff := cmp.Diff(map[string]any{"sendReadReceipts": true}, r.body); diff != "" {
		t.Errorf("default settings (-want +got):\n%s", diff)
	}
	r = h.must(200, req{method: "PUT", path: path, token: g.carol, body: map[string]any{"sendReadReceipts": false}})
	if diff := cmp.Diff(map[string]any{"sendReadReceipts": false}, r.body); diff != "" {
		t.Errorf("settings after the change (-want +got):\n%s", diff)
	}
	if r := h.must(200, req{method: "GET", path: path, token: g.carol}); r.body["sendReadReceipts"] != false {
		t.Errorf("settings read back = %s", r.raw)
	}
	// Carol's read is accepted and recorded nowhere; she is no eligible
	// reader any more, so she is not in the unread list.
	r = h.must(200, req{method: "POST", path: "/api/v1/groups/" + g.gid + "/receipts", token: g.carol, body: map[string]any{"items": []map[string]any{{"msgId": g.mid}}}})
	if res := list(r, "results")[0].(map[string]any); res["ok"] != true || res["counted"] != false {
		t.Errorf("ack with receipts off = %s, want ok, not counted", r.raw)
	}
	r = h.must(200, req{method: "GET", path: msgPath(g.gid, g.mid, "unread"), token: g.alice})
	if got := strs(r, "users", ""); !cmp.Equal(got, []string{"dave"}) || r.body["total"] != 1.0 {
		t.Errorf("unread with carol's receipts off = %s, want dave only", r.raw)
	}

	for _, c := range []struct {
		what string
		q    req
		code int
		name string
	}{
		{"nothing to change", req{method: "PUT", path: path, token: g.carol, body: map[string]any{}}, 400, "bad_request"},
		{"not a boolean", req{method: "PUT", path: path, token: g.carol, body: map[string]any{"sendReadReceipts": "no"}}, 400, "bad_request"},
		{"unknown field", req{method: "PUT", path: path, token: g.carol, body: map[string]any{"sendReadReceipt": true}}, 400, "bad_request"},
		{"no token", req{method: "PUT", path: path, body: map[string]any{"sendReadReceipts": true}}, 401, "unauthorized"},
		{"admin token", req{method: "GET", path: path, token: adminToken}, 401, "unauthorized"},
	} {
		t.Run(c.what, func(t *testing.T) { h.wantErr(c.code, c.name, c.q) })
	}
	if r := h.must(200, req{method: "GET", path: path, token: g.carol}); r.body["sendReadReceipts"] != false {
		t.Errorf("settings after the refusals = %s, want unchanged", r.raw)
	}
}
