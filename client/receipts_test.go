package client_test

import (
	"errors"
	"testing"
	"time"

	"seen/client"
)

// errName is the stable name of a server error, "" for nil.
func errName(err error) string {
	var e *client.Error
	if errors.As(err, &e) {
		return e.Name
	}
	if err == nil {
		return ""
	}
	return "not a client.Error: " + err.Error()
}

// waitFor returns the first push named name, skipping others.
func waitFor(t *testing.T, c *client.Conn, name string) client.Push {
	t.Helper()
	timer := time.NewTimer(wait)
	defer timer.Stop()
	for {
		select {
		case p, ok := <-c.Pushes():
			if !ok {
				t.Fatalf("connection closed waiting for a %s push: %v", name, c.Err())
			}
			if p.Push == name {
				return p
			}
		case <-timer.C:
			t.Fatalf("no %s push within %v", name, wait)
		}
	}
}

// receiptGroup starts a node, and a group of alice (owner), bob and carol
// with a receipt-requesting message of alice that carol has read.
func receiptGroup(t *testing.T) (n *node, alice, bob *client.Conn, bobTok, group, msg string) {
	t.Helper()
	n = startNode(t, nil)
	alice = n.dial(t, n.user(t, "alice"), "a1")
	bobTok = n.user(t, "bob")
	bob = n.dial(t, bobTok, "b1")
	carol := n.dial(t, n.user(t, "carol"), "c1")
	ctx := ctxT(t)
	g, err := alice.CreateGroup(ctx, client.GroupCreate{Name: "notices", Members: []string{"bob", "carol"}})
	if err != nil {
		t.Fatalf("CreateGroup = %v", err)
	}
	sent, err := alice.Send(ctx, client.Send{LocalID: alice.NewLocalID(), Type: "txt", ChatType: client.GroupChat, To: g.GroupID, Msg: "read me", MsgConfig: &client.MsgConfig{AllowGroupAck: true}})
	if err != nil {
		t.Fatalf("Send = %v", err)
	}
	if rs, err := carol.Ack(ctx, g.GroupID, client.AckItem{MsgID: sent.ID}); err != nil || !rs[0].Counted {
		t.Fatalf("Ack = %+v, %v, want counted", rs, err)
	}
	return n, alice, bob, bobTok, g.GroupID, sent.ID
}

// TestRemind: Remind reaches the member as a typed push and, on a device
// that was offline, through Sync as the same reminder; the unread list
// counts it; a second reminder within the interval is refused.
func TestRemind(t *testing.T) {
	n, alice, bob, bobTok, g, m := receiptGroup(t)
	ctx := ctxT(t)
	before := time.Now().Add(-time.Second)
	r, err := alice.Remind(ctx, g, m)
	if err != nil {
		t.Fatalf("Remind = %v", err)
	}
	if r.Reminded != 1 || len(r.Skipped) != 0 || r.At < before.UnixMilli() || r.NextAt != r.At+(10*time.Minute).Milliseconds() {
		t.Errorf("Remind = %+v, want 1 reminded, none skipped, next in 10 minutes", r)
	}
	push, err := client.DecodeReminder(waitFor(t, bob, client.PushReminder))
	if err != nil {
		t.Fatalf("DecodeReminder = %v", err)
	}
	if push.ID == "" || push.Seq == 0 || push.Group != g || push.MsgID != m || push.From != "alice" || push.At != r.At {
		t.Errorf("reminder push = %+v, want group %s, message %s, from alice at %d", push, g, m, r.At)
	}

	// A device that was offline syncs the same reminder, once.
	bob2 := n.dial(t, bobTok, "b2")
	var got []client.Reminder
	for ack := int64(0); ; {
		p, err := bob2.Sync(ctx, ack, 0)
		if err != nil {
			t.Fatalf("Sync = %v", err)
		}
		for _, msg := range p.Messages {
			if rm, ok := client.AsReminder(msg); ok {
				got = append(got, rm)
			}
		}
		ack = p.Next
		if !p.More {
			break
		}
	}
	if len(got) != 1 || got[0] != push {
		t.Errorf("synced reminders = %+v, want exactly the pushed %+v", got, push)
	}

	unread, err := alice.Unread(ctx, g, m, "", 0)
	if err != nil || len(unread.Users) != 1 || unread.Users[0] != "bob" {
		t.Fatalf("Unread = %+v, %v, want bob", unread, err)
	}
	if rm := unread.Reminders["bob"]; rm.Reminded != 1 || rm.RemindedAt != r.At {
		t.Errorf("Unread reminders = %+v, want bob reminded once at %d", unread.Reminders, r.At)
	}

	if _, err := alice.Remind(ctx, g, m); errName(err) != "limit_exceeded" {
		t.Errorf("second Remind within the interval = %v, want limit_exceeded", err)
	}
	if _, err := bob.Remind(ctx, g, m); errName(err) != "permission_denied" {
		t.Errorf("Remind by a member = %v, want permission_denied", err)
	}
	if _, err := client.DecodeReminder(client.Push{Push: client.PushMsg}); err == nil {
		t.Error("DecodeReminder(a msg push) = nil, want an error")
	}
}

