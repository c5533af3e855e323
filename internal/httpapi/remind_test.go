package httpapi_test

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"seen/internal/chat"
)

// receiptGroup makes the group of alice (owner) with bob, carol and dave,
// and a user eve outside it. It returns the tokens, the group id and a
// receipt-requesting message of alice that bob has read.
type receiptGroup struct {
	alice, bob, carol, dave, eve string
	gid, mid                     string
}

func (h *harness) receiptGroup() receiptGroup {
	h.t.Helper()
	g := receiptGroup{alice: h.user("alice"), bob: h.user("bob"), carol: h.user("carol"), dave: h.user("dave"), eve: h.user("eve")}
	g.gid = h.group(g.alice, map[string]any{"name": "team", "members": []string{"bob", "carol", "dave"}})
	g.mid = h.notice(g.alice, g.gid)
	h.must(200, req{method: "POST", path: "/api/v1/groups/" + g.gid + "/receipts", token: g.bob, body: map[string]any{"items": []map[string]any{{"msgId": g.mid}}}})
	return g
}

// notice sends a receipt-requesting message to group gid and returns its id.
func (h *harness) notice(token, gid string) string {
	h.t.Helper()
	h.sent++
	return h.send(token, map[string]any{"localId": fmt.Sprintf("notice-%d", h.sent), "type": "txt", "chatType": "groupChat", "to": gid,
		"msg": "notice", "msgConfig": map[string]any{"allowGroupAck": true}}).body["id"].(string)
}

func msgPath(gid, mid, what string) string {
	return "/api/v1/groups/" + gid + "/messages/" + mid + "/" + what
}

func TestRemind(t *testing.T) { onStores(t, testRemind) }

