package chat_test

import (
	"context"
	"fmt"
	"os"
	"sync"
	"sync/atomic"
	"testing"

	"seen/internal/chat"
	"seen/internal/sqlstore/sqltest"
)

// The lock order of docs/architecture.md ("Eligible ... stays exact through
// row locks"), tested where it matters: on PostgreSQL, whose row locks
// let writers interleave (SQLite's single writer serializes them all).

// pauseStore is a store whose writes can be paused once, just before a
// chosen Tx method, so that a test can commit other writes in between.
type pauseStore struct {
	chat.Store
	lockGroupsOf atomic.Pointer[func()]
	shareGroup   atomic.Pointer[func()]
}

func (p *pauseStore) Write(ctx context.Context, fn func(chat.Tx) error) error {
	return p.Store.Write(ctx, func(tx chat.Tx) error { return fn(pauseTx{tx, p}) })
}

type pauseTx struct {
	chat.Tx
	p *pauseStore
}

func (t pauseTx) LockGroupsOf(ctx context.Context, u chat.UserID) error {
	if f := t.p.lockGroupsOf.Swap(nil); f != nil {
		(*f)()
	}
	return t.Tx.LockGroupsOf(ctx, u)
}

func (t pauseTx) ShareGroup(ctx context.Context, g chat.GroupID) error {
	if f := t.p.shareGroup.Swap(nil); f != nil {
		(*f)()
	}
	return t.Tx.ShareGroup(ctx, g)
}

// pauseOnce arms hook to pause the next call once; it returns a channel
// closed when the call is paused, and the function that resumes it.
func pauseOnce(hook *atomic.Pointer[func()]) (paused <-chan struct{}, resume func()) {
	p, r := make(chan struct{}), make(chan struct{})
	f := func() { close(p); <-r }
	hook.Store(&f)
	return p, func() { close(r) }
}

func postgresEnv(t *testing.T, opts ...option) *env {
	t.Helper()
	url := os.Getenv(sqltest.EnvPostgres)
	if url == "" {
		t.Skipf("%s is not set: row-lock interleavings need PostgreSQL (SQLite serializes every write)", sqltest.EnvPostgres)
	}
	return newEnvDSN(t, sqltest.PostgresDSN(t, url), opts...)
}

// TestJoinRacesReceiptsOn: adding a member to a group, that member
// turning receipts on, and another member of the groups turning them on,
// all at once, never deadlock. AddMembers locked the group and then, by
// the members row's foreign key, the user; turning receipts on locks the
// user and then the user's groups: with a third writer holding one of
// those groups and waiting for the joined one, PostgreSQL found a cycle
// in most rounds.
func TestJoinRacesReceiptsOn(t *testing.T) {
	e := postgresEnv(t)
	ctx := context.Background()
	us := e.users(t, "owner", "v")
	owner, v := us[0], us[1]
	g1, g2 := e.group(t, owner, v), e.group(t, owner, v)
	if g1 > g2 {
		g1, g2 = g2, g1
	}
	off, on := false, true
	for i := range 30 {
		u := e.users(t, fmt.Sprintf("u%d", i))[0]
		if _, err := e.svc.AddMembers(ctx, owner, g1, []string{u.Name}); err != nil {
			t.Fatal(err)
		}
		for _, a := range []chat.Actor{u, v} {
			if _, err := e.svc.SetSettings(ctx, a, chat.SettingsUpdate{SendReadReceipts: &off}); err != nil {
				t.Fatal(err)
			}
		}
		start := make(chan struct{})
		var wg sync.WaitGroup
		run := func(what string, f func() error) {
			wg.Go(func() {
				<-start
				if err := f(); err != nil {
					t.Errorf("round %d: %s: %v", i, what, err)
				}
			})
		}
		run("AddMembers(g2, u)", func() error { _, err := e.svc.AddMembers(ctx, owner, g2, []string{u.Name}); return err })
		run("SetSettings(u, on)", func() error {
			_, err := e.svc.SetSettings(ctx, u, chat.SettingsUpdate{SendReadReceipts: &on})
			return err
		})
		run("SetSettings(v, on)", func() error {
			_, err := e.svc.SetSettings(ctx, v, chat.SettingsUpdate{SendReadReceipts: &on})
			return err
		})
		close(start)
		wg.Wait()
		if t.Failed() {
			return
		}
	}
}

