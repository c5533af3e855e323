package chat_test

import (
	"context"
	"encoding/json"
	"os"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"seen/internal/chat"
	"seen/internal/sqlstore/sqltest"
)

func ptr[T any](v T) *T { return &v }

// syncStream returns every message of actor's stream from the start.
func syncStream(t *testing.T, e *env, a chat.Actor) []chat.Message {
	t.Helper()
	var out []chat.Message
	var ack int64
	for {
		p, err := e.svc.Sync(context.Background(), a, ack, chat.MaxSyncPage)
		if err != nil {
			t.Fatalf("Sync = %v", err)
		}
		out = append(out, p.Messages...)
		if !p.More {
			return out
		}
		ack = p.Next
	}
}

func TestReceiptPolicy(t *testing.T) {
	onStores(t, func(t *testing.T, newEnv func(t testing.TB, opts ...option) *env) {
		e := newEnv(t)
		ctx := context.Background()
		u := e.users(t, "owner", "admin", "a", "b")
		owner, admin, a, b := u[0], u[1], u[2], u[3]
		g := e.group(t, owner, admin, a, b)
		if err := e.svc.SetAdmin(ctx, owner, g, admin.Name, true); err != nil {
			t.Fatal(err)
		}
		def := chat.ReceiptPolicy{Request: chat.RequestAdmins, Visibility: chat.VisibleAdmins, Lists: true}
		if p, err := e.svc.ReceiptPolicy(ctx, a, g); err != nil || p != def {
			t.Fatalf("ReceiptPolicy = %+v, %v, want %+v", p, err, def)
		}
		if gi, err := e.svc.GroupInfo(ctx, a, g); err != nil || gi.Policy != def {
			t.Fatalf("GroupInfo.Policy = %+v, %v, want %+v", gi.Policy, err, def)
		}
		_, err := e.svc.SetReceiptPolicy(ctx, a, g, chat.PolicyUpdate{Request: ptr(chat.RequestAll)})
		wantCode(t, "SetReceiptPolicy(member)", err, chat.CodePermissionDenied)
		_, err = e.svc.SetReceiptPolicy(ctx, admin, g, chat.PolicyUpdate{Visibility: ptr("everyone")})
		wantCode(t, "SetReceiptPolicy(bad visibility)", err, chat.CodeBadRequest)
		_, err = e.svc.SetReceiptPolicy(ctx, admin, g, chat.PolicyUpdate{Request: ptr("some")})
		wantCode(t, "SetReceiptPolicy(bad request)", err, chat.CodeBadRequest)
		_, err = e.svc.SetReceiptPolicy(ctx, admin, g, chat.PolicyUpdate{})
		wantCode(t, "SetReceiptPolicy(nothing)", err, chat.CodeBadRequest)
		if p, _ := e.svc.ReceiptPolicy(ctx, a, g); p != def {
			t.Fatalf("a refused update changed the policy: %+v", p)
		}

		// Members may not ask for receipts by default; with all, they may.
		_, err = e.svc.Send(ctx, a, chat.Outgoing{LocalID: nextLocal(), Type: chat.TypeText, ChatType: chat.GroupChat, To: g.String(), Text: "x", AllowGroupAck: true})
		wantCode(t, "Send(member, ack) by default", err, chat.CodePermissionDenied)
		rec := e.record(t, chat.GroupTopic(g))
		p, err := e.svc.SetReceiptPolicy(ctx, admin, g, chat.PolicyUpdate{Request: ptr(chat.RequestAll)})
		rec.waitFor(t, "the group's updateInfo event", func(ev chat.Event) bool {
			return ev.Kind == chat.EventGroup && ev.Group.Op == chat.GroupOpInfoUpdated && ev.Group.Group == g && ev.Group.Actor == "admin"
		})
		if want := (chat.ReceiptPolicy{Request: chat.RequestAll, Visibility: chat.VisibleAdmins, Lists: true}); err != nil || p != want {
			t.Fatalf("SetReceiptPolicy(all) = %+v, %v, want %+v", p, err, want)
		}
		m := e.sendGroup(t, a, g, true)
		ack(t, e, b, g, m.ID, "")

		// Visibility: admins (default) hides them from b; members shows them.
		_, err = e.svc.ReadCounts(ctx, b, g, []chat.MsgID{m.ID}, false)
		wantCode(t, "ReadCounts(b, admins)", err, chat.CodePermissionDenied)
		if _, err := e.svc.SetReceiptPolicy(ctx, owner, g, chat.PolicyUpdate{Visibility: ptr(chat.VisibleMembers)}); err != nil {
			t.Fatal(err)
		}
		if c, err := e.svc.ReadCounts(ctx, b, g, []chat.MsgID{m.ID}, true); err != nil || c.Counts[m.ID] != 1 {
			t.Fatalf("ReadCounts(b, members) = %+v, %v", c, err)
		}
		if r, err := e.svc.Readers(ctx, b, g, m.ID, chat.OldestFirst, "", 10); err != nil || len(r.Readers) != 1 {
			t.Fatalf("Readers(b, members) = %+v, %v", r, err)
		}
		// sender: the admins lose them, the sender keeps them.
		if _, err := e.svc.SetReceiptPolicy(ctx, owner, g, chat.PolicyUpdate{Visibility: ptr(chat.VisibleSender)}); err != nil {
			t.Fatal(err)
		}
		_, err = e.svc.Readers(ctx, owner, g, m.ID, chat.OldestFirst, "", 10)
		wantCode(t, "Readers(owner, sender)", err, chat.CodePermissionDenied)
		_, err = e.svc.ReadAnalytics(ctx, admin, g, m.ID)
		wantCode(t, "ReadAnalytics(admin, sender)", err, chat.CodePermissionDenied)
		if _, err := e.svc.Readers(ctx, a, g, m.ID, chat.OldestFirst, "", 10); err != nil {
			t.Fatalf("Readers(sender, sender) = %v", err)
		}
		if _, err := e.svc.Readers(ctx, chat.AdminActor, g, m.ID, chat.OldestFirst, "", 10); err != nil {
			t.Fatalf("Readers(administrator, sender) = %v", err)
		}

		// Lists off: counts, analytics and remind work, lists do not.
		p, err = e.svc.SetReceiptPolicy(ctx, owner, g, chat.PolicyUpdate{Lists: ptr(false)})
		if want := (chat.ReceiptPolicy{Request: chat.RequestAll, Visibility: chat.VisibleSender, Lists: false}); err != nil || p != want {
			t.Fatalf("SetReceiptPolicy(lists off) = %+v, %v, want %+v", p, err, want)
		}
		_, err = e.svc.Readers(ctx, a, g, m.ID, chat.OldestFirst, "", 10)
		wantCode(t, "Readers(lists off)", err, chat.CodePermissionDenied)
		if err != nil && !strings.Contains(chat.ErrorMessage(err), "counts only") {
			t.Errorf("Readers(lists off) message = %q, want it to say counts only", chat.ErrorMessage(err))
		}
		_, err = e.svc.Unread(ctx, a, g, m.ID, "", 10)
		wantCode(t, "Unread(lists off)", err, chat.CodePermissionDenied)
		if _, err := e.svc.Unread(ctx, chat.AdminActor, g, m.ID, "", 10); err != nil {
			t.Errorf("Unread(administrator, lists off) = %v", err)
		}
		if c, err := e.svc.ReadCounts(ctx, a, g, []chat.MsgID{m.ID}, true); err != nil || c.Counts[m.ID] != 1 || c.Unread[m.ID] != 2 {
			t.Errorf("ReadCounts(lists off) = %+v, %v", c, err)
		}
		if _, err := e.svc.ReadAnalytics(ctx, a, g, m.ID); err != nil {
			t.Errorf("ReadAnalytics(lists off) = %v", err)
		}
		if r, err := e.svc.Remind(ctx, a, g, m.ID, nil); err != nil || r.Reminded != 2 {
			t.Errorf("Remind(lists off) = %+v, %v, want 2 reminded", r, err)
		}
		// The policy is the group's: MyGroups shows it too.
		gp, err := e.svc.MyGroups(ctx, b, "", 10)
		if err != nil || len(gp.Groups) != 1 || gp.Groups[0].Policy != p {
			t.Errorf("MyGroups policy = %+v, %v, want %+v", gp, err, p)
		}
	})
}

