package chat_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"seen/internal/chat"
)

// bigGroup creates an owner and n members (fast hashing) and a group of
// them all, adding members in bulk.
func bigGroup(t testing.TB, e *env, n int) (chat.Actor, []chat.Actor, chat.GroupID) {
	t.Helper()
	ctx := context.Background()
	owner := e.users(t, "owner")[0]
	g, err := e.svc.CreateGroup(ctx, owner, chat.GroupSpec{Name: "school"})
	if err != nil {
		t.Fatal(err)
	}
	var members []chat.Actor
	for start := 0; start < n; start += chat.MaxBulkUsers {
		var names []string
		for i := start; i < min(n, start+chat.MaxBulkUsers); i++ {
			names = append(names, fmt.Sprintf("m%05d", i))
		}
		members = append(members, e.users(t, names...)...)
		if _, err := e.svc.AddMembers(ctx, owner, g.ID, names); err != nil {
			t.Fatalf("AddMembers = %v", err)
		}
	}
	return owner, members, g.ID
}

// TestTenThousandReaders: every member of a 10,000-member group acks; the
// count ends exactly at 10,000 and the sender receives two pushes: the
// first ack's at once, and the final count when the coalescing interval
// ends (the fake clock does not move while the acks run).
func TestTenThousandReaders(t *testing.T) {
	if testing.Short() {
		t.Skip("short")
	}
	const interval = 100 * time.Millisecond
	e := newEnv(t, withFastHash(), withConfig(func(c *chat.Config) { c.CoalesceInterval = interval }))
	ctx := context.Background()
	const n = 10_000
	owner, members, g := bigGroup(t, e, n)
	pushes := e.record(t, chat.UserTopic(owner.User))
	m := e.sendGroup(t, owner, g, true)

	start := time.Now()
	var wg sync.WaitGroup
	work := make(chan chat.Actor)
	for w := 0; w < 64; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for a := range work {
				rs, err := e.svc.Ack(ctx, a, g, []chat.AckItem{{Msg: m.ID}})
				if err != nil || rs[0].Err != nil || !rs[0].Counted {
					t.Errorf("Ack(%s) = %+v, %v", a.Name, rs, err)
				}
			}
		}()
	}
	for _, a := range members {
		work <- a
	}
	close(work)
	wg.Wait()
	elapsed := time.Since(start)
	// A repeat ack: once it returns, every earlier batch has handed its
	// pushes to the coalescer (the batcher commits one batch at a time).
	if rs, err := e.svc.Ack(ctx, members[0], g, []chat.AckItem{{Msg: m.ID}}); err != nil || rs[0].Err != nil || rs[0].Counted {
		t.Fatalf("repeat Ack = %+v, %v; want accepted, not counted", rs, err)
	}
	e.clock.Add(interval)

	final := pushes.waitFor(t, "final count", func(ev chat.Event) bool { return ev.Kind == chat.EventReceipt && ev.Receipt.Count == n })
	if final.Receipt.Msg != m.ID {
		t.Errorf("final push for %v, want %v", final.Receipt.Msg, m.ID)
	}
	counts, err := e.svc.ReadCounts(ctx, owner, g, []chat.MsgID{m.ID}, false)
	if err != nil || counts.Counts[m.ID] != n {
		t.Fatalf("ReadCounts = %v, %v; want %d", counts, err, n)
	}
	un, err := e.svc.Unread(ctx, owner, g, m.ID, "", 10)
	if err != nil || un.Total != 0 || len(un.Users) != 0 {
		t.Errorf("Unread = %d (%d listed), %v; want 0", un.Total, len(un.Users), err)
	}
	rd, err := e.svc.Readers(ctx, owner, g, m.ID, chat.OldestFirst, "", 500)
	if err != nil || rd.Total != n || len(rd.Readers) != 500 || rd.Next == "" {
		t.Errorf("Readers = total %d, %d listed, next %q, %v; want %d, 500, more", rd.Total, len(rd.Readers), rd.Next, err, n)
	}
	// Bounded: the first push, and one when the interval ended.
	got := 0
	for _, ev := range pushes.events() {
		if ev.Kind == chat.EventReceipt {
			got++
		}
	}
	if got != 2 {
		t.Errorf("sender received %d pushes, want 2 (the first ack's, then the final count)", got)
	}
	t.Logf("%d acks in %v (%.0f/s under -race), %d pushes to the sender", n, elapsed, float64(n)/elapsed.Seconds(), got)
}

