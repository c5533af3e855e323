package httpapi_test

import (
	"fmt"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestReceipts(t *testing.T) {
	h := newHarness(t)
	alice, bob, carol, dave := h.user("alice"), h.user("bob"), h.user("carol"), h.user("dave")
	gid := h.group(alice, map[string]any{"name": "team", "members": []string{"bob", "carol"}})
	base := "/api/v1/groups/" + gid

	ask := h.send(alice, map[string]any{"localId": "a1", "type": "txt", "chatType": "groupChat", "to": gid, "msg": "read me", "msgConfig": map[string]any{"allowGroupAck": true}})
	mid := ask.body["id"].(string)
	plain := h.send(alice, map[string]any{"localId": "a2", "type": "txt", "chatType": "groupChat", "to": gid, "msg": "no receipts"}).body["id"].(string)

	// Ack: per-item results.
	r := h.must(200, req{method: "POST", path: base + "/receipts", token: bob, body: map[string]any{"items": []map[string]any{
		{"msgId": mid, "ackContent": "👍"}, {"msgId": plain}, {"msgId": "777"},
	}}})
	res := list(r, "results")
	if len(res) != 3 {
		t.Fatalf("ack results = %s", r.raw)
	}
	want0 := map[string]any{"msgId": mid, "ok": true, "counted": true, "count": 1.0}
	if diff := cmp.Diff(want0, res[0]); diff != "" {
		t.Errorf("ack result 0 (-want +got):\n%s", diff)
	}
	if e := res[1].(map[string]any)["error"].(map[string]any); res[1].(map[string]any)["ok"] != false || e["name"] != "not_allowed" {
		t.Errorf("ack result 1 = %v, want not_allowed", res[1])
	}
	if e := res[2].(map[string]any)["error"].(map[string]any); e["name"] != "message_not_found" {
		t.Errorf("ack result 2 = %v, want message_not_found", res[2])
	}
	// A repeat is accepted and not counted.
	r = h.must(200, req{method: "POST", path: base + "/receipts", token: bob, body: map[string]any{"items": []map[string]any{{"msgId": mid}}}})
	if got := list(r, "results")[0].(map[string]any); got["ok"] != true || got["counted"] != false {
		t.Errorf("repeat ack = %v, want ok and not counted", got)
	}
	h.wantErr(400, "bad_request", req{method: "POST", path: base + "/receipts", token: bob, body: map[string]any{"items": []map[string]any{}}})
	h.wantErr(400, "bad_request", req{method: "POST", path: base + "/receipts", token: bob, body: map[string]any{"items": []map[string]any{{"msgId": "x"}}}})
	r = h.must(200, req{method: "POST", path: base + "/receipts", token: dave, body: map[string]any{"items": []map[string]any{{"msgId": mid}}}})
	if e := list(r, "results")[0].(map[string]any)["error"].(map[string]any); e["name"] != "not_member" {
		t.Errorf("non-member ack = %s, want not_member", r.raw)
	}

	// Readers and unread: the sender, owner and admins.
	r = h.must(200, req{method: "GET", path: base + "/messages/" + mid + "/readers", token: alice})
	if r.body["total"] != 1.0 || r.body["isLast"] != true || r.body["cursor"] != "" {
		t.Errorf("readers = %s", r.raw)
	}
	if u := list(r, "users")[0].(map[string]any); u["username"] != "bob" || u["ackContent"] != "👍" || u["time"].(float64) <= 0 {
		t.Errorf("reader = %v", u)
	}
	r = h.must(200, req{method: "GET", path: base + "/messages/" + mid + "/unread", token: alice})
	if diff := cmp.Diff(map[string]any{"total": 1.0, "users": []any{"carol"}, "cursor": "", "isLast": true}, r.body); diff != "" {
		t.Errorf("unread (-want +got):\n%s", diff)
	}
	h.wantErr(403, "permission_denied", req{method: "GET", path: base + "/messages/" + mid + "/readers", token: carol})
	h.wantErr(403, "permission_denied", req{method: "GET", path: base + "/messages/" + mid + "/unread", token: carol})
	h.wantErr(404, "message_not_found", req{method: "GET", path: base + "/messages/123/readers", token: alice})
	h.wantErr(400, "bad_request", req{method: "GET", path: base + "/messages/abc/readers", token: alice})
	h.wantErr(400, "bad_request", req{method: "GET", path: base + "/messages/" + mid + "/readers?cursor=nope", token: alice})
	h.wantErr(400, "bad_request", req{method: "GET", path: base + "/messages/" + mid + "/readers?order=newest", token: alice})

	// Counts.
	r = h.must(200, req{method: "GET", path: base + "/receipts/counts?msgIds=" + mid, token: alice})
	if diff := cmp.Diff(map[string]any{"counts": map[string]any{mid: 1.0}, "eligible": map[string]any{mid: 2.0}}, r.body); diff != "" {
		t.Errorf("counts (-want +got):\n%s", diff)
	}
	h.wantErr(400, "bad_request", req{method: "GET", path: base + "/receipts/counts", token: alice})
	h.wantErr(400, "bad_request", req{method: "GET", path: base + "/receipts/counts?msgIds=1,x", token: alice})
	h.wantErr(409, "not_allowed", req{method: "GET", path: base + "/receipts/counts?msgIds=" + mid + "," + plain, token: alice})
	h.wantErr(403, "permission_denied", req{method: "GET", path: base + "/receipts/counts?msgIds=" + mid, token: carol})
	h.wantErr(403, "permission_denied", req{method: "GET", path: base + "/receipts/counts?withUnread=true&msgIds=" + mid, token: carol})
	h.wantErr(400, "bad_request", req{method: "GET", path: base + "/receipts/counts?withUnread=yes&msgIds=" + mid, token: alice})
	r = h.must(200, req{method: "GET", path: base + "/receipts/counts?withUnread=true&msgIds=" + mid, token: alice})
	if diff := cmp.Diff(map[string]any{"counts": map[string]any{mid: 1.0}, "unread": map[string]any{mid: 1.0}, "eligible": map[string]any{mid: 2.0}}, r.body); diff != "" {
		t.Errorf("counts with unread (-want +got):\n%s", diff)
	}

	// Conversation ack counts the rest.
	r = h.must(200, req{method: "POST", path: "/api/v1/conversations/ack", token: carol, body: map[string]any{"chatType": "groupChat", "to": gid}})
	if r.body["receiptsCounted"] != 1.0 {
		t.Errorf("carol's conversation ack = %s, want 1 counted", r.raw)
	}
	// Readers newest first, a page at a time: carol (read last), then bob.
	var order []any
	for path := base + "/messages/" + mid + "/readers?order=desc&limit=1"; ; {
		r = h.must(200, req{method: "GET", path: path, token: alice})
		for _, u := range list(r, "users") {
			order = append(order, u.(map[string]any)["username"])
		}
		if r.body["isLast"] == true || len(order) > 2 {
			break
		}
		path = base + "/messages/" + mid + "/readers?order=desc&limit=1&cursor=" + r.body["cursor"].(string)
	}
	if !cmp.Equal(order, []any{"carol", "bob"}) {
		t.Errorf("readers newest first = %v, want [carol bob]", order)
	}

	// Stats of the sender's device.
	r = h.must(200, req{method: "GET", path: "/api/v1/receipts/stats", token: alice})
	entries := list(r, "entries")
	if len(entries) != 1 || r.body["more"] != false {
		t.Fatalf("stats = %s, want 1 entry", r.raw)
	}
	e := entries[0].(map[string]any)
	if e["mid"] != mid || e["groupId"] != gid || e["count"] != 2.0 || e["from"] != "carol" || e["timestamp"].(float64) <= 0 {
		t.Errorf("stats entry = %v", e)
	}
	r = h.must(200, req{method: "GET", path: fmt.Sprintf("/api/v1/receipts/stats?ack=%d", int64(r.body["next"].(float64))), token: alice})
	if len(list(r, "entries")) != 0 {
		t.Errorf("stats after confirming = %s, want none", r.raw)
	}
	h.wantErr(400, "bad_request", req{method: "GET", path: "/api/v1/receipts/stats?ack=-5", token: alice})

	// The sender's history shows the read count.
	r = h.must(200, req{method: "GET", path: "/api/v1/history?chatType=groupChat&to=" + gid, token: alice})
	for _, m := range list(r, "messages") {
		m := m.(map[string]any)
		switch m["id"] {
		case mid:
			if m["readCount"] != 2.0 || !cmp.Equal(m["msgConfig"], map[string]any{"allowGroupAck": true}) {
				t.Errorf("receipt message in history = %v, want readCount 2", m)
			}
		case plain:
			if _, ok := m["readCount"]; ok {
				t.Errorf("plain message has readCount: %v", m)
			}
		}
	}
}

func TestPeerReceipts(t *testing.T) {
	h := newHarness(t)
	alice, bob := h.user("alice"), h.user("bob")
	mid := h.send(alice, map[string]any{"localId": "a1", "type": "txt", "chatType": "singleChat", "to": "bob", "msg": "hi"}).body["id"].(string)
	for _, kind := range []string{"read", "delivered"} {
		path := "/api/v1/receipts/" + kind
		h.must(204, req{method: "POST", path: path, token: bob, body: map[string]any{"to": "alice", "msgId": mid}})
		h.wantErr(404, "message_not_found", req{method: "POST", path: path, token: alice, body: map[string]any{"to": "bob", "msgId": mid}})
		h.wantErr(404, "user_not_found", req{method: "POST", path: path, token: bob, body: map[string]any{"to": "nobody", "msgId": mid}})
		h.wantErr(400, "bad_request", req{method: "POST", path: path, token: bob, body: map[string]any{"to": "alice", "msgId": "x"}})
		h.wantErr(400, "bad_request", req{method: "POST", path: path, token: bob, body: map[string]any{"msgId": mid}})
	}
	// Stored: alice's devices get them through sync, after her own message.
	r := h.must(200, req{method: "GET", path: "/api/v1/sync", token: alice, header: map[string]string{"X-Seen-Device": "laptop"}})
	if got, want := strs(r, "messages", "type"), []string{"txt", "read", "delivery"}; !cmp.Equal(got, want) {
		t.Errorf("sync types = %v, want %v", got, want)
	}
	if got, want := strs(r, "messages", "mid"), []string{"", mid, mid}; !cmp.Equal(got, want) {
		t.Errorf("sync mids = %v, want %v", got, want)
	}
}
