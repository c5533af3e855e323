package ws

import (
	"encoding/json"
	"os"
	"testing"

	"github.com/google/go-cmp/cmp"

	"seen/client"
	"seen/internal/chat"
)

// TestPeerReceiptsReachOfflineDevice: single-chat receipts sent while the
// peer is offline arrive through sync, with the ids of the live pushes a
// device that was online got.
func TestPeerReceiptsReachOfflineDevice(t *testing.T) {
	st := newStack(t, Config{})
	st.users(t, "alice", "bob")
	ctx := ctxT(t)
	alice := st.dial(t, "alice", "a1")
	online := st.dial(t, "alice", "a2") // alice's other device stays online
	bob := st.dial(t, "bob", "b1")
	m, err := alice.SendText(ctx, client.SingleChat, "bob", "hi bob")
	if err != nil {
		t.Fatalf("SendText = %v", err)
	}
	first, err := alice.Sync(ctx, 0, 100)
	if err != nil {
		t.Fatalf("Sync = %v", err)
	}
	if _, err := alice.Sync(ctx, first.Next, 100); err != nil { // confirm
		t.Fatalf("Sync(confirm) = %v", err)
	}
	alice.Close()

	if err := bob.PeerDelivered(ctx, "alice", m.ID); err != nil {
		t.Fatalf("PeerDelivered = %v", err)
	}
	if err := bob.PeerRead(ctx, "alice", m.ID); err != nil {
		t.Fatalf("PeerRead = %v", err)
	}
	if err := bob.PeerRead(ctx, "alice", m.ID); err != nil { // a repeat: stores nothing
		t.Fatalf("PeerRead(again) = %v", err)
	}
	if _, err := bob.AckConversation(ctx, client.SingleChat, "alice"); err != nil {
		t.Fatalf("AckConversation = %v", err)
	}

	type row struct{ Kind, ID, Mid, From, To string }
	var live []row
	d := decode[client.PeerReceipt](t, waitPush(t, online, client.PushDelivery, nil))
	live = append(live, row{"delivery", d.ID, d.Mid, d.From, d.To})
	r := decode[client.PeerReceipt](t, waitPush(t, online, client.PushRead, nil))
	live = append(live, row{"read", r.ID, r.Mid, r.From, r.To})
	c := decode[client.Channel](t, waitPush(t, online, client.PushChannel, nil))
	live = append(live, row{"channel", c.ID, "", c.From, c.To})
	if d.Seq == 0 || r.Seq <= d.Seq || c.Seq <= r.Seq {
		t.Errorf("push seqs = %d, %d, %d, want increasing and non-zero", d.Seq, r.Seq, c.Seq)
	}

	// alice's first device comes back and catches up.
	alice = st.dial(t, "alice", "a1")
	p, err := alice.Sync(ctx, first.Next, 100)
	if err != nil {
		t.Fatalf("Sync(after reconnect) = %v", err)
	}
	var synced []row
	for _, m := range p.Messages {
		synced = append(synced, row{m.Type, m.ID, m.Mid, m.From, m.To})
	}
	want := []row{{"delivery", live[0].ID, m.ID, "bob", "alice"}, {"read", live[1].ID, m.ID, "bob", "alice"}, {"channel", live[2].ID, "", "bob", "alice"}}
	if diff := cmp.Diff(want, live); diff != "" {
		t.Errorf("live pushes differ (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(want, synced); diff != "" {
		t.Errorf("Sync(after reconnect) differs (-want +got):\n%s", diff)
	}
	if again, err := alice.Sync(ctx, p.Next, 100); err != nil || len(again.Messages) != 0 {
		t.Errorf("Sync(confirm) = %+v, %v, want nothing more", again, err)
	}

	// Not content: history and the conversation list show only the message.
	h, err := alice.History(ctx, client.History{ChatType: client.SingleChat, To: "bob"})
	if err != nil || len(h.Messages) != 1 || h.Messages[0].ID != m.ID {
		t.Errorf("History = %+v, %v, want the message only", h, err)
	}
	convs, err := alice.Conversations(ctx, "", 0)
	if err != nil || len(convs.Conversations) != 1 || convs.Conversations[0].LastMessage.ID != m.ID || convs.Conversations[0].Unread != 0 {
		t.Errorf("Conversations = %+v, %v, want the message last, nothing unread", convs, err)
	}
}

// TestPeerReceiptPushGolden: the read, delivery and channel pushes of a
// stored receipt encode as the golden frames the SDK tests replay.
func TestPeerReceiptPushGolden(t *testing.T) {
	b, err := os.ReadFile("../protocol/testdata/golden.json")
	if err != nil {
		t.Fatal(err)
	}
	var frames []struct {
		Name  string          `json:"name"`
		Frame json.RawMessage `json:"frame"`
	}
	if err := json.Unmarshal(b, &frames); err != nil {
		t.Fatal(err)
	}
	golden := map[string]json.RawMessage{}
	for _, f := range frames {
		golden[f.Name] = f.Frame
	}
	peer := func(id chat.MsgID, seq int64, mid chat.MsgID) *chat.PeerReceipt {
		return &chat.PeerReceipt{ID: id, Seq: seq, Msg: mid, From: "bob", FromID: 2, To: "alice", ToID: 1, At: 1764000000000}
	}
	for _, tc := range []struct {
		name string
		ev   chat.Event
	}{
		{"push.read", chat.Event{Kind: chat.EventPeerRead, Peer: peer(123456789012345691, 59, 123456789012345679)}},
		{"push.delivery", chat.Event{Kind: chat.EventDelivered, Peer: peer(123456789012345690, 58, 123456789012345679)}},
		{"push.channel", chat.Event{Kind: chat.EventChannel, Peer: peer(123456789012345692, 60, 0)}},
	} {
		_, frame, ok, _ := pushFrame(tc.ev)
		if !ok {
			t.Fatalf("pushFrame(%s) not pushed", tc.name)
		}
		var got, want any
		if err := json.Unmarshal(frame, &got); err != nil {
			t.Fatal(err)
		}
		if err := json.Unmarshal(golden[tc.name], &want); err != nil {
			t.Fatalf("golden %s: %v", tc.name, err)
		}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("pushFrame(%s) differs from golden.json (-golden +got):\n%s", tc.name, diff)
		}
	}
}