// TestAcksRaceMembershipChanges: acks, duplicate acks from several
// devices, removals and re-adds race; in the end the count equals the
// stored readers, everyone counted once, and unread + readers among the
// eligible add up.
func TestAcksRaceMembershipChanges(t *testing.T) {
	onStores(t, func(t *testing.T, newEnv func(t testing.TB, opts ...option) *env) {
		e := newEnv(t, withFastHash())
		ctx := context.Background()
		owner, members, g := bigGroup(t, e, 300)
		var msgs []chat.Message
		for i := 0; i < 5; i++ {
			msgs = append(msgs, e.sendGroup(t, owner, g, true))
		}
		var counted atomic.Int64
		var wg sync.WaitGroup
		for i, a := range members {
			wg.Add(1)
			go func() {
				defer wg.Done()
				r := rand.New(rand.NewPCG(uint64(i), 7))
				for k := 0; k < 3; k++ { // three devices racing
					d := a
					d.Device = chat.DeviceID(fmt.Sprintf("d%d", k))
					items := []chat.AckItem{{Msg: msgs[r.IntN(len(msgs))].ID}, {Msg: msgs[r.IntN(len(msgs))].ID}}
					rs, err := e.svc.Ack(ctx, d, g, items)
					if err != nil {
						t.Errorf("Ack = %v", err)
						return
					}
					for _, res := range rs {
						if res.Counted {
							counted.Add(1)
						}
						if c := chat.ErrorCode(res.Err); res.Err != nil && c != chat.CodeNotMember && c != chat.CodeNotAllowed {
							t.Errorf("Ack result = %v", res.Err)
						}
					}
				}
			}()
			if i%10 == 0 {
				wg.Add(1)
				go func() {
					defer wg.Done()
					if err := e.svc.RemoveMember(ctx, owner, g, a.Name); err != nil {
						t.Errorf("RemoveMember = %v", err)
						return
					}
					if _, err := e.svc.AddMembers(ctx, owner, g, []string{a.Name}); err != nil {
						t.Errorf("AddMembers = %v", err)
					}
				}()
			}
		}
		wg.Wait()
		ids := make([]chat.MsgID, len(msgs))
		for i, m := range msgs {
			ids[i] = m.ID
		}
		counts, err := e.svc.ReadCounts(ctx, owner, g, ids, false)
		if err != nil {
			t.Fatal(err)
		}
		total := 0
		for _, m := range msgs {
			readers := 0
			seen := map[string]bool{}
			cursor := ""
			for {
				p, err := e.svc.Readers(ctx, owner, g, m.ID, chat.OldestFirst, cursor, 500)
				if err != nil {
					t.Fatal(err)
				}
				for _, r := range p.Readers {
					if seen[r.Name] {
						t.Errorf("%s listed twice as reader of %v", r.Name, m.ID)
					}
					seen[r.Name] = true
				}
				readers += len(p.Readers)
				if p.Next == "" {
					break
				}
				cursor = p.Next
			}
			if counts.Counts[m.ID] != readers {
				t.Errorf("count of %v = %d, but %d readers are stored", m.ID, counts.Counts[m.ID], readers)
			}
			un, err := e.svc.Unread(ctx, owner, g, m.ID, "", 500)
			if err != nil {
				t.Fatal(err)
			}
			for _, u := range un.Users {
				if seen[u.Name] {
					t.Errorf("%s is both reader and unread of %v", u.Name, m.ID)
				}
			}
			// Re-added members joined after the message: not eligible.
			eligible := len(members) - (len(members)+9)/10
			readersEligible := 0
			for name := range seen {
				var idx int
				fmt.Sscanf(name, "m%05d", &idx)
				if idx%10 != 0 {
					readersEligible++
				}
			}
			if un.Total+readersEligible != eligible {
				t.Errorf("unread %d + eligible readers %d != eligible %d for %v", un.Total, readersEligible, eligible, m.ID)
			}
			total += counts.Counts[m.ID]
		}
		if int64(total) != counted.Load() {
			t.Errorf("sum of counts = %d, acks reported counted = %d", total, counted.Load())
		}
	})
}

// TestRemindTenThousand: reminding every unread member of a 10,000-member
// group is one transaction: every member gets one stored reminder, the
// webhook gets one event per MaxRemindUsers members, and the unread list
// shows each member reminded once.
func TestRemindTenThousand(t *testing.T) {
	if testing.Short() {
		t.Skip("short")
	}
	e := newEnv(t, withFastHash(), withConfig(func(c *chat.Config) { c.WebhookTargets = []string{"http://hook.example/"} }))
	ctx := context.Background()
	const n = 10_000
	owner, members, g := bigGroup(t, e, n)
	m := e.sendGroup(t, owner, g, true)
	for _, a := range members[:10] {
		ack(t, e, a, g, m.ID, "")
	}
	outboxEvents(t, e) // the reads' events
	r, err := e.svc.Remind(ctx, owner, g, m.ID, nil)
	if err != nil || r.Reminded != n-10 {
		t.Fatalf("Remind = %+v, %v, want %d reminded", r, err, n-10)
	}
	evs := outboxEvents(t, e)["http://hook.example/"]
	users := 0
	for _, ev := range evs {
		if ev.Kind != chat.WebhookRemind || len(ev.Users) > chat.MaxRemindUsers {
			t.Errorf("event %s with %d users", ev.Kind, len(ev.Users))
		}
		users += len(ev.Users)
	}
	if want := (n - 10 + chat.MaxRemindUsers - 1) / chat.MaxRemindUsers; len(evs) != want || users != n-10 {
		t.Errorf("%d remind events for %d users, want %d for %d", len(evs), users, want, n-10)
	}
	up, err := e.svc.Unread(ctx, owner, g, m.ID, "", 500)
	if err != nil || up.Total != n-10 {
		t.Fatalf("Unread = %d, %v", up.Total, err)
	}
	for _, x := range up.Users {
		if x.Reminded != 1 {
			t.Errorf("%s reminded %d times, want 1", x.Name, x.Reminded)
		}
	}
	last := members[n-1]
	var got int
	for _, x := range syncStream(t, e, last) {
		if x.Type == chat.TypeRemind {
			got++
		}
	}
	if got != 1 {
		t.Errorf("%s synced %d reminders, want 1", last.Name, got)
	}
}
