package wire

import (
	"encoding/json"
	"os"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"seen/internal/chat"
	"seen/internal/protocol"
)

// goldenData returns the data of the golden frame called name, shared
// with internal/protocol and the SDK tests.
func goldenData(t *testing.T, name string) json.RawMessage {
	t.Helper()
	b, err := os.ReadFile("../protocol/testdata/golden.json")
	if err != nil {
		t.Fatal(err)
	}
	var frames []struct {
		Name  string `json:"name"`
		Frame struct {
			Data json.RawMessage `json:"data"`
		} `json:"frame"`
	}
	if err := json.Unmarshal(b, &frames); err != nil {
		t.Fatalf("decode golden.json: %v", err)
	}
	for _, f := range frames {
		if f.Name == name {
			return f.Frame.Data
		}
	}
	t.Fatalf("golden.json has no frame %q", name)
	return nil
}

// sameJSON reports whether v encodes to the JSON value want.
func sameJSON(t *testing.T, name string, v any, want []byte) {
	t.Helper()
	got, err := json.Marshal(v)
	if err != nil {
		t.Fatalf("%s: Marshal = %v", name, err)
	}
	var g, w any
	if err := json.Unmarshal(got, &g); err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(want, &w); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(w, g); diff != "" {
		t.Errorf("%s: encoding differs from golden.json (-golden +got):\n%s", name, diff)
	}
}

var at = time.UnixMilli(1764000000000)

// TestGolden encodes domain values and compares them with the golden
// frames: what both surfaces send is what the docs promise.
func TestGolden(t *testing.T) {
	sync := chat.SyncPage{Next: 57, Messages: []chat.Message{{
		ID: 123456789012345678, LocalID: "17640000000001", Seq: 42, Type: chat.TypeText, ChatType: chat.GroupChat,
		Group: 987654321098765432, FromName: "alice", ToName: "987654321098765432", Text: "hello",
		Ext: json.RawMessage("null"), AllowGroupAck: true, SentAt: at, ReadCount: 3,
	}, {
		ID: 123456789012345679, LocalID: "b-77", Seq: 43, Type: chat.TypeCustom, ChatType: chat.SingleChat,
		FromName: "bob", ToName: "alice", CustomEvent: "vote", CustomExts: json.RawMessage(`{"choice": "a"}`),
		Ext: json.RawMessage(`{"k": 1}`), SentAt: at.Add(500 * time.Millisecond), ReadCount: -1,
	}}}
	sameJSON(t, "sync.reply", SyncReply(sync), goldenData(t, "sync.reply"))

	receipt := func(id chat.MsgID, seq int64, typ chat.MsgType, localID string, ack chat.MsgID) chat.Message {
		return chat.Message{
			ID: id, LocalID: localID, Seq: seq, Type: typ, ChatType: chat.SingleChat, FromName: "bob", ToName: "alice",
			AckMsg: ack, SentAt: at, ReadCount: -1,
		}
	}
	receipts := chat.SyncPage{Next: 60, Messages: []chat.Message{
		receipt(123456789012345690, 58, chat.TypeDelivery, "delivery:123456789012345679", 123456789012345679),
		receipt(123456789012345691, 59, chat.TypeRead, "read:123456789012345679", 123456789012345679),
		receipt(123456789012345692, 60, chat.TypeChannel, "channel:57", 0),
	}}
	sameJSON(t, "sync.reply.receipts", SyncReply(receipts), goldenData(t, "sync.reply.receipts"))

	mine := func(id chat.MsgID, seq int64, local, text string, ms int64, read, delivered bool) chat.Message {
		return chat.Message{
			ID: id, LocalID: local, Seq: seq, Type: chat.TypeText, ChatType: chat.SingleChat, FromName: "alice", ToName: "bob",
			Text: text, SentAt: time.UnixMilli(ms), ReadCount: -1, PeerRead: read, PeerDelivered: delivered,
		}
	}
	history := chat.HistoryPage{Cursor: "42", Messages: []chat.Message{
		mine(123456789012345603, 44, "c-3", "lunch?", 1764000003000, false, false),
		mine(123456789012345602, 43, "c-2", "are you there", 1764000002000, false, true),
		mine(123456789012345601, 42, "c-1", "hi", 1764000001000, true, true),
	}}
	sameJSON(t, "history.reply.single", HistoryReply(history), goldenData(t, "history.reply.single"))

	g := chat.Group{
		ID: 987654321098765432, Name: "team", OwnerName: "alice", MaxMembers: 100000, Members: 3,
		CreatedAt: at, Ext: json.RawMessage("null"),
	}
	sameJSON(t, "group.info.reply", Group(g), goldenData(t, "group.info.reply"))

	var ack protocol.ReceiptAck
	if err := json.Unmarshal(goldenData(t, "receipt.ack.request"), &ack); err != nil {
		t.Fatal(err)
	}
	acks := []chat.AckResult{
		{Msg: 123456789012345678, Counted: true, Count: 5},
		{Msg: 123456789012345600, Err: chat.Errorf(chat.CodeNotAllowed, "message 123456789012345600 did not ask for read receipts")},
	}
	sameJSON(t, "receipt.ack.reply", ReceiptAckReply(ack.Items, acks), goldenData(t, "receipt.ack.reply"))
}