func TestReceiptPolicyDefaultsFromConfig(t *testing.T) {
	e := newEnv(t, withConfig(func(c *chat.Config) {
		c.GroupAckSenders, c.ReceiptVisibility, c.ReceiptLists = "all", chat.VisibleMembers, false
	}))
	ctx := context.Background()
	u := e.users(t, "owner", "a")
	g := e.group(t, u[0], u[1])
	want := chat.ReceiptPolicy{Request: chat.RequestAll, Visibility: chat.VisibleMembers, Lists: false}
	if p, err := e.svc.ReceiptPolicy(ctx, u[1], g); err != nil || p != want {
		t.Fatalf("ReceiptPolicy = %+v, %v, want %+v", p, err, want)
	}
	// A group's own setting wins over the default, field by field.
	p, err := e.svc.SetReceiptPolicy(ctx, u[0], g, chat.PolicyUpdate{Lists: ptr(true)})
	if want.Lists = true; err != nil || p != want {
		t.Fatalf("SetReceiptPolicy = %+v, %v, want %+v", p, err, want)
	}
	_, err = e.svc.ReceiptPolicy(ctx, e.users(t, "outsider")[0], g)
	wantCode(t, "ReceiptPolicy(outsider)", err, chat.CodeNotMember)
}

func TestReadByAll(t *testing.T) {
	for _, tc := range []struct {
		count, eligible int
		want            bool
	}{{0, 0, false}, {1, 0, false}, {2, 3, false}, {3, 3, true}, {4, 3, true}} {
		if got := chat.ReadByAll(tc.count, tc.eligible); got != tc.want {
			t.Errorf("ReadByAll(%d, %d) = %v, want %v", tc.count, tc.eligible, got, tc.want)
		}
	}
}

func TestConfigValidateReceipts(t *testing.T) {
	for _, tc := range []struct {
		name string
		f    func(*chat.Config)
		ok   bool
	}{
		{"default", func(*chat.Config) {}, true},
		{"visibility members", func(c *chat.Config) { c.ReceiptVisibility = chat.VisibleMembers }, true},
		{"visibility bad", func(c *chat.Config) { c.ReceiptVisibility = "all" }, false},
		{"visibility empty", func(c *chat.Config) { c.ReceiptVisibility = "" }, false},
		{"remind interval 0", func(c *chat.Config) { c.RemindInterval = 0 }, true},
		{"remind interval negative", func(c *chat.Config) { c.RemindInterval = -time.Second }, false},
		{"thresholds none", func(c *chat.Config) { c.WebhookThresholds = nil }, true},
		{"thresholds over 100", func(c *chat.Config) { c.WebhookThresholds = []int{50, 101} }, false},
		{"thresholds zero", func(c *chat.Config) { c.WebhookThresholds = []int{0} }, false},
		{"thresholds unsorted", func(c *chat.Config) { c.WebhookThresholds = []int{90, 50} }, false},
	} {
		c := chat.DefaultConfig()
		tc.f(&c)
		if err := c.Validate(); (err == nil) != tc.ok {
			t.Errorf("%s: Validate() = %v, want ok %v", tc.name, err, tc.ok)
		}
	}
}

