package server_test

// End-to-end tests: real servers, real WebSocket connections through the
// public Go client, on SQLite always and on PostgreSQL when
// SEEN_TEST_POSTGRES_URL is set (a fresh schema per test).

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"seen/client"
	"seen/internal/server"
	"seen/internal/sqlstore/sqltest"
)

// stores runs f on each store engine available.
func stores(t *testing.T, f func(t *testing.T, cfg server.Config)) {
	t.Run("sqlite", func(t *testing.T) { f(t, testConfig(t)) })
	t.Run("postgres", func(t *testing.T) {
		url := os.Getenv(sqltest.EnvPostgres)
		if url == "" {
			t.Skip(sqltest.EnvPostgres + " is not set: PostgreSQL e2e skipped")
		}
		cfg := testConfig(t)
		cfg.Postgres = sqltest.PostgresDSN(t, url)
		f(t, cfg)
	})
}

// e2e is a running server and the users connected to it.
type e2e struct {
	t *testing.T
	r *running
}

func newE2E(t *testing.T, cfg server.Config) *e2e {
	leakCheck(t)
	return &e2e{t: t, r: start(t, cfg)}
}

func ctxT(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	t.Cleanup(cancel)
	return ctx
}

// user registers name over REST and returns its access token.
func (e *e2e) user(name string) string {
	e.t.Helper()
	ctx := ctxT(e.t)
	if err := client.Register(ctx, e.r.url, name, "password"); err != nil {
		e.t.Fatalf("Register(%s) = %v", name, err)
	}
	tok, err := client.Login(ctx, e.r.url, name, "password")
	if err != nil {
		e.t.Fatalf("Login(%s) = %v", name, err)
	}
	return tok
}

// dial connects a device; the connection is closed at the test's end.
func (e *e2e) dial(token, device string) *client.Conn {
	e.t.Helper()
	c, err := client.Dial(ctxT(e.t), "ws"+strings.TrimPrefix(e.r.url, "http")+"/ws", token, device, client.WithHTTPClient(e.r.client))
	if err != nil {
		e.t.Fatalf("Dial(%s) = %v", device, err)
	}
	e.t.Cleanup(func() { c.Close() })
	return c
}

// nextMsg waits for the next message push on c, skipping other pushes.
func nextMsg(t *testing.T, c *client.Conn) client.Message {
	t.Helper()
	timeout := time.After(10 * time.Second)
	for {
		select {
		case p, ok := <-c.Pushes():
			if !ok {
				t.Fatalf("%s/%s: connection ended: %v", c.User(), c.Device(), c.Err())
			}
			if p.Push != client.PushMsg {
				continue
			}
			m, err := client.DecodePush[client.Message](p)
			if err != nil {
				t.Fatal(err)
			}
			return m
		case <-timeout:
			t.Fatalf("%s/%s: no message push", c.User(), c.Device())
		}
	}
}

// nextPush waits for the next push named name on c.
func nextPush(t *testing.T, c *client.Conn, name string) client.Push {
	t.Helper()
	timeout := time.After(10 * time.Second)
	for {
		select {
		case p, ok := <-c.Pushes():
			if !ok {
				t.Fatalf("%s/%s: connection ended: %v", c.User(), c.Device(), c.Err())
			}
			if p.Push == name {
				return p
			}
		case <-timeout:
			t.Fatalf("%s/%s: no %s push", c.User(), c.Device(), name)
		}
	}
}

// syncAll loops sync from ack until more is false and returns the
// messages and the position to confirm.
func syncAll(t *testing.T, c *client.Conn, ack int64) ([]client.Message, int64) {
	t.Helper()
	var all []client.Message
	for {
		r, err := c.Sync(ctxT(t), ack, 2) // small pages: exercise paging
		if err != nil {
			t.Fatalf("Sync(%d) = %v", ack, err)
		}
		all = append(all, r.Messages...)
		ack = r.Next
		if !r.More {
			return all, ack
		}
	}
}

func texts(ms []client.Message) []string {
	out := make([]string, len(ms))
	for i, m := range ms {
		out[i] = m.Msg
	}
	return out
}

// wantCode fails unless err is a client.Error named name.
func wantCode(t *testing.T, what string, err error, name string) {
	t.Helper()
	var e *client.Error
	if !errors.As(err, &e) || e.Name != name {
		t.Errorf("%s = %v, want %s", what, err, name)
	}
}