func TestMessageReadCount(t *testing.T) {
	for _, tt := range []struct {
		name      string
		groupAck  bool
		readCount int
		want      *int
	}{
		{"receipts, count filled", true, 2, ptr(2)},
		{"receipts, count zero", true, 0, ptr(0)},
		{"receipts, not the sender", true, -1, nil},
		{"no receipts", false, 2, nil},
	} {
		m := chat.Message{ChatType: chat.SingleChat, AllowGroupAck: tt.groupAck, ReadCount: tt.readCount}
		if got := Message(&m).ReadCount; !cmp.Equal(got, tt.want) {
			t.Errorf("%s: Message(%+v).ReadCount = %v, want %v", tt.name, m, got, tt.want)
		}
	}
}

func TestObjectsOmittedWhenEmpty(t *testing.T) {
	for _, raw := range []json.RawMessage{nil, {}, json.RawMessage("null")} {
		m := Message(&chat.Message{CustomExts: raw, Ext: raw})
		if m.CustomExts != nil || m.Ext != nil {
			t.Errorf("Message(ext %q) = customExts %q, ext %q, want both omitted", raw, m.CustomExts, m.Ext)
		}
		if g := Group(chat.Group{Ext: raw}); g.Ext != nil {
			t.Errorf("Group(ext %q).Ext = %q, want omitted", raw, g.Ext)
		}
	}
}

func TestRequests(t *testing.T) {
	o := Outgoing(protocol.Send{LocalID: "l", Type: "txt", ChatType: "groupChat", To: "1", Msg: "hi", MsgConfig: &protocol.MsgConfig{AllowGroupAck: true}})
	want := chat.Outgoing{LocalID: "l", Type: chat.TypeText, ChatType: chat.GroupChat, To: "1", Text: "hi", AllowGroupAck: true}
	if diff := cmp.Diff(want, o); diff != "" {
		t.Errorf("Outgoing: (-want +got):\n%s", diff)
	}

	for _, tt := range []struct {
		dir       string
		newer, ok bool
	}{{"", false, true}, {"older", false, true}, {"newer", true, true}, {"up", false, false}} {
		q, err := HistoryQuery(protocol.History{Direction: tt.dir})
		if (err == nil) != tt.ok || q.Newer != tt.newer {
			t.Errorf("HistoryQuery(direction %q) = newer %v, err %v; want newer %v, ok %v", tt.dir, q.Newer, err, tt.newer, tt.ok)
		}
	}

	if _, err := AckItems([]protocol.AckItem{{MsgID: "1"}, {MsgID: "x"}}); chat.ErrorCode(err) != chat.CodeBadRequest {
		t.Errorf("AckItems(bad id) = %v, want bad_request", err)
	}
	if ids, err := MsgIDs([]string{"7", "8"}); err != nil || !cmp.Equal(ids, []chat.MsgID{7, 8}) {
		t.Errorf("MsgIDs(7, 8) = %v, %v, want [7 8], nil", ids, err)
	}
}