// TestPrivacy: a user with receipts off (docs/receipts.md, "Privacy"), on
// every path.
func TestPrivacy(t *testing.T) {
	onStores(t, func(t *testing.T, newEnv func(t testing.TB, opts ...option) *env) {
		e := newEnv(t)
		ctx := context.Background()
		u := e.users(t, "owner", "priv", "a", "b")
		owner, priv, a, b := u[0], u[1], u[2], u[3]
		g := e.group(t, owner, priv, a, b)
		if s, err := e.svc.Settings(ctx, priv); err != nil || !s.SendReadReceipts {
			t.Fatalf("Settings = %+v, %v, want receipts on by default", s, err)
		}
		_, err := e.svc.SetSettings(ctx, priv, chat.SettingsUpdate{})
		wantCode(t, "SetSettings(nothing)", err, chat.CodeBadRequest)
		_, err = e.svc.Settings(ctx, chat.AdminActor)
		wantCode(t, "Settings(administrator)", err, chat.CodeBadRequest)
		before := e.sendGroup(t, owner, g, true) // priv eligible, receipts on
		if r := ack(t, e, priv, g, before.ID, ""); !r.Counted || r.Count != 1 {
			t.Fatalf("ack with receipts on = %+v, want counted", r)
		}
		if s, err := e.svc.SetSettings(ctx, priv, chat.SettingsUpdate{SendReadReceipts: ptr(false)}); err != nil || s.SendReadReceipts {
			t.Fatalf("SetSettings(off) = %+v, %v", s, err)
		}
		if s, err := e.svc.Settings(ctx, priv); err != nil || s.SendReadReceipts {
			t.Fatalf("Settings after off = %+v, %v", s, err)
		}
		// Reads counted before stay counted.
		if c, err := e.svc.ReadCounts(ctx, owner, g, []chat.MsgID{before.ID}, false); err != nil || c.Counts[before.ID] != 1 {
			t.Errorf("count after turning off = %+v, %v, want 1 (counts never go down)", c, err)
		}

		m := e.sendGroup(t, owner, g, true)
		// Eligible at send: a and b, not priv.
		if c, err := e.svc.ReadCounts(ctx, owner, g, []chat.MsgID{m.ID}, true); err != nil || c.Eligible[m.ID] != 2 || c.Unread[m.ID] != 2 {
			t.Errorf("ReadCounts of m = %+v, %v, want eligible 2, unread 2", c, err)
		}
		// Ack: accepted, not counted, no reader entry.
		if r := ack(t, e, priv, g, m.ID, "seen"); r.Err != nil || r.Counted {
			t.Errorf("ack with receipts off = %+v, want accepted, not counted", r)
		}
		rp, err := e.svc.Readers(ctx, owner, g, m.ID, chat.OldestFirst, "", 10)
		if err != nil || len(rp.Readers) != 0 || rp.Total != 0 {
			t.Errorf("Readers = %+v, %v, want none", rp, err)
		}
		// Unread lists and totals leave priv out.
		up, err := e.svc.Unread(ctx, owner, g, m.ID, "", 10)
		if err != nil || memberNames(up.Users) != "a,b" || up.Total != 2 {
			t.Errorf("Unread = %v (%d), %v, want [a b]", memberNames(up.Users), up.Total, err)
		}
		// "Read by all" is every eligible member.
		ack(t, e, a, g, m.ID, "")
		if r := ack(t, e, b, g, m.ID, ""); !r.Counted || r.Count != 2 {
			t.Errorf("ack by b = %+v", r)
		}
		an, err := e.svc.ReadAnalytics(ctx, owner, g, m.ID)
		if err != nil || !an.ReachedAll || an.Unread != 0 || an.Eligible != 2 {
			t.Errorf("ReadAnalytics = %+v, %v, want read by all", an, err)
		}
		// Remind: priv is not reminded, named or not.
		m2 := e.sendGroup(t, owner, g, true)
		r, err := e.svc.Remind(ctx, owner, g, m2.ID, []string{"priv", "a"})
		if err != nil || r.Reminded != 1 || !slices.Equal(r.Skipped, []string{"priv"}) {
			t.Errorf("Remind(priv, a) = %+v, %v, want a reminded, priv skipped", r, err)
		}
		// The conversation ack moves priv's own read state and counts nothing.
		if n, err := e.svc.AckConversation(ctx, priv, chat.GroupChat, g.String()); err != nil || n != 0 {
			t.Errorf("AckConversation(priv) = %d, %v, want 0 counted", n, err)
		}
		cp, err := e.svc.Conversations(ctx, priv, "", 10)
		if err != nil || len(cp.Conversations) != 1 || cp.Conversations[0].Unread != 0 {
			t.Errorf("Conversations(priv) = %+v, %v, want read", cp, err)
		}
		// Not reciprocal: priv sees the receipts of its own messages.
		if _, err := e.svc.SetReceiptPolicy(ctx, owner, g, chat.PolicyUpdate{Request: ptr(chat.RequestAll)}); err != nil {
			t.Fatal(err)
		}
		own := e.sendGroup(t, priv, g, true)
		ack(t, e, a, g, own.ID, "")
		if rp, err := e.svc.Readers(ctx, priv, g, own.ID, chat.OldestFirst, "", 10); err != nil || len(rp.Readers) != 1 {
			t.Errorf("Readers of priv's own message = %+v, %v, want a", rp, err)
		}

		// Single chat: priv's read and channel receipts are not sent,
		// delivery receipts are.
		sm, err := e.svc.Send(ctx, a, chat.Outgoing{LocalID: nextLocal(), Type: chat.TypeText, ChatType: chat.SingleChat, To: "priv", Text: "hi"})
		if err != nil {
			t.Fatal(err)
		}
		if err := e.svc.PeerReceipt(ctx, priv, chat.EventPeerRead, "a", sm.ID); err != nil {
			t.Fatalf("PeerReceipt(read) = %v", err)
		}
		if err := e.svc.PeerReceipt(ctx, priv, chat.EventDelivered, "a", sm.ID); err != nil {
			t.Fatalf("PeerReceipt(delivery) = %v", err)
		}
		if n, err := e.svc.AckConversation(ctx, priv, chat.SingleChat, "a"); err != nil {
			t.Fatalf("AckConversation(single) = %d, %v", n, err)
		}
		var kinds []chat.MsgType
		for _, x := range syncStream(t, e, a) {
			if x.ChatType == chat.SingleChat && x.Type.IsReceipt() {
				kinds = append(kinds, x.Type)
			}
		}
		if !slices.Equal(kinds, []chat.MsgType{chat.TypeDelivery}) {
			t.Errorf("receipts a got from priv = %v, want [delivery]", kinds)
		}
		cp, err = e.svc.Conversations(ctx, priv, "", 10)
		if err != nil {
			t.Fatal(err)
		}
		for _, c := range cp.Conversations {
			if c.ChatType == chat.SingleChat && c.Unread != 0 {
				t.Errorf("priv's single chat unread = %d after the ack, want 0 (own read state)", c.Unread)
			}
		}

		// Turning it on again does not count the read made while off, nor
		// a new ack of a message sent while off (priv was not in its
		// Eligible: counted, it would pass it); the messages sent from
		// then on count.
		if _, err := e.svc.SetSettings(ctx, priv, chat.SettingsUpdate{SendReadReceipts: ptr(true)}); err != nil {
			t.Fatal(err)
		}
		if c, _ := e.svc.ReadCounts(ctx, owner, g, []chat.MsgID{m.ID}, false); c.Counts[m.ID] != 2 {
			t.Errorf("count after turning on = %d, want 2", c.Counts[m.ID])
		}
		if r := ack(t, e, priv, g, m.ID, ""); r.Err != nil || r.Counted {
			t.Errorf("ack after turning on, of a message sent while off = %+v, want accepted, not counted", r)
		}
		if c, _ := e.svc.ReadCounts(ctx, owner, g, []chat.MsgID{m.ID}, false); c.Counts[m.ID] != 2 || c.Eligible[m.ID] != 2 {
			t.Errorf("count after the ack = %d of %d, want 2 of 2", c.Counts[m.ID], c.Eligible[m.ID])
		}
		m3 := e.sendGroup(t, owner, g, true)
		if r := ack(t, e, priv, g, m3.ID, ""); !r.Counted || r.Count != 1 {
			t.Errorf("ack of a message sent after turning on = %+v, want counted", r)
		}
	})
}

