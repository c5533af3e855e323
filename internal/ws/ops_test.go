package ws

import (
	"context"
	"encoding/json"
	"slices"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"seen/client"
	"seen/internal/chat"
	"seen/internal/protocol"
)

// TestOps calls every op once through the Go client.
func TestOps(t *testing.T) {
	st := newStack(t, Config{})
	st.users(t, "alice", "bob", "carol", "dave")
	ctx := ctxT(t)
	alice := st.dial(t, "alice", "a1")
	bob := st.dial(t, "bob", "b1")
	carol := st.dial(t, "carol", "c1")

	if _, err := alice.Ping(ctx); err != nil {
		t.Fatalf("Ping = %v", err)
	}

	// Groups.
	g, err := alice.CreateGroup(ctx, client.GroupCreate{Name: "team", Members: []string{"bob", "carol"}, Ext: json.RawMessage(`{"k":"v"}`)})
	if err != nil {
		t.Fatalf("CreateGroup = %v", err)
	}
	want := client.Group{GroupID: g.GroupID, Name: "team", Owner: "alice", MaxMembers: chat.DefaultConfig().MaxGroupMembers, MemberCount: 3, CreatedAt: g.CreatedAt, Ext: json.RawMessage(`{"k":"v"}`),
		ReceiptPolicy: &client.Policy{Request: chat.RequestAdmins, Visibility: chat.VisibleAdmins, Lists: true}}
	if diff := cmp.Diff(want, g); diff != "" {
		t.Errorf("CreateGroup differs (-want +got):\n%s", diff)
	}
	info, err := bob.GroupInfo(ctx, g.GroupID)
	if err != nil || info.Owner != "alice" || info.MemberCount != 3 {
		t.Errorf("GroupInfo = %+v, %v, want owner alice, 3 members", info, err)
	}
	if added, err := alice.AddMembers(ctx, g.GroupID, "dave", "bob"); err != nil || !cmp.Equal(added, []string{"dave"}) {
		t.Errorf("AddMembers(dave, bob) = %v, %v, want [dave]", added, err)
	}
	if _, err := bob.AddMembers(ctx, g.GroupID, "dave"); errName(err) != "permission_denied" {
		t.Errorf("AddMembers by a member = %v, want permission_denied", err)
	}
	if err := alice.SetAdmin(ctx, g.GroupID, "bob"); err != nil {
		t.Errorf("SetAdmin = %v", err)
	}
	admins, err := carol.Admins(ctx, g.GroupID)
	if err != nil {
		t.Fatalf("Admins = %v", err)
	}
	gotAdmins := map[string]string{}
	for _, m := range admins {
		gotAdmins[m.Username] = m.Role
	}
	if diff := cmp.Diff(map[string]string{"alice": "owner", "bob": "admin"}, gotAdmins); diff != "" {
		t.Errorf("Admins differ (-want +got):\n%s", diff)
	}
	if err := alice.RemoveAdmin(ctx, g.GroupID, "bob"); err != nil {
		t.Errorf("RemoveAdmin = %v", err)
	}
	members, err := carol.Members(ctx, g.GroupID, "", 2)
	if err != nil || len(members.Members) != 2 || members.Cursor == "" {
		t.Fatalf("Members(limit 2) = %+v, %v, want 2 and a cursor", members, err)
	}
	rest, err := carol.Members(ctx, g.GroupID, members.Cursor, 10)
	if err != nil || len(rest.Members) != 2 || rest.Cursor != "" {
		t.Errorf("Members(next page) = %+v, %v, want 2 and no cursor", rest, err)
	}
	if err := alice.RemoveMember(ctx, g.GroupID, "dave"); err != nil {
		t.Errorf("RemoveMember = %v", err)
	}
	mine, err := bob.MyGroups(ctx, "", 0)
	if err != nil || len(mine.Groups) != 1 || mine.Groups[0].Owner != "alice" || mine.Groups[0].MemberCount != 3 {
		t.Errorf("MyGroups = %+v, %v, want the team owned by alice with 3 members", mine, err)
	}

	// Messages and group receipts.
	sent, err := alice.Send(ctx, client.Send{LocalID: "l1", Type: "txt", ChatType: client.GroupChat, To: g.GroupID, Msg: "read me", MsgConfig: &client.MsgConfig{AllowGroupAck: true}})
	if err != nil || sent.LocalID != "l1" || sent.ID == "" || sent.Seq == 0 || sent.Time == 0 {
		t.Fatalf("Send = %+v, %v", sent, err)
	}
	again, err := alice.Send(ctx, client.Send{LocalID: "l1", Type: "txt", ChatType: client.GroupChat, To: g.GroupID, Msg: "read me", MsgConfig: &client.MsgConfig{AllowGroupAck: true}})
	if err != nil || again != sent {
		t.Errorf("Send(same local id) = %+v, %v, want %+v", again, err, sent)
	}
	if _, err := bob.Send(ctx, client.Send{LocalID: "b1", Type: "txt", ChatType: client.GroupChat, To: g.GroupID, Msg: "x", MsgConfig: &client.MsgConfig{AllowGroupAck: true}}); errName(err) != "permission_denied" {
		t.Errorf("Send(receipts) by a member = %v, want permission_denied", err)
	}
	results, err := bob.Ack(ctx, g.GroupID, client.AckItem{MsgID: sent.ID, AckContent: "ok"}, client.AckItem{MsgID: "1"})
	if err != nil {
		t.Fatalf("Ack = %v", err)
	}
	wantResults := []client.AckResult{
		{MsgID: sent.ID, OK: true, Counted: true, Count: 1},
		{MsgID: "1", Error: &protocol.Error{Code: chat.CodeMessageNotFound.Number(), Name: "message_not_found"}},
	}
	if diff := cmp.Diff(wantResults, results, cmpopts.IgnoreFields(protocol.Error{}, "Message")); diff != "" {
		t.Errorf("Ack results differ (-want +got):\n%s", diff)
	}
	rp := waitPush(t, alice, client.PushReceipt, nil)
	if r := decode[client.Receipt](t, rp); r.Mid != sent.ID || r.Count != 1 || r.From != "bob" || r.AckContent != "ok" || r.GroupID != g.GroupID {
		t.Errorf("receipt push = %+v, want mid %s count 1 from bob", r, sent.ID)
	}
	readers, err := alice.Readers(ctx, g.GroupID, sent.ID, "", 0)
	if err != nil || readers.Total != 1 || len(readers.Users) != 1 || readers.Users[0].Username != "bob" || readers.Users[0].AckContent != "ok" || !readers.IsLast {
		t.Errorf("Readers = %+v, %v, want bob alone", readers, err)
	}
	unread, err := alice.Unread(ctx, g.GroupID, sent.ID, "", 0)
	if err != nil || unread.Total != 1 || !cmp.Equal(unread.Users, []string{"carol"}) || !unread.IsLast {
		t.Errorf("Unread = %+v, %v, want [carol]", unread, err)
	}
	if _, err := carol.Readers(ctx, g.GroupID, sent.ID, "", 0); errName(err) != "permission_denied" {
		t.Errorf("Readers by a member = %v, want permission_denied", err)
	}
	counts, err := alice.ReadCounts(ctx, g.GroupID, sent.ID)
	if err != nil || !cmp.Equal(counts, map[string]int{sent.ID: 1}) {
		t.Errorf("ReadCounts = %v, %v, want %s: 1", counts, err, sent.ID)
	}
	stats, err := alice.Stats(ctx, 0, 0)
	if err != nil || len(stats.Entries) != 1 || stats.More {
		t.Fatalf("Stats = %+v, %v, want one entry", stats, err)
	}
	if e := stats.Entries[0]; e.Mid != sent.ID || e.Count != 1 || e.From != "bob" || e.AckContent != "ok" || e.GroupID != g.GroupID || e.Timestamp == 0 {
		t.Errorf("Stats entry = %+v, want mid %s count 1 from bob", e, sent.ID)
	}
	if again, err := alice.Stats(ctx, stats.Next, 0); err != nil || len(again.Entries) != 0 {
		t.Errorf("Stats(confirmed) = %+v, %v, want no entries", again, err)
	}
	if n, err := carol.AckConversation(ctx, client.GroupChat, g.GroupID); err != nil || n != 1 {
		t.Errorf("AckConversation(group) = %d, %v, want 1", n, err)
	}

	// Sync, history, conversations.
	sync, err := carol.Sync(ctx, 0, 0)
	if err != nil || len(sync.Messages) != 1 || sync.More {
		t.Fatalf("Sync = %+v, %v, want 1 message", sync, err)
	}
	m := sync.Messages[0]
	if m.ID != sent.ID || m.From != "alice" || m.To != g.GroupID || m.Msg != "read me" || m.MsgConfig == nil || m.ReadCount != nil {
		t.Errorf("synced message = %+v, want alice's, no read count", m)
	}
	if again, err := carol.Sync(ctx, sync.Next, 0); err != nil || len(again.Messages) != 0 {
		t.Errorf("Sync(confirmed) = %+v, %v, want nothing", again, err)
	}
	h, err := alice.History(ctx, client.History{ChatType: client.GroupChat, To: g.GroupID})
	if err != nil || len(h.Messages) != 1 || !h.IsLast {
		t.Fatalf("History = %+v, %v, want 1 message", h, err)
	}
	if rc := h.Messages[0].ReadCount; rc == nil || *rc != 2 {
		t.Errorf("History read count of the sender = %v, want 2", rc)
	}
	if h, err := alice.History(ctx, client.History{ChatType: client.GroupChat, To: g.GroupID, Direction: "newer"}); err != nil || len(h.Messages) != 1 {
		t.Errorf("History(newer) = %+v, %v, want 1 message", h, err)
	}

	// Single chat and peer receipts.
	dm, err := bob.SendText(ctx, client.SingleChat, "alice", "hi alice")
	if err != nil {
		t.Fatalf("SendText = %v", err)
	}
	if err := alice.PeerDelivered(ctx, "bob", dm.ID); err != nil {
		t.Errorf("PeerDelivered = %v", err)
	}
	if err := alice.PeerRead(ctx, "bob", dm.ID); err != nil {
		t.Errorf("PeerRead = %v", err)
	}
	if err := alice.PeerRead(ctx, "carol", dm.ID); errName(err) != "message_not_found" {
		t.Errorf("PeerRead(wrong peer) = %v, want message_not_found", err)
	}
	if p := decode[client.PeerReceipt](t, waitPush(t, bob, client.PushDelivery, nil)); p.Mid != dm.ID || p.From != "alice" || p.To != "bob" {
		t.Errorf("delivery push = %+v, want alice delivered %s", p, dm.ID)
	}
	if p := decode[client.PeerReceipt](t, waitPush(t, bob, client.PushRead, nil)); p.Mid != dm.ID || p.From != "alice" {
		t.Errorf("read push = %+v, want alice read %s", p, dm.ID)
	}
	convs, err := alice.Conversations(ctx, "", 0)
	if err != nil || len(convs.Conversations) != 2 {
		t.Fatalf("Conversations = %+v, %v, want 2", convs, err)
	}
	if c := convs.Conversations[0]; c.ChatType != client.SingleChat || c.To != "bob" || c.Unread != 1 || c.LastMessage == nil || c.LastMessage.Msg != "hi alice" {
		t.Errorf("newest conversation = %+v, want bob's, 1 unread", c)
	}
	if n, err := alice.AckConversation(ctx, client.SingleChat, "bob"); err != nil || n != 0 {
		t.Errorf("AckConversation(single) = %d, %v, want 0", n, err)
	}
	if p := decode[client.Channel](t, waitPush(t, bob, client.PushChannel, nil)); p.From != "alice" || p.To != "bob" {
		t.Errorf("channel push = %+v, want from alice to bob", p)
	}

	// Leaving, ownership, destroying.
	if err := carol.LeaveGroup(ctx, g.GroupID); err != nil {
		t.Errorf("LeaveGroup = %v", err)
	}
	if err := alice.LeaveGroup(ctx, g.GroupID); errName(err) != "not_allowed" {
		t.Errorf("LeaveGroup by the owner = %v, want not_allowed", err)
	}
	if err := alice.TransferOwner(ctx, g.GroupID, "bob"); err != nil {
		t.Errorf("TransferOwner = %v", err)
	}
	if err := alice.DestroyGroup(ctx, g.GroupID); errName(err) != "permission_denied" {
		t.Errorf("DestroyGroup by a former owner = %v, want permission_denied", err)
	}
	if err := bob.DestroyGroup(ctx, g.GroupID); err != nil {
		t.Errorf("DestroyGroup = %v", err)
	}
	if _, err := bob.GroupInfo(ctx, g.GroupID); errName(err) != "group_not_found" {
		t.Errorf("GroupInfo(destroyed) = %v, want group_not_found", err)
	}

	// The raw call, for ops without a method.
	var pong protocol.Pong
	if err := alice.Call(ctx, protocol.OpPing, nil, &pong); err != nil || pong.ServerTime == 0 {
		t.Errorf("Call(ping) = %+v, %v", pong, err)
	}
	if err := alice.Call(ctx, "nope", nil, nil); errName(err) != "bad_request" {
		t.Errorf("Call(nope) = %v, want bad_request", err)
	}
}

