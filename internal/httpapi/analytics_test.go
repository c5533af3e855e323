package httpapi_test

import (
	"strings"
	"testing"
)

func TestAnalytics(t *testing.T) { onStores(t, testAnalytics) }

func testAnalytics(t *testing.T, dsn string) {
	h := newHarnessAt(t, dsn)
	g := h.receiptGroup()
	path := msgPath(g.gid, g.mid, "analytics")

	r := h.must(200, req{method: "GET", path: path, token: g.alice})
	b := r.body
	if b["msgId"] != g.mid || b["eligible"] != 3.0 || b["count"] != 1.0 || b["unread"] != 2.0 || b["sentAt"].(float64) <= 0 {
		t.Errorf("analytics = %s, want 1 of 3 read, 2 unread", r.raw)
	}
	for _, k := range []string{"to50", "to90", "toAll"} {
		if v, ok := b[k]; !ok || v != nil {
			t.Errorf("analytics %s = %v, want null (not reached)", k, v)
		}
	}
	checkHistogram(t, r, 1)

	// Bob and carol: two of three, over 50%.
	h.must(200, req{method: "POST", path: "/api/v1/groups/" + g.gid + "/receipts", token: g.carol, body: map[string]any{"items": []map[string]any{{"msgId": g.mid}}}})
	admin := "/api/v1/admin" + strings.TrimPrefix(path, "/api/v1")
	r = h.must(200, req{method: "GET", path: admin, token: adminToken})
	if to50, ok := r.body["to50"].(float64); !ok || to50 < 0 || r.body["to90"] != nil || r.body["count"] != 2.0 {
		t.Errorf("admin analytics = %s, want to50 reached, to90 not", r.raw)
	}
	checkHistogram(t, r, 2)

	plain := h.send(g.alice, map[string]any{"localId": "p", "type": "txt", "chatType": "groupChat", "to": g.gid, "msg": "plain"}).body["id"].(string)
	for _, c := range []struct {
		what   string
		q      req
		status int
		name   string
	}{
		{"a member", req{method: "GET", path: path, token: g.carol}, 403, "permission_denied"},
		{"not a member", req{method: "GET", path: path, token: g.eve}, 403, "not_member"},
		{"no token", req{method: "GET", path: path}, 401, "unauthorized"},
		{"user token on the admin API", req{method: "GET", path: admin, token: g.alice}, 401, "unauthorized"},
		{"bad message id", req{method: "GET", path: msgPath(g.gid, "x", "analytics"), token: g.alice}, 400, "bad_request"},
		{"bad group id", req{method: "GET", path: msgPath("x", g.mid, "analytics"), token: g.alice}, 400, "bad_request"},
		{"no such message", req{method: "GET", path: msgPath(g.gid, "123", "analytics"), token: g.alice}, 404, "message_not_found"},
		{"no such group", req{method: "GET", path: "/api/v1/admin/groups/123/messages/" + g.mid + "/analytics", token: adminToken}, 404, "group_not_found"},
		{"plain message", req{method: "GET", path: msgPath(g.gid, plain, "analytics"), token: g.alice}, 409, "not_allowed"},
	} {
		t.Run(c.what, func(t *testing.T) { h.wantErr(c.status, c.name, c.q) })
	}
}

// checkHistogram checks the read-time distribution: bars of growing upTo,
// the last open (null), holding reads reads.
func checkHistogram(t *testing.T, r resp, reads int) {
	t.Helper()
	bars := list(r, "histogram")
	if len(bars) < 2 {
		t.Fatalf("histogram = %v", bars)
	}
	sum, prev := 0, 0.0
	for i, b := range bars {
		b := b.(map[string]any)
		sum += int(b["count"].(float64))
		up, isNum := b["upTo"].(float64)
		switch last := i == len(bars)-1; {
		case last && b["upTo"] != nil:
			t.Errorf("last bar upTo = %v, want null", b["upTo"])
		case !last && (!isNum || up <= prev):
			t.Errorf("bar %d upTo = %v after %v, want growing ms", i, b["upTo"], prev)
		}
		prev = up
	}
	if sum != reads {
		t.Errorf("histogram holds %d reads, want %d", sum, reads)
	}
}