// TestReadByAllReceiptsBackOn: "read by all", its time and the 100%
// threshold wait for every member eligible at send. A member with
// receipts off at send who turns them on and reads is not counted (they
// were not in Eligible), nor is one who turned them off and on again
// after the send (in Eligible, but not on without a break): the count
// reaches Eligible only when those who were eligible have read.
func TestReadByAllReceiptsBackOn(t *testing.T) {
	onStores(t, func(t *testing.T, newEnv func(t testing.TB, opts ...option) *env) {
		e := newEnv(t, withConfig(func(c *chat.Config) { c.WebhookTargets = []string{"http://hook.test/"} }))
		ctx := context.Background()
		u := e.users(t, "owner", "a", "b", "off", "flicker")
		owner, a, b, off, flicker := u[0], u[1], u[2], u[3], u[4]
		g := e.group(t, owner, a, b, off, flicker)
		set := func(who chat.Actor, on bool) {
			t.Helper()
			if _, err := e.svc.SetSettings(ctx, who, chat.SettingsUpdate{SendReadReceipts: &on}); err != nil {
				t.Fatal(err)
			}
		}
		set(off, false)
		m := e.sendGroup(t, owner, g, true) // eligible: a, b, flicker
		set(off, true)
		set(flicker, false)
		set(flicker, true)
		for _, who := range []chat.Actor{off, flicker} {
			if r := ack(t, e, who, g, m.ID, ""); r.Err != nil || r.Counted {
				t.Errorf("ack by %s = %+v, want accepted, not counted", who.Name, r)
			}
		}
		if r := ack(t, e, a, g, m.ID, ""); !r.Counted || r.Count != 1 {
			t.Errorf("ack by a = %+v, want count 1", r)
		}
		an, err := e.svc.ReadAnalytics(ctx, owner, g, m.ID)
		if err != nil || an.ReachedAll || an.Eligible != 3 || an.Count != 1 {
			t.Fatalf("ReadAnalytics = %+v, %v, want 1 of 3, not read by all", an, err)
		}
		if n := thresholdEvents(t, e, m.ID, 100); n != 0 {
			t.Errorf("100%% threshold events before b read = %d, want 0", n)
		}
		ack(t, e, b, g, m.ID, "")
		// flicker is in Eligible and not counted: never read by all.
		if an, err := e.svc.ReadAnalytics(ctx, owner, g, m.ID); err != nil || an.ReachedAll || an.Count != 2 {
			t.Errorf("ReadAnalytics after b = %+v, %v, want 2 of 3, not read by all", an, err)
		}
		if n := thresholdEvents(t, e, m.ID, 100); n != 0 {
			t.Errorf("100%% threshold events = %d, want 0", n)
		}
	})
}

// thresholdEvents counts the outbox's threshold events of message id at
// pct percent.
func thresholdEvents(t *testing.T, e *env, id chat.MsgID, pct int) int {
	t.Helper()
	n := 0
	for _, evs := range outboxEvents(t, e) {
		for _, ev := range evs {
			if ev.Kind == chat.WebhookThreshold && ev.Msg == id && ev.Threshold == pct {
				n++
			}
		}
	}
	return n
}

