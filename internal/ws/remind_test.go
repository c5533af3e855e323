package ws

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"seen/client"
	"seen/internal/chat"
)

// remindSetup: alice owns a group of bob (admin), carol and dave, and
// sent a receipt-requesting message that bob has read.
func remindSetup(t *testing.T, st *stack) (alice, bob *client.Conn, g, m string) {
	t.Helper()
	st.users(t, "alice", "bob", "carol", "dave")
	ctx := ctxT(t)
	alice = st.dial(t, "alice", "a1")
	bob = st.dial(t, "bob", "b1")
	grp, err := alice.CreateGroup(ctx, client.GroupCreate{Name: "notices", Members: []string{"bob", "carol", "dave"}})
	if err != nil {
		t.Fatalf("CreateGroup = %v", err)
	}
	if err := alice.SetAdmin(ctx, grp.GroupID, "bob"); err != nil {
		t.Fatalf("SetAdmin = %v", err)
	}
	sent, err := alice.Send(ctx, client.Send{LocalID: "n1", Type: "txt", ChatType: client.GroupChat, To: grp.GroupID, Msg: "read me", MsgConfig: &client.MsgConfig{AllowGroupAck: true}})
	if err != nil {
		t.Fatalf("Send = %v", err)
	}
	if rs, err := bob.Ack(ctx, grp.GroupID, client.AckItem{MsgID: sent.ID}); err != nil || !rs[0].Counted {
		t.Fatalf("Ack = %+v, %v", rs, err)
	}
	return alice, bob, grp.GroupID, sent.ID
}

// syncReminders syncs a device from the start and returns its reminders.
func syncReminders(t *testing.T, c *client.Conn) []client.Reminder {
	t.Helper()
	var out []client.Reminder
	for ack := int64(0); ; {
		p, err := c.Sync(ctxT(t), ack, 0)
		if err != nil {
			t.Fatalf("Sync = %v", err)
		}
		for _, m := range p.Messages {
			if r, ok := client.AsReminder(m); ok {
				out = append(out, r)
			}
		}
		ack = p.Next
		if !p.More {
			return out
		}
	}
}

// TestRemindOp: an admin reminds those who have not read; every online
// device of each gets the push, a device that was offline syncs the same
// reminder, nobody else gets one, and the interval holds.
func TestRemindOp(t *testing.T) {
	st := newStack(t, Config{})
	alice, bob, g, m := remindSetup(t, st)
	ctx := ctxT(t)
	c1 := st.dial(t, "carol", "c1")
	c2 := st.dial(t, "carol", "c2")

	r, err := bob.Remind(ctx, g, m)
	if err != nil {
		t.Fatalf("Remind by an admin = %v", err)
	}
	if r.Reminded != 2 || len(r.Skipped) != 0 || r.NextAt-r.At != (10*time.Minute).Milliseconds() {
		t.Errorf("Remind = %+v, want carol and dave reminded, the next in 10 minutes", r)
	}
	var pushed []client.Reminder
	for _, c := range []*client.Conn{c1, c2} {
		rm := decode[client.Reminder](t, waitPush(t, c, client.PushReminder, nil))
		if rm.Group != g || rm.MsgID != m || rm.From != "bob" || rm.At != r.At || rm.ID == "" || rm.Seq == 0 {
			t.Errorf("%s: reminder = %+v, want from bob of %s at %d", c.Device(), rm, m, r.At)
		}
		pushed = append(pushed, rm)
	}
	if pushed[0] != pushed[1] {
		t.Errorf("carol's devices got different reminders %+v and %+v, want one", pushed[0], pushed[1])
	}
	// dave was offline: his first sync has it; carol's sync has the pushed one.
	dave := st.dial(t, "dave", "d1")
	if got := syncReminders(t, dave); len(got) != 1 || got[0].MsgID != m || got[0].From != "bob" || got[0].ID == pushed[0].ID {
		t.Errorf("dave's synced reminders = %+v, want one of his own", got)
	}
	if got := syncReminders(t, c1); len(got) != 1 || got[0] != pushed[0] {
		t.Errorf("carol's synced reminders = %+v, want exactly the pushed %+v", got, pushed[0])
	}
	// Who was not reminded gets nothing, neither live nor in sync.
	for _, c := range []*client.Conn{alice, bob} {
		select {
		case p := <-c.Pushes():
			if p.Push == client.PushReminder {
				t.Errorf("%s got a reminder %s, want none", c.Device(), p.Data)
			}
		case <-time.After(50 * time.Millisecond):
		}
		if got := syncReminders(t, c); len(got) != 0 {
			t.Errorf("%s synced reminders %+v, want none", c.Device(), got)
		}
	}

	_, err = alice.Remind(ctx, g, m)
	if errName(err) != "limit_exceeded" || !strings.Contains(err.Error(), "10m") {
		t.Errorf("Remind within the interval = %v, want limit_exceeded naming the 10m limit", err)
	}
	if _, err := c1.Remind(ctx, g, m); errName(err) != "permission_denied" {
		t.Errorf("Remind by a plain member = %v, want permission_denied", err)
	}
	unread, err := alice.Unread(ctx, g, m, "", 0)
	if err != nil {
		t.Fatalf("Unread = %v", err)
	}
	for _, u := range []string{"carol", "dave"} {
		if rm := unread.Reminders[u]; rm.Reminded != 1 || rm.RemindedAt != r.At {
			t.Errorf("Unread reminders of %s = %+v, want once at %d", u, rm, r.At)
		}
	}
}

