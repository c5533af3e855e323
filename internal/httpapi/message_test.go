package httpapi_test

import (
	"fmt"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestMessages(t *testing.T) {
	h := newHarness(t)
	alice, bob, carol := h.user("alice"), h.user("bob"), h.user("carol")
	gid := h.group(alice, map[string]any{"name": "team", "members": []string{"bob"}})

	// Send; a resend of the same localId gets the same reply.
	r := h.send(alice, map[string]any{"localId": "l1", "type": "txt", "chatType": "singleChat", "to": "bob", "msg": "hi bob"})
	first := r.body
	if first["localId"] != "l1" || first["id"] == "" || first["seq"].(float64) <= 0 || first["time"].(float64) <= 0 {
		t.Fatalf("send reply = %s", r.raw)
	}
	if _, ok := first["id"].(string); !ok {
		t.Errorf("id = %v, want a JSON string", first["id"])
	}
	r = h.send(alice, map[string]any{"localId": "l1", "type": "txt", "chatType": "singleChat", "to": "bob", "msg": "hi bob"})
	if diff := cmp.Diff(first, r.body); diff != "" {
		t.Errorf("resend reply differs (-first +resend):\n%s", diff)
	}
	h.send(alice, map[string]any{"localId": "l2", "type": "txt", "chatType": "groupChat", "to": gid, "msg": "hi team", "ext": map[string]any{"k": "v"}})
	h.send(bob, map[string]any{"localId": "b1", "type": "custom", "chatType": "groupChat", "to": gid, "customEvent": "vote", "customExts": map[string]any{"a": "b"}})

	// Refusals.
	h.wantErr(403, "not_member", req{method: "POST", path: "/api/v1/messages", token: carol, body: map[string]any{"localId": "c1", "type": "txt", "chatType": "groupChat", "to": gid, "msg": "x"}})
	h.wantErr(404, "user_not_found", req{method: "POST", path: "/api/v1/messages", token: carol, body: map[string]any{"localId": "c2", "type": "txt", "chatType": "singleChat", "to": "nobody", "msg": "x"}})
	h.wantErr(404, "group_not_found", req{method: "POST", path: "/api/v1/messages", token: carol, body: map[string]any{"localId": "c3", "type": "txt", "chatType": "groupChat", "to": "42", "msg": "x"}})
	h.wantErr(400, "bad_request", req{method: "POST", path: "/api/v1/messages", token: carol, body: map[string]any{"localId": "c4", "type": "img", "chatType": "singleChat", "to": "bob", "msg": "x"}})
	h.wantErr(403, "permission_denied", req{method: "POST", path: "/api/v1/messages", token: bob, body: map[string]any{"localId": "b2", "type": "txt", "chatType": "groupChat", "to": gid, "msg": "x", "msgConfig": map[string]any{"allowGroupAck": true}}})

	// History of the single chat, from either side.
	for _, tok := range []string{alice, bob} {
		r = h.must(200, req{method: "GET", path: "/api/v1/history?chatType=singleChat&to=" + map[string]string{alice: "bob", bob: "alice"}[tok], token: tok})
		ms := list(r, "messages")
		if len(ms) != 1 || r.body["isLast"] != true {
			t.Fatalf("single history = %s, want 1 message", r.raw)
		}
		m := ms[0].(map[string]any)
		want := map[string]any{
			"id": first["id"], "localId": "l1", "seq": first["seq"], "type": "txt", "chatType": "singleChat",
			"from": "alice", "to": "bob", "msg": "hi bob", "time": first["time"],
		}
		if diff := cmp.Diff(want, m); diff != "" {
			t.Errorf("history message (-want +got):\n%s", diff)
		}
	}
	// Group history, newest first, paged.
	r = h.must(200, req{method: "GET", path: "/api/v1/history?chatType=groupChat&to=" + gid + "&limit=1", token: alice})
	if got := strs(r, "messages", "localId"); !cmp.Equal(got, []string{"b1"}) || r.body["isLast"] != false {
		t.Errorf("group history page 1 = %v isLast %v", got, r.body["isLast"])
	}
	m := list(r, "messages")[0].(map[string]any)
	if m["to"] != gid || m["customEvent"] != "vote" || !cmp.Equal(m["customExts"], map[string]any{"a": "b"}) {
		t.Errorf("custom message = %v", m)
	}
	r = h.must(200, req{method: "GET", path: "/api/v1/history?chatType=groupChat&to=" + gid + "&limit=1&cursor=" + r.body["cursor"].(string), token: alice})
	if got := strs(r, "messages", "localId"); !cmp.Equal(got, []string{"l2"}) {
		t.Errorf("group history page 2 = %v", got)
	}
	r = h.must(200, req{method: "GET", path: "/api/v1/history?chatType=groupChat&to=" + gid + "&direction=newer", token: alice})
	if got := strs(r, "messages", "localId"); !cmp.Equal(got, []string{"l2", "b1"}) {
		t.Errorf("group history newer = %v", got)
	}
	h.wantErr(400, "bad_request", req{method: "GET", path: "/api/v1/history?chatType=groupChat&to=" + gid + "&direction=sideways", token: alice})
	h.wantErr(400, "bad_request", req{method: "GET", path: "/api/v1/history?chatType=groupChat", token: alice})
	h.wantErr(400, "bad_request", req{method: "GET", path: "/api/v1/history?chatType=fooChat&to=bob", token: alice})
	h.wantErr(403, "not_member", req{method: "GET", path: "/api/v1/history?chatType=groupChat&to=" + gid, token: carol})

	// Conversations.
	r = h.must(200, req{method: "GET", path: "/api/v1/conversations", token: bob})
	convs := list(r, "conversations")
	if len(convs) != 2 {
		t.Fatalf("bob's conversations = %s, want 2", r.raw)
	}
	c0, c1 := convs[0].(map[string]any), convs[1].(map[string]any)
	if c0["chatType"] != "groupChat" || c0["to"] != gid || c0["unread"] != 1.0 {
		t.Errorf("newest conversation = %v, want the group with 1 unread", c0)
	}
	if c1["chatType"] != "singleChat" || c1["to"] != "alice" || c1["unread"] != 1.0 || c1["lastMessage"].(map[string]any)["msg"] != "hi bob" {
		t.Errorf("second conversation = %v, want alice with 1 unread", c1)
	}
	r = h.must(200, req{method: "POST", path: "/api/v1/conversations/ack", token: bob, body: map[string]any{"chatType": "singleChat", "to": "alice"}})
	if r.body["receiptsCounted"] != 0.0 {
		t.Errorf("conv ack = %s", r.raw)
	}
	r = h.must(200, req{method: "GET", path: "/api/v1/conversations", token: bob})
	if u := list(r, "conversations")[1].(map[string]any)["unread"]; u != 0.0 {
		t.Errorf("unread after ack = %v, want 0", u)
	}
	h.wantErr(400, "bad_request", req{method: "POST", path: "/api/v1/conversations/ack", token: bob, body: map[string]any{"chatType": "singleChat"}})
}

func TestSync(t *testing.T) {
	h := newHarness(t)
	alice, bob := h.user("alice"), h.user("bob")
	for i := range 3 {
		h.send(alice, map[string]any{"localId": fmt.Sprint(i), "type": "txt", "chatType": "singleChat", "to": "bob", "msg": fmt.Sprint("m", i)})
	}
	phone := map[string]string{"X-Seen-Device": "phone"}
	r := h.must(200, req{method: "GET", path: "/api/v1/sync?limit=2", token: bob, header: phone})
	if got := strs(r, "messages", "msg"); !cmp.Equal(got, []string{"m0", "m1"}) || r.body["more"] != true {
		t.Fatalf("sync page 1 = %v more %v", got, r.body["more"])
	}
	next := int64(r.body["next"].(float64))
	r = h.must(200, req{method: "GET", path: fmt.Sprintf("/api/v1/sync?limit=2&ack=%d", next), token: bob, header: phone})
	if got := strs(r, "messages", "msg"); !cmp.Equal(got, []string{"m2"}) || r.body["more"] != false {
		t.Fatalf("sync page 2 = %v more %v", got, r.body["more"])
	}
	next = int64(r.body["next"].(float64))
	r = h.must(200, req{method: "GET", path: fmt.Sprintf("/api/v1/sync?ack=%d", next), token: bob, header: phone})
	if got := list(r, "messages"); len(got) != 0 {
		t.Errorf("sync after confirming = %s, want nothing", r.raw)
	}
	// Another device (the default one is "rest") starts where the user's
	// furthest device is.
	r = h.must(200, req{method: "GET", path: "/api/v1/sync", token: bob})
	if got := list(r, "messages"); len(got) != 0 {
		t.Errorf("sync of bob's new device = %s, want nothing", r.raw)
	}
	h.send(alice, map[string]any{"localId": "later", "type": "txt", "chatType": "singleChat", "to": "bob", "msg": "later"})
	r = h.must(200, req{method: "GET", path: "/api/v1/sync", token: bob})
	if got := strs(r, "messages", "msg"); !cmp.Equal(got, []string{"later"}) {
		t.Errorf("sync of bob's rest device = %v, want [later]", got)
	}
	h.wantErr(400, "bad_request", req{method: "GET", path: "/api/v1/sync?ack=-1", token: bob})
	h.wantErr(400, "bad_request", req{method: "GET", path: "/api/v1/sync?ack=99999", token: bob})
	h.wantErr(400, "bad_request", req{method: "GET", path: "/api/v1/sync?ack=x", token: bob})
	h.wantErr(400, "bad_request", req{method: "GET", path: "/api/v1/sync?limit=100000", token: bob})
}