func TestRemind(t *testing.T) {
	onStores(t, func(t *testing.T, newEnv func(t testing.TB, opts ...option) *env) {
		e := newEnv(t)
		ctx := context.Background()
		u := e.users(t, "owner", "admin", "sender", "a", "b", "c", "outsider")
		owner, admin, sender, a, b, c, outsider := u[0], u[1], u[2], u[3], u[4], u[5], u[6]
		g := e.group(t, owner, admin, sender, a, b, c)
		if err := e.svc.SetAdmin(ctx, owner, g, admin.Name, true); err != nil {
			t.Fatal(err)
		}
		if err := e.svc.SetAdmin(ctx, owner, g, sender.Name, true); err != nil {
			t.Fatal(err)
		}
		m := e.sendGroup(t, sender, g, true)
		plain := e.sendGroup(t, sender, g, false)
		ack(t, e, a, g, m.ID, "")
		recA, recB := e.record(t, chat.UserTopic(a.User)), e.record(t, chat.UserTopic(b.User))

		_, err := e.svc.Remind(ctx, b, g, m.ID, nil)
		wantCode(t, "Remind(plain member)", err, chat.CodePermissionDenied)
		_, err = e.svc.Remind(ctx, outsider, g, m.ID, nil)
		wantCode(t, "Remind(outsider)", err, chat.CodeNotMember)
		_, err = e.svc.Remind(ctx, sender, g, plain.ID, nil)
		wantCode(t, "Remind(no receipts asked)", err, chat.CodeNotAllowed)
		_, err = e.svc.Remind(ctx, sender, g, 12345, nil)
		wantCode(t, "Remind(no message)", err, chat.CodeMessageNotFound)
		many := make([]string, chat.MaxRemindUsers+1)
		for i := range many {
			many[i] = "a"
		}
		_, err = e.svc.Remind(ctx, sender, g, m.ID, many)
		wantCode(t, "Remind(too many)", err, chat.CodeBadRequest)
		_, err = e.svc.Remind(ctx, sender, g, m.ID, []string{"bad name!"})
		wantCode(t, "Remind(bad name)", err, chat.CodeBadRequest)

		// All unread: owner, admin, b, c (a read it; the sender is not a reader).
		t0 := e.clock.Now()
		r, err := e.svc.Remind(ctx, sender, g, m.ID, nil)
		if err != nil || r.Reminded != 4 || len(r.Skipped) != 0 || !r.At.Equal(t0) || !r.NextAt.Equal(t0.Add(10*time.Minute)) {
			t.Fatalf("Remind(all) = %+v, %v, want 4 reminded, next in 10m", r, err)
		}
		ev := recB.waitFor(t, "b's reminder push", func(ev chat.Event) bool {
			return ev.Kind == chat.EventMessage && ev.Message != nil && ev.Message.Type == chat.TypeRemind
		})
		if x := ev.Message; x.To != b.User || x.AckMsg != m.ID || x.Group != g || x.From != sender.User || x.FromName != "sender" {
			t.Errorf("reminder push = %+v", x)
		}
		for _, ev := range recA.events() {
			if ev.Kind == chat.EventMessage && ev.Message.Type == chat.TypeRemind {
				t.Errorf("a, who read it, got a reminder: %+v", ev.Message)
			}
		}
		// Sync brings b its own reminder, and nobody else's.
		var got []chat.Message
		for _, x := range syncStream(t, e, b) {
			if x.Type == chat.TypeRemind {
				got = append(got, x)
			}
		}
		if len(got) != 1 || got[0].To != b.User || got[0].ToName != "b" || got[0].AckMsg != m.ID || got[0].FromName != "sender" || got[0].LocalID != "" {
			t.Errorf("b's synced reminders = %+v, want one, to b", got)
		}
		// History, the conversation list and unread counts leave it out.
		h, err := e.svc.History(ctx, b, chat.HistoryQuery{ChatType: chat.GroupChat, With: g.String(), Limit: 100})
		if err != nil {
			t.Fatal(err)
		}
		for _, x := range h.Messages {
			if x.Type == chat.TypeRemind {
				t.Errorf("history holds a reminder: %+v", x)
			}
		}
		cp, err := e.svc.Conversations(ctx, b, "", 10)
		if err != nil || len(cp.Conversations) != 1 || cp.Conversations[0].Unread != 2 || cp.Conversations[0].Last.ID != plain.ID {
			t.Errorf("b's conversations = %+v, %v, want unread 2, last the plain message", cp, err)
		}
		// The unread list shows the reminders.
		up, err := e.svc.Unread(ctx, sender, g, m.ID, "", 10)
		if err != nil || memberNames(up.Users) != "owner,admin,b,c" {
			t.Fatalf("Unread = %s, %v", memberNames(up.Users), err)
		}
		for _, x := range up.Users {
			if x.Reminded != 1 || !x.RemindedAt.Equal(t0) {
				t.Errorf("Unread %s: reminded %d at %v, want 1 at %v", x.Name, x.Reminded, x.RemindedAt, t0)
			}
		}

		// Rate limit, with a message naming it.
		e.clock.Add(5 * time.Minute)
		_, err = e.svc.Remind(ctx, owner, g, m.ID, []string{"b"})
		wantCode(t, "Remind(again, 5m later)", err, chat.CodeLimitExceeded)
		if msg := chat.ErrorMessage(err); !strings.Contains(msg, "10m0s (remind-interval)") || !strings.Contains(msg, "09:00:00") || !strings.Contains(msg, "09:10:00") {
			t.Errorf("limit message = %q, want the limit, the last time and the next", msg)
		}
		// Named members: only the unread eligible ones; others are skipped.
		e.clock.Add(5 * time.Minute)
		t1 := e.clock.Now()
		r, err = e.svc.Remind(ctx, admin, g, m.ID, []string{"B", "a", "sender", "outsider", "nobody", "b"})
		slices.Sort(r.Skipped)
		if err != nil || r.Reminded != 1 || !slices.Equal(r.Skipped, []string{"a", "nobody", "outsider", "sender"}) {
			t.Fatalf("Remind(named) = %+v, %v, want b reminded", r, err)
		}
		up, _ = e.svc.Unread(ctx, sender, g, m.ID, "", 10)
		for _, x := range up.Users {
			want := 1
			if x.Name == "b" {
				want = 2
			}
			if x.Reminded != want || (x.Name == "b" && !x.RemindedAt.Equal(t1)) {
				t.Errorf("Unread %s: reminded %d at %v, want %d", x.Name, x.Reminded, x.RemindedAt, want)
			}
		}
		// The administrator may remind; nobody left to remind stores nothing
		// and spends no limit.
		e.clock.Add(10 * time.Minute)
		r, err = e.svc.Remind(ctx, chat.AdminActor, g, m.ID, []string{"a"})
		if err != nil || r.Reminded != 0 || !slices.Equal(r.Skipped, []string{"a"}) {
			t.Fatalf("Remind(administrator, a) = %+v, %v", r, err)
		}
		recC := e.record(t, chat.UserTopic(c.User))
		if _, err := e.svc.Remind(ctx, chat.AdminActor, g, m.ID, nil); err != nil {
			t.Fatalf("Remind(administrator) after an empty one = %v", err)
		}
		// The administrator's reminder has no sender name, live and synced.
		live := recC.waitFor(t, "c's reminder from the administrator", func(ev chat.Event) bool {
			return ev.Kind == chat.EventMessage && ev.Message.Type == chat.TypeRemind
		}).Message
		synced := syncStream(t, e, c)
		last := synced[len(synced)-1]
		if live.From != 0 || live.FromName != "" || last.ID != live.ID || last.FromName != "" || last.ToName != "c" || live.ToName != "c" {
			t.Errorf("administrator's reminder: live %+v, synced %+v", live, last)
		}
		// Without the total: the same members, Total -1.
		p1, err := e.svc.UnreadWithoutTotal(ctx, sender, g, m.ID, "", 2)
		if err != nil || p1.Total != -1 || memberNames(p1.Users) != "owner,admin" || p1.Next == "" {
			t.Fatalf("UnreadWithoutTotal = %+v, %v", p1, err)
		}
		p2, err := e.svc.UnreadWithoutTotal(ctx, sender, g, m.ID, p1.Next, 2)
		if err != nil || p2.Total != -1 || memberNames(p2.Users) != "b,c" || p2.Next != "" || p2.Users[0].Reminded != 3 {
			t.Fatalf("UnreadWithoutTotal(page 2) = %+v, %v", p2, err)
		}
	})
}