// TestRemindNoInterval: with no interval a message may be reminded again
// at once; the unread list counts the reminders; named readers are
// skipped.
func TestRemindNoInterval(t *testing.T) {
	cfg := chat.DefaultConfig()
	cfg.RemindInterval = 0
	st := newStackChat(t, Config{}, cfg)
	alice, _, g, m := remindSetup(t, st)
	ctx := ctxT(t)
	if _, err := alice.Remind(ctx, g, m); err != nil {
		t.Fatalf("Remind = %v", err)
	}
	r, err := alice.Remind(ctx, g, m, "carol", "bob")
	if err != nil || r.Reminded != 1 || len(r.Skipped) != 1 || r.Skipped[0] != "bob" {
		t.Fatalf("Remind(carol, bob) = %+v, %v, want carol reminded, bob (a reader) skipped", r, err)
	}
	unread, err := alice.Unread(ctx, g, m, "", 0)
	if err != nil {
		t.Fatalf("Unread = %v", err)
	}
	want := map[string]client.Reminded{"carol": {Reminded: 2, RemindedAt: r.At}, "dave": {Reminded: 1, RemindedAt: unread.Reminders["dave"].RemindedAt}}
	if len(unread.Reminders) != 2 || unread.Reminders["carol"] != want["carol"] || unread.Reminders["dave"].Reminded != 1 {
		b, _ := json.Marshal(unread)
		t.Errorf("Unread = %s, want carol reminded twice (last at %d), dave once", b, r.At)
	}
}

// TestAnalyticsOp: the sender's read-time figures over the WebSocket, and
// the visibility policy deciding who else sees them.
func TestAnalyticsOp(t *testing.T) {
	st := newStack(t, Config{})
	alice, bob, g, m := remindSetup(t, st)
	ctx := ctxT(t)
	a, err := alice.ReceiptAnalytics(ctx, g, m)
	if err != nil {
		t.Fatalf("ReceiptAnalytics = %v", err)
	}
	if a.MsgID != m || a.Eligible != 3 || a.Count != 1 || a.Unread != 2 || a.To50 != nil || a.To90 != nil || a.ToAll != nil || a.SentAt == 0 {
		t.Errorf("ReceiptAnalytics = %+v, want 1 of 3 read, no threshold reached", a)
	}
	if n := len(a.Histogram); n == 0 || a.Histogram[n-1].UpTo != nil || a.Histogram[0].Count != 1 {
		t.Errorf("histogram = %+v, want the read in the first bar and an unbounded last bar", a.Histogram)
	}
	carol := st.dial(t, "carol", "c1")
	if _, err := carol.ReceiptAnalytics(ctx, g, m); errName(err) != "permission_denied" {
		t.Errorf("ReceiptAnalytics by a member = %v, want permission_denied", err)
	}
	if _, err := bob.ReceiptAnalytics(ctx, g, m); err != nil {
		t.Errorf("ReceiptAnalytics by an admin = %v", err)
	}
	vis, lists := chat.VisibleMembers, false
	if _, err := alice.SetGroupPolicy(ctx, client.SetPolicy{Group: g, Visibility: &vis, Lists: &lists}); err != nil {
		t.Fatalf("SetGroupPolicy = %v", err)
	}
	if rs, err := carol.Ack(ctx, g, client.AckItem{MsgID: m}); err != nil || !rs[0].Counted {
		t.Fatalf("Ack = %+v, %v", rs, err)
	}
	a, err = carol.ReceiptAnalytics(ctx, g, m)
	if err != nil || a.Count != 2 || a.To50 == nil {
		t.Errorf("ReceiptAnalytics by a member of a counts-only notice board = %+v, %v, want 2 of 3, 50%% reached", a, err)
	}
}