func TestE2EGroupChatAndOfflineSync(t *testing.T) {
	stores(t, func(t *testing.T, cfg server.Config) {
		e := newE2E(t, cfg)
		ctx := ctxT(t)
		aliceTok, bobTok, carolTok := e.user("alice"), e.user("bob"), e.user("carol")
		alice, bob := e.dial(aliceTok, "laptop"), e.dial(bobTok, "phone")

		g, err := alice.CreateGroup(ctx, client.GroupCreate{Name: "team", Members: []string{"bob"}})
		if err != nil {
			t.Fatalf("CreateGroup = %v", err)
		}
		if g.Owner != "alice" || g.MemberCount != 2 {
			t.Errorf("group = %+v, want owner alice and 2 members", g)
		}
		added, err := alice.AddMembers(ctx, g.GroupID, "carol")
		if err != nil || !cmp.Equal(added, []string{"carol"}) {
			t.Fatalf("AddMembers = %v, %v", added, err)
		}
		carol := e.dial(carolTok, "web")

		// Chat: everyone else gets each message live.
		for i, from := range []*client.Conn{alice, bob, carol} {
			text := fmt.Sprintf("hello %d from %s", i, from.User())
			sent, err := from.SendText(ctx, client.GroupChat, g.GroupID, text)
			if err != nil {
				t.Fatalf("%s: SendText = %v", from.User(), err)
			}
			for _, to := range []*client.Conn{alice, bob, carol} {
				if to == from {
					continue
				}
				m := nextMsg(t, to)
				if m.ID != sent.ID || m.Msg != text || m.From != from.User() || m.To != g.GroupID || m.ChatType != client.GroupChat || m.Seq != sent.Seq {
					t.Errorf("%s got %+v, want %s's %q (id %s)", to.User(), m, from.User(), text, sent.ID)
				}
			}
		}

		// Bob's phone catches up and confirms, then goes offline.
		got, pos := syncAll(t, bob, 0)
		if len(got) != 3 {
			t.Errorf("bob's first sync = %q, want the 3 group messages", texts(got))
		}
		if _, err := bob.Sync(ctx, pos, 0); err != nil { // confirm
			t.Fatal(err)
		}
		bob.Close()

		// Messages arrive meanwhile: group and single chat.
		var missed []string
		for i := range 3 {
			text := fmt.Sprintf("while away %d", i)
			if _, err := alice.SendText(ctx, client.GroupChat, g.GroupID, text); err != nil {
				t.Fatal(err)
			}
			missed = append(missed, text)
		}
		if _, err := carol.SendText(ctx, client.SingleChat, "bob", "psst"); err != nil {
			t.Fatal(err)
		}
		missed = append(missed, "psst")
		if _, err := carol.SendText(ctx, client.SingleChat, "alice", "not for bob"); err != nil {
			t.Fatal(err)
		}

		// Bob reconnects with the same device: sync returns exactly the
		// missed ones, in order.
		bob = e.dial(bobTok, "phone")
		got, pos = syncAll(t, bob, pos)
		if diff := cmp.Diff(missed, texts(got)); diff != "" {
			t.Errorf("sync after reconnect (-want +got):\n%s", diff)
		}
		for i := 1; i < len(got); i++ {
			if got[i].Seq <= got[i-1].Seq {
				t.Errorf("sync out of order: seq %d after %d", got[i].Seq, got[i-1].Seq)
			}
		}
		// After confirming, nothing twice: not on this connection, not on
		// the next, not even when the device forgets its position.
		if again, _ := syncAll(t, bob, pos); len(again) != 0 {
			t.Errorf("sync after confirming = %q, want nothing", texts(again))
		}
		bob.Close()
		bob = e.dial(bobTok, "phone")
		if again, _ := syncAll(t, bob, 0); len(again) != 0 {
			t.Errorf("sync(0) after reconnecting = %q, want nothing", texts(again))
		}

		// History agrees.
		h, err := bob.History(ctx, client.History{ChatType: client.GroupChat, To: g.GroupID, Limit: 100})
		if err != nil {
			t.Fatal(err)
		}
		if len(h.Messages) != 6 || h.Messages[0].Msg != "while away 2" {
			t.Errorf("group history = %q, want 6, newest first", texts(h.Messages))
		}
	})
}

