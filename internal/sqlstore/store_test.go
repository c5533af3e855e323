package sqlstore

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	"github.com/pressly/goose/v3"

	"seen/internal/chat"
)

// engine names a database to run the suite on; open returns a fresh,
// empty store that is closed (and dropped) when the test ends.
type testEngine struct {
	name string
	open func(t testing.TB) *Store
}

// engines returns SQLite always and PostgreSQL when SEEN_TEST_POSTGRES_URL
// is set.
func engines() []testEngine {
	es := []testEngine{{"sqlite", openTestSQLite}}
	if u := os.Getenv("SEEN_TEST_POSTGRES_URL"); u != "" {
		es = append(es, testEngine{"postgres", func(t testing.TB) *Store { return openTestPostgres(t, u) }})
	}
	return es
}

func openTestSQLite(t testing.TB) *Store {
	t.Helper()
	s, err := Open(context.Background(), "sqlite:"+filepath.Join(t.TempDir(), "seen.db"))
	if err != nil {
		t.Fatalf("Open(sqlite) = %v", err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// openTestPostgres opens a store in a new schema of the database at base,
// so that parallel runs do not collide, and drops the schema at the end.
func openTestPostgres(t testing.TB, base string) *Store {
	t.Helper()
	dsn, drop, err := NewSchema(context.Background(), base, "seen_test_")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := drop(); err != nil {
			t.Error(err)
		}
	})
	s, err := Open(context.Background(), dsn)
	if err != nil {
		t.Fatalf("Open(postgres) = %v", err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func write(t testing.TB, s *Store, fn func(ctx context.Context, tx chat.Tx) error) {
	t.Helper()
	ctx := context.Background()
	if err := s.Write(ctx, func(tx chat.Tx) error { return fn(ctx, tx) }); err != nil {
		t.Fatalf("Write() = %v", err)
	}
}

func read(t testing.TB, s *Store, fn func(ctx context.Context, tx chat.Tx) error) {
	t.Helper()
	ctx := context.Background()
	if err := s.Read(ctx, func(tx chat.Tx) error { return fn(ctx, tx) }); err != nil {
		t.Fatalf("Read() = %v", err)
	}
}

// at returns a time with millisecond precision, as stored.
func at(ms int64) time.Time { return time.UnixMilli(1_700_000_000_000 + ms) }

// addUsers creates users with the given names and returns their ids.
func addUsers(t testing.TB, s *Store, names ...string) []chat.UserID {
	t.Helper()
	ids := make([]chat.UserID, len(names))
	write(t, s, func(ctx context.Context, tx chat.Tx) error {
		for i, n := range names {
			u := chat.User{Name: n, PasswordHash: []byte("h-" + n), CreatedAt: at(int64(i))}
			if err := tx.InsertUser(ctx, &u); err != nil {
				return err
			}
			ids[i] = u.ID
		}
		return nil
	})
	return ids
}

// addGroup creates group g owned by owner with members (owner first) who
// join at the current message head.
func addGroup(t testing.TB, s *Store, g chat.GroupID, owner chat.UserID, members ...chat.UserID) {
	t.Helper()
	write(t, s, func(ctx context.Context, tx chat.Tx) error {
		if err := tx.InsertGroup(ctx, &chat.Group{ID: g, Name: "g" + g.String(), Owner: owner, MaxMembers: 100, CreatedAt: at(0)}); err != nil {
			return err
		}
		head, err := tx.HeadSeq(ctx, chat.SeqMessages)
		if err != nil {
			return err
		}
		for i, u := range append([]chat.UserID{owner}, members...) {
			role := chat.RoleMember
			if i == 0 {
				role = chat.RoleOwner
			}
			if err := tx.InsertMember(ctx, chat.Member{Group: g, User: u, Role: role, JoinedAt: at(1), JoinSeq: head}); err != nil {
				return err
			}
		}
		return nil
	})
}

// send stores one message per text in its own Write, taking sequence
// numbers, and returns them.
func send(t testing.TB, s *Store, proto chat.Message, texts ...string) []chat.Message {
	t.Helper()
	var out []chat.Message
	for _, text := range texts {
		m := proto
		m.Text = text
		write(t, s, func(ctx context.Context, tx chat.Tx) error {
			seq, err := tx.NextSeq(ctx, chat.SeqMessages, 1)
			if err != nil {
				return err
			}
			m.Seq, m.ID = seq, chat.MsgID(1000+seq)
			if m.LocalID == "" {
				m.LocalID = fmt.Sprintf("l%d", seq)
			}
			if m.ChatType == chat.GroupChat {
				m.Conv = chat.GroupConv(m.Group)
			} else {
				m.Conv = chat.SingleConv(m.From, m.To)
			}
			return tx.InsertMessages(ctx, []*chat.Message{&m})
		})
		out = append(out, m)
	}
	return out
}

func texts(ms []chat.Message) []string {
	out := []string{}
	for _, m := range ms {
		out = append(out, m.Text)
	}
	return out
}

var ignoreMsgPresentation = cmpopts.IgnoreFields(chat.Message{}, "OriginDevice", "FromName", "ToName", "ReadCount")

// TestStore runs the conformance suite on every engine.
func TestStore(t *testing.T) {
	tests := []struct {
		name string
		fn   func(t *testing.T, s *Store)
	}{
		{"Users", testUsers},
		{"Tokens", testTokens},
		{"Devices", testDevices},
		{"LockGroup", testLockGroup},
		{"ShareGroup", testShareGroup},
		{"Groups", testGroups},
		{"Members", testMembers},
		{"Seqs", testSeqs},
		{"SeqCommitOrder", testSeqCommitOrder},
		{"ClaimNode", testClaimNode},
		{"Messages", testMessages},
		{"SyncMessages", testSyncMessages},
		{"Conversations", testConversations},
		{"ReceiptMessages", testReceiptMessages},
		{"Receipts", testReceipts},
		{"Unread", testUnread},
		{"ReceiptsPlus", testReceiptsPlus},
		{"Reminders", testReminders},
		{"Rollback", testRollback},
		{"ConcurrentWrites", testConcurrentWrites},
	}
	for _, e := range engines() {
		t.Run(e.name, func(t *testing.T) {
			for _, tc := range tests {
				t.Run(tc.name, func(t *testing.T) {
					t.Parallel()
					tc.fn(t, e.open(t))
				})
			}
		})
	}
}

func testUsers(t *testing.T, s *Store) {
	ids := addUsers(t, s, "alice", "bob", "carol")
	ctx := context.Background()
	err := s.Write(ctx, func(tx chat.Tx) error { return tx.InsertUser(ctx, &chat.User{Name: "bob", CreatedAt: at(9)}) })
	if !errors.Is(err, chat.ErrConflict) {
		t.Errorf("InsertUser(bob again) = %v, want ErrConflict", err)
	}
	write(t, s, func(ctx context.Context, tx chat.Tx) error {
		if err := tx.SetPassword(ctx, ids[1], []byte("new")); err != nil {
			t.Errorf("SetPassword(bob) = %v, want nil", err)
		}
		if err := tx.SetPassword(ctx, 9999, []byte("new")); !errors.Is(err, chat.ErrNotFound) {
			t.Errorf("SetPassword(9999) = %v, want ErrNotFound", err)
		}
		return nil
	})
	read(t, s, func(ctx context.Context, tx chat.Tx) error {
		got, err := tx.UserByName(ctx, "bob")
		want := chat.User{ID: ids[1], Name: "bob", PasswordHash: []byte("new"), CreatedAt: at(1)}
		if err != nil || !cmp.Equal(got, want) {
			t.Errorf("UserByName(bob) = %+v, %v, want %+v", got, err, want)
		}
		if _, err := tx.UserByName(ctx, "nobody"); !errors.Is(err, chat.ErrNotFound) {
			t.Errorf("UserByName(nobody) = %v, want ErrNotFound", err)
		}
		us, err := tx.UsersByName(ctx, []string{"carol", "nobody", "alice"})
		if got, want := names(us), []string{"alice", "carol"}; err != nil || !cmp.Equal(got, want) {
			t.Errorf("UsersByName() = %v, %v, want %v", got, err, want)
		}
		us, err = tx.UsersByID(ctx, []chat.UserID{ids[2], 9999, ids[0]})
		if got, want := names(us), []string{"alice", "carol"}; err != nil || !cmp.Equal(got, want) {
			t.Errorf("UsersByID() = %v, %v, want %v", got, err, want)
		}
		us, err = tx.UsersByID(ctx, nil)
		if err != nil || len(us) != 0 {
			t.Errorf("UsersByID(nil) = %v, %v, want none", us, err)
		}
		us, err = tx.ListUsers(ctx, "", 2)
		if got, want := names(us), []string{"alice", "bob"}; err != nil || !cmp.Equal(got, want) {
			t.Errorf("ListUsers(\"\", 2) = %v, %v, want %v", got, err, want)
		}
		us, err = tx.ListUsers(ctx, "bob", 2)
		if got, want := names(us), []string{"carol"}; err != nil || !cmp.Equal(got, want) {
			t.Errorf("ListUsers(bob, 2) = %v, %v, want %v", got, err, want)
		}
		return nil
	})
}

func names(us []chat.User) []string {
	out := []string{}
	for _, u := range us {
		out = append(out, u.Name)
	}
	return out
}

func testTokens(t *testing.T, s *Store) {
	ids := addUsers(t, s, "alice", "bob")
	ctx := context.Background()
	tok := chat.Token{Hash: []byte{1, 2, 3}, UserID: ids[0], CreatedAt: at(1), ExpiresAt: at(2)}
	write(t, s, func(ctx context.Context, tx chat.Tx) error {
		for _, k := range []chat.Token{tok, {Hash: []byte{4}, UserID: ids[0], CreatedAt: at(1), ExpiresAt: at(2)}, {Hash: []byte{5}, UserID: ids[1], CreatedAt: at(1), ExpiresAt: at(2)}} {
			if err := tx.InsertToken(ctx, k); err != nil {
				return err
			}
		}
		return nil
	})
	err := s.Write(ctx, func(tx chat.Tx) error { return tx.InsertToken(ctx, tok) })
	if !errors.Is(err, chat.ErrConflict) {
		t.Errorf("InsertToken(same hash) = %v, want ErrConflict", err)
	}
	read(t, s, func(ctx context.Context, tx chat.Tx) error {
		got, err := tx.TokenByHash(ctx, tok.Hash)
		if err != nil || !cmp.Equal(got, tok) {
			t.Errorf("TokenByHash() = %+v, %v, want %+v", got, err, tok)
		}
		return nil
	})
	write(t, s, func(ctx context.Context, tx chat.Tx) error {
		if err := tx.DeleteToken(ctx, tok.Hash); err != nil {
			t.Errorf("DeleteToken() = %v, want nil", err)
		}
		if err := tx.DeleteToken(ctx, tok.Hash); !errors.Is(err, chat.ErrNotFound) {
			t.Errorf("DeleteToken(again) = %v, want ErrNotFound", err)
		}
		return tx.DeleteUserTokens(ctx, ids[0])
	})
	read(t, s, func(ctx context.Context, tx chat.Tx) error {
		for _, h := range [][]byte{{1, 2, 3}, {4}} {
			if _, err := tx.TokenByHash(ctx, h); !errors.Is(err, chat.ErrNotFound) {
				t.Errorf("TokenByHash(%v) = %v, want ErrNotFound", h, err)
			}
		}
		if _, err := tx.TokenByHash(ctx, []byte{5}); err != nil {
			t.Errorf("TokenByHash(bob's) = %v, want nil", err)
		}
		return nil
	})
}

func testDevices(t *testing.T, s *Store) {
	ids := addUsers(t, s, "alice")
	d := chat.Device{UserID: ids[0], ID: "web-1", MsgSeq: 5, StatSeq: 7, LastSeen: at(3)}
	write(t, s, func(ctx context.Context, tx chat.Tx) error {
		if _, err := tx.Device(ctx, ids[0], "web-1"); !errors.Is(err, chat.ErrNotFound) {
			t.Errorf("Device(never seen) = %v, want ErrNotFound", err)
		}
		if err := tx.UpsertDevice(ctx, chat.Device{UserID: ids[0], ID: "web-1", LastSeen: at(1)}); err != nil {
			return err
		}
		return tx.UpsertDevice(ctx, d)
	})
	read(t, s, func(ctx context.Context, tx chat.Tx) error {
		got, err := tx.Device(ctx, ids[0], "web-1")
		if err != nil || !cmp.Equal(got, d) {
			t.Errorf("Device() = %+v, %v, want %+v", got, err, d)
		}
		if m, st, err := tx.MaxDeviceSeqs(ctx, ids[0]+1); err != nil || m != 0 || st != 0 {
			t.Errorf("MaxDeviceSeqs(no devices) = %d, %d, %v, want 0, 0", m, st, err)
		}
		return nil
	})
	write(t, s, func(ctx context.Context, tx chat.Tx) error {
		return tx.UpsertDevice(ctx, chat.Device{UserID: ids[0], ID: "phone", MsgSeq: 9, StatSeq: 2, LastSeen: at(4)})
	})
	read(t, s, func(ctx context.Context, tx chat.Tx) error {
		if m, st, err := tx.MaxDeviceSeqs(ctx, ids[0]); err != nil || m != 9 || st != 7 {
			t.Errorf("MaxDeviceSeqs() = %d, %d, %v, want 9, 7", m, st, err)
		}
		return nil
	})
}

// testShareGroup: a write holding a group's share lock makes a write
// that locks the group (LockGroup, LockGroupsOf of a member) wait until
// it commits, and waits for one that holds it; on PostgreSQL a second
// share lock does not wait (on SQLite every write waits for the one
// before).
func testShareGroup(t *testing.T, s *Store) {
	ids := addUsers(t, s, "owner", "other")
	addGroup(t, s, 77, ids[0])
	addGroup(t, s, 79, ids[1])
	write(t, s, func(ctx context.Context, tx chat.Tx) error {
		if err := tx.ShareGroup(ctx, 78); !errors.Is(err, chat.ErrNotFound) {
			t.Errorf("ShareGroup(missing) = %v, want ErrNotFound", err)
		}
		return tx.LockGroupsOf(ctx, 424242) // a user in no group: nothing to lock
	})
	share := func(ctx context.Context, tx chat.Tx) error { return tx.ShareGroup(ctx, 77) }
	for _, tc := range []struct {
		name        string
		first, then func(ctx context.Context, tx chat.Tx) error
		waits       bool
	}{
		{"LockGroup after ShareGroup", share, func(ctx context.Context, tx chat.Tx) error { return tx.LockGroup(ctx, 77) }, true},
		{"ShareGroup after LockGroup", func(ctx context.Context, tx chat.Tx) error { return tx.LockGroup(ctx, 77) }, share, true},
		{"LockGroupsOf a member after ShareGroup", share, func(ctx context.Context, tx chat.Tx) error { return tx.LockGroupsOf(ctx, ids[0]) }, true},
		{"ShareGroup after LockGroupsOf a member", func(ctx context.Context, tx chat.Tx) error { return tx.LockGroupsOf(ctx, ids[0]) }, share, true},
		{"LockGroupsOf another group's member after ShareGroup", share, func(ctx context.Context, tx chat.Tx) error { return tx.LockGroupsOf(ctx, ids[1]) }, s.d.name == "sqlite"},
		{"ShareGroup after ShareGroup", share, share, s.d.name == "sqlite"},
		// Last: the join commits. LockGroupsOf then locks group 79 too.
		{"LockGroupsOf during a join of the user", func(ctx context.Context, tx chat.Tx) error {
			return tx.InsertMember(ctx, chat.Member{Group: 79, User: ids[0], Role: chat.RoleMember, JoinedAt: at(0)})
		}, func(ctx context.Context, tx chat.Tx) error { return tx.LockGroupsOf(ctx, ids[0]) }, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := secondWaits(t, s, tc.first, tc.then); got != tc.waits {
				t.Errorf("the second write waited: %v, want %v", got, tc.waits)
			}
		})
	}
}

// secondWaits runs first in a write that stays open, then second in
// another, and reports whether second waited for the first to commit.
func secondWaits(t *testing.T, s *Store, first, second func(ctx context.Context, tx chat.Tx) error) bool {
	t.Helper()
	held, release, done := make(chan struct{}), make(chan struct{}), make(chan struct{})
	go func() {
		defer close(done)
		write(t, s, func(ctx context.Context, tx chat.Tx) error {
			err := first(ctx, tx)
			close(held)
			<-release
			return err
		})
	}()
	<-held
	finished := make(chan struct{})
	go func() {
		defer close(finished)
		write(t, s, second)
	}()
	waited := true
	select {
	case <-finished:
		waited = false
	case <-time.After(200 * time.Millisecond):
	}
	close(release)
	<-done
	<-finished
	return waited
}

// testLockGroup: a write holding a group's lock makes another write that
// locks it wait until the first commits.
func testLockGroup(t *testing.T, s *Store) {
	ids := addUsers(t, s, "owner")
	addGroup(t, s, 77, ids[0])
	write(t, s, func(ctx context.Context, tx chat.Tx) error {
		if err := tx.LockGroup(ctx, 78); !errors.Is(err, chat.ErrNotFound) {
			t.Errorf("LockGroup(missing) = %v, want ErrNotFound", err)
		}
		return nil
	})
	locked := make(chan struct{})
	release := make(chan struct{})
	var order []string
	var mu sync.Mutex
	done := make(chan struct{})
	go func() {
		defer close(done)
		write(t, s, func(ctx context.Context, tx chat.Tx) error {
			if err := tx.LockGroup(ctx, 77); err != nil {
				return err
			}
			close(locked)
			<-release
			mu.Lock()
			order = append(order, "first")
			mu.Unlock()
			return nil
		})
	}()
	<-locked
	second := make(chan struct{})
	go func() {
		defer close(second)
		write(t, s, func(ctx context.Context, tx chat.Tx) error {
			if err := tx.LockGroup(ctx, 77); err != nil {
				return err
			}
			mu.Lock()
			order = append(order, "second")
			mu.Unlock()
			return nil
		})
	}()
	select {
	case <-second:
		t.Fatal("a second LockGroup did not wait for the first transaction")
	case <-time.After(100 * time.Millisecond):
	}
	close(release)
	<-done
	<-second
	if len(order) != 2 || order[0] != "first" {
		t.Errorf("order = %v, want [first second]", order)
	}
}

func testGroups(t *testing.T, s *Store) {
	ids := addUsers(t, s, "alice", "bob")
	ctx := context.Background()
	g := chat.Group{ID: 42, Name: "team", Description: "d", Public: true, Owner: ids[0], MaxMembers: 10, CreatedAt: at(5)}
	write(t, s, func(ctx context.Context, tx chat.Tx) error { return tx.InsertGroup(ctx, &g) })
	err := s.Write(ctx, func(tx chat.Tx) error { return tx.InsertGroup(ctx, &g) })
	if !errors.Is(err, chat.ErrConflict) {
		t.Errorf("InsertGroup(same id) = %v, want ErrConflict", err)
	}
	read(t, s, func(ctx context.Context, tx chat.Tx) error {
		got, err := tx.Group(ctx, 42)
		if err != nil || !cmp.Equal(got, g) {
			t.Errorf("Group(42) = %+v, %v, want %+v", got, err, g)
		}
		if _, err := tx.Group(ctx, 43); !errors.Is(err, chat.ErrNotFound) {
			t.Errorf("Group(43) = %v, want ErrNotFound", err)
		}
		return nil
	})
	g2 := g
	g2.Name, g2.Description, g2.Public, g2.MaxMembers, g2.Owner, g2.Ext = "team2", "d2", false, 20, ids[1], json.RawMessage(`{"k":1}`)
	write(t, s, func(ctx context.Context, tx chat.Tx) error {
		if err := tx.UpdateGroup(ctx, chat.Group{ID: 43}); !errors.Is(err, chat.ErrNotFound) {
			t.Errorf("UpdateGroup(43) = %v, want ErrNotFound", err)
		}
		return tx.UpdateGroup(ctx, g2)
	})
	addGroupMembers(t, s, 42, ids[0], ids[1])
	read(t, s, func(ctx context.Context, tx chat.Tx) error {
		got, err := tx.Group(ctx, 42)
		want := g2
		want.Members = 2
		if err != nil || !cmp.Equal(got, want) {
			t.Errorf("Group(42) after update = %+v, %v, want %+v", got, err, want)
		}
		return nil
	})
	write(t, s, func(ctx context.Context, tx chat.Tx) error { return tx.DeleteGroup(ctx, 42) })
	read(t, s, func(ctx context.Context, tx chat.Tx) error {
		if _, err := tx.Group(ctx, 42); !errors.Is(err, chat.ErrNotFound) {
			t.Errorf("Group(destroyed) = %v, want ErrNotFound", err)
		}
		if _, err := tx.Member(ctx, 42, ids[1]); !errors.Is(err, chat.ErrNotFound) {
			t.Errorf("Member(destroyed group) = %v, want ErrNotFound", err)
		}
		if _, err := tx.Conversation(ctx, ids[1], chat.GroupConv(42)); !errors.Is(err, chat.ErrNotFound) {
			t.Errorf("Conversation(destroyed group) = %v, want ErrNotFound", err)
		}
		if gs, err := tx.GroupsOf(ctx, ids[0], 0, 10); err != nil || len(gs) != 0 {
			t.Errorf("GroupsOf(alice) = %v, %v, want none", gs, err)
		}
		return nil
	})
	write(t, s, func(ctx context.Context, tx chat.Tx) error {
		if err := tx.DeleteGroup(ctx, 42); !errors.Is(err, chat.ErrNotFound) {
			t.Errorf("DeleteGroup(again) = %v, want ErrNotFound", err)
		}
		if err := tx.UpdateGroup(ctx, g2); !errors.Is(err, chat.ErrNotFound) {
			t.Errorf("UpdateGroup(destroyed) = %v, want ErrNotFound", err)
		}
		return nil
	})
}

// addGroupMembers adds users to existing group g at join seq 0.
func addGroupMembers(t testing.TB, s *Store, g chat.GroupID, users ...chat.UserID) {
	write(t, s, func(ctx context.Context, tx chat.Tx) error {
		for _, u := range users {
			if err := tx.InsertMember(ctx, chat.Member{Group: g, User: u, Role: chat.RoleMember, JoinedAt: at(1)}); err != nil {
				return err
			}
		}
		return nil
	})
}

func testMembers(t *testing.T, s *Store) {
	ids := addUsers(t, s, "u0", "u1", "u2", "u3", "u4")
	ctx := context.Background()
	write(t, s, func(ctx context.Context, tx chat.Tx) error {
		for _, g := range []chat.GroupID{7, 8, 9} {
			if err := tx.InsertGroup(ctx, &chat.Group{ID: g, Name: "g", Owner: ids[0], MaxMembers: 10, CreatedAt: at(0)}); err != nil {
				return err
			}
		}
		// Join seqs 3, 1, 1, 2, 2: listing order is (JoinSeq, User).
		for i, js := range []int64{3, 1, 1, 2, 2} {
			role := chat.RoleMember
			switch i {
			case 0:
				role = chat.RoleOwner
			case 3:
				role = chat.RoleAdmin
			}
			if err := tx.InsertMember(ctx, chat.Member{Group: 7, User: ids[i], Role: role, JoinedAt: at(int64(i)), JoinSeq: js}); err != nil {
				return err
			}
		}
		for _, g := range []chat.GroupID{8, 9} {
			if err := tx.InsertMember(ctx, chat.Member{Group: g, User: ids[0], Role: chat.RoleOwner, JoinedAt: at(0)}); err != nil {
				return err
			}
		}
		return nil
	})
	err := s.Write(ctx, func(tx chat.Tx) error {
		return tx.InsertMember(ctx, chat.Member{Group: 7, User: ids[1], Role: chat.RoleMember, JoinedAt: at(0)})
	})
	if !errors.Is(err, chat.ErrConflict) {
		t.Errorf("InsertMember(already a member) = %v, want ErrConflict", err)
	}
	read(t, s, func(ctx context.Context, tx chat.Tx) error {
		g, err := tx.Group(ctx, 7)
		if err != nil || g.Members != 5 {
			t.Errorf("Group(7).Members = %d, %v, want 5", g.Members, err)
		}
		m, err := tx.Member(ctx, 7, ids[3])
		want := chat.Member{Group: 7, User: ids[3], Name: "u3", Role: chat.RoleAdmin, JoinedAt: at(3), JoinSeq: 2}
		if err != nil || !cmp.Equal(m, want) {
			t.Errorf("Member(7, u3) = %+v, %v, want %+v", m, err, want)
		}
		if _, err := tx.Member(ctx, 8, ids[3]); !errors.Is(err, chat.ErrNotFound) {
			t.Errorf("Member(8, u3) = %v, want ErrNotFound", err)
		}
		c, err := tx.Conversation(ctx, ids[0], chat.GroupConv(7))
		wantC := chat.Conversation{Conv: "g7", ChatType: chat.GroupChat, Group: 7, ReadSeq: 3}
		if err != nil || !cmp.Equal(c, wantC) {
			t.Errorf("Conversation(u0, g7) = %+v, %v, want %+v", c, err, wantC)
		}
		ms, err := tx.MembersByUser(ctx, 7, []chat.UserID{ids[4], 999, ids[2]})
		if got, want := memberNames(ms), []string{"u2", "u4"}; err != nil || !cmp.Equal(got, want) {
			t.Errorf("MembersByUser() = %v, %v, want %v", got, err, want)
		}
		ms, err = tx.Members(ctx, 7, 0, 0, 3)
		if got, want := memberNames(ms), []string{"u1", "u2", "u3"}; err != nil || !cmp.Equal(got, want) {
			t.Errorf("Members(7, 0, 0, 3) = %v, %v, want %v", got, err, want)
		}
		ms, err = tx.Members(ctx, 7, 2, ids[3], 3)
		if got, want := memberNames(ms), []string{"u4", "u0"}; err != nil || !cmp.Equal(got, want) {
			t.Errorf("Members(7, 2, u3, 3) = %v, %v, want %v", got, err, want)
		}
		ms, err = tx.Admins(ctx, 7)
		if got, want := memberNames(ms), []string{"u3", "u0"}; err != nil || !cmp.Equal(got, want) {
			t.Errorf("Admins(7) = %v, %v, want %v", got, err, want)
		}
		gs, err := tx.GroupsOf(ctx, ids[0], 7, 1)
		if err != nil || len(gs) != 1 || gs[0].ID != 8 {
			t.Errorf("GroupsOf(u0, 7, 1) = %+v, %v, want group 8", gs, err)
		}
		return nil
	})
	write(t, s, func(ctx context.Context, tx chat.Tx) error {
		if err := tx.SetRole(ctx, 7, ids[1], chat.RoleAdmin); err != nil {
			return err
		}
		if err := tx.SetRole(ctx, 8, ids[1], chat.RoleAdmin); !errors.Is(err, chat.ErrNotFound) {
			t.Errorf("SetRole(not a member) = %v, want ErrNotFound", err)
		}
		if err := tx.DeleteMember(ctx, 7, ids[2]); err != nil {
			return err
		}
		if err := tx.DeleteMember(ctx, 7, ids[2]); !errors.Is(err, chat.ErrNotFound) {
			t.Errorf("DeleteMember(again) = %v, want ErrNotFound", err)
		}
		for i, k := range []string{"join", "leave", "role:admin"} {
			e := chat.MemberEvent{Group: 7, User: ids[i%2+1], Actor: ids[0], Kind: k, At: at(int64(i)), Seq: int64(i)}
			if err := tx.InsertMemberEvent(ctx, e); err != nil {
				return err
			}
		}
		return nil
	})
	read(t, s, func(ctx context.Context, tx chat.Tx) error {
		g, err := tx.Group(ctx, 7)
		if err != nil || g.Members != 4 {
			t.Errorf("Group(7).Members after leave = %d, %v, want 4", g.Members, err)
		}
		if _, err := tx.Conversation(ctx, ids[2], "g7"); !errors.Is(err, chat.ErrNotFound) {
			t.Errorf("Conversation(left member) = %v, want ErrNotFound", err)
		}
		ms, err := tx.Admins(ctx, 7)
		if got, want := memberNames(ms), []string{"u1", "u3", "u0"}; err != nil || !cmp.Equal(got, want) {
			t.Errorf("Admins(7) = %v, %v, want %v", got, err, want)
		}
		es, err := tx.MemberEvents(ctx, 7, ids[1])
		want := []chat.MemberEvent{
			{Group: 7, User: ids[1], Actor: ids[0], Kind: "join", At: at(0), Seq: 0},
			{Group: 7, User: ids[1], Actor: ids[0], Kind: "role:admin", At: at(2), Seq: 2},
		}
		if diff := cmp.Diff(want, es); err != nil || diff != "" {
			t.Errorf("MemberEvents(7, u1) = %v, diff (-want +got):\n%s", err, diff)
		}
		es, err = tx.MemberEvents(ctx, 7, 0)
		if err != nil || len(es) != 3 {
			t.Errorf("MemberEvents(7, 0) = %d events, %v, want 3", len(es), err)
		}
		return nil
	})
}

func memberNames(ms []chat.Member) []string {
	out := []string{}
	for _, m := range ms {
		out = append(out, m.Name)
	}
	return out
}

func testSeqs(t *testing.T, s *Store) {
	ctx := context.Background()
	write(t, s, func(ctx context.Context, tx chat.Tx) error {
		for _, c := range []struct {
			c    string
			n    int
			want int64
		}{{chat.SeqMessages, 1, 1}, {chat.SeqMessages, 3, 2}, {chat.SeqStats, 2, 1}, {"new", 5, 1}, {chat.SeqMessages, 1, 5}} {
			if got, err := tx.NextSeq(ctx, c.c, c.n); err != nil || got != c.want {
				t.Errorf("NextSeq(%s, %d) = %d, %v, want %d", c.c, c.n, got, err, c.want)
			}
		}
		if got, err := tx.HeadSeq(ctx, chat.SeqMessages); err != nil || got != 5 {
			t.Errorf("HeadSeq(msg) in Write = %d, %v, want 5", got, err)
		}
		if _, err := tx.NextSeq(ctx, chat.SeqMessages, 0); err == nil {
			t.Errorf("NextSeq(msg, 0) = nil error, want an error")
		}
		return nil
	})
	// A rolled back transaction hands its numbers out again.
	s.Write(ctx, func(tx chat.Tx) error {
		tx.NextSeq(ctx, chat.SeqMessages, 10)
		return errors.New("abort")
	})
	read(t, s, func(ctx context.Context, tx chat.Tx) error {
		for c, want := range map[string]int64{chat.SeqMessages: 5, chat.SeqStats: 2, "new": 5, "unused": 0} {
			if got, err := tx.HeadSeq(ctx, c); err != nil || got != want {
				t.Errorf("HeadSeq(%s) = %d, %v, want %d", c, got, err, want)
			}
		}
		if _, err := tx.NextSeq(ctx, chat.SeqMessages, 1); err == nil {
			t.Errorf("NextSeq in Read = nil error, want an error")
		}
		return nil
	})
}

// testSeqCommitOrder runs concurrent writers that take message numbers
// and hold them for a moment before committing, and readers that check
// that what they see is gap-free: never seq k without k-1.
func testSeqCommitOrder(t *testing.T, s *Store) {
	ids := addUsers(t, s, "alice", "bob")
	const writers, perWriter = 8, 25
	ctx := context.Background()
	done := make(chan struct{})
	var wg, rg sync.WaitGroup
	errc := make(chan error, writers+4)
	for w := range writers {
		wg.Go(func() {
			for i := range perWriter {
				err := s.Write(ctx, func(tx chat.Tx) error {
					seq, err := tx.NextSeq(ctx, chat.SeqMessages, 1)
					if err != nil {
						return err
					}
					// Hold the number while others queue behind it.
					time.Sleep(time.Duration((w*perWriter+i)%5) * 100 * time.Microsecond)
					m := &chat.Message{ID: chat.MsgID(seq), Seq: seq, Conv: chat.SingleConv(ids[0], ids[1]), Type: chat.TypeText,
						ChatType: chat.SingleChat, From: ids[0], To: ids[1], Text: "x", SentAt: at(seq)}
					return tx.InsertMessages(ctx, []*chat.Message{m})
				})
				if err != nil {
					errc <- err
					return
				}
			}
		})
	}
	for range 4 {
		rg.Go(func() {
			for {
				select {
				case <-done:
					return
				default:
				}
				err := s.Read(ctx, func(tx chat.Tx) error {
					head, err := tx.HeadSeq(ctx, chat.SeqMessages)
					if err != nil {
						return err
					}
					ms, err := tx.SyncMessages(ctx, ids[1], 0, 0)
					if err != nil {
						return err
					}
					for i, m := range ms {
						if m.Seq != int64(i+1) {
							return fmt.Errorf("SyncMessages() [%d].Seq = %d, want %d (gap)", i, m.Seq, i+1)
						}
					}
					if int64(len(ms)) != head {
						return fmt.Errorf("SyncMessages() = %d messages, want HeadSeq %d", len(ms), head)
					}
					return nil
				})
				if err != nil {
					errc <- err
					return
				}
			}
		})
	}
	wg.Wait()
	close(done)
	rg.Wait()
	close(errc)
	for err := range errc {
		t.Error(err)
	}
	read(t, s, func(ctx context.Context, tx chat.Tx) error {
		if got, err := tx.HeadSeq(ctx, chat.SeqMessages); err != nil || got != writers*perWriter {
			t.Errorf("HeadSeq(msg) = %d, %v, want %d", got, err, writers*perWriter)
		}
		return nil
	})
}

func testClaimNode(t *testing.T, s *Store) {
	ctx := context.Background()
	lease := 10 * time.Second
	claim := func(name string, now time.Time, max int) (int, error) {
		var slot int
		err := s.Write(ctx, func(tx chat.Tx) error {
			var err error
			slot, err = tx.ClaimNode(ctx, name, now, lease, max)
			return err
		})
		return slot, err
	}
	steps := []struct {
		name string
		now  time.Duration
		max  int
		want int
		err  error
	}{
		{"a", 0, 3, 0, nil},
		{"b", 0, 3, 1, nil},
		{"a", 5 * time.Second, 3, 0, nil}, // renew
		{"c", 6 * time.Second, 3, 2, nil}, // b's lease still runs
		{"d", 9 * time.Second, 3, 0, chat.ErrConflict},
		{"d", 11 * time.Second, 3, 1, nil}, // b's lease expired at 10s
		{"b", 11 * time.Second, 3, 0, chat.ErrConflict},
		{"a", 14 * time.Second, 3, 0, nil}, // a renewed at 5s: runs to 15s
		{"a", 20 * time.Second, 1, 0, nil}, // even expired, a keeps its slot
		{"c", 20 * time.Second, 1, 0, chat.ErrConflict},
		{"d", 40 * time.Second, 1, 0, nil}, // everything expired: lowest slot
	}
	for _, st := range steps {
		got, err := claim(st.name, at(0).Add(st.now), st.max)
		if st.err != nil {
			if !errors.Is(err, st.err) {
				t.Errorf("ClaimNode(%s, +%v, max %d) = %d, %v, want %v", st.name, st.now, st.max, got, err, st.err)
			}
			continue
		}
		if err != nil || got != st.want {
			t.Errorf("ClaimNode(%s, +%v, max %d) = %d, %v, want %d", st.name, st.now, st.max, got, err, st.want)
		}
	}
}

func testMessages(t *testing.T, s *Store) {
	ids := addUsers(t, s, "alice", "bob", "carol")
	ctx := context.Background()
	sent := send(t, s, chat.Message{Type: chat.TypeText, ChatType: chat.SingleChat, From: ids[0], To: ids[1], SentAt: at(1)}, "m1", "m2")
	var full chat.Message
	write(t, s, func(ctx context.Context, tx chat.Tx) error {
		seq, err := tx.NextSeq(ctx, chat.SeqMessages, 2)
		if err != nil {
			return err
		}
		full = chat.Message{ID: 77, Seq: seq, Conv: chat.SingleConv(ids[1], ids[2]), LocalID: "c-1", Type: chat.TypeCustom,
			ChatType: chat.SingleChat, From: ids[2], To: ids[1], CustomEvent: "poke", CustomExts: json.RawMessage(`{"a":"b"}`),
			Ext: json.RawMessage(`{"x":[1,2]}`), SentAt: at(2)}
		noLocal := chat.Message{ID: 78, Seq: seq + 1, Conv: full.Conv, Type: chat.TypeText, ChatType: chat.SingleChat, From: ids[2], To: ids[1], SentAt: at(3)}
		noLocal2 := noLocal
		noLocal2.ID, noLocal2.Seq = 79, seq+2 // two messages without local id do not conflict
		if _, err := tx.NextSeq(ctx, chat.SeqMessages, 1); err != nil {
			return err
		}
		return tx.InsertMessages(ctx, []*chat.Message{&full, &noLocal, &noLocal2})
	})
	err := s.Write(ctx, func(tx chat.Tx) error {
		dup := sent[0]
		dup.ID, dup.Seq = 100, 100
		return tx.InsertMessages(ctx, []*chat.Message{&dup})
	})
	if !errors.Is(err, chat.ErrConflict) {
		t.Errorf("InsertMessages(same local id) = %v, want ErrConflict", err)
	}
	read(t, s, func(ctx context.Context, tx chat.Tx) error {
		got, err := tx.MessageByLocalID(ctx, ids[2], "c-1")
		if diff := cmp.Diff(full, got, ignoreMsgPresentation); err != nil || diff != "" {
			t.Errorf("MessageByLocalID(carol, c-1) = %v, diff (-want +got):\n%s", err, diff)
		}
		if _, err := tx.MessageByLocalID(ctx, ids[1], "c-1"); !errors.Is(err, chat.ErrNotFound) {
			t.Errorf("MessageByLocalID(bob, c-1) = %v, want ErrNotFound", err)
		}
		if _, err := tx.MessageByLocalID(ctx, ids[2], ""); !errors.Is(err, chat.ErrNotFound) {
			t.Errorf("MessageByLocalID(carol, \"\") = %v, want ErrNotFound", err)
		}
		ms, err := tx.MessagesByID(ctx, []chat.MsgID{77, 9, sent[1].ID, sent[0].ID})
		if got, want := texts(ms), []string{"m1", "m2", ""}; err != nil || !cmp.Equal(got, want) {
			t.Errorf("MessagesByID() = %v, %v, want %v", got, err, want)
		}
		conv := chat.SingleConv(ids[0], ids[1])
		hs, err := tx.History(ctx, conv, 0, true, 10)
		if got, want := texts(hs), []string{"m2", "m1"}; err != nil || !cmp.Equal(got, want) {
			t.Errorf("History(older, 0) = %v, %v, want %v", got, err, want)
		}
		hs, err = tx.History(ctx, conv, sent[1].Seq, true, 10)
		if got, want := texts(hs), []string{"m1"}; err != nil || !cmp.Equal(got, want) {
			t.Errorf("History(older, %d) = %v, %v, want %v", sent[1].Seq, got, err, want)
		}
		hs, err = tx.History(ctx, conv, 0, false, 1)
		if got, want := texts(hs), []string{"m1"}; err != nil || !cmp.Equal(got, want) {
			t.Errorf("History(newer, 0, 1) = %v, %v, want %v", got, err, want)
		}
		// Both sides of a single chat have a conversation row.
		for _, u := range []chat.UserID{ids[0], ids[1]} {
			c, err := tx.Conversation(ctx, u, conv)
			if err != nil || c.LastSeq != sent[1].Seq || c.Last == nil || c.Last.Text != "m2" {
				t.Errorf("Conversation(%d, %s) = %+v, %v, want last m2", u, conv, c, err)
			}
		}
		return nil
	})
}

func testSyncMessages(t *testing.T, s *Store) {
	ids := addUsers(t, s, "alice", "bob", "carol")
	addGroup(t, s, 1, ids[0], ids[1])
	g := chat.Message{Type: chat.TypeText, ChatType: chat.GroupChat, From: ids[0], Group: 1, SentAt: at(1)}
	send(t, s, g, "g1", "g2")
	// carol joins after g2: she sees only later messages.
	write(t, s, func(ctx context.Context, tx chat.Tx) error {
		head, err := tx.HeadSeq(ctx, chat.SeqMessages)
		if err != nil {
			return err
		}
		return tx.InsertMember(ctx, chat.Member{Group: 1, User: ids[2], Role: chat.RoleMember, JoinedAt: at(2), JoinSeq: head})
	})
	send(t, s, g, "g3")
	send(t, s, chat.Message{Type: chat.TypeText, ChatType: chat.SingleChat, From: ids[1], To: ids[2], SentAt: at(3)}, "s4")
	send(t, s, g, "g5")
	send(t, s, chat.Message{Type: chat.TypeText, ChatType: chat.SingleChat, From: ids[0], To: ids[1], SentAt: at(3)}, "s6")

	tests := []struct {
		u     chat.UserID
		after int64
		limit int
		want  []string
	}{
		{ids[0], 0, 0, []string{"g1", "g2", "g3", "g5", "s6"}},
		{ids[1], 0, 0, []string{"g1", "g2", "g3", "s4", "g5", "s6"}},
		{ids[1], 2, 3, []string{"g3", "s4", "g5"}},
		{ids[2], 0, 0, []string{"g3", "s4", "g5"}},
		{ids[2], 4, 10, []string{"g5"}},
		{ids[2], 6, 10, []string{}},
	}
	read(t, s, func(ctx context.Context, tx chat.Tx) error {
		for _, tc := range tests {
			ms, err := tx.SyncMessages(ctx, tc.u, tc.after, tc.limit)
			if got := texts(ms); err != nil || !cmp.Equal(got, tc.want) {
				t.Errorf("SyncMessages(%d, %d, %d) = %v, %v, want %v", tc.u, tc.after, tc.limit, got, err, tc.want)
			}
		}
		return nil
	})
}

func testConversations(t *testing.T, s *Store) {
	ids := addUsers(t, s, "alice", "bob", "carol")
	addGroup(t, s, 1, ids[0], ids[1], ids[2])
	addGroup(t, s, 2, ids[1]) // bob alone: no message, not listed
	ab := chat.Message{Type: chat.TypeText, ChatType: chat.SingleChat, From: ids[0], To: ids[1], SentAt: at(1)}
	ba := chat.Message{Type: chat.TypeText, ChatType: chat.SingleChat, From: ids[1], To: ids[0], SentAt: at(1)}
	g := chat.Message{Type: chat.TypeText, ChatType: chat.GroupChat, From: ids[2], Group: 1, SentAt: at(1)}
	send(t, s, ab, "ab1", "ab2")                                                                                             // 1, 2
	send(t, s, g, "g3")                                                                                                      // 3
	send(t, s, ba, "ba4")                                                                                                    // 4
	send(t, s, chat.Message{Type: chat.TypeText, ChatType: chat.SingleChat, From: ids[2], To: ids[1], SentAt: at(1)}, "cb5") // 5
	send(t, s, g, "g6")                                                                                                      // 6

	write(t, s, func(ctx context.Context, tx chat.Tx) error {
		if err := tx.SetReadSeq(ctx, ids[1], chat.SingleConv(ids[0], ids[1]), 1); err != nil {
			return err
		}
		if err := tx.SetReadSeq(ctx, ids[1], "g1", 6); err != nil {
			return err
		}
		if err := tx.SetReadSeq(ctx, ids[1], "g1", 3); err != nil { // never lowers
			return err
		}
		if err := tx.SetReadSeq(ctx, ids[1], "s9_10", 3); !errors.Is(err, chat.ErrNotFound) {
			t.Errorf("SetReadSeq(no row) = %v, want ErrNotFound", err)
		}
		return nil
	})
	type row struct {
		Conv     string
		LastSeq  int64
		LastText string
		ReadSeq  int64
		Unread   int
		PeerName string
	}
	rowsOf := func(cs []chat.Conversation) []row {
		out := []row{}
		for _, c := range cs {
			r := row{c.Conv, c.LastSeq, "", c.ReadSeq, c.Unread, c.PeerName}
			if c.Last != nil {
				r.LastText = c.Last.Text
			}
			out = append(out, r)
		}
		return out
	}
	sab, scb := chat.SingleConv(ids[0], ids[1]), chat.SingleConv(ids[1], ids[2])
	tests := []struct {
		u      chat.UserID
		before int64
		limit  int
		want   []row
	}{
		{ids[1], 0, 10, []row{{"g1", 6, "g6", 6, 0, ""}, {scb, 5, "cb5", 0, 1, "carol"}, {sab, 4, "ba4", 1, 1, "alice"}}},
		{ids[1], 6, 1, []row{{scb, 5, "cb5", 0, 1, "carol"}}},
		{ids[0], 0, 10, []row{{"g1", 6, "g6", 0, 2, ""}, {sab, 4, "ba4", 0, 1, "bob"}}},
	}
	read(t, s, func(ctx context.Context, tx chat.Tx) error {
		for _, tc := range tests {
			cs, err := tx.Conversations(ctx, tc.u, tc.before, tc.limit)
			if diff := cmp.Diff(tc.want, rowsOf(cs)); err != nil || diff != "" {
				t.Errorf("Conversations(%d, %d, %d) = %v, diff (-want +got):\n%s", tc.u, tc.before, tc.limit, err, diff)
			}
		}
		cs, err := tx.Conversations(ctx, ids[1], 0, 10)
		if err == nil && len(cs) > 0 {
			want := chat.Conversation{Conv: "g1", ChatType: chat.GroupChat, Group: 1, LastSeq: 6, ReadSeq: 6}
			if diff := cmp.Diff(want, cs[0], cmpopts.IgnoreFields(chat.Conversation{}, "Last")); diff != "" {
				t.Errorf("Conversations(bob)[0] diff (-want +got):\n%s", diff)
			}
			if cs[0].Last.ChatType != chat.GroupChat || cs[0].Last.Type != chat.TypeText || cs[0].Last.From != ids[2] {
				t.Errorf("Conversations(bob)[0].Last = %+v, want g6 from carol", cs[0].Last)
			}
		}
		c, err := tx.Conversation(ctx, ids[1], sab)
		if got, want := rowsOf([]chat.Conversation{c}), []row{{sab, 4, "ba4", 1, 1, "alice"}}; err != nil || !cmp.Equal(got, want) {
			t.Errorf("Conversation(bob, %s) = %v, %v, want %v", sab, got, err, want)
		}
		if c.Peer != ids[0] || c.ChatType != chat.SingleChat {
			t.Errorf("Conversation(bob, %s) = peer %d, %s, want %d, singleChat", sab, c.Peer, c.ChatType, ids[0])
		}
		c, err = tx.Conversation(ctx, ids[1], "g2")
		if err != nil || c.Last != nil || c.LastSeq != 0 {
			t.Errorf("Conversation(bob, g2) = %+v, %v, want no last message", c, err)
		}
		if _, err := tx.Conversation(ctx, ids[0], "g2"); !errors.Is(err, chat.ErrNotFound) {
			t.Errorf("Conversation(alice, g2) = %v, want ErrNotFound", err)
		}
		return nil
	})
}

// testReceiptMessages: single-chat receipts are rows of messages with
// ack_msg_id; sync gives them to their recipient only, and history,
// conversation heads, last messages and unread counts leave them out.
func testReceiptMessages(t *testing.T, s *Store) {
	ids := addUsers(t, s, "alice", "bob")
	alice, bob := ids[0], ids[1]
	conv := chat.SingleConv(alice, bob)
	sent := send(t, s, chat.Message{Type: chat.TypeText, ChatType: chat.SingleChat, From: alice, To: bob, SentAt: at(1)}, "a1") // seq 1
	receipt := func(typ chat.MsgType, localID string, ack chat.MsgID) chat.Message {
		return chat.Message{LocalID: localID, Type: typ, ChatType: chat.SingleChat, Conv: conv, From: bob, To: alice, AckMsg: ack, SentAt: at(2)}
	}
	rs := []chat.Message{
		receipt(chat.TypeDelivery, "delivery:1001", sent[0].ID),
		receipt(chat.TypeRead, "read:1001", sent[0].ID),
		receipt(chat.TypeChannel, "channel:1", 0),
	}
	write(t, s, func(ctx context.Context, tx chat.Tx) error {
		seq, err := tx.NextSeq(ctx, chat.SeqMessages, len(rs))
		if err != nil {
			return err
		}
		ps := make([]*chat.Message, len(rs))
		for i := range rs {
			rs[i].ID, rs[i].Seq = chat.MsgID(2000+i), seq+int64(i) // seq 2, 3, 4
			ps[i] = &rs[i]
		}
		return tx.InsertMessages(ctx, ps)
	})
	// The same receipt again is a conflict on (sender, local id).
	err := s.Write(context.Background(), func(tx chat.Tx) error {
		dup := rs[1]
		dup.ID, dup.Seq = 3000, 100
		return tx.InsertMessages(context.Background(), []*chat.Message{&dup})
	})
	if !errors.Is(err, chat.ErrConflict) {
		t.Errorf("InsertMessages(same receipt) = %v, want ErrConflict", err)
	}
	send(t, s, chat.Message{Type: chat.TypeText, ChatType: chat.SingleChat, From: bob, To: alice, SentAt: at(3)}, "b5") // seq 5
	read(t, s, func(ctx context.Context, tx chat.Tx) error {
		got, err := tx.MessageByLocalID(ctx, bob, "read:1001")
		if diff := cmp.Diff(rs[1], got, ignoreMsgPresentation); err != nil || diff != "" {
			t.Errorf("MessageByLocalID(bob, read:1001) = %v, diff (-want +got):\n%s", err, diff)
		}
		ms, err := tx.MessagesByID(ctx, []chat.MsgID{rs[0].ID, rs[2].ID})
		if err != nil || len(ms) != 2 || ms[0].AckMsg != sent[0].ID || ms[0].Type != chat.TypeDelivery || ms[1].AckMsg != 0 {
			t.Errorf("MessagesByID(receipts) = %+v, %v, want the delivery of %d and the channel", ms, err, sent[0].ID)
		}
		for _, tc := range []struct {
			u    chat.UserID
			want []int64
		}{
			{alice, []int64{1, 2, 3, 4, 5}}, // the receipts are to alice
			{bob, []int64{1, 5}},            // bob sent them
		} {
			ms, err := tx.SyncMessages(ctx, tc.u, 0, 100)
			if got := seqs(ms); err != nil || !cmp.Equal(got, tc.want) {
				t.Errorf("SyncMessages(%d) = %v, %v, want seqs %v", tc.u, got, err, tc.want)
			}
		}
		hs, err := tx.History(ctx, conv, 0, true, 10)
		if got, want := seqs(hs), []int64{5, 1}; err != nil || !cmp.Equal(got, want) {
			t.Errorf("History(older) = %v, %v, want seqs %v", got, err, want)
		}
		hs, err = tx.History(ctx, conv, 1, false, 2)
		if got, want := seqs(hs), []int64{5}; err != nil || !cmp.Equal(got, want) {
			t.Errorf("History(newer, 1, 2) = %v, %v, want seqs %v", got, err, want)
		}
		for _, tc := range []struct {
			u      chat.UserID
			unread int
		}{{alice, 1}, {bob, 1}} {
			c, err := tx.Conversation(ctx, tc.u, conv)
			if err != nil || c.LastSeq != 5 || c.Last == nil || c.Last.Text != "b5" || c.Unread != tc.unread {
				t.Errorf("Conversation(%d) = %+v, %v, want last b5 (seq 5), %d unread", tc.u, c, err, tc.unread)
			}
			cs, err := tx.Conversations(ctx, tc.u, 0, 10)
			if err != nil || len(cs) != 1 || cs[0].LastSeq != 5 || cs[0].Last.Text != "b5" || cs[0].Unread != tc.unread {
				t.Errorf("Conversations(%d) = %+v, %v, want last b5, %d unread", tc.u, cs, err, tc.unread)
			}
		}
		return nil
	})
	// A batch of receipts alone never moves the head.
	write(t, s, func(ctx context.Context, tx chat.Tx) error {
		seq, err := tx.NextSeq(ctx, chat.SeqMessages, 1)
		if err != nil {
			return err
		}
		r := receipt(chat.TypeChannel, "channel:5", 0)
		r.From, r.To, r.ID, r.Seq = alice, bob, 2100, seq
		return tx.InsertMessages(ctx, []*chat.Message{&r})
	})
	read(t, s, func(ctx context.Context, tx chat.Tx) error {
		c, err := tx.Conversation(ctx, bob, conv)
		if err != nil || c.LastSeq != 5 || c.Unread != 1 {
			t.Errorf("Conversation(bob) after alice's channel = %+v, %v, want last seq 5, 1 unread", c, err)
		}
		return nil
	})
}

func seqs(ms []chat.Message) []int64 {
	out := []int64{}
	for _, m := range ms {
		out = append(out, m.Seq)
	}
	return out
}

func testReceipts(t *testing.T, s *Store) {
	ids := addUsers(t, s, "alice", "bob", "carol", "dave")
	ctx := context.Background()
	addGroup(t, s, 1, ids[0], ids[1], ids[2], ids[3])
	ack := chat.Message{Type: chat.TypeText, ChatType: chat.GroupChat, From: ids[0], Group: 1, AllowGroupAck: true, SentAt: at(10)}
	ms := send(t, s, ack, "a1", "a2", "a3")
	send(t, s, chat.Message{Type: chat.TypeText, ChatType: chat.GroupChat, From: ids[0], Group: 1, SentAt: at(10)}, "plain")
	send(t, s, chat.Message{Type: chat.TypeText, ChatType: chat.GroupChat, From: ids[1], Group: 1, AllowGroupAck: true, SentAt: at(5)}, "b5")
	write(t, s, func(ctx context.Context, tx chat.Tx) error {
		for _, m := range ms {
			if err := tx.InsertReceiptCount(ctx, chat.ReceiptCount{Msg: m.ID, Group: 1, Sender: ids[0]}); err != nil {
				return err
			}
		}
		return nil
	})
	err := s.Write(ctx, func(tx chat.Tx) error {
		return tx.InsertReceiptCount(ctx, chat.ReceiptCount{Msg: ms[0].ID, Group: 1, Sender: ids[0]})
	})
	if !errors.Is(err, chat.ErrConflict) {
		t.Errorf("InsertReceiptCount(again) = %v, want ErrConflict", err)
	}

	var counts []chat.ReceiptCount
	write(t, s, func(ctx context.Context, tx chat.Tx) error {
		got, err := tx.InsertReads(ctx, []chat.Read{
			{Msg: ms[0].ID, User: ids[1], At: at(20), Content: "ok"},
			{Msg: ms[0].ID, User: ids[2], At: at(20)},
			{Msg: ms[1].ID, User: ids[1], At: at(21)},
		})
		if want := []bool{true, true, true}; err != nil || !cmp.Equal(got, want) {
			t.Errorf("InsertReads(first) = %v, %v, want %v", got, err, want)
		}
		got, err = tx.InsertReads(ctx, []chat.Read{
			{Msg: ms[0].ID, User: ids[1], At: at(30)}, // already read
			{Msg: ms[0].ID, User: ids[3], At: at(19)},
			{Msg: ms[0].ID, User: ids[3], At: at(31)}, // repeated in the batch
			{Msg: ms[1].ID, User: ids[2], At: at(22)},
		})
		if want := []bool{false, true, false, true}; err != nil || !cmp.Equal(got, want) {
			t.Errorf("InsertReads(second) = %v, %v, want %v", got, err, want)
		}
		if got, err := tx.InsertReads(ctx, nil); err != nil || len(got) != 0 {
			t.Errorf("InsertReads(nil) = %v, %v, want none", got, err)
		}
		stat, err := tx.NextSeq(ctx, chat.SeqStats, 2)
		if err != nil {
			return err
		}
		counts, err = tx.AddReceiptCounts(ctx, []chat.ReceiptUpdate{
			{Msg: ms[0].ID, Delta: 2, LastReader: ids[2], LastAt: at(20), StatSeq: stat},
			{Msg: ms[1].ID, Delta: 2, LastReader: ids[2], LastAt: at(22), LastContent: "c", StatSeq: stat + 1},
			{Msg: 424242, Delta: 1, LastReader: ids[2], LastAt: at(22), StatSeq: stat + 1}, // no such message
			{Msg: ms[0].ID, Delta: 1, LastReader: ids[3], LastAt: at(19), LastContent: "late", StatSeq: stat + 1},
		})
		return err
	})
	want := []chat.ReceiptCount{
		{Msg: ms[0].ID, Group: 1, Sender: ids[0], Count: 3, LastReader: ids[3], LastAt: at(19), LastContent: "late", StatSeq: 2},
		{Msg: ms[1].ID, Group: 1, Sender: ids[0], Count: 2, LastReader: ids[2], LastAt: at(22), LastContent: "c", StatSeq: 2},
	}
	if diff := cmp.Diff(want, counts); diff != "" {
		t.Errorf("AddReceiptCounts() diff (-want +got):\n%s", diff)
	}
	read(t, s, func(ctx context.Context, tx chat.Tx) error {
		got, err := tx.ReceiptCounts(ctx, []chat.MsgID{ms[1].ID, 5, ms[0].ID})
		named := []chat.ReceiptCount{want[0], want[1]}
		named[0].LastName, named[1].LastName = "dave", "carol"
		if diff := cmp.Diff(named, got); err != nil || diff != "" {
			t.Errorf("ReceiptCounts() = %v, diff (-want +got):\n%s", err, diff)
		}
		st, err := tx.StatsSince(ctx, ids[0], 0, 10)
		// Both changed at stat 2; a3 (stat 0) never changed.
		sorted := cmpopts.SortSlices(func(a, b chat.ReceiptCount) bool { return a.Msg < b.Msg })
		if diff := cmp.Diff(named, st, sorted); err != nil || diff != "" {
			t.Errorf("StatsSince(alice, 0) = %v, diff (-want +got):\n%s", err, diff)
		}
		st, err = tx.StatsSince(ctx, ids[0], 2, 10)
		if err != nil || len(st) != 0 {
			t.Errorf("StatsSince(alice, 2) = %d counts, %v, want 0", len(st), err)
		}
		// Readers of a1, both ways through the index, paged by cursor:
		// (19, dave), (20, bob), (20, carol); equal times by user id.
		dave := chat.Read{Msg: ms[0].ID, User: ids[3], Name: "dave", At: at(19)}
		bob := chat.Read{Msg: ms[0].ID, User: ids[1], Name: "bob", At: at(20), Content: "ok"}
		carol := chat.Read{Msg: ms[0].ID, User: ids[2], Name: "carol", At: at(20)}
		for _, tc := range []struct {
			name  string
			desc  bool
			after *chat.ReadPos
			limit int
			want  []chat.Read
		}{
			{"asc, first page", false, nil, 2, []chat.Read{dave, bob}},
			{"asc, after bob", false, &chat.ReadPos{At: at(20), User: ids[1]}, 2, []chat.Read{carol}},
			{"asc, after the last", false, &chat.ReadPos{At: at(20), User: ids[2]}, 2, nil},
			{"desc, first page", true, nil, 2, []chat.Read{carol, bob}},
			{"desc, after bob", true, &chat.ReadPos{At: at(20), User: ids[1]}, 2, []chat.Read{dave}},
			{"desc, after carol", true, &chat.ReadPos{At: at(20), User: ids[2]}, 5, []chat.Read{bob, dave}},
			{"desc, after the last", true, &chat.ReadPos{At: at(19), User: ids[3]}, 2, nil},
		} {
			rs, err := tx.Readers(ctx, ms[0].ID, tc.desc, tc.after, tc.limit)
			if diff := cmp.Diff(tc.want, rs, cmpopts.EquateEmpty()); err != nil || diff != "" {
				t.Errorf("Readers(a1, %s) = %v, diff (-want +got):\n%s", tc.name, err, diff)
			}
		}
		um, err := tx.UnreadReceiptMsgs(ctx, 1, ids[1], 0, 100, 10)
		if got, want := texts(um), []string{"a3"}; err != nil || !cmp.Equal(got, want) {
			t.Errorf("UnreadReceiptMsgs(bob) = %v, %v, want %v", got, err, want)
		}
		um, err = tx.UnreadReceiptMsgs(ctx, 1, ids[3], 0, ms[2].Seq, 10)
		if got, want := texts(um), []string{"a2", "a3"}; err != nil || !cmp.Equal(got, want) {
			t.Errorf("UnreadReceiptMsgs(dave, upto a3) = %v, %v, want %v", got, err, want)
		}
		um, err = tx.UnreadReceiptMsgs(ctx, 1, ids[3], ms[1].Seq, 100, 10)
		if got, want := texts(um), []string{"a3", "b5"}; err != nil || !cmp.Equal(got, want) {
			t.Errorf("UnreadReceiptMsgs(dave, since a2) = %v, %v, want %v", got, err, want)
		}
		for _, tc := range []struct {
			since time.Time
			want  int
		}{{at(0), 3}, {at(10), 3}, {at(11), 0}} {
			if n, err := tx.CountReceiptMsgsSince(ctx, ids[0], tc.since); err != nil || n != tc.want {
				t.Errorf("CountReceiptMsgsSince(alice, %v) = %d, %v, want %d", tc.since, n, err, tc.want)
			}
		}
		return nil
	})
}

func testUnread(t *testing.T, s *Store) {
	ids := addUsers(t, s, "u0", "u1", "u2", "u3", "u4", "u5")
	addGroup(t, s, 1, ids[0], ids[1], ids[2], ids[3])
	ms := send(t, s, chat.Message{Type: chat.TypeText, ChatType: chat.GroupChat, From: ids[0], Group: 1, AllowGroupAck: true, SentAt: at(1)}, "m")
	// u4 joins after the message: not counted.
	write(t, s, func(ctx context.Context, tx chat.Tx) error {
		if err := tx.InsertMember(ctx, chat.Member{Group: 1, User: ids[4], Role: chat.RoleMember, JoinedAt: at(2), JoinSeq: ms[0].Seq}); err != nil {
			return err
		}
		_, err := tx.InsertReads(ctx, []chat.Read{{Msg: ms[0].ID, User: ids[2], At: at(3)}, {Msg: ms[0].ID, User: ids[5], At: at(3)}})
		return err
	})
	tests := []struct {
		after chat.UserID
		limit int
		want  []string
	}{
		{0, 10, []string{"u1", "u3"}},
		{0, 1, []string{"u1"}},
		{ids[1], 1, []string{"u3"}},
		{ids[3], 1, []string{}},
	}
	read(t, s, func(ctx context.Context, tx chat.Tx) error {
		for _, tc := range tests {
			got, total, err := tx.Unread(ctx, 1, ms[0].ID, ms[0].Seq, ids[0], tc.after, tc.limit)
			if err != nil || total != 2 || !cmp.Equal(memberNames(got), tc.want) {
				t.Errorf("Unread(after %d, limit %d) = %v, %d, %v, want %v, 2", tc.after, tc.limit, memberNames(got), total, err, tc.want)
			}
		}
		for _, tc := range []struct {
			name   string
			except chat.UserID
			want   int
		}{
			{"but the sender", ids[0], 2}, // u1, u3: not u2 (read), u4 (joined later), u5 (not a member)
			{"but u1", ids[1], 2},         // u0, u3
		} {
			if n, err := tx.UnreadTotal(ctx, 1, ms[0].ID, ms[0].Seq, tc.except); err != nil || n != tc.want {
				t.Errorf("UnreadTotal(%s) = %d, %v, want %d", tc.name, n, err, tc.want)
			}
		}
		return nil
	})
}

// testReceiptsPlus: the privacy switch, the group's own policy, the
// eligible snapshot, milestones and the read-time histogram.
func testReceiptsPlus(t *testing.T, s *Store) {
	ids := addUsers(t, s, "u0", "u1", "u2", "u3")
	addGroup(t, s, 1, ids[0], ids[1], ids[2], ids[3])
	ms := send(t, s, chat.Message{Type: chat.TypeText, ChatType: chat.GroupChat, From: ids[0], Group: 1, AllowGroupAck: true, SentAt: at(0)}, "m")
	m := ms[0]
	write(t, s, func(ctx context.Context, tx chat.Tx) error {
		if err := tx.SetReceiptsOff(ctx, ids[2], true, 0); err != nil {
			return err
		}
		if err := tx.SetReceiptsOff(ctx, 999999, true, 0); !errors.Is(err, chat.ErrNotFound) {
			t.Errorf("SetReceiptsOff(no user) = %v, want ErrNotFound", err)
		}
		lists := false
		if err := tx.SetGroupPolicy(ctx, 1, chat.PolicyUpdate{Visibility: ptr(chat.VisibleMembers), Lists: &lists}); err != nil {
			return err
		}
		if err := tx.SetGroupPolicy(ctx, 77, chat.PolicyUpdate{}); !errors.Is(err, chat.ErrNotFound) {
			t.Errorf("SetGroupPolicy(no group) = %v, want ErrNotFound", err)
		}
		return tx.InsertReceiptCount(ctx, chat.ReceiptCount{Msg: m.ID, Group: 1, Sender: ids[0], Eligible: 2})
	})
	read(t, s, func(ctx context.Context, tx chat.Tx) error {
		us, err := tx.UsersByID(ctx, ids)
		if err != nil || len(us) != 4 || us[1].ReceiptsOff || !us[2].ReceiptsOff {
			t.Errorf("UsersByID = %+v, %v, want u2 with receipts off", us, err)
		}
		if u, err := tx.UserByName(ctx, "u2"); err != nil || !u.ReceiptsOff {
			t.Errorf("UserByName(u2) = %+v, %v", u, err)
		}
		mems, err := tx.MembersByUser(ctx, 1, ids[1:3])
		if err != nil || len(mems) != 2 || mems[0].ReceiptsOff || !mems[1].ReceiptsOff {
			t.Errorf("MembersByUser = %+v, %v, want u2 with receipts off", mems, err)
		}
		if mem, err := tx.Member(ctx, 1, ids[2]); err != nil || !mem.ReceiptsOff {
			t.Errorf("Member(u2) = %+v, %v", mem, err)
		}
		g, err := tx.Group(ctx, 1)
		if err != nil || g.OwnPolicy.Request != nil || g.OwnPolicy.Visibility == nil || *g.OwnPolicy.Visibility != chat.VisibleMembers ||
			g.OwnPolicy.Lists == nil || *g.OwnPolicy.Lists {
			t.Errorf("Group.OwnPolicy = %+v, %v, want visibility members, lists false, request unset", g.OwnPolicy, err)
		}
		// u2 is no eligible reader: not unread, not counted.
		us2, n, err := tx.Unread(ctx, 1, m.ID, m.Seq, ids[0], 0, 10)
		if err != nil || n != 2 || !cmp.Equal(memberNames(us2), []string{"u1", "u3"}) {
			t.Errorf("Unread = %v, %d, %v, want u1, u3", memberNames(us2), n, err)
		}
		among, err := tx.UnreadAmong(ctx, 1, m.ID, m.Seq, ids[0], []chat.UserID{ids[3], ids[2], ids[0], 424242})
		if err != nil || !cmp.Equal(memberNames(among), []string{"u3"}) {
			t.Errorf("UnreadAmong = %v, %v, want u3", memberNames(among), err)
		}
		if got, err := tx.UnreadReceiptMsgs(ctx, 1, ids[2], 0, m.Seq, 10); err != nil || len(got) != 0 {
			t.Errorf("UnreadReceiptMsgs(u2, receipts off) = %v, %v, want none", got, err)
		}
		return nil
	})
	// Reads at 30 s, 2 min, 2 h; milestones set once.
	write(t, s, func(ctx context.Context, tx chat.Tx) error {
		_, err := tx.InsertReads(ctx, []chat.Read{
			{Msg: m.ID, User: ids[1], At: at(30_000)}, {Msg: m.ID, User: ids[3], At: at(120_000)}, {Msg: m.ID, User: ids[2], At: at(7_200_000)},
		})
		if err != nil {
			return err
		}
		if err := tx.SetReached(ctx, []chat.ReachedUpdate{{Msg: m.ID, At50: at(30_000)}}); err != nil {
			return err
		}
		return tx.SetReached(ctx, []chat.ReachedUpdate{{Msg: m.ID, At50: at(99), At90: at(120_000), AtAll: at(120_000)}})
	})
	read(t, s, func(ctx context.Context, tx chat.Tx) error {
		cs, err := tx.ReceiptCounts(ctx, []chat.MsgID{m.ID})
		if err != nil || len(cs) != 1 {
			t.Fatalf("ReceiptCounts = %v, %v", cs, err)
		}
		c := cs[0]
		if c.Eligible != 2 || !c.Reached50At.Equal(at(30_000)) || !c.Reached90At.Equal(at(120_000)) || !c.ReachedAllAt.Equal(at(120_000)) {
			t.Errorf("count = %+v, want eligible 2, 50%% at 30 s (set once), 90%% and all at 2 min", c)
		}
		h, err := tx.ReadHistogram(ctx, m.ID, at(0), []time.Duration{time.Minute, time.Hour})
		if err != nil || !cmp.Equal(h, []int{1, 1, 1}) {
			t.Errorf("ReadHistogram = %v, %v, want [1 1 1]", h, err)
		}
		h, err = tx.ReadHistogram(ctx, m.ID, at(0), []time.Duration{30 * time.Second, 3 * time.Hour})
		if err != nil || !cmp.Equal(h, []int{1, 2, 0}) {
			t.Errorf("ReadHistogram(bound on a read) = %v, %v, want [1 2 0]", h, err)
		}
		h, err = tx.ReadHistogram(ctx, 5, at(0), []time.Duration{time.Minute})
		if err != nil || !cmp.Equal(h, []int{0, 0}) {
			t.Errorf("ReadHistogram(no reads) = %v, %v", h, err)
		}
		return nil
	})
	// receipts_since: u1 turned receipts on again after later was sent
	// (its since is later's seq), u3 before (m's seq): u3 is an eligible
	// reader of later, u1 is not.
	later := send(t, s, chat.Message{Type: chat.TypeText, ChatType: chat.GroupChat, From: ids[0], Group: 1, AllowGroupAck: true, SentAt: at(0)}, "later")[0]
	write(t, s, func(ctx context.Context, tx chat.Tx) error {
		if err := tx.SetReceiptsOff(ctx, ids[1], false, later.Seq); err != nil {
			return err
		}
		return tx.SetReceiptsOff(ctx, ids[3], false, m.Seq)
	})
	read(t, s, func(ctx context.Context, tx chat.Tx) error {
		if u, err := tx.UserByName(ctx, "u1"); err != nil || u.ReceiptsOff || u.ReceiptsSince != later.Seq {
			t.Errorf("UserByName(u1) = %+v, %v, want receipts since %d", u, err, later.Seq)
		}
		if mem, err := tx.Member(ctx, 1, ids[3]); err != nil || mem.ReceiptsSince != m.Seq {
			t.Errorf("Member(u3) = %+v, %v, want receipts since %d", mem, err, m.Seq)
		}
		us, n, err := tx.Unread(ctx, 1, later.ID, later.Seq, ids[0], 0, 10)
		if err != nil || n != 1 || !cmp.Equal(memberNames(us), []string{"u3"}) {
			t.Errorf("Unread(later) = %v, %d, %v, want u3", memberNames(us), n, err)
		}
		among, err := tx.UnreadAmong(ctx, 1, later.ID, later.Seq, ids[0], ids)
		if err != nil || !cmp.Equal(memberNames(among), []string{"u3"}) {
			t.Errorf("UnreadAmong(later) = %v, %v, want u3", memberNames(among), err)
		}
		for _, tc := range []struct {
			u    chat.UserID
			want int
		}{{ids[1], 0}, {ids[3], 1}} {
			got, err := tx.UnreadReceiptMsgs(ctx, 1, tc.u, 0, later.Seq, 10)
			if err != nil || len(got) != tc.want || (tc.want == 1 && got[0].ID != later.ID) {
				t.Errorf("UnreadReceiptMsgs(user %d) = %v, %v, want %d (the later message)", tc.u, got, err, tc.want)
			}
		}
		return nil
	})
}

// testReminders: reminder rows in the message stream, and their counts.
func testReminders(t *testing.T, s *Store) {
	ids := addUsers(t, s, "u0", "u1", "u2")
	addGroup(t, s, 1, ids[0], ids[1], ids[2])
	m := send(t, s, chat.Message{Type: chat.TypeText, ChatType: chat.GroupChat, From: ids[0], Group: 1, AllowGroupAck: true, SentAt: at(0)}, "m")[0]
	write(t, s, func(ctx context.Context, tx chat.Tx) error {
		return tx.InsertReceiptCount(ctx, chat.ReceiptCount{Msg: m.ID, Group: 1, Sender: ids[0], Eligible: 2})
	})
	remind := func(at time.Time, users ...chat.UserID) {
		write(t, s, func(ctx context.Context, tx chat.Tx) error {
			seq, err := tx.NextSeq(ctx, chat.SeqMessages, len(users))
			if err != nil {
				return err
			}
			var rows []*chat.Message
			for i, u := range users {
				rows = append(rows, &chat.Message{ID: chat.MsgID(5000 + seq + int64(i)), Seq: seq + int64(i), Conv: chat.GroupConv(1),
					Type: chat.TypeRemind, ChatType: chat.GroupChat, From: ids[0], To: u, Group: 1, AckMsg: m.ID, SentAt: at})
			}
			if err := tx.InsertMessages(ctx, rows); err != nil {
				return err
			}
			return tx.MarkReminded(ctx, m.ID, users, at)
		})
	}
	remind(at(10), ids[1], ids[2])
	remind(at(20), ids[2])
	read(t, s, func(ctx context.Context, tx chat.Tx) error {
		cs, err := tx.ReceiptCounts(ctx, []chat.MsgID{m.ID})
		if err != nil || len(cs) != 1 || cs[0].Reminds != 2 || !cs[0].RemindAt.Equal(at(20)) {
			t.Errorf("ReceiptCounts = %+v, %v, want 2 reminds, last at 20", cs, err)
		}
		us, _, err := tx.Unread(ctx, 1, m.ID, m.Seq, ids[0], 0, 10)
		if err != nil || len(us) != 2 || us[0].Reminded != 1 || !us[0].RemindedAt.Equal(at(10)) || us[1].Reminded != 2 || !us[1].RemindedAt.Equal(at(20)) {
			t.Errorf("Unread = %+v, %v, want u1 reminded once at 10, u2 twice, last at 20", us, err)
		}
		// Sync gives each reminder to its member only; history and the
		// conversation list leave them out.
		for i, want := range []int{0, 1, 2} {
			got, err := tx.SyncMessages(ctx, ids[i], 0, 100)
			if err != nil {
				return err
			}
			n := 0
			for _, x := range got {
				if x.Type == chat.TypeRemind {
					n++
					if x.To != ids[i] || x.AckMsg != m.ID {
						t.Errorf("SyncMessages(u%d) gave %+v", i, x)
					}
				}
			}
			if n != want {
				t.Errorf("SyncMessages(u%d) = %d reminders, want %d", i, n, want)
			}
		}
		h, err := tx.History(ctx, chat.GroupConv(1), 1<<40, true, 100)
		if err != nil || !cmp.Equal(texts(h), []string{"m"}) {
			t.Errorf("History = %v, %v, want the message only", texts(h), err)
		}
		cv, err := tx.Conversations(ctx, ids[2], 0, 10)
		if err != nil || len(cv) != 1 || cv[0].Last == nil || cv[0].Last.ID != m.ID || cv[0].Unread != 1 {
			t.Errorf("Conversations(u2) = %+v, %v, want last m, unread 1", cv, err)
		}
		return nil
	})
	write(t, s, func(ctx context.Context, tx chat.Tx) error {
		if err := tx.MarkReminded(ctx, 4242, nil, at(0)); !errors.Is(err, chat.ErrNotFound) {
			t.Errorf("MarkReminded(no count) = %v, want ErrNotFound", err)
		}
		return nil
	})
}

func ptr[T any](v T) *T { return &v }

func testRollback(t *testing.T, s *Store) {
	ctx := context.Background()
	abort := errors.New("abort")
	err := s.Write(ctx, func(tx chat.Tx) error {
		if err := tx.InsertUser(ctx, &chat.User{Name: "ghost", CreatedAt: at(0)}); err != nil {
			return err
		}
		return abort
	})
	if err != abort {
		t.Errorf("Write(fn failing) = %v, want the error of fn as is", err)
	}
	err = s.Read(ctx, func(tx chat.Tx) error {
		if _, err := tx.UserByName(ctx, "ghost"); !errors.Is(err, chat.ErrNotFound) {
			t.Errorf("UserByName(rolled back) = %v, want ErrNotFound", err)
		}
		return tx.InsertUser(ctx, &chat.User{Name: "sneaky", CreatedAt: at(0)})
	})
	if err == nil {
		t.Errorf("InsertUser in Read = nil error, want an error")
	}
}

// testConcurrentWrites hammers the store with concurrent Writes and Reads;
// on SQLite none may fail with "database is locked".
func testConcurrentWrites(t *testing.T, s *Store) {
	const writers, perWriter = 8, 200
	ids := addUsers(t, s, "alice", "bob")
	addGroup(t, s, 1, ids[0], ids[1])
	ctx := context.Background()
	var wg sync.WaitGroup
	errc := make(chan error, writers*2)
	for w := range writers {
		wg.Go(func() {
			for i := range perWriter {
				err := s.Write(ctx, func(tx chat.Tx) error {
					if _, err := tx.Member(ctx, 1, ids[0]); err != nil {
						return err
					}
					seq, err := tx.NextSeq(ctx, chat.SeqMessages, 1)
					if err != nil {
						return err
					}
					m := &chat.Message{ID: chat.MsgID(seq), Seq: seq, Conv: "g1", LocalID: fmt.Sprintf("%d-%d", w, i), Type: chat.TypeText,
						ChatType: chat.GroupChat, From: ids[0], Group: 1, AllowGroupAck: true, SentAt: at(seq)}
					if err := tx.InsertMessages(ctx, []*chat.Message{m}); err != nil {
						return err
					}
					return tx.InsertReceiptCount(ctx, chat.ReceiptCount{Msg: m.ID, Group: 1, Sender: ids[0]})
				})
				if err != nil {
					errc <- fmt.Errorf("writer %d: Write() = %v (busy: %t)", w, err, isBusy(err))
					return
				}
			}
		})
		wg.Go(func() {
			for range perWriter / 4 {
				err := s.Read(ctx, func(tx chat.Tx) error {
					_, err := tx.Conversations(ctx, ids[1], 0, 10)
					return err
				})
				if err != nil {
					errc <- fmt.Errorf("reader %d: Read() = %v (busy: %t)", w, err, isBusy(err))
					return
				}
			}
		})
	}
	wg.Wait()
	close(errc)
	for err := range errc {
		t.Error(err)
	}
	read(t, s, func(ctx context.Context, tx chat.Tx) error {
		c, err := tx.Conversation(ctx, ids[1], "g1")
		if err != nil || c.LastSeq != writers*perWriter || c.Unread != writers*perWriter {
			t.Errorf("Conversation(bob, g1) = last %d, unread %d, %v, want %d, %d", c.LastSeq, c.Unread, err, writers*perWriter, writers*perWriter)
		}
		return nil
	})
}

// TestReopen checks that SQLite data survives Close and that migrating
// an up-to-date database is a no-op.
func TestReopen(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "seen.db")
	s, err := Open(ctx, path)
	if err != nil {
		t.Fatalf("Open(%s) = %v", path, err)
	}
	addUsers(t, s, "alice")
	if err := s.Close(); err != nil {
		t.Fatalf("Close() = %v", err)
	}
	s, err = Open(ctx, "sqlite:"+path)
	if err != nil {
		t.Fatalf("Open(again) = %v", err)
	}
	defer s.Close()
	read(t, s, func(ctx context.Context, tx chat.Tx) error {
		if _, err := tx.UserByName(ctx, "alice"); err != nil {
			t.Errorf("UserByName(alice) after reopen = %v, want nil", err)
		}
		return nil
	})
}

// TestMigrateReceipts upgrades a database of the first schema that holds
// a message: the message keeps its data, with no acknowledged message.
func TestMigrateReceipts(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "seen.db")
	db, err := sql.Open("sqlite", path)
	if err != nil {
		t.Fatal(err)
	}
	fsys, err := fs.Sub(migrations, sqliteDialect.migrationsDir())
	if err != nil {
		t.Fatal(err)
	}
	p, err := goose.NewProvider(sqliteDialect.goose, db, fsys, goose.WithDisableGlobalRegistry(true))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := p.UpTo(ctx, 1); err != nil {
		t.Fatalf("migrate up to 1: %v", err)
	}
	if _, err := db.ExecContext(ctx, `INSERT INTO messages (id, seq, conv, local_id, type, chat_type, sender_id, recipient_id,
group_id, text, custom_event, allow_ack, sent_at) VALUES (7, 1, 's1_2', 'l1', 'txt', 'singleChat', 1, 2, 0, 'old', '', 0, 1)`); err != nil {
		t.Fatal(err)
	}
	db.Close()

	s, err := Open(ctx, path)
	if err != nil {
		t.Fatalf("Open(first schema) = %v", err)
	}
	defer s.Close()
	read(t, s, func(ctx context.Context, tx chat.Tx) error {
		ms, err := tx.MessagesByID(ctx, []chat.MsgID{7})
		if err != nil || len(ms) != 1 || ms[0].Text != "old" || ms[0].AckMsg != 0 || ms[0].Type != chat.TypeText {
			t.Errorf("MessagesByID(7) after migrating = %+v, %v, want the old text message", ms, err)
		}
		return nil
	})
}