func TestRemindNoInterval(t *testing.T) {
	e := newEnv(t, withConfig(func(c *chat.Config) { c.RemindInterval = 0 }))
	u := e.users(t, "owner", "a")
	g := e.group(t, u[0], u[1])
	m := e.sendGroup(t, u[0], g, true)
	for i := range 3 {
		if r, err := e.svc.Remind(context.Background(), u[0], g, m.ID, nil); err != nil || r.Reminded != 1 {
			t.Fatalf("Remind #%d = %+v, %v", i, r, err)
		}
	}
}

// TestRemindPolicy: a reminder reveals what the receipts do, so the
// group's policy limits it as it limits looking (mayRemind): a
// counts-only group refuses reminders naming members (their Skipped
// would tell who has read, one name at a time) and allows reminding all;
// a sender-only group refuses the owner and admins.
func TestRemindPolicy(t *testing.T) {
	onStores(t, func(t *testing.T, newEnv func(t testing.TB, opts ...option) *env) {
		e := newEnv(t, withConfig(func(c *chat.Config) { c.RemindInterval = 0 }))
		ctx := context.Background()
		u := e.users(t, "owner", "admin", "sender", "a", "b")
		owner, admin, sender, a := u[0], u[1], u[2], u[3]
		g := e.group(t, owner, admin, sender, a, u[4])
		for _, who := range []string{admin.Name, sender.Name} {
			if err := e.svc.SetAdmin(ctx, owner, g, who, true); err != nil {
				t.Fatal(err)
			}
		}
		m := e.sendGroup(t, sender, g, true)
		ack(t, e, a, g, m.ID, "")
		setPolicy := func(p chat.PolicyUpdate) {
			t.Helper()
			if _, err := e.svc.SetReceiptPolicy(ctx, owner, g, p); err != nil {
				t.Fatal(err)
			}
		}

		// Counts only: no names, by anyone but the administrator.
		setPolicy(chat.PolicyUpdate{Lists: ptr(false)})
		for _, who := range []chat.Actor{sender, admin, owner} {
			_, err := e.svc.Remind(ctx, who, g, m.ID, []string{"a"})
			wantCode(t, "Remind("+who.Name+", named, counts only)", err, chat.CodePermissionDenied)
			if msg := chat.ErrorMessage(err); !strings.Contains(msg, "counts only") || !strings.Contains(msg, "name nobody") {
				t.Errorf("Remind(named, counts only) message = %q, want it to say to remind everyone instead", msg)
			}
		}
		if r, err := e.svc.Remind(ctx, sender, g, m.ID, nil); err != nil || r.Reminded != 3 {
			t.Errorf("Remind(sender, all, counts only) = %+v, %v, want 3 reminded", r, err)
		}
		if r, err := e.svc.Remind(ctx, chat.AdminActor, g, m.ID, []string{"a", "b"}); err != nil || r.Reminded != 1 {
			t.Errorf("Remind(administrator, named, counts only) = %+v, %v, want b reminded", r, err)
		}

		// Sender only: the owner and admins may not remind at all.
		setPolicy(chat.PolicyUpdate{Visibility: ptr(chat.VisibleSender), Lists: ptr(true)})
		for _, who := range []chat.Actor{admin, owner} {
			for _, names := range [][]string{nil, {"b"}} {
				_, err := e.svc.Remind(ctx, who, g, m.ID, names)
				wantCode(t, "Remind("+who.Name+", sender only)", err, chat.CodePermissionDenied)
				if msg := chat.ErrorMessage(err); !strings.Contains(msg, "sender only") {
					t.Errorf("Remind(%s, sender only) message = %q, want it to name the policy", who.Name, msg)
				}
			}
		}
		if r, err := e.svc.Remind(ctx, sender, g, m.ID, []string{"a", "b"}); err != nil || r.Reminded != 1 || !slices.Equal(r.Skipped, []string{"a"}) {
			t.Errorf("Remind(sender, named, sender only) = %+v, %v, want b reminded, a skipped", r, err)
		}
		if _, err := e.svc.Remind(ctx, chat.AdminActor, g, m.ID, nil); err != nil {
			t.Errorf("Remind(administrator, sender only) = %v", err)
		}

		// Every member sees them: a plain member still may not remind.
		setPolicy(chat.PolicyUpdate{Visibility: ptr(chat.VisibleMembers)})
		_, err := e.svc.Remind(ctx, a, g, m.ID, nil)
		wantCode(t, "Remind(plain member, members)", err, chat.CodePermissionDenied)
		if r, err := e.svc.Remind(ctx, admin, g, m.ID, []string{"b"}); err != nil || r.Reminded != 1 {
			t.Errorf("Remind(admin, named, members) = %+v, %v", r, err)
		}
	})
}

