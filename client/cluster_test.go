package client_test

import (
	"encoding/json"
	"fmt"
	"os"
	"testing"
	"time"

	"seen/client"
	"seen/internal/server"
	"seen/internal/sqlstore/sqltest"
)

// startCluster starts two nodes on one PostgreSQL schema and the NATS
// server of SEEN_TEST_NATS_URL, or skips the test.
func startCluster(t *testing.T) [2]*node {
	t.Helper()
	pg, nats := os.Getenv(sqltest.EnvPostgres), os.Getenv("SEEN_TEST_NATS_URL")
	if pg == "" || nats == "" {
		t.Skip(sqltest.EnvPostgres + " or SEEN_TEST_NATS_URL is not set: cluster test skipped")
	}
	dsn := sqltest.PostgresDSN(t, pg)
	var ns [2]*node
	for i := range ns {
		ns[i] = startNode(t, func(c *server.Config) {
			c.Postgres, c.NATS, c.NodeID = dsn, nats, fmt.Sprintf("client-test-%d-%d", os.Getpid(), i)
		})
	}
	return ns
}

// waitMatch returns the first push named name whose data match accepts:
// other tests' clusters may share the NATS server.
func waitMatch(t *testing.T, c *client.Conn, name string, match func(json.RawMessage) bool) client.Push {
	t.Helper()
	timer := time.NewTimer(wait)
	defer timer.Stop()
	for {
		select {
		case p, ok := <-c.Pushes():
			if !ok {
				t.Fatalf("connection closed waiting for a %s push: %v", name, c.Err())
			}
			if p.Push == name && match(p.Data) {
				return p
			}
		case <-timer.C:
			t.Fatalf("no matching %s push within %v", name, wait)
		}
	}
}

// TestClusterRemind: a reminder sent on one node reaches the member's
// device on the other live, and its device that was offline through sync
// on the first; the sender on the other node sees "read by all" live.
func TestClusterRemind(t *testing.T) {
	ns := startCluster(t)
	ctx := ctxT(t)
	alice := ns[0].dial(t, ns[0].user(t, "alice"), "a1")
	bobTok := ns[1].user(t, "bob")
	bob := ns[1].dial(t, bobTok, "b1")
	carol := ns[0].dial(t, ns[0].user(t, "carol"), "c1")
	g, err := alice.CreateGroup(ctx, client.GroupCreate{Name: "notices", Members: []string{"bob", "carol"}})
	if err != nil {
		t.Fatalf("CreateGroup = %v", err)
	}
	sent, err := alice.Send(ctx, client.Send{LocalID: alice.NewLocalID(), Type: "txt", ChatType: client.GroupChat, To: g.GroupID, Msg: "read me", MsgConfig: &client.MsgConfig{AllowGroupAck: true}})
	if err != nil {
		t.Fatalf("Send = %v", err)
	}
	m := sent.ID
	if _, err := carol.Ack(ctx, g.GroupID, client.AckItem{MsgID: m}); err != nil {
		t.Fatalf("Ack = %v", err)
	}

	r, err := alice.Remind(ctx, g.GroupID, m)
	if err != nil || r.Reminded != 1 {
		t.Fatalf("Remind = %+v, %v, want bob reminded", r, err)
	}
	of := func(b json.RawMessage) bool {
		var rm client.Reminder
		return json.Unmarshal(b, &rm) == nil && rm.MsgID == m
	}
	rm, err := client.DecodeReminder(waitMatch(t, bob, client.PushReminder, of))
	if err != nil || rm.From != "alice" || rm.Group != g.GroupID {
		t.Fatalf("reminder on the other node = %+v, %v, want alice's of %s", rm, err, m)
	}
	bob2 := ns[0].dial(t, bobTok, "b2")
	var synced []client.Reminder
	for ack := int64(0); ; {
		p, err := bob2.Sync(ctx, ack, 0)
		if err != nil {
			t.Fatalf("Sync = %v", err)
		}
		for _, msg := range p.Messages {
			if x, ok := client.AsReminder(msg); ok {
				synced = append(synced, x)
			}
		}
		if ack = p.Next; !p.More {
			break
		}
	}
	if len(synced) != 1 || synced[0] != rm {
		t.Errorf("synced reminders on the first node = %+v, want the pushed %+v", synced, rm)
	}

	// bob reads it on node 1: alice, on node 0, sees it read by all.
	if _, err := bob.Ack(ctx, g.GroupID, client.AckItem{MsgID: m}); err != nil {
		t.Fatalf("Ack = %v", err)
	}
	p := waitMatch(t, alice, client.PushReceipt, func(b json.RawMessage) bool {
		var x client.Receipt
		return json.Unmarshal(b, &x) == nil && x.Mid == m && x.Count == 2
	})
	if x, err := client.DecodePush[client.Receipt](p); err != nil || x.Eligible != 2 || !x.ReadByAll {
		t.Errorf("receipt push = %+v, %v, want 2 of 2 eligible, read by all", x, err)
	}
}
