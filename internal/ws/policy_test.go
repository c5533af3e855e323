package ws

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"seen/client"
	"seen/internal/chat"
)

// TestPolicyOps: group.policy and group.setPolicy through the Go client,
// the policy in group objects, and who may change it.
func TestPolicyOps(t *testing.T) {
	st := newStack(t, Config{})
	st.users(t, "alice", "bob", "carol", "dave")
	ctx := ctxT(t)
	alice := st.dial(t, "alice", "a1")
	bob := st.dial(t, "bob", "b1")
	dave := st.dial(t, "dave", "d1")
	g, err := alice.CreateGroup(ctx, client.GroupCreate{Name: "notices", Members: []string{"bob", "carol"}})
	if err != nil {
		t.Fatalf("CreateGroup = %v", err)
	}
	def := client.Policy{Request: chat.RequestAdmins, Visibility: chat.VisibleAdmins, Lists: true}
	if p, err := bob.GroupPolicy(ctx, g.GroupID); err != nil || p != def {
		t.Errorf("GroupPolicy by a member = %+v, %v, want the defaults %+v", p, err, def)
	}
	if _, err := dave.GroupPolicy(ctx, g.GroupID); errName(err) != "not_member" {
		t.Errorf("GroupPolicy by a non-member = %v, want not_member", err)
	}

	vis, lists := chat.VisibleMembers, false
	want := client.Policy{Request: chat.RequestAdmins, Visibility: chat.VisibleMembers, Lists: false}
	if p, err := alice.SetGroupPolicy(ctx, client.SetPolicy{Group: g.GroupID, Visibility: &vis, Lists: &lists}); err != nil || p != want {
		t.Fatalf("SetGroupPolicy(members, counts only) = %+v, %v, want %+v", p, err, want)
	}
	// The members hear of the change.
	ev := decode[client.GroupEvent](t, waitPush(t, bob, client.PushGroup, func(b json.RawMessage) bool {
		var e client.GroupEvent
		return json.Unmarshal(b, &e) == nil && e.Op == chat.GroupOpInfoUpdated
	}))
	if ev.GroupID != g.GroupID || ev.Actor != "alice" {
		t.Errorf("group push = %+v, want updateInfo of %s by alice", ev, g.GroupID)
	}
	all := chat.RequestAll
	if _, err := bob.SetGroupPolicy(ctx, client.SetPolicy{Group: g.GroupID, Request: &all}); errName(err) != "permission_denied" {
		t.Errorf("SetGroupPolicy by a member = %v, want permission_denied", err)
	}
	bad := "everyone"
	if _, err := alice.SetGroupPolicy(ctx, client.SetPolicy{Group: g.GroupID, Visibility: &bad, Request: &all}); errName(err) != "bad_request" {
		t.Errorf("SetGroupPolicy(visibility everyone) = %v, want bad_request", err)
	}
	// Neither refused change took effect, not even the valid field of the
	// bad request.
	if p, err := bob.GroupPolicy(ctx, g.GroupID); err != nil || p != want {
		t.Errorf("GroupPolicy after refused changes = %+v, %v, want %+v", p, err, want)
	}
	info, err := bob.GroupInfo(ctx, g.GroupID)
	if err != nil || info.ReceiptPolicy == nil || *info.ReceiptPolicy != want {
		t.Errorf("GroupInfo.ReceiptPolicy = %+v, %v, want %+v", info.ReceiptPolicy, err, want)
	}
	mine, err := bob.MyGroups(ctx, "", 0)
	if err != nil || len(mine.Groups) != 1 || mine.Groups[0].ReceiptPolicy == nil || *mine.Groups[0].ReceiptPolicy != want {
		t.Errorf("MyGroups = %+v, %v, want the group with policy %+v", mine, err, want)
	}

	// The policy rules: members see counts; nobody gets the lists.
	sent, err := alice.Send(ctx, client.Send{LocalID: "n1", Type: "txt", ChatType: client.GroupChat, To: g.GroupID, Msg: "notice", MsgConfig: &client.MsgConfig{AllowGroupAck: true}})
	if err != nil {
		t.Fatalf("Send = %v", err)
	}
	if _, err := bob.Ack(ctx, g.GroupID, client.AckItem{MsgID: sent.ID}); err != nil {
		t.Fatalf("Ack = %v", err)
	}
	carol := st.dial(t, "carol", "c1")
	if counts, err := carol.ReadCounts(ctx, g.GroupID, sent.ID); err != nil || !cmp.Equal(counts, map[string]int{sent.ID: 1}) {
		t.Errorf("ReadCounts by a member of a notice board = %v, %v, want 1", counts, err)
	}
	if _, err := alice.Readers(ctx, g.GroupID, sent.ID, "", 0); errName(err) != "permission_denied" {
		t.Errorf("Readers in a counts-only group = %v, want permission_denied", err)
	}
	if _, err := alice.Unread(ctx, g.GroupID, sent.ID, "", 0); errName(err) != "permission_denied" {
		t.Errorf("Unread in a counts-only group = %v, want permission_denied", err)
	}
}