// TestReadersNewestFirstAndUnreadTotals: receipt.readers pages newest
// first with order "desc", and receipt.counts with withUnread answers the
// unread totals alongside the counts.
func TestReadersNewestFirstAndUnreadTotals(t *testing.T) {
	st := newStack(t, Config{})
	st.users(t, "alice", "bob", "carol", "dave")
	ctx := ctxT(t)
	alice := st.dial(t, "alice", "a1")
	g, err := alice.CreateGroup(ctx, client.GroupCreate{Name: "team", Members: []string{"bob", "carol", "dave"}})
	if err != nil {
		t.Fatalf("CreateGroup = %v", err)
	}
	var ids []string
	for _, text := range []string{"one", "two"} {
		m, err := alice.Send(ctx, client.Send{LocalID: text, Type: "txt", ChatType: client.GroupChat, To: g.GroupID, Msg: text, MsgConfig: &client.MsgConfig{AllowGroupAck: true}})
		if err != nil {
			t.Fatalf("Send = %v", err)
		}
		ids = append(ids, m.ID)
	}
	for _, u := range []string{"bob", "carol"} { // bob first; in the same millisecond user ids decide, bob's first too
		c := st.dial(t, u, u+"1")
		if rs, err := c.Ack(ctx, g.GroupID, client.AckItem{MsgID: ids[0]}); err != nil || !rs[0].OK {
			t.Fatalf("%s: Ack = %+v, %v", u, rs, err)
		}
	}
	for _, tc := range []struct {
		order string
		want  []string
	}{{"", []string{"bob", "carol"}}, {"asc", []string{"bob", "carol"}}, {"desc", []string{"carol", "bob"}}} {
		var got []string
		q := client.ReadersQuery{GroupID: g.GroupID, MsgID: ids[0], Limit: 1, Order: tc.order}
		for i := 0; i < 5; i++ {
			p, err := alice.ListReaders(ctx, q)
			if err != nil || p.Total != 2 {
				t.Fatalf("ListReaders(order %q, cursor %q) = %+v, %v, want total 2", tc.order, q.Cursor, p, err)
			}
			for _, u := range p.Users {
				got = append(got, u.Username)
			}
			if p.IsLast {
				break
			}
			q.Cursor = p.Cursor
		}
		if !cmp.Equal(got, tc.want) {
			t.Errorf("ListReaders(order %q) = %v, want %v", tc.order, got, tc.want)
		}
	}
	if _, err := alice.ListReaders(ctx, client.ReadersQuery{GroupID: g.GroupID, MsgID: ids[0], Order: "newest"}); errName(err) != "bad_request" {
		t.Errorf("ListReaders(order newest) = %v, want bad_request", err)
	}

	counts, unread, err := alice.ReadTotals(ctx, g.GroupID, ids...)
	if err != nil || !cmp.Equal(counts, map[string]int{ids[0]: 2, ids[1]: 0}) || !cmp.Equal(unread, map[string]int{ids[0]: 1, ids[1]: 3}) {
		t.Errorf("ReadTotals = %v, %v, %v; want counts {2, 0}, unread {1, 3}", counts, unread, err)
	}
	counts, err = alice.ReadCounts(ctx, g.GroupID, ids...)
	if err != nil || len(counts) != 2 {
		t.Errorf("ReadCounts = %v, %v", counts, err)
	}
}
