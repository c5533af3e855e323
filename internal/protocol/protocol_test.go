package protocol

import (
	"encoding/json"
	"os"
	"reflect"
	"sort"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// ops maps every op to the types of its request data and reply data.
var ops = map[string]struct{ req, reply any }{
	OpAuth:             {Auth{}, AuthReply{}},
	OpPing:             {Ping{}, Pong{}},
	OpMsgSend:          {Send{}, SendReply{}},
	OpSync:             {Sync{}, SyncReply{}},
	OpHistory:          {History{}, HistoryReply{}},
	OpConvList:         {ConvList{}, ConvListReply{}},
	OpConvAck:          {ConvAck{}, ConvAckReply{}},
	OpReceiptAck:       {ReceiptAck{}, ReceiptAckReply{}},
	OpReceiptRead:      {PeerAck{}, Empty{}},
	OpReceiptDelivered: {PeerAck{}, Empty{}},
	OpReceiptReaders:   {Readers{}, ReadersReply{}},
	OpReceiptUnread:    {ReceiptPage{}, UnreadReply{}},
	OpReceiptCounts:    {ReceiptCounts{}, ReceiptCountsReply{}},
	OpReceiptStats:     {Stats{}, StatsReply{}},
	OpGroupCreate:      {GroupCreate{}, Group{}},
	OpGroupInfo:        {GroupRef{}, Group{}},
	OpGroupAdd:         {GroupAdd{}, GroupAddReply{}},
	OpGroupRemove:      {GroupUser{}, Empty{}},
	OpGroupSetAdmin:    {GroupUser{}, Empty{}},
	OpGroupRemoveAdmin: {GroupUser{}, Empty{}},
	OpGroupTransfer:    {GroupUser{}, Empty{}},
	OpGroupLeave:       {GroupRef{}, Empty{}},
	OpGroupDestroy:     {GroupRef{}, Empty{}},
	OpGroupMembers:     {GroupMembers{}, GroupMembersReply{}},
	OpGroupAdmins:      {GroupRef{}, GroupAdminsReply{}},
	OpGroupMine:        {GroupMine{}, GroupMineReply{}},
	OpReceiptRemind:    {Remind{}, RemindReply{}},
	OpReceiptAnalytics: {MsgRef{}, AnalyticsReply{}},
	OpGroupPolicy:      {GroupPolicyRef{}, Policy{}},
	OpGroupSetPolicy:   {SetPolicy{}, Policy{}},
	OpUserSettings:     {Empty{}, Settings{}},
	OpUserSetSettings:  {SetSettings{}, Settings{}},
}

// pushes maps every push name to the type of its data.
var pushes = map[string]any{
	PushMsg:      Message{},
	PushReceipt:  Receipt{},
	PushRead:     PeerReceipt{},
	PushDelivery: PeerReceipt{},
	PushChannel:  Channel{},
	PushConvRead: ConvRead{},
	PushGroup:    GroupEvent{},
	PushResync:   Resync{},
	PushReminder: Reminder{},
}

type golden struct {
	Name  string          `json:"name"`
	Frame json.RawMessage `json:"frame"`
}

func loadGolden(t *testing.T) []golden {
	t.Helper()
	b, err := os.ReadFile("testdata/golden.json")
	if err != nil {
		t.Fatal(err)
	}
	var gs []golden
	if err := json.Unmarshal(b, &gs); err != nil {
		t.Fatalf("decode golden.json: %v", err)
	}
	return gs
}

// opOf returns the op a frame name starts with: the longest op followed
// by a dot.
func opOf(name string) string {
	best := ""
	for op := range ops {
		if strings.HasPrefix(name, op+".") && len(op) > len(best) {
			best = op
		}
	}
	return best
}

// roundTrip strictly decodes data into a new value of v's type and
// encodes it again.
func roundTrip(t *testing.T, name string, v any, data []byte) json.RawMessage {
	t.Helper()
	p := reflect.New(reflect.TypeOf(v))
	if err := Decode(data, p.Interface()); err != nil {
		t.Fatalf("%s: Decode(%s) into %T = %v, want nil", name, data, v, err)
	}
	out, err := json.Marshal(p.Interface())
	if err != nil {
		t.Fatalf("%s: Marshal(%T) = %v", name, v, err)
	}
	return out
}

// sameJSON compares two JSON texts as values.
func sameJSON(t *testing.T, name string, got, want []byte) {
	t.Helper()
	var g, w any
	if err := json.Unmarshal(got, &g); err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	if err := json.Unmarshal(want, &w); err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	if diff := cmp.Diff(w, g); diff != "" {
		t.Errorf("%s: re-encoded frame differs (-golden +got):\n%s", name, diff)
	}
}

func TestGolden(t *testing.T) {
	seen := map[string]bool{}
	for _, g := range loadGolden(t) {
		var shape map[string]json.RawMessage
		if err := json.Unmarshal(g.Frame, &shape); err != nil {
			t.Fatalf("%s: %v", g.Name, err)
		}
		switch {
		case shape["op"] != nil:
			var r Request
			if err := Decode(g.Frame, &r); err != nil {
				t.Fatalf("%s: Decode(request) = %v", g.Name, err)
			}
			o, ok := ops[r.Op]
			if !ok {
				t.Fatalf("%s: op %q is not in the op table", g.Name, r.Op)
			}
			if want := r.Op + ".request"; !strings.HasPrefix(g.Name, want) {
				t.Errorf("%s: name of a %s request, want prefix %q", g.Name, r.Op, want)
			}
			r.Data = roundTrip(t, g.Name, o.req, r.Data)
			out, _ := json.Marshal(r)
			sameJSON(t, g.Name, out, g.Frame)
			seen[g.Name[:len(r.Op)+len(".request")]] = true
		case shape["push"] != nil:
			var p Push
			if err := Decode(g.Frame, &p); err != nil {
				t.Fatalf("%s: Decode(push) = %v", g.Name, err)
			}
			typ, ok := pushes[p.Push]
			if !ok {
				t.Fatalf("%s: push %q is not in the push table", g.Name, p.Push)
			}
			p.Data = roundTrip(t, g.Name, typ, p.Data)
			out, _ := json.Marshal(p)
			sameJSON(t, g.Name, out, g.Frame)
			seen["push."+p.Push] = true
		default:
			var r Reply
			if err := Decode(g.Frame, &r); err != nil {
				t.Fatalf("%s: Decode(reply) = %v", g.Name, err)
			}
			if r.OK == (r.Error != nil) {
				t.Errorf("%s: ok = %v with error %v, want exactly one of them", g.Name, r.OK, r.Error)
			}
			if r.OK {
				op := opOf(g.Name)
				if op == "" || (g.Name != op+".reply" && !strings.HasPrefix(g.Name, op+".reply.")) {
					t.Fatalf("%s: a reply's name must be <op>.reply or <op>.reply.<variant>", g.Name)
				}
				r.Data = roundTrip(t, g.Name, ops[op].reply, r.Data)
				seen[op+".reply"] = true
			} else {
				if r.Data != nil {
					t.Errorf("%s: error reply has data %s, want none", g.Name, r.Data)
				}
				if op := opOf(g.Name); op != "" {
					seen[op+".error"] = true
				}
			}
			out, _ := json.Marshal(r)
			sameJSON(t, g.Name, out, g.Frame)
		}
	}
	var missing []string
	for op := range ops {
		for _, k := range []string{".request", ".reply", ".error"} {
			if !seen[op+k] {
				missing = append(missing, op+k)
			}
		}
	}
	for p := range pushes {
		if !seen["push."+p] {
			missing = append(missing, "push."+p)
		}
	}
	sort.Strings(missing)
	if len(missing) > 0 {
		t.Errorf("golden.json lacks frames %v", missing)
	}
}

// TestTables checks that the op and push lists, the type tables of this
// test and docs/protocol.md name the same ops and pushes.
func TestTables(t *testing.T) {
	doc, err := os.ReadFile("../../docs/protocol.md")
	if err != nil {
		t.Fatal(err)
	}
	sections := map[string]bool{} // "### a, b" documents ops a and b
	for _, line := range strings.Split(string(doc), "\n") {
		if h, ok := strings.CutPrefix(line, "### "); ok {
			for _, op := range strings.Split(h, ", ") {
				sections[op] = true
			}
		}
	}
	if len(Ops) != len(ops) {
		t.Errorf("len(Ops) = %d, want %d", len(Ops), len(ops))
	}
	for _, op := range Ops {
		if _, ok := ops[op]; !ok {
			t.Errorf("op %q has no types in the test table", op)
		}
		if !strings.Contains(string(doc), "`"+op+"`") {
			t.Errorf("docs/protocol.md does not mention op `%s`", op)
		}
		if !sections[op] {
			t.Errorf("docs/protocol.md has no section for op %s", op)
		}
	}
	if len(Pushes) != len(pushes) {
		t.Errorf("len(Pushes) = %d, want %d", len(Pushes), len(pushes))
	}
	for _, p := range Pushes {
		if _, ok := pushes[p]; !ok {
			t.Errorf("push %q has no type in the test table", p)
		}
		if !strings.Contains(string(doc), `{"push": "`+p+`"`) {
			t.Errorf("docs/protocol.md has no example of push %s", p)
		}
	}
}

func TestDecode(t *testing.T) {
	tests := []struct {
		in      string
		wantErr bool
	}{
		{`{"ack": 1}`, false},
		{``, false},
		{`null`, false},
		{`{"ack": 1, "bogus": 2}`, true},
		{`{"ack": "1"}`, true},
		{`{"ack": 1} {"ack": 2}`, true},
		{`{"ack": 1}]`, true},
		{`[1]`, true},
		{`{"ack": `, true},
	}
	for _, tt := range tests {
		var s Sync
		err := Decode([]byte(tt.in), &s)
		if (err != nil) != tt.wantErr {
			t.Errorf("Decode(%q) = %v, want error %v", tt.in, err, tt.wantErr)
		}
	}
}

func TestDecodeServerFrame(t *testing.T) {
	tests := []struct {
		in        string
		wantReply *Reply
		wantPush  *Push
		wantErr   bool
	}{
		{`{"id":"1","ok":true,"data":{}}`, &Reply{ID: "1", OK: true, Data: json.RawMessage(`{}`)}, nil, false},
		{`{"id":"","ok":false,"error":{"code":1,"name":"internal","message":"x"}}`, &Reply{Error: &Error{1, "internal", "x"}}, nil, false},
		{`{"push":"msg","data":{"id":"1"}}`, nil, &Push{Push: "msg", Data: json.RawMessage(`{"id":"1"}`)}, false},
		{`{"data":{}}`, nil, nil, true},
		{`nope`, nil, nil, true},
	}
	for _, tt := range tests {
		r, p, err := DecodeServerFrame([]byte(tt.in))
		if (err != nil) != tt.wantErr {
			t.Errorf("DecodeServerFrame(%s) error = %v, want error %v", tt.in, err, tt.wantErr)
		}
		if diff := cmp.Diff(tt.wantReply, r); diff != "" {
			t.Errorf("DecodeServerFrame(%s) reply differs (-want +got):\n%s", tt.in, diff)
		}
		if diff := cmp.Diff(tt.wantPush, p); diff != "" {
			t.Errorf("DecodeServerFrame(%s) push differs (-want +got):\n%s", tt.in, diff)
		}
	}
}