// TestPushRouting: a group message reaches every member's devices and
// the sender's other devices, but not the device that sent it.
func TestPushRouting(t *testing.T) {
	st := newStack(t, Config{})
	st.users(t, "alice", "bob")
	ctx := ctxT(t)
	a1 := st.dial(t, "alice", "a1")
	a2 := st.dial(t, "alice", "a2")
	b1 := st.dial(t, "bob", "b1")
	b2 := st.dial(t, "bob", "b2")
	g, err := a1.CreateGroup(ctx, client.GroupCreate{Name: "team", Members: []string{"bob"}})
	if err != nil {
		t.Fatal(err)
	}
	sent, err := a1.SendText(ctx, client.GroupChat, g.GroupID, "hello")
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []*client.Conn{a2, b1, b2} {
		p := waitPush(t, c, client.PushMsg, nil)
		if m := decode[client.Message](t, p); m.ID != sent.ID || m.From != "alice" || m.To != g.GroupID || m.Msg != "hello" {
			t.Errorf("%s/%s: msg push = %+v, want %s from alice", c.User(), c.Device(), m, sent.ID)
		}
	}
	// A barrier: the next message a1 sees is bob's, not its own.
	reply, err := b1.SendText(ctx, client.GroupChat, g.GroupID, "back")
	if err != nil {
		t.Fatal(err)
	}
	if m := decode[client.Message](t, waitPush(t, a1, client.PushMsg, nil)); m.ID != reply.ID {
		t.Errorf("a1: first msg push = %s from %s, want bob's %s (not its own %s)", m.ID, m.From, reply.ID, sent.ID)
	}
	// conv.read goes to the other devices of the user.
	if _, err := b1.AckConversation(ctx, client.GroupChat, g.GroupID); err != nil {
		t.Fatal(err)
	}
	if p := decode[client.ConvRead](t, waitPush(t, b2, client.PushConvRead, nil)); p.To != g.GroupID || p.ChatType != client.GroupChat || p.Seq == 0 {
		t.Errorf("b2: conv.read push = %+v, want group %s", p, g.GroupID)
	}
	// Single chat: to the peer's devices and the sender's other devices.
	dm, err := a1.SendText(ctx, client.SingleChat, "bob", "psst")
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []*client.Conn{a2, b1, b2} {
		m := decode[client.Message](t, waitPush(t, c, client.PushMsg, withID(dm.ID)))
		if m.ChatType != client.SingleChat || m.From != "alice" || m.To != "bob" {
			t.Errorf("%s/%s: single-chat msg push = %+v, want from alice to bob", c.User(), c.Device(), m)
		}
	}
	// b1's own conv.read never reaches b1: the next push it sees is a later one.
	if _, err := a2.SendText(ctx, client.SingleChat, "bob", "barrier"); err != nil {
		t.Fatal(err)
	}
	for {
		p := nextPush(t, b1)
		if p.Push == client.PushConvRead {
			t.Errorf("b1 got its own conv.read push %s", p.Data)
		}
		if p.Push == client.PushMsg && decode[client.Message](t, p).Msg == "barrier" {
			break
		}
	}
}

