package ws

import (
	"bytes"
	"encoding/json"
	"os"
	"testing"

	"github.com/google/go-cmp/cmp"

	"seen/internal/protocol"
)

// fastAckSeeds are receipt.ack frames the fast path takes, and near misses
// it must decline or agree on.
var fastAckSeeds = []string{
	`{"id":"8","op":"receipt.ack","data":{"groupId":"987654321098765432","items":[{"msgId":"123456789012345678"}]}}`,
	`{"id":"8","op":"receipt.ack","data":{"groupId":"987654321098765432","items":[{"msgId":"123456789012345678","ackContent":"ok"},{"msgId":"1"}]}}`,
	` { "data" : { "items" : [ ] , "groupId" : "1" } , "op" : "receipt.ack" , "id" : "x" } ` + "\n",
	`{"id":"8","op":"receipt.ack","data":{"groupId":"1","items":[{"msgId":"1"}]}} {}`,
	`{"id":"8","op":"receipt.ack","data":{"groupId":"1","items":[{"msgId":"1"}]},"id":"9"}`,
	`{"ID":"8","op":"receipt.ack","data":{"groupId":"1","items":[{"msgId":"1"}]}}`,
	`{"id":"8","op":"receipt.ack","data":{"groupId":"1","items":[{"msgId":"1","ackContent":"{\"a\":1}"}]}}`,
	`{"id":"8","op":"receipt.ack","data":{"groupId":1,"items":[{"msgId":"1"}]}}`,
	`{"id":"8","op":"receipt.ack","data":{"groupId":"1","items":[null]}}`,
	`{"id":"8","op":"receipt.ack","data":{"groupId":"1","items":[{"msgId":"1"}],"x":1}}`,
	`{"id":"8","op":"receipt.acks","data":{"groupId":"1","items":[{"msgId":"1"}]}}`,
	`{"id":"","op":"receipt.ack","data":{"groupId":"1","items":[{"msgId":"1"}]}}`,
	`{"id":"8","op":"receipt.ack","data":null}`,
	`{"id":"8","op":"receipt.ack"}`,
	`{"id":"8","op":"receipt.ack","data":{"groupId":"<&>","items":[{"msgId":"1"}]}}`,
}

// FuzzFastAck: whenever the fast path takes a frame, the generic path
// takes it too, as the same request with the same data.
func FuzzFastAck(f *testing.F) {
	for _, s := range fastAckSeeds {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		id, r, ok := decodeFastAck(b)
		if !ok {
			return
		}
		req, strict, err := decodeRequest(b)
		if err != nil || strict != nil {
			t.Fatalf("fast path took %q, generic path: %v, %v", b, strict, err)
		}
		if req.ID != id || req.Op != protocol.OpReceiptAck {
			t.Fatalf("fast path took %q as id %q; generic path: %+v", b, id, req)
		}
		want, err := decodeData[protocol.ReceiptAck](req.Data)
		if err != nil {
			t.Fatalf("fast path took %q, generic path refuses its data: %v", b, err)
		}
		if diff := cmp.Diff(want, r); diff != "" {
			t.Fatalf("%q: fast path differs (-generic +fast):\n%s", b, diff)
		}
	})
}

// FuzzFastAckReply: whenever the fast path encodes a receipt.ack reply,
// its bytes are the generic path's.
func FuzzFastAckReply(f *testing.F) {
	f.Add("8", "123456789012345678", true, true, 3, "123456789012345600", true, false, 0)
	f.Add("<x>", "1", true, false, 0, "2", false, false, 0)
	f.Add("a\"b", "1", true, true, -1, "2\u2028", true, true, 1<<40)
	f.Fuzz(func(t *testing.T, id, m1 string, ok1, c1 bool, n1 int, m2 string, ok2, c2 bool, n2 int) {
		rep := protocol.ReceiptAckReply{Results: []protocol.AckResult{
			{MsgID: m1, OK: ok1, Counted: c1, Count: n1},
			{MsgID: m2, OK: ok2, Counted: c2, Count: n2},
		}}
		got, ok := encodeFastAckReply(id, rep)
		if !ok {
			return
		}
		data, err := json.Marshal(rep)
		if err != nil {
			t.Fatal(err)
		}
		want, err := encodeFrame(protocol.Reply{ID: id, OK: true, Data: data})
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got, want) {
			t.Fatalf("fast reply\n%s\nwant\n%s", got, want)
		}
	})
}

// TestFastAckGolden: the golden receipt.ack request, written plainly, is
// taken by the fast path, and its golden reply is what the fast path
// writes, byte for byte (the golden frame, compacted).
func TestFastAckGolden(t *testing.T) {
	raw, err := os.ReadFile("../protocol/testdata/golden.json")
	if err != nil {
		t.Fatal(err)
	}
	var frames []struct {
		Name  string
		Frame json.RawMessage
	}
	if err := json.Unmarshal(raw, &frames); err != nil {
		t.Fatal(err)
	}
	golden := map[string][]byte{}
	for _, f := range frames {
		var b bytes.Buffer
		if err := json.Compact(&b, f.Frame); err != nil {
			t.Fatal(err)
		}
		golden[f.Name] = b.Bytes()
	}
	var req protocol.Request
	var data protocol.ReceiptAck
	if err := json.Unmarshal(golden["receipt.ack.request"], &req); err != nil || json.Unmarshal(req.Data, &data) != nil {
		t.Fatalf("golden request: %v", err)
	}
	data.Items[0].AckContent = "ok" // the golden one has escapes, which the fast path declines
	plain, _ := json.Marshal(protocol.Request{ID: req.ID, Op: req.Op, Data: must(json.Marshal(data))})
	id, r, ok := decodeFastAck(plain)
	if !ok || id != req.ID || !cmp.Equal(r, data) {
		t.Errorf("decodeFastAck(%s) = %q, %+v, %v; want %q, %+v", plain, id, r, ok, req.ID, data)
	}
	if _, _, ok := decodeFastAck(golden["receipt.ack.request"]); ok {
		t.Errorf("decodeFastAck took an ackContent with escapes")
	}

	var rep protocol.Reply
	var rd protocol.ReceiptAckReply
	if err := json.Unmarshal(golden["receipt.ack.reply"], &rep); err != nil || json.Unmarshal(rep.Data, &rd) != nil {
		t.Fatalf("golden reply: %v", err)
	}
	if _, ok := encodeFastAckReply(rep.ID, rd); ok {
		t.Errorf("encodeFastAckReply took a result with an error")
	}
	// The golden reply without its second result (an error, which the
	// fast path leaves to the generic one).
	g := golden["receipt.ack.reply"]
	cut := bytes.Index(g, []byte(`,{"msgId":"123456789012345600"`))
	if cut < 0 {
		t.Fatalf("golden reply %s: no second result", g)
	}
	want := append(bytes.Clone(g[:cut]), "]}}"...)
	rd.Results = rd.Results[:1]
	got, ok := encodeFastAckReply(rep.ID, rd)
	if !ok || !bytes.Equal(got, want) {
		t.Errorf("encodeFastAckReply = %s, %v\nwant the golden %s", got, ok, want)
	}
}

func must(b []byte, err error) []byte {
	if err != nil {
		panic(err)
	}
	return b
}