// TestAckResultNamesTheItem: a result names its message as the client
// wrote it, even when that is not the canonical form, and carries a count
// only when the ack counted.
func TestAckResultNamesTheItem(t *testing.T) {
	items := []protocol.AckItem{{MsgID: "007"}, {MsgID: "8"}}
	rs := []chat.AckResult{{Msg: 7, Counted: true, Count: 2}, {Msg: 8, Count: 4}}
	got := ReceiptAckReply(items, rs).Results
	want := []protocol.AckResult{{MsgID: "007", OK: true, Counted: true, Count: 2}, {MsgID: "8", OK: true}}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("ReceiptAckReply: (-want +got):\n%s", diff)
	}
}

func ptr(n int) *int { return &n }

// goldenFrame returns the whole golden frame called name.
func goldenFrame(t *testing.T, name string) (push string, data json.RawMessage) {
	t.Helper()
	b, err := os.ReadFile("../protocol/testdata/golden.json")
	if err != nil {
		t.Fatal(err)
	}
	var frames []struct {
		Name  string `json:"name"`
		Frame struct {
			Push string          `json:"push"`
			Data json.RawMessage `json:"data"`
		} `json:"frame"`
	}
	if err := json.Unmarshal(b, &frames); err != nil {
		t.Fatalf("decode golden.json: %v", err)
	}
	for _, f := range frames {
		if f.Name == name {
			return f.Frame.Push, f.Frame.Data
		}
	}
	t.Fatalf("golden.json has no frame %q", name)
	return "", nil
}

// TestPushGolden encodes every pushed bus event and compares it with its
// golden frame: wire is the one encoder of pushes, whatever the transport.
func TestPushGolden(t *testing.T) {
	peer := func(id chat.MsgID, seq int64, mid chat.MsgID) *chat.PeerReceipt {
		return &chat.PeerReceipt{ID: id, Seq: seq, Msg: mid, From: "bob", FromID: 2, To: "alice", ToID: 1, At: 1764000000000}
	}
	msg := &chat.Message{
		ID: 123456789012345678, LocalID: "17640000000001", Seq: 42, Type: chat.TypeText, ChatType: chat.GroupChat,
		Group: 987654321098765432, FromName: "alice", ToName: "987654321098765432", Text: "hello",
		Ext: json.RawMessage(`{"color": "red"}`), AllowGroupAck: true, SentAt: at,
		ReadCount: 3, // a live push carries no count
	}
	group := func(op string, users []string) *chat.GroupEvent {
		return &chat.GroupEvent{Group: 987654321098765432, Op: op, Actor: "alice", Users: users, UserIDs: []chat.UserID{4}, GroupName: "team", At: 1764000000000}
	}
	for _, tc := range []struct {
		golden string
		ev     chat.Event
	}{
		{"push.msg", chat.Event{Kind: chat.EventMessage, Message: msg}},
		{"push.receipt", chat.Event{Kind: chat.EventReceipt, Receipt: &chat.ReceiptPush{
			Msg: 123456789012345678, Group: 987654321098765432, Count: 5, Reader: "bob", AckContent: "{}", At: 1764000000000,
		}}},
		{"push.read", chat.Event{Kind: chat.EventPeerRead, Peer: peer(123456789012345691, 59, 123456789012345679)}},
		{"push.delivery", chat.Event{Kind: chat.EventDelivered, Peer: peer(123456789012345690, 58, 123456789012345679)}},
		{"push.channel", chat.Event{Kind: chat.EventChannel, Peer: peer(123456789012345692, 60, 0)}},
		{"push.conv.read", chat.Event{Kind: chat.EventConvRead, ConvRead: &chat.ConvReadEvent{
			User: 1, ChatType: chat.GroupChat, Group: 987654321098765432, Seq: 57, Device: "d", Conn: "c",
		}}},
		{"push.group", chat.Event{Kind: chat.EventGroup, Group: group(chat.GroupOpMemberAdded, []string{"dave"})}},
		{"push.group.destroy", chat.Event{Kind: chat.EventGroup, Group: group(chat.GroupOpDestroy, nil)}},
		{"push.group.updateInfo", chat.Event{Kind: chat.EventGroup, Group: group(chat.GroupOpInfoUpdated, nil)}},
	} {
		name, data, ok := Push(tc.ev)
		wantName, wantData := goldenFrame(t, tc.golden)
		if !ok || name != wantName {
			t.Errorf("Push(%s) = %q, ok %v, want %q, true", tc.golden, name, ok, wantName)
			continue
		}
		sameJSON(t, tc.golden, data, wantData)
	}
}