// TestMilestonesAndAnalytics: 10 eligible readers, read at chosen times.
func TestMilestonesAndAnalytics(t *testing.T) {
	onStores(t, func(t *testing.T, newEnv func(t testing.TB, opts ...option) *env) {
		e := newEnv(t)
		ctx := context.Background()
		u := e.users(t, "owner", "r0", "r1", "r2", "r3", "r4", "r5", "r6", "r7", "r8", "r9")
		owner, rs := u[0], u[1:]
		g := e.group(t, owner, rs...)
		m := e.sendGroup(t, owner, g, true)
		an, err := e.svc.ReadAnalytics(ctx, owner, g, m.ID)
		if err != nil || an.Eligible != 10 || an.Unread != 10 || an.Reached50 || an.Count != 0 || len(an.Histogram) != 9 {
			t.Fatalf("ReadAnalytics at send = %+v, %v", an, err)
		}
		readAt := []time.Duration{30 * time.Second, 30 * time.Second, time.Minute, 2 * time.Minute, 3 * time.Minute, // 5: 50% at 3m
			10 * time.Minute, 20 * time.Minute, 2 * time.Hour, 3 * time.Hour, // 9: 90% at 3h
			10 * 24 * time.Hour} // all at 10d
		start := e.clock.Now()
		for i, d := range readAt {
			e.clock.Add(start.Add(d).Sub(e.clock.Now()))
			if r := ack(t, e, rs[i], g, m.ID, ""); !r.Counted {
				t.Fatalf("ack %d = %+v", i, r)
			}
			if i == 4 {
				an, _ := e.svc.ReadAnalytics(ctx, owner, g, m.ID)
				if !an.Reached50 || an.Reached90 || an.To50 != 3*time.Minute {
					t.Errorf("at 5 reads: %+v, want 50%% at 3m only", an)
				}
			}
		}
		an, err = e.svc.ReadAnalytics(ctx, owner, g, m.ID)
		if err != nil {
			t.Fatal(err)
		}
		if !an.Reached50 || !an.Reached90 || !an.ReachedAll || an.To50 != 3*time.Minute || an.To90 != 3*time.Hour || an.ToAll != 240*time.Hour {
			t.Errorf("milestones = 50 %v %v, 90 %v %v, all %v %v", an.Reached50, an.To50, an.Reached90, an.To90, an.ReachedAll, an.ToAll)
		}
		if an.Count != 10 || an.Unread != 0 || !an.SentAt.Equal(m.SentAt) {
			t.Errorf("ReadAnalytics = %+v", an)
		}
		want := []chat.ReadBucket{
			{time.Minute, 3}, {5 * time.Minute, 2}, {15 * time.Minute, 1}, {time.Hour, 1}, {4 * time.Hour, 2},
			{24 * time.Hour, 0}, {3 * 24 * time.Hour, 0}, {7 * 24 * time.Hour, 0}, {0, 1},
		}
		if !slices.Equal(an.Histogram, want) {
			t.Errorf("Histogram = %v, want %v", an.Histogram, want)
		}
		// The administrator sees them; a plain member does not.
		if _, err := e.svc.ReadAnalytics(ctx, chat.AdminActor, g, m.ID); err != nil {
			t.Errorf("ReadAnalytics(administrator) = %v", err)
		}
		_, err = e.svc.ReadAnalytics(ctx, rs[0], g, m.ID)
		wantCode(t, "ReadAnalytics(member)", err, chat.CodePermissionDenied)
	})
}

// outboxEvents claims every due outbox row and decodes them, by target.
func outboxEvents(t *testing.T, e *env) map[string][]chat.WebhookEvent {
	t.Helper()
	out := make(map[string][]chat.WebhookEvent)
	err := e.store.Write(context.Background(), func(tx chat.Tx) error {
		rows, err := tx.ClaimOutbox(context.Background(), "test", e.clock.Now().Add(time.Hour), time.Hour, 10000)
		if err != nil {
			return err
		}
		for _, r := range rows {
			var ev chat.WebhookEvent
			if err := json.Unmarshal(r.Payload, &ev); err != nil {
				return err
			}
			if ev.Kind != r.Kind {
				t.Errorf("row kind %q, payload kind %q", r.Kind, ev.Kind)
			}
			out[r.Target] = append(out[r.Target], ev)
		}
		return nil
	})
	if err != nil {
		t.Fatalf("claim outbox = %v", err)
	}
	return out
}