// TestReceiptsOnTwiceAtOnce: two requests turning receipts on at once
// (two devices, a retried request) are one switch. The second read "off"
// before the first committed; if it then moved ReceiptsSince past a
// message sent in between, which counted the user in its Eligible, the
// user's ack would not count and the message could never be read by all.
func TestReceiptsOnTwiceAtOnce(t *testing.T) {
	ps := &pauseStore{}
	e := postgresEnv(t, func(_ *chat.Config, d *chat.Deps) { ps.Store = d.Store; d.Store = ps })
	ctx := context.Background()
	us := e.users(t, "owner", "u")
	owner, u := us[0], us[1]
	g := e.group(t, owner, u)
	off, on := false, true
	if _, err := e.svc.SetSettings(ctx, u, chat.SettingsUpdate{SendReadReceipts: &off}); err != nil {
		t.Fatal(err)
	}
	paused, resume := pauseOnce(&ps.lockGroupsOf)
	done := make(chan error, 1)
	go func() { // device 1 reads "off", and waits before its locks
		_, err := e.svc.SetSettings(ctx, u, chat.SettingsUpdate{SendReadReceipts: &on})
		done <- err
	}()
	<-paused
	if _, err := e.svc.SetSettings(ctx, u, chat.SettingsUpdate{SendReadReceipts: &on}); err != nil { // device 2
		t.Fatal(err)
	}
	m := e.sendGroup(t, owner, g, true)
	resume()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	rs, err := e.svc.Ack(ctx, u, g, []chat.AckItem{{Msg: m.ID}})
	if err != nil {
		t.Fatal(err)
	}
	var cs []chat.ReceiptCount
	if err := e.store.Read(ctx, func(tx chat.Tx) error {
		var err error
		cs, err = tx.ReceiptCounts(ctx, []chat.MsgID{m.ID})
		return err
	}); err != nil || len(cs) != 1 {
		t.Fatal(cs, err)
	}
	if !rs[0].Counted || cs[0].Eligible != 1 || !chat.ReadByAll(cs[0].Count, cs[0].Eligible) {
		t.Errorf("ack counted %v, count %d of %d eligible: want u, the one eligible reader, counted and the message read by all",
			rs[0].Counted, cs[0].Count, cs[0].Eligible)
	}
}

// TestSendRulesHoldAtCommit: a receipt-requesting send decides its rules
// under the group's share lock, so a sender demoted and gone while the
// batch waited for it is refused, not stored as an admin's message from
// a non-member.
func TestSendRulesHoldAtCommit(t *testing.T) {
	ps := &pauseStore{}
	e := postgresEnv(t, func(_ *chat.Config, d *chat.Deps) { ps.Store = d.Store; d.Store = ps })
	ctx := context.Background()
	us := e.users(t, "owner", "a", "b")
	owner, a := us[0], us[1]
	g := e.group(t, owner, a, us[2])
	if err := e.svc.SetAdmin(ctx, owner, g, a.Name, true); err != nil {
		t.Fatal(err)
	}
	paused, resume := pauseOnce(&ps.shareGroup)
	done := make(chan error, 1)
	go func() {
		_, err := e.svc.Send(ctx, a, chat.Outgoing{LocalID: nextLocal(), Type: chat.TypeText, ChatType: chat.GroupChat, To: g.String(), Text: "hi", AllowGroupAck: true})
		done <- err
	}()
	<-paused
	if err := e.svc.SetAdmin(ctx, owner, g, a.Name, false); err != nil {
		t.Fatal(err)
	}
	if err := e.svc.Leave(ctx, a, g); err != nil {
		t.Fatal(err)
	}
	resume()
	if err := <-done; chat.ErrorCode(err) != chat.CodeNotMember {
		t.Errorf("send by a member who left while it waited: %v, want %s", err, chat.CodeNotMember)
	}
}