// TestPushSkipped: events with nothing to push, or that are never sent,
// are not pushes.
func TestPushSkipped(t *testing.T) {
	for _, ev := range []chat.Event{
		{Kind: chat.EventMessage},
		{Kind: chat.EventReceipt},
		{Kind: chat.EventPeerRead},
		{Kind: chat.EventDelivered},
		{Kind: chat.EventChannel},
		{Kind: chat.EventConvRead},
		{Kind: chat.EventGroup},
		{Kind: chat.EventRevoked, Revoked: &chat.RevokedEvent{User: 1}},
		{Kind: "nonsense"},
	} {
		if name, data, ok := Push(ev); ok {
			t.Errorf("Push(%+v) = %q, %+v, true, want not pushed", ev, name, data)
		}
	}
}

// TestGoldenReceiptsPlus encodes the domain values of reminders,
// analytics, receipt policy and settings and compares them with their
// golden frames.
func TestGoldenReceiptsPlus(t *testing.T) {
	remindAt := time.UnixMilli(1764000600000)
	reminder := chat.Message{
		ID: 123456789012345693, LocalID: "", Seq: 61, Type: chat.TypeRemind,
		ChatType: chat.GroupChat, Group: 987654321098765432, From: 1, FromName: "alice", ToName: "dave",
		AckMsg: 123456789012345678, SentAt: remindAt, ReadCount: -1,
	}
	sameJSON(t, "sync.reply.remind", SyncReply(chat.SyncPage{Next: 62, Messages: []chat.Message{reminder}}), goldenData(t, "sync.reply.remind"))
	name, data, ok := Push(chat.Event{Kind: chat.EventMessage, Message: &reminder})
	if wantName, wantData := goldenFrame(t, "push.receipt.reminder"); !ok || name != wantName {
		t.Errorf("Push(reminder) = %q, ok %v, want %q", name, ok, wantName)
	} else {
		sameJSON(t, "push.receipt.reminder", data, wantData)
	}

	sameJSON(t, "receipt.remind.reply", RemindReply(chat.RemindResult{
		Reminded: 1, Skipped: []string{"erin"}, At: remindAt, NextAt: remindAt.Add(10 * time.Minute),
	}), goldenData(t, "receipt.remind.reply"))

	buckets := []time.Duration{time.Minute, 5 * time.Minute, 15 * time.Minute, time.Hour, 4 * time.Hour, 24 * time.Hour, 72 * time.Hour, 7 * 24 * time.Hour, 0}
	a := chat.ReadAnalytics{
		Msg: 123456789012345678, SentAt: at, Eligible: 8, Count: 5, Unread: 3,
		To50: 45 * time.Second, Reached50: true, To90: time.Hour, // not reached: null, whatever the duration
	}
	for i, up := range buckets {
		n := 0
		switch i {
		case 0:
			n = 4
		case 1:
			n = 1
		}
		a.Histogram = append(a.Histogram, chat.ReadBucket{UpTo: up, Count: n})
	}
	sameJSON(t, "receipt.analytics.reply", AnalyticsReply(a), goldenData(t, "receipt.analytics.reply"))

	g := chat.Group{
		ID: 987654321098765432, Name: "team", OwnerName: "alice", MaxMembers: 100000, Members: 3, CreatedAt: at,
		Policy: chat.ReceiptPolicy{Request: chat.RequestAdmins, Visibility: chat.VisibleMembers, Lists: false},
	}
	sameJSON(t, "group.info.reply.policy", Group(g), goldenData(t, "group.info.reply.policy"))
	sameJSON(t, "group.policy.reply", Policy(chat.ReceiptPolicy{Request: chat.RequestAdmins, Visibility: chat.VisibleAdmins, Lists: true}), goldenData(t, "group.policy.reply"))
	sameJSON(t, "user.settings.reply", Settings(chat.Settings{SendReadReceipts: true}), goldenData(t, "user.settings.reply"))

	members := []chat.Member{
		{Name: "dave", Reminded: 2, RemindedAt: remindAt},
		{Name: "erin"},
		{Name: "frank", Reminded: 1, RemindedAt: at},
	}
	sameJSON(t, "receipt.unread.reply.reminders", UnreadReply(chat.UnreadPage{Users: members, Total: 3}), goldenData(t, "receipt.unread.reply.reminders"))
	sameJSON(t, "receipt.unread.reply", UnreadReply(chat.UnreadPage{Users: members[1:2:2], Total: 3}), []byte(`{"total": 3, "users": ["erin"], "cursor": "", "isLast": true}`))
}