// TestRemindNamed: named members who have read it are skipped.
func TestRemindNamed(t *testing.T) {
	_, alice, bob, _, g, m := receiptGroup(t)
	r, err := alice.Remind(ctxT(t), g, m, "bob", "carol")
	if err != nil || r.Reminded != 1 || len(r.Skipped) != 1 || r.Skipped[0] != "carol" {
		t.Fatalf("Remind(bob, carol) = %+v, %v, want bob reminded, carol skipped", r, err)
	}
	if rm, err := client.DecodeReminder(waitFor(t, bob, client.PushReminder)); err != nil || rm.MsgID != m {
		t.Errorf("reminder push = %+v, %v, want message %s", rm, err, m)
	}
}

// TestReceiptAnalytics: the sender gets the read-time figures.
func TestReceiptAnalytics(t *testing.T) {
	_, alice, bob, _, g, m := receiptGroup(t)
	ctx := ctxT(t)
	a, err := alice.ReceiptAnalytics(ctx, g, m)
	if err != nil {
		t.Fatalf("ReceiptAnalytics = %v", err)
	}
	if a.MsgID != m || a.Eligible != 2 || a.Count != 1 || a.Unread != 1 || a.To50 == nil || *a.To50 < 0 || a.To90 != nil || a.ToAll != nil {
		t.Errorf("ReceiptAnalytics = %+v, want 1 of 2 read: 50%% reached, 90%% and all not", a)
	}
	total := 0
	for i, b := range a.Histogram {
		total += b.Count
		if last := i == len(a.Histogram)-1; (b.UpTo == nil) != last {
			t.Errorf("histogram bar %d upTo = %v: only the last bar has no bound", i, b.UpTo)
		}
	}
	if total != 1 || len(a.Histogram) == 0 || a.Histogram[0].Count != 1 {
		t.Errorf("histogram = %+v, want the one read in the first bar", a.Histogram)
	}
	if _, err := bob.ReceiptAnalytics(ctx, g, m); errName(err) != "permission_denied" {
		t.Errorf("ReceiptAnalytics by a member = %v, want permission_denied", err)
	}
}

// TestPolicyAndSettings: the policy and settings methods.
func TestPolicyAndSettings(t *testing.T) {
	_, alice, bob, _, g, _ := receiptGroup(t)
	ctx := ctxT(t)
	p, err := bob.GroupPolicy(ctx, g)
	if err != nil || p.Request != "admins" || p.Visibility != "admins" || !p.Lists {
		t.Errorf("GroupPolicy = %+v, %v, want the defaults", p, err)
	}
	all := "all"
	if p, err := alice.SetGroupPolicy(ctx, client.SetPolicy{Group: g, Request: &all}); err != nil || p.Request != "all" || p.Visibility != "admins" || !p.Lists {
		t.Errorf("SetGroupPolicy(request all) = %+v, %v, want only request changed", p, err)
	}
	// Now any member may ask for receipts.
	if _, err := bob.Send(ctx, client.Send{LocalID: bob.NewLocalID(), Type: "txt", ChatType: client.GroupChat, To: g, Msg: "poll", MsgConfig: &client.MsgConfig{AllowGroupAck: true}}); err != nil {
		t.Errorf("Send(receipts) by a member under request all = %v", err)
	}
	if s, err := bob.SetSettings(ctx, false); err != nil || s.SendReadReceipts {
		t.Errorf("SetSettings(false) = %+v, %v", s, err)
	}
	if s, err := bob.Settings(ctx); err != nil || s.SendReadReceipts {
		t.Errorf("Settings = %+v, %v, want false", s, err)
	}
}