// TestReadByAll: receipt pushes, statistics entries and counts carry the
// eligible readers, and readByAll once every one of them has read it.
func TestReadByAll(t *testing.T) {
	st := newStack(t, Config{})
	st.users(t, "alice", "bob", "carol")
	ctx := ctxT(t)
	alice := st.dial(t, "alice", "a1")
	bob := st.dial(t, "bob", "b1")
	carol := st.dial(t, "carol", "c1")
	grp, err := alice.CreateGroup(ctx, client.GroupCreate{Name: "notices", Members: []string{"bob", "carol"}})
	if err != nil {
		t.Fatalf("CreateGroup = %v", err)
	}
	g := grp.GroupID
	sent, err := alice.Send(ctx, client.Send{LocalID: "n1", Type: "txt", ChatType: client.GroupChat, To: g, Msg: "read me", MsgConfig: &client.MsgConfig{AllowGroupAck: true}})
	if err != nil {
		t.Fatalf("Send = %v", err)
	}
	m := sent.ID
	count := func(n int) func(json.RawMessage) bool {
		return func(b json.RawMessage) bool {
			var r client.Receipt
			return json.Unmarshal(b, &r) == nil && r.Mid == m && r.Count == n
		}
	}
	if _, err := bob.Ack(ctx, g, client.AckItem{MsgID: m}); err != nil {
		t.Fatalf("Ack = %v", err)
	}
	if r := decode[client.Receipt](t, waitPush(t, alice, client.PushReceipt, count(1))); r.Eligible != 2 || r.ReadByAll {
		t.Errorf("receipt push after 1 of 2 = %+v, want eligible 2, not read by all", r)
	}
	if _, err := carol.Ack(ctx, g, client.AckItem{MsgID: m}); err != nil {
		t.Fatalf("Ack = %v", err)
	}
	if r := decode[client.Receipt](t, waitPush(t, alice, client.PushReceipt, count(2))); r.Eligible != 2 || !r.ReadByAll {
		t.Errorf("receipt push after 2 of 2 = %+v, want eligible 2, read by all", r)
	}
	stats, err := alice.Stats(ctx, 0, 0)
	if err != nil || len(stats.Entries) != 1 || stats.Entries[0].Eligible != 2 || !stats.Entries[0].ReadByAll {
		t.Errorf("Stats = %+v, %v, want the message read by all 2", stats, err)
	}
	rc, err := alice.ReceiptCounts(ctx, client.ReceiptCountsQuery{GroupID: g, MsgIDs: []string{m}, WithUnread: true})
	if err != nil || rc.Counts[m] != 2 || rc.Unread[m] != 0 || rc.Eligible[m] != 2 {
		t.Errorf("ReceiptCounts = %+v, %v, want 2 read, 0 unread, 2 eligible", rc, err)
	}
}

// TestRemindSelf: an admin who has not read the message is among those
// reminded by their own reminder; the reminding connection gets the push
// too (its reply does not carry the reminder), and so does sync.
func TestRemindSelf(t *testing.T) {
	st := newStack(t, Config{})
	alice, _, g, m := remindSetup(t, st)
	ctx := ctxT(t)
	if err := alice.SetAdmin(ctx, g, "carol"); err != nil {
		t.Fatalf("SetAdmin = %v", err)
	}
	carol := st.dial(t, "carol", "c1")
	r, err := carol.Remind(ctx, g, m, "carol")
	if err != nil || r.Reminded != 1 {
		t.Fatalf("Remind(carol) by carol = %+v, %v, want carol reminded", r, err)
	}
	rm := decode[client.Reminder](t, waitPush(t, carol, client.PushReminder, nil))
	if rm.From != "carol" || rm.MsgID != m {
		t.Errorf("reminder = %+v, want carol's own of %s", rm, m)
	}
	if got := syncReminders(t, st.dial(t, "carol", "c2")); len(got) != 1 || got[0] != rm {
		t.Errorf("synced reminders = %+v, want the pushed %+v", got, rm)
	}
}