func TestRemindRequests(t *testing.T) {
	if us, err := RemindUsers(nil); err != nil || us != nil {
		t.Errorf("RemindUsers(absent) = %v, %v, want nil (everyone), nil", us, err)
	}
	if _, err := RemindUsers([]string{}); chat.ErrorCode(err) != chat.CodeBadRequest {
		t.Errorf("RemindUsers([]) = %v, want bad_request", err)
	}
	if us, err := RemindUsers([]string{"bob"}); err != nil || !cmp.Equal(us, []string{"bob"}) {
		t.Errorf("RemindUsers([bob]) = %v, %v, want [bob]", us, err)
	}
	if r := RemindReply(chat.RemindResult{}); r.Skipped == nil {
		t.Error("RemindReply(no skipped).Skipped = nil, want [] (never null on the wire)")
	}
	lists, vis := false, "members"
	u := PolicyUpdate(protocol.SetPolicy{Group: "1", Visibility: &vis, Lists: &lists})
	if u.Request != nil || u.Visibility != &vis || u.Lists != &lists {
		t.Errorf("PolicyUpdate = %+v, want only visibility and lists", u)
	}
	if s := SettingsUpdate(protocol.SetSettings{}); s.SendReadReceipts != nil {
		t.Errorf("SettingsUpdate({}) = %+v, want no change", s)
	}
}

// TestGoldenReadByAll: eligible and readByAll in receipt pushes, stats
// entries and counts.
func TestGoldenReadByAll(t *testing.T) {
	name, data, ok := Push(chat.Event{Kind: chat.EventReceipt, Receipt: &chat.ReceiptPush{
		Msg: 123456789012345678, Group: 987654321098765432, Count: 8, Eligible: 8, Reader: "bob", At: 1764000000000,
	}})
	if _, want := goldenFrame(t, "push.receipt.readByAll"); !ok || name != protocol.PushReceipt {
		t.Errorf("Push(receipt) = %q, ok %v", name, ok)
	} else {
		sameJSON(t, "push.receipt.readByAll", data, want)
	}
	entry := func(id chat.MsgID, count int, from string, ms int64) chat.ReceiptCount {
		return chat.ReceiptCount{Msg: id, Group: 987654321098765432, Count: count, Eligible: 8, LastName: from, LastAt: time.UnixMilli(ms)}
	}
	sameJSON(t, "receipt.stats.reply.eligible", StatsReply(chat.StatsPage{Next: 11, Entries: []chat.ReceiptCount{
		entry(123456789012345678, 8, "carol", 1764000002000), entry(123456789012345680, 5, "bob", 1764000003000),
	}}), goldenData(t, "receipt.stats.reply.eligible"))
	sameJSON(t, "receipt.counts.reply.eligible", ReceiptCountsReply(chat.ReceiptTotals{
		Counts:   map[chat.MsgID]int{123456789012345678: 8, 123456789012345680: 0},
		Unread:   map[chat.MsgID]int{123456789012345678: 0, 123456789012345680: 8},
		Eligible: map[chat.MsgID]int{123456789012345678: 8, 123456789012345680: 8},
	}), goldenData(t, "receipt.counts.reply.eligible"))
	for _, tt := range []struct {
		count, eligible int
		want            bool
	}{{0, 0, false}, {3, 0, false}, {2, 3, false}, {3, 3, true}, {4, 3, true}} {
		if got := Receipt(chat.ReceiptCount{Count: tt.count, Eligible: tt.eligible}).ReadByAll; got != tt.want {
			t.Errorf("Receipt(%d of %d).ReadByAll = %v, want %v", tt.count, tt.eligible, got, tt.want)
		}
	}
}