// TestSettingsOps: user.settings and user.setSettings, and what the
// switch does to a group ack over the WebSocket.
func TestSettingsOps(t *testing.T) {
	st := newStack(t, Config{})
	st.users(t, "alice", "bob")
	ctx := ctxT(t)
	alice := st.dial(t, "alice", "a1")
	bob := st.dial(t, "bob", "b1")
	if s, err := bob.Settings(ctx); err != nil || !s.SendReadReceipts {
		t.Errorf("Settings = %+v, %v, want sendReadReceipts true", s, err)
	}
	if s, err := bob.SetSettings(ctx, false); err != nil || s.SendReadReceipts {
		t.Fatalf("SetSettings(false) = %+v, %v, want false", s, err)
	}
	bob2 := st.dial(t, "bob", "b2")
	if s, err := bob2.Settings(ctx); err != nil || s.SendReadReceipts {
		t.Errorf("Settings on another device = %+v, %v, want false", s, err)
	}
	if s, err := alice.Settings(ctx); err != nil || !s.SendReadReceipts {
		t.Errorf("Settings of another user = %+v, %v, want true", s, err)
	}

	g, err := alice.CreateGroup(ctx, client.GroupCreate{Name: "team", Members: []string{"bob"}})
	if err != nil {
		t.Fatalf("CreateGroup = %v", err)
	}
	sent, err := alice.Send(ctx, client.Send{LocalID: "l1", Type: "txt", ChatType: client.GroupChat, To: g.GroupID, Msg: "read me", MsgConfig: &client.MsgConfig{AllowGroupAck: true}})
	if err != nil {
		t.Fatalf("Send = %v", err)
	}
	rs, err := bob.Ack(ctx, g.GroupID, client.AckItem{MsgID: sent.ID})
	if err != nil || len(rs) != 1 || !rs[0].OK || rs[0].Counted {
		t.Errorf("Ack with receipts off = %+v, %v, want ok, not counted", rs, err)
	}
	if counts, err := alice.ReadCounts(ctx, g.GroupID, sent.ID); err != nil || counts[sent.ID] != 0 {
		t.Errorf("ReadCounts = %v, %v, want 0", counts, err)
	}
	if s, err := bob.SetSettings(ctx, true); err != nil || !s.SendReadReceipts {
		t.Fatalf("SetSettings(true) = %+v, %v, want true", s, err)
	}
}