func TestE2EMultiDevice(t *testing.T) {
	stores(t, func(t *testing.T, cfg server.Config) {
		e := newE2E(t, cfg)
		ctx := ctxT(t)
		aliceTok, bobTok := e.user("alice"), e.user("bob")
		a1, a2 := e.dial(aliceTok, "a1"), e.dial(aliceTok, "a2")
		b1, b2 := e.dial(bobTok, "b1"), e.dial(bobTok, "b2")
		g, err := a1.CreateGroup(ctx, client.GroupCreate{Name: "pair", Members: []string{"bob"}})
		if err != nil {
			t.Fatal(err)
		}

		sent, err := a1.SendText(ctx, client.GroupChat, g.GroupID, "from a1")
		if err != nil {
			t.Fatal(err)
		}
		// Both of bob's devices, and alice's other device, get it.
		for _, c := range []*client.Conn{b1, b2, a2} {
			if m := nextMsg(t, c); m.ID != sent.ID {
				t.Errorf("%s/%s got %s, want %s", c.User(), c.Device(), m.ID, sent.ID)
			}
		}
		// The sending device does not get its own echo: the next message
		// push it sees is bob's later message (pushes keep publish order).
		reply, err := b1.SendText(ctx, client.GroupChat, g.GroupID, "from b1")
		if err != nil {
			t.Fatal(err)
		}
		if m := nextMsg(t, a1); m.ID != reply.ID {
			t.Errorf("a1's next message push = %q (%s), want bob's %s: a1 got its own echo", m.Msg, m.ID, reply.ID)
		}
		for _, c := range []*client.Conn{b2, a2} {
			if m := nextMsg(t, c); m.ID != reply.ID {
				t.Errorf("%s/%s got %s, want b1's %s", c.User(), c.Device(), m.ID, reply.ID)
			}
		}

		// Single chat: the peer's devices and the sender's other device (b1
		// sees this before any echo of its own group message, so it got none).
		single, err := b2.SendText(ctx, client.SingleChat, "alice", "direct")
		if err != nil {
			t.Fatal(err)
		}
		for _, c := range []*client.Conn{a1, a2, b1} {
			if m := nextMsg(t, c); m.ID != single.ID || m.To != "alice" || m.From != "bob" {
				t.Errorf("%s/%s got %+v, want bob's direct message", c.User(), c.Device(), m)
			}
		}
	})
}

func TestE2EIdempotentResend(t *testing.T) {
	stores(t, func(t *testing.T, cfg server.Config) {
		e := newE2E(t, cfg)
		ctx := ctxT(t)
		aliceTok, bobTok := e.user("alice"), e.user("bob")
		alice, bob := e.dial(aliceTok, "a1"), e.dial(bobTok, "b1")

		msg := client.Send{LocalID: "fixed-local-id", Type: "txt", ChatType: client.SingleChat, To: "bob", Msg: "once"}
		first, err := alice.Send(ctx, msg)
		if err != nil {
			t.Fatal(err)
		}
		// The resend comes from another connection of the same user, as
		// after a reconnect.
		alice.Close()
		alice = e.dial(aliceTok, "a1")
		again, err := alice.Send(ctx, msg)
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(first, again); diff != "" {
			t.Errorf("resend reply differs (-first +again):\n%s", diff)
		}
		h, err := bob.History(ctx, client.History{ChatType: client.SingleChat, To: "alice"})
		if err != nil {
			t.Fatal(err)
		}
		if len(h.Messages) != 1 || h.Messages[0].ID != first.ID {
			t.Errorf("history after resend = %+v, want the one message %s", h.Messages, first.ID)
		}
		got, _ := syncAll(t, bob, 0)
		if len(got) != 1 {
			t.Errorf("bob's sync = %q, want one message", texts(got))
		}
	})
}