// TestReceiptMonotonic: a device never sees a message's count go down,
// even when pushes overtake each other between publishers.
func TestReceiptMonotonic(t *testing.T) {
	st := newStackUncoalesced(t)
	st.users(t, "alice")
	a := st.dial(t, "alice", "a1")
	alice := st.sessionsOf("alice")[0].actor.User
	for _, n := range []int{3, 2, 3, 5, 4, 6} {
		st.bus.Publish(context.Background(), chat.UserTopic(alice), chat.Event{Kind: chat.EventReceipt, Receipt: &chat.ReceiptPush{
			Msg: 77, Group: 9, Sender: alice, Count: n, Reader: "bob",
		}})
	}
	st.bus.Publish(context.Background(), chat.UserTopic(alice), chat.Event{Kind: chat.EventReceipt, Receipt: &chat.ReceiptPush{
		Msg: 78, Group: 9, Sender: alice, Count: 1, Reader: "bob",
	}})
	var got []int
	for {
		r := decode[client.Receipt](t, waitPush(t, a, client.PushReceipt, nil))
		if r.Mid == "78" {
			break
		}
		got = append(got, r.Count)
	}
	// 3, 5 and 6 raise the count; one still queued when a higher comes
	// is replaced by it (TestFakeQueuedCountReplaced), so the device gets
	// a rising subset of them that ends with 6.
	if len(got) == 0 || got[len(got)-1] != 6 || !slices.IsSorted(got) || len(slices.Compact(slices.Clone(got))) != len(got) {
		t.Errorf("receipt counts pushed = %v, want a rising subset of [3 5 6] ending with 6", got)
	}
	for _, n := range got {
		if n != 3 && n != 5 && n != 6 {
			t.Errorf("receipt counts pushed = %v, want a rising subset of [3 5 6] ending with 6", got)
		}
	}
}