// TestNewOpsBadInput: malformed data of the new ops is bad_request,
// fails alone and changes nothing.
func TestNewOpsBadInput(t *testing.T) {
	st := newStack(t, Config{})
	st.users(t, "alice", "bob")
	ctx := ctxT(t)
	alice := st.dial(t, "alice", "a1")
	g, err := alice.CreateGroup(ctx, client.GroupCreate{Name: "team", Members: []string{"bob"}})
	if err != nil {
		t.Fatalf("CreateGroup = %v", err)
	}
	sent, err := alice.Send(ctx, client.Send{LocalID: "l1", Type: "txt", ChatType: client.GroupChat, To: g.GroupID, Msg: "read me", MsgConfig: &client.MsgConfig{AllowGroupAck: true}})
	if err != nil {
		t.Fatalf("Send = %v", err)
	}
	G, M := `"`+g.GroupID+`"`, `"`+sent.ID+`"`
	r := st.rawAuthed(t, "alice", "raw")
	for _, data := range []string{
		`{"op":"receipt.remind","data":{"groupId":` + G + `,"msgId":` + M + `,"users":[]}}`,
		// group, the name these ops had before release, is an unknown field.
		`{"op":"receipt.remind","data":{"group":` + G + `,"msgId":` + M + `}}`,
		`{"op":"receipt.analytics","data":{"group":` + G + `,"msgId":` + M + `}}`,
		`{"op":"group.policy","data":{"group":` + G + `}}`,
		`{"op":"group.setPolicy","data":{"group":` + G + `,"lists":false}}`,
		`{"op":"receipt.remind","data":{"groupId":"x","msgId":` + M + `}}`,
		`{"op":"receipt.remind","data":{"groupId":` + G + `,"msgId":` + M + `,"users":"bob"}}`,
		`{"op":"receipt.remind","data":{"groupId":` + G + `,"msgId":` + M + `,"users":[1]}}`,
		`{"op":"receipt.remind","data":{"groupId":` + G + `,"msgId":` + M + `,"users":[` + strings.TrimSuffix(strings.Repeat(`"bob",`, chat.MaxRemindUsers+1), ",") + `]}}`,
		`{"op":"receipt.remind","data":{"groupId":` + G + `,"msgId":` + M + `,"users":["bob"],"all":true}}`,
		`{"op":"receipt.analytics","data":{"groupId":` + G + `,"msgId":"abc"}}`,
		`{"op":"receipt.analytics","data":{"groupId":` + G + `}}`,
		`{"op":"group.policy","data":{}}`,
		`{"op":"group.policy","data":{"groupId":` + G + `,"lists":true}}`,
		`{"op":"group.setPolicy","data":{"groupId":` + G + `,"lists":"no"}}`,
		`{"op":"group.setPolicy","data":{"groupId":` + G + `,"visibility":"everyone","lists":false}}`,
		`{"op":"group.setPolicy","data":{"groupId":` + G + `,"request":"nobody"}}`,
		`{"op":"group.setPolicy","data":{"groupId":` + G + `,"visibility":"members\u0000"}}`,
		`{"op":"group.setPolicy","data":{"groupId":` + G + `}}`,
		`{"op":"user.settings","data":{"sendReadReceipts":true}}`,
		`{"op":"user.setSettings","data":{}}`,
		`{"op":"user.setSettings","data":{"sendReadReceipts":null}}`,
		`{"op":"user.setSettings","data":{"sendReadReceipts":"no"}}`,
		`{"op":"user.setSettings","data":{"sendReadReceipts":false,"x":1}}`,
	} {
		r.send(`{"id":"x",` + data[1:])
		rep := r.reply()
		if rep.OK || rep.Error == nil || rep.Error.Name != "bad_request" {
			t.Errorf("%s: reply %+v, want bad_request", data, rep)
		}
	}
	// Nothing changed, and the connection still works.
	if p, err := alice.GroupPolicy(ctx, g.GroupID); err != nil || p.Visibility != chat.VisibleAdmins || !p.Lists || p.Request != chat.RequestAdmins {
		t.Errorf("GroupPolicy after bad requests = %+v, %v, want the defaults", p, err)
	}
	if s, err := alice.Settings(ctx); err != nil || !s.SendReadReceipts {
		t.Errorf("Settings after bad requests = %+v, %v, want true", s, err)
	}
	if u, err := alice.Unread(ctx, g.GroupID, sent.ID, "", 0); err != nil || len(u.Reminders) != 0 {
		t.Errorf("Unread after bad requests = %+v, %v, want nobody reminded", u, err)
	}
	r.send(`{"id":"p","op":"ping"}`)
	if rep := r.reply(); !rep.OK {
		t.Errorf("ping after bad requests = %+v, want ok", rep)
	}
	// groupId, as in every other frame, names the group of the new ops.
	for _, data := range []string{
		`{"op":"group.policy","data":{"groupId":` + G + `}}`,
		`{"op":"receipt.analytics","data":{"groupId":` + G + `,"msgId":` + M + `}}`,
	} {
		r.send(`{"id":"y",` + data[1:])
		if rep := r.reply(); !rep.OK {
			t.Errorf("%s: reply %+v, want ok", data, rep)
		}
	}
}
