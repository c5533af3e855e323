package msync_test

import (
	"context"
	"strconv"
	"testing"
	"time"

	"seen/client"
	"seen/internal/msync/pb"
)

// TestMix: one user online through seen's own protocol and through
// msync at once, in one group with users of either protocol. Both see
// the same messages and the same counts; a message sent on one protocol
// arrives on the other.
func TestMix(t *testing.T) {
	stores(t, func(t *testing.T, e *env) {
		alice, atok := e.user("alice")
		_, btok := e.user("bob")
		_, ctok := e.user("carol")
		gid := e.group(alice, "bob", "carol")
		aSeen := e.dialSeen(atok, "seen_a")
		carol := e.dialSeen(ctok, "seen_c")
		aMs := e.dial("alice", atok, "webim_a")
		bob := e.dial("bob", btok, "webim_b")
		ctx := context.Background()

		// Sent on seen's protocol, received on both.
		sent, err := aSeen.Send(ctx, client.Send{
			LocalID: aSeen.NewLocalID(), Type: "txt", ChatType: client.GroupChat, To: gid, Msg: "from seen",
			MsgConfig: &client.MsgConfig{AllowGroupAck: true},
		})
		if err != nil {
			t.Fatalf("seen send: %v", err)
		}
		mid, _ := strconv.ParseUint(sent.ID, 10, 64)
		for _, c := range []*mclient{bob, aMs} {
			m, body := c.nextBody()
			if m.GetId() != mid || body.GetContents()[0].GetText() != "from seen" || !body.GetMsgConfig().GetAllowGroupAck() {
				t.Fatalf("%s got %d %v, want %s with allowGroupAck", c.user, m.GetId(), body, sent.ID)
			}
		}
		if m := nextMsg(t, carol); m.ID != sent.ID {
			t.Fatalf("carol got %s, want %s", m.ID, sent.ID)
		}

		// Read on seen's protocol, then on msync: one count, seen by both
		// of alice's connections.
		if _, err := carol.Ack(ctx, gid, client.AckItem{MsgID: sent.ID}); err != nil {
			t.Fatalf("carol's ack: %v", err)
		}
		if got := msyncCount(t, aMs, sent.ID); got != 1 {
			t.Errorf("alice (msync) count after carol = %d, want 1", got)
		}
		if got := nextReceipt(t, aSeen, sent.ID); got != 1 {
			t.Errorf("alice (seen) count after carol = %d, want 1", got)
		}
		if st := bob.upload(bob.readAck(gid, true, mid, ""), true).GetStatus(); st.GetErrorCode() != pb.Status_OK {
			t.Fatalf("bob's read ack: %v", st)
		}
		if got := msyncCount(t, aMs, sent.ID); got != 2 {
			t.Errorf("alice (msync) count after bob = %d, want 2", got)
		}
		if got := nextReceipt(t, aSeen, sent.ID); got != 2 {
			t.Errorf("alice (seen) count after bob = %d, want 2", got)
		}

		// Sent on msync, received on seen's protocol by alice and carol.
		ans := bob.upload(bob.text(gid, true, false, "from msync"), true)
		for _, c := range []*client.Conn{aSeen, carol} {
			if m := nextMsg(t, c); m.ID != strconv.FormatUint(ans.GetServerId(), 10) || m.Msg != "from msync" || m.From != "bob" {
				t.Errorf("%s got %+v, want bob's %d", c.User(), m, ans.GetServerId())
			}
		}
		if m, _ := aMs.nextBody(); m.GetId() != ans.GetServerId() {
			t.Errorf("alice (msync) got %d, want %d", m.GetId(), ans.GetServerId())
		}
	})
}

// dialSeen connects a client of seen's own protocol.
func (e *env) dialSeen(token, device string) *client.Conn {
	e.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), wait)
	defer cancel()
	c, err := client.Dial(ctx, e.ws, token, device)
	if err != nil {
		e.t.Fatalf("Dial(%s) = %v", device, err)
	}
	e.t.Cleanup(func() { _ = c.Close() })
	return c
}

// nextPush returns the next push named name, skipping others.
func nextPush(t *testing.T, c *client.Conn, name string) client.Push {
	t.Helper()
	timeout := time.After(wait)
	for {
		select {
		case p := <-c.Pushes():
			if p.Push == name {
				return p
			}
		case <-timeout:
			t.Fatalf("%s: no %s push", c.User(), name)
		}
	}
}

func nextMsg(t *testing.T, c *client.Conn) client.Message {
	t.Helper()
	m, err := client.DecodePush[client.Message](nextPush(t, c, client.PushMsg))
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func nextReceipt(t *testing.T, c *client.Conn, mid string) int {
	t.Helper()
	r, err := client.DecodePush[client.Receipt](nextPush(t, c, client.PushReceipt))
	if err != nil {
		t.Fatal(err)
	}
	if r.Mid != mid {
		t.Fatalf("%s: receipt of %s, want %s", c.User(), r.Mid, mid)
	}
	return r.Count
}

// msyncCount returns the count of the next live READ_ACK of mid.
func msyncCount(t *testing.T, c *mclient, mid string) int {
	t.Helper()
	_, b := c.nextBody()
	if b.GetType() != pb.MessageBody_READ_ACK {
		t.Fatalf("%s got %s, want a READ_ACK", c.user, b.GetType())
	}
	return readCount(t, b)[mid]
}