// TestGroupSubscriptions: group events arrive live, and adding or
// removing a member subscribes or unsubscribes their sessions.
func TestGroupSubscriptions(t *testing.T) {
	st := newStack(t, Config{})
	st.users(t, "alice", "bob", "carol")
	ctx := ctxT(t)
	alice := st.dial(t, "alice", "a1")
	alice2 := st.dial(t, "alice", "a2")
	bob := st.dial(t, "bob", "b1")
	carol := st.dial(t, "carol", "c1")
	topics := st.bus.Topics() // one user topic each

	g, err := alice.CreateGroup(ctx, client.GroupCreate{Name: "team", Members: []string{"bob"}})
	if err != nil {
		t.Fatal(err)
	}
	if ev := decode[client.GroupEvent](t, waitPush(t, bob, client.PushGroup, nil)); ev.Op != chat.GroupOpInvited || ev.GroupID != g.GroupID || ev.Actor != "alice" || ev.GroupName != "team" {
		t.Errorf("bob: group push = %+v, want directJoined to team", ev)
	}
	if ev := decode[client.GroupEvent](t, waitPush(t, alice2, client.PushGroup, nil)); ev.Op != chat.GroupOpCreate || ev.GroupID != g.GroupID {
		t.Errorf("alice's other device: group push = %+v, want create", ev)
	}
	for _, u := range []string{"alice", "bob"} {
		if !st.subscribed(t, u, g.GroupID) {
			t.Errorf("%s subscribed to the new group = false, want true", u)
		}
	}
	if st.subscribed(t, "carol", g.GroupID) {
		t.Errorf("carol subscribed before being added = true, want false")
	}
	if n := st.bus.Topics(); n != topics+1 {
		t.Errorf("bus topics with one group = %d, want %d (one per topic per node)", n, topics+1)
	}

	if _, err := alice.AddMembers(ctx, g.GroupID, "carol"); err != nil {
		t.Fatal(err)
	}
	if ev := decode[client.GroupEvent](t, waitPush(t, carol, client.PushGroup, nil)); ev.Op != chat.GroupOpInvited || !cmp.Equal(ev.Users, []string{"carol"}) {
		t.Errorf("carol: group push = %+v, want directJoined", ev)
	}
	if ev := decode[client.GroupEvent](t, waitPush(t, bob, client.PushGroup, nil)); ev.Op != chat.GroupOpMemberAdded || !cmp.Equal(ev.Users, []string{"carol"}) {
		t.Errorf("bob: group push = %+v, want memberPresence of carol", ev)
	}
	if !st.subscribed(t, "carol", g.GroupID) {
		t.Fatalf("carol subscribed after being added = false, want true")
	}
	sent, err := alice.SendText(ctx, client.GroupChat, g.GroupID, "welcome")
	if err != nil {
		t.Fatal(err)
	}
	if m := decode[client.Message](t, waitPush(t, carol, client.PushMsg, nil)); m.ID != sent.ID {
		t.Errorf("carol: msg push = %s, want %s", m.ID, sent.ID)
	}

	if err := alice.RemoveMember(ctx, g.GroupID, "carol"); err != nil {
		t.Fatal(err)
	}
	waitPush(t, carol, client.PushGroup, func(d json.RawMessage) bool {
		var ev client.GroupEvent
		json.Unmarshal(d, &ev)
		return ev.Op == chat.GroupOpRemoved
	})
	if st.subscribed(t, "carol", g.GroupID) {
		t.Errorf("carol subscribed after removal = true, want false")
	}
	if _, err := alice.SendText(ctx, client.GroupChat, g.GroupID, "secret"); err != nil {
		t.Fatal(err)
	}
	if _, err := alice.SendText(ctx, client.SingleChat, "carol", "barrier"); err != nil {
		t.Fatal(err)
	}
	if m := decode[client.Message](t, waitPush(t, carol, client.PushMsg, nil)); m.Msg != "barrier" {
		t.Errorf("carol after removal: msg push %q, want only the barrier", m.Msg)
	}

	if err := alice.DestroyGroup(ctx, g.GroupID); err != nil {
		t.Fatal(err)
	}
	waitPush(t, bob, client.PushGroup, func(d json.RawMessage) bool {
		var ev client.GroupEvent
		json.Unmarshal(d, &ev)
		return ev.Op == chat.GroupOpDestroy
	})
	for _, u := range []string{"alice", "bob"} {
		if st.subscribed(t, u, g.GroupID) {
			t.Errorf("%s subscribed after destroy = true, want false", u)
		}
	}
	if n := st.bus.Topics(); n != topics {
		t.Errorf("bus topics after destroy = %d, want %d", n, topics)
	}
}

// withID matches pushes whose data has the id.
func withID(id string) func(json.RawMessage) bool {
	return func(d json.RawMessage) bool {
		var v struct{ ID string }
		json.Unmarshal(d, &v)
		return v.ID == id
	}
}

// TestHandlers: every op of the protocol is served.
func TestHandlers(t *testing.T) {
	for _, op := range protocol.Ops {
		_, ok := handlers[op]
		if op == protocol.OpAuth || op == protocol.OpPing || op == protocol.OpReceiptAck {
			ok = !ok // served by the read loop
		}
		if !ok {
			t.Errorf("op %s has no handler", op)
		}
	}
	if len(handlers) != len(protocol.Ops)-3 {
		t.Errorf("len(handlers) = %d, want %d", len(handlers), len(protocol.Ops)-3)
	}
}