func TestE2EPermissionsAndReceipts(t *testing.T) {
	stores(t, func(t *testing.T, cfg server.Config) {
		e := newE2E(t, cfg)
		ctx := ctxT(t)
		toks := map[string]string{}
		conns := map[string]*client.Conn{}
		for _, n := range []string{"alice", "bob", "carol", "dave"} {
			toks[n] = e.user(n)
			conns[n] = e.dial(toks[n], "d")
		}
		alice, bob, carol, dave := conns["alice"], conns["bob"], conns["carol"], conns["dave"]
		g, err := alice.CreateGroup(ctx, client.GroupCreate{Name: "team", Members: []string{"bob", "carol"}})
		if err != nil {
			t.Fatal(err)
		}

		// Rules, through the wire.
		_, err = dave.SendText(ctx, client.GroupChat, g.GroupID, "let me in")
		wantCode(t, "non-member send", err, "not_member")
		_, err = bob.Send(ctx, client.Send{LocalID: "b", Type: "txt", ChatType: client.GroupChat, To: g.GroupID, Msg: "x", MsgConfig: &client.MsgConfig{AllowGroupAck: true}})
		wantCode(t, "member asking for receipts", err, "permission_denied")
		_, err = bob.AddMembers(ctx, g.GroupID, "dave")
		wantCode(t, "member adding", err, "permission_denied")
		wantCode(t, "removing the owner", bob.RemoveMember(ctx, g.GroupID, "alice"), "permission_denied")
		wantCode(t, "owner leaving", alice.LeaveGroup(ctx, g.GroupID), "not_allowed")
		_, err = dave.GroupInfo(ctx, g.GroupID)
		wantCode(t, "non-member info", err, "not_member")
		_, err = alice.GroupInfo(ctx, "12345")
		wantCode(t, "unknown group", err, "group_not_found")
		// A refused call leaves the connection usable.
		if _, err := bob.Ping(ctx); err != nil {
			t.Errorf("Ping after refusals = %v", err)
		}

		// Receipts: the owner asks, members ack, the owner sees counts live.
		sent, err := alice.Send(ctx, client.Send{LocalID: "r1", Type: "txt", ChatType: client.GroupChat, To: g.GroupID, Msg: "read me", MsgConfig: &client.MsgConfig{AllowGroupAck: true}})
		if err != nil {
			t.Fatal(err)
		}
		for _, c := range []*client.Conn{bob, carol} {
			if m := nextMsg(t, c); m.MsgConfig == nil || !m.MsgConfig.AllowGroupAck {
				t.Errorf("%s got %+v, want a receipt-requesting message", c.User(), m)
			}
		}
		rs, err := bob.Ack(ctx, g.GroupID, client.AckItem{MsgID: sent.ID, AckContent: "seen it"})
		if err != nil || len(rs) != 1 || !rs[0].OK || !rs[0].Counted || rs[0].Count != 1 {
			t.Fatalf("bob's ack = %+v, %v", rs, err)
		}
		p, err := client.DecodePush[client.Receipt](nextPush(t, alice, client.PushReceipt))
		if err != nil {
			t.Fatal(err)
		}
		if p.Mid != sent.ID || p.Count < 1 || p.GroupID != g.GroupID {
			t.Errorf("receipt push = %+v, want count of %s", p, sent.ID)
		}
		rs, err = dave.Ack(ctx, g.GroupID, client.AckItem{MsgID: sent.ID})
		if err != nil || len(rs) != 1 || rs[0].OK || rs[0].Error == nil || rs[0].Error.Name != "not_member" {
			t.Errorf("dave's ack = %+v, %v, want a not_member result", rs, err)
		}
		_, err = carol.Readers(ctx, g.GroupID, sent.ID, "", 0)
		wantCode(t, "member listing readers", err, "permission_denied")
		readers, err := alice.Readers(ctx, g.GroupID, sent.ID, "", 0)
		if err != nil || readers.Total != 1 || len(readers.Users) != 1 || readers.Users[0].Username != "bob" || readers.Users[0].AckContent != "seen it" {
			t.Errorf("Readers = %+v, %v", readers, err)
		}
		unread, err := alice.Unread(ctx, g.GroupID, sent.ID, "", 0)
		if err != nil || !cmp.Equal(unread.Users, []string{"carol"}) {
			t.Errorf("Unread = %+v, %v", unread, err)
		}

		// REST and WebSocket see the same state.
		var counts struct {
			Counts map[string]int `json:"counts"`
		}
		if st := e.r.call(t, "GET", "/api/v1/groups/"+g.GroupID+"/receipts/counts?msgIds="+sent.ID, toks["alice"], nil, &counts); st != 200 || counts.Counts[sent.ID] != 1 {
			t.Errorf("REST counts = %d %+v, want 1", st, counts)
		}

		// A logged-out token ends its live session.
		if st := e.r.call(t, "DELETE", "/api/v1/token", toks["dave"], nil, nil); st != 204 {
			t.Fatalf("logout = %d", st)
		}
		if _, err := client.Dial(ctx, "ws"+strings.TrimPrefix(e.r.url, "http")+"/ws", toks["dave"], "d2", client.WithHTTPClient(e.r.client)); err == nil {
			t.Errorf("Dial with a revoked token succeeded")
		}
	})
}