func testRemind(t *testing.T, dsn string) {
	h := newHarnessAt(t, dsn)
	g := h.receiptGroup()
	path := msgPath(g.gid, g.mid, "remind")

	// Only the sender, the owner and admins; members of the group.
	h.wantErr(403, "permission_denied", req{method: "POST", path: path, token: g.carol})
	h.wantErr(403, "not_member", req{method: "POST", path: path, token: g.eve})

	// No body: every eligible member who has not read it.
	r := h.must(200, req{method: "POST", path: path, token: g.alice})
	at, next := r.body["at"].(float64), r.body["nextAt"].(float64)
	if r.body["reminded"] != 2.0 || !cmp.Equal(r.body["skipped"], []any{}) || at <= 0 || next != at+float64(10*time.Minute/time.Millisecond) {
		t.Errorf("remind = %s, want 2 reminded, none skipped, next 10 min later", r.raw)
	}
	// Once per interval.
	e := h.wantErr(403, "limit_exceeded", req{method: "POST", path: path, token: g.alice, body: map[string]any{"users": []string{"carol"}}})
	if msg := e.body["error"].(map[string]any)["message"].(string); !strings.Contains(msg, "remind-interval") {
		t.Errorf("rate limit message %q does not name the limit", msg)
	}
	// The unread list shows who was reminded, how often and when.
	r = h.must(200, req{method: "GET", path: msgPath(g.gid, g.mid, "unread"), token: g.alice})
	want := map[string]any{"carol": map[string]any{"reminded": 1.0, "remindedAt": at}, "dave": map[string]any{"reminded": 1.0, "remindedAt": at}}
	if diff := cmp.Diff(want, r.body["reminders"]); diff != "" {
		t.Errorf("unread reminders (-want +got):\n%s", diff)
	}
	// Each reminded member's devices get it through sync; bob's do not.
	r = h.must(200, req{method: "GET", path: "/api/v1/sync", token: g.carol, header: map[string]string{"X-Seen-Device": "phone"}})
	var got []map[string]any
	for _, m := range list(r, "messages") {
		if m := m.(map[string]any); m["type"] == "remind" {
			got = append(got, m)
		}
	}
	if len(got) != 1 || got[0]["msgId"] != g.mid || got[0]["groupId"] != g.gid || got[0]["from"] != "alice" || got[0]["to"] != "carol" || got[0]["at"] != at {
		t.Errorf("carol's reminders in sync = %v", got)
	}
	r = h.must(200, req{method: "GET", path: "/api/v1/sync", token: g.bob, header: map[string]string{"X-Seen-Device": "phone"}})
	for _, m := range list(r, "messages") {
		if m.(map[string]any)["type"] == "remind" {
			t.Errorf("bob, who read it, got a reminder: %v", m)
		}
	}

	// Named members: those who read it, or are no members, are skipped.
	mid2 := h.notice(g.alice, g.gid)
	h.must(200, req{method: "POST", path: "/api/v1/groups/" + g.gid + "/receipts", token: g.bob, body: map[string]any{"items": []map[string]any{{"msgId": mid2}}}})
	r = h.must(200, req{method: "POST", path: msgPath(g.gid, mid2, "remind"), token: g.alice, body: map[string]any{"users": []string{"Carol", "bob", "eve", "zed"}}})
	if r.body["reminded"] != 1.0 || !cmp.Equal(sorted(strs(r, "skipped", "")), []string{"bob", "eve", "zed"}) {
		t.Errorf("named remind = %s, want carol reminded, bob, eve and zed skipped", r.raw)
	}

	// The administrator, on behalf of the sender.
	mid3 := h.notice(g.alice, g.gid)
	admin := "/api/v1/admin" + strings.TrimPrefix(msgPath(g.gid, mid3, "remind"), "/api/v1")
	h.wantErr(401, "unauthorized", req{method: "POST", path: admin, token: g.alice})
	r = h.must(200, req{method: "POST", path: admin, token: adminToken, body: map[string]any{"users": []string{"dave"}}})
	if r.body["reminded"] != 1.0 {
		t.Errorf("admin remind = %s, want 1", r.raw)
	}
	// Dave's devices get it, from nobody: the administrator is no user.
	r = h.must(200, req{method: "GET", path: "/api/v1/sync", token: g.dave, header: map[string]string{"X-Seen-Device": "phone"}})
	var from []any
	for _, m := range list(r, "messages") {
		if m := m.(map[string]any); m["type"] == "remind" && m["msgId"] == mid3 {
			from = append(from, m["from"])
		}
	}
	if !cmp.Equal(from, []any{""}) {
		t.Errorf("dave's reminders of %s come from %q, want one from \"\": %s", mid3, from, r.raw)
	}
}

// TestRemindRefused: every bad request is refused with its code and
// reminds nobody (the message can still be reminded afterwards).
func TestRemindRefused(t *testing.T) { onStores(t, testRemindRefused) }