// TestWebhookRows: the outbox rows written in the ack and remind
// transactions, one per event per target.
func TestWebhookRows(t *testing.T) {
	onStores(t, func(t *testing.T, newEnv func(t testing.TB, opts ...option) *env) {
		targets := []string{"http://one.example/hook", "http://two.example/hook"}
		e := newEnv(t, withConfig(func(c *chat.Config) { c.WebhookTargets = targets }))
		ctx := context.Background()
		u := e.users(t, "owner", "a", "b", "c", "priv")
		owner, a, b, c, priv := u[0], u[1], u[2], u[3], u[4]
		g := e.group(t, owner, a, b, c, priv)
		if _, err := e.svc.SetSettings(ctx, priv, chat.SettingsUpdate{SendReadReceipts: ptr(false)}); err != nil {
			t.Fatal(err)
		}
		m := e.sendGroup(t, owner, g, true) // eligible: a, b, c
		if got := outboxEvents(t, e); len(got) != 0 {
			t.Fatalf("rows after a send = %v, want none", got)
		}
		ack(t, e, a, g, m.ID, "ok")
		ack(t, e, priv, g, m.ID, "") // recorded nowhere
		ack(t, e, a, g, m.ID, "")    // a repeat: nothing
		got := outboxEvents(t, e)
		at := chat.WebhookEvent{Kind: chat.WebhookRead, Group: g, Msg: m.ID, Sender: "owner", SenderID: owner.User,
			Reader: "a", ReaderID: a.User, AckContent: "ok", Count: 1, Eligible: 3, At: e.clock.Now().UnixMilli()}
		for _, tg := range targets {
			if len(got[tg]) != 1 || got[tg][0].Kind != chat.WebhookRead || !reflect.DeepEqual(got[tg][0], at) {
				t.Errorf("rows of %s after a's ack = %+v, want %+v", tg, got[tg], at)
			}
		}
		// b: 2 of 3 crosses 50%; c: 3 of 3 crosses 90% and 100%.
		rs, err := e.svc.Ack(ctx, b, g, []chat.AckItem{{Msg: m.ID}})
		if err != nil || !rs[0].Counted {
			t.Fatal(rs, err)
		}
		got = outboxEvents(t, e)
		if ks := kinds(got[targets[0]]); ks != "read:2,threshold:50@2" {
			t.Errorf("events of b's ack = %s", ks)
		}
		ack(t, e, c, g, m.ID, "")
		got = outboxEvents(t, e)
		if ks := kinds(got[targets[1]]); ks != "read:3,threshold:90@3,threshold:100@3" {
			t.Errorf("events of c's ack = %s", ks)
		}
		// Remind: one event per at most MaxRemindUsers members.
		m2 := e.sendGroup(t, owner, g, true)
		ack(t, e, a, g, m2.ID, "")
		outboxEvents(t, e)
		if _, err := e.svc.Remind(ctx, owner, g, m2.ID, nil); err != nil {
			t.Fatal(err)
		}
		got = outboxEvents(t, e)
		for _, tg := range targets {
			evs := got[tg]
			if len(evs) != 1 || evs[0].Kind != chat.WebhookRemind || evs[0].By != "owner" || evs[0].ByID != owner.User || evs[0].ByAdmin ||
				strings.Join(evs[0].Users, ",") != "b,c" || evs[0].Msg != m2.ID || evs[0].Count != 1 || evs[0].Eligible != 3 || evs[0].Sender != "owner" {
				t.Errorf("remind rows of %s = %+v", tg, evs)
			}
		}
		// The administrator is told apart by byAdmin, not by a name a
		// user could have.
		m3 := e.sendGroup(t, owner, g, true)
		outboxEvents(t, e)
		if _, err := e.svc.Remind(ctx, chat.AdminActor, g, m3.ID, nil); err != nil {
			t.Fatal(err)
		}
		got = outboxEvents(t, e)
		for _, tg := range targets {
			evs := got[tg]
			if len(evs) != 1 || !evs[0].ByAdmin || evs[0].By != "" || evs[0].ByID != 0 {
				t.Errorf("the administrator's remind rows of %s = %+v, want byAdmin and no by", tg, evs)
			}
		}
	})
}

func kinds(evs []chat.WebhookEvent) string {
	var out []string
	for _, ev := range evs {
		s := string(ev.Kind) + ":" + strconv.Itoa(ev.Count)
		if ev.Kind == chat.WebhookThreshold {
			s = string(ev.Kind) + ":" + strconv.Itoa(ev.Threshold) + "@" + strconv.Itoa(ev.Count)
		}
		out = append(out, s)
	}
	return strings.Join(out, ",")
}

// TestRemindOnceAcrossNodes: two nodes on one store remind the same
// message at once; the rate limit lets exactly one through.
func TestRemindOnceAcrossNodes(t *testing.T) {
	dsns := map[string]func(t *testing.T) string{
		"sqlite": func(t *testing.T) string { return "sqlite:" + t.TempDir() + "/seen.db" },
	}
	if url := os.Getenv(sqltest.EnvPostgres); url != "" {
		dsns["postgres"] = func(t *testing.T) string { return sqltest.PostgresDSN(t, url) }
	}
	for name, dsn := range dsns {
		t.Run(name, func(t *testing.T) {
			d := dsn(t)
			e1 := newEnvDSN(t, d)
			e2 := newEnvDSN(t, d, func(_ *chat.Config, deps *chat.Deps) { deps.NodeSlot = 1 })
			ctx := context.Background()
			u := e1.users(t, "owner", "a", "b", "c")
			g := e1.group(t, u[0], u[1:]...)
			m := e1.sendGroup(t, u[0], g, true)
			errs := make(chan error, 2)
			for _, e := range []*env{e1, e2} {
				go func() {
					_, err := e.svc.Remind(ctx, u[0], g, m.ID, nil)
					errs <- err
				}()
			}
			var ok, limited int
			for range 2 {
				switch err := <-errs; chat.ErrorCode(err) {
				case "":
					ok++
				case chat.CodeLimitExceeded:
					limited++
				default:
					t.Errorf("Remind = %v", err)
				}
			}
			if ok != 1 || limited != 1 {
				t.Fatalf("%d reminders went through, %d were limited; want 1 and 1", ok, limited)
			}
			up, err := e2.svc.Unread(ctx, u[0], g, m.ID, "", 10)
			if err != nil || len(up.Users) != 3 {
				t.Fatalf("Unread = %+v, %v", up, err)
			}
			for _, x := range up.Users {
				if x.Reminded != 1 {
					t.Errorf("%s reminded %d times, want 1", x.Name, x.Reminded)
				}
			}
		})
	}
}