func testRemindRefused(t *testing.T, dsn string) {
	h := newHarnessAt(t, dsn)
	g := h.receiptGroup()
	plain := h.send(g.alice, map[string]any{"localId": "p", "type": "txt", "chatType": "groupChat", "to": g.gid, "msg": "plain"}).body["id"].(string)
	path := msgPath(g.gid, g.mid, "remind")
	for _, c := range []struct {
		what   string
		q      req
		status int
		name   string
	}{
		{"no token", req{method: "POST", path: path}, 401, "unauthorized"},
		{"bad group id", req{method: "POST", path: msgPath("x", g.mid, "remind"), token: g.alice}, 400, "bad_request"},
		{"bad message id", req{method: "POST", path: msgPath(g.gid, "-1", "remind"), token: g.alice}, 400, "bad_request"},
		{"no such group", req{method: "POST", path: msgPath("123", g.mid, "remind"), token: g.alice}, 404, "group_not_found"},
		{"no such message", req{method: "POST", path: msgPath(g.gid, "123", "remind"), token: g.alice}, 404, "message_not_found"},
		{"plain message", req{method: "POST", path: msgPath(g.gid, plain, "remind"), token: g.alice}, 409, "not_allowed"},
		{"empty users", req{method: "POST", path: path, token: g.alice, body: map[string]any{"users": []string{}}}, 400, "bad_request"},
		{"users not a list", req{method: "POST", path: path, token: g.alice, body: map[string]any{"users": "carol"}}, 400, "bad_request"},
		{"bad username", req{method: "POST", path: path, token: g.alice, body: map[string]any{"users": []string{"no spaces"}}}, 400, "bad_request"},
		{"too many users", req{method: "POST", path: path, token: g.alice, body: map[string]any{"users": manyNames(1001)}}, 400, "bad_request"},
		{"unknown field", req{method: "POST", path: path, token: g.alice, body: map[string]any{"user": []string{"carol"}}}, 400, "bad_request"},
		{"not JSON", req{method: "POST", path: path, token: g.alice, body: "users=carol"}, 400, "bad_request"},
		{"wrong type", req{method: "POST", path: path, token: g.alice, body: "{}", header: map[string]string{"Content-Type": "text/plain"}}, 400, "bad_request"},
		{"GET", req{method: "GET", path: path, token: g.alice}, 405, "bad_request"},
	} {
		t.Run(c.what, func(t *testing.T) { h.wantErr(c.status, c.name, c.q) })
	}
	r := h.must(200, req{method: "POST", path: path, token: g.alice, body: map[string]any{"users": []string{"carol", "dave"}}})
	if r.body["reminded"] != 2.0 {
		t.Errorf("remind after the refusals = %s, want 2 reminded", r.raw)
	}
}

// TestRemindEmptyBody: an empty body, with or without a Content-Type, and
// with or without a length, reminds everyone unread; a body that is there
// is decoded strictly.
func TestRemindEmptyBody(t *testing.T) { onStores(t, testRemindEmptyBody) }

func testRemindEmptyBody(t *testing.T, dsn string) {
	h := newHarnessAt(t, dsn)
	g := h.receiptGroup()
	noType := map[string]string{"Content-Type": ""}
	for _, c := range []struct {
		what     string
		body     any
		header   map[string]string
		reminded float64 // 0: refused
	}{
		{"none", nil, nil, 2},
		{"empty JSON", "", nil, 2},
		{"empty JSON, chunked", chunked(""), nil, 2},
		{"empty, chunked, no type", chunked(""), noType, 2},
		{"empty, another type", "", map[string]string{"Content-Type": "text/plain"}, 2},
		{"empty object", "{}", nil, 2},
		{"white space", " ", nil, 0},
		{"null", "null", nil, 2},
		{"no type", `{"users":["carol"]}`, noType, 0},
		{"two values", "{} {}", nil, 0},
	} {
		mid := h.notice(g.alice, g.gid)
		h.must(200, req{method: "POST", path: "/api/v1/groups/" + g.gid + "/receipts", token: g.bob, body: map[string]any{"items": []map[string]any{{"msgId": mid}}}})
		r := h.do(req{method: "POST", path: msgPath(g.gid, mid, "remind"), token: g.alice, body: c.body, header: c.header})
		switch {
		case c.reminded == 0 && (r.status != 400 || r.code() != "bad_request"):
			t.Errorf("remind(%s) = %d %s, want 400 bad_request", c.what, r.status, r.raw)
		case c.reminded != 0 && (r.status != 200 || r.body["reminded"] != c.reminded):
			t.Errorf("remind(%s) = %d %s, want 200 and %v reminded", c.what, r.status, r.raw, c.reminded)
		}
	}
}

func manyNames(n int) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = "u" + strings.Repeat("1", 1+i%60) + string(rune('a'+i%26))
	}
	return out
}

// TestRemindInterval: the interval is the service's; 0 lifts the limit.
func TestRemindInterval(t *testing.T) {
	h := newHarness(t, withConfig(func(c *chat.Config) { c.RemindInterval = 0 }))
	g := h.receiptGroup()
	for range 2 {
		h.must(200, req{method: "POST", path: msgPath(g.gid, g.mid, "remind"), token: g.alice})
	}
}
