package client

import (
	"bytes"
	"encoding/json"
	"os"
	"reflect"
	"strings"
	"testing"

	"seen/internal/protocol"
)

// serverFrames returns the server -> client frames of the protocol's
// golden file (replies and pushes) and hostile ones.
func serverFrames(tb testing.TB) [][]byte {
	b, err := os.ReadFile("../internal/protocol/testdata/golden.json")
	if err != nil {
		tb.Fatal(err)
	}
	var gs []struct {
		Name  string
		Frame json.RawMessage
	}
	if err := json.Unmarshal(b, &gs); err != nil {
		tb.Fatal(err)
	}
	var out [][]byte
	for _, g := range gs {
		out = append(out, g.Frame)
	}
	for _, h := range []string{
		``, ` `, `null`, `{}`, `[]`, `""`, `0`, "\x00", `{`, `{"id"`, `{"id":`, `{"id":"1"`, `{"id":"1",}`,
		`{"id":"1","ok":true,"data":{}} {}`, `{"id":"1","ok":true,"data":{}}x`,
		`{"id":"1","ok":true,"data":{"a":[1,2,{"b":null}],"c":"\u00e9\n"}}`,
		`{"id":"1","ok":true,"data":{"a":[1,2,}}`, `{"id":"1","ok":true,"data":{"a":01}}`,
		`{"id":"1","ok":true,"data":{"a":1.}}`, `{"id":"1","ok":true,"data":{"a":-}}`, `{"id":"1","ok":true,"data":{"a":1e}}`,
		`{"id":"1","ok":true,"data":{"a":"\x"}}`, `{"id":"1","ok":true,"data":{"a":"\u12"}}`, "{\"id\":\"1\",\"data\":\"a\x01\"}",
		`{"id":"1","ok":true,"data":{"a":tru}}`, `{"id":"1","ok":true,"data":{"a" 1}}`, `{"id":"1","ok":true,"data":{1:1}}`,
		`{"id":"1","ok":"yes"}`, `{"id":1,"ok":true}`, `{"id":null,"push":"msg","data":null}`, `{"push":"","ok":true}`,
		`{"push":"msg","ID":"7"}`, `{"Push":"msg","data":{}}`, `{"\u0070ush":"msg","data":{}}`, `{"push":"m\u0073g","data":{}}`,
		`{"id":"1","id":"2","ok":true}`, `{"push":"msg","push":"receipt","data":1}`,
		`{"push":"msg","data":` + strings.Repeat(`[`, 20000) + strings.Repeat(`]`, 20000) + `}`,
		`{"push":"msg","data":` + strings.Repeat(`{"a":`, 1000) + `1` + strings.Repeat(`}`, 1000) + `}`,
		"{\"push\":\"\xff\",\"data\":{\"k\":\"\xc3\x28\"}}",
		` {"id" : "3" , "ok" : false , "error" : {"code":602,"name":"not_member","message":"m"} } `,
	} {
		out = append(out, []byte(h))
	}
	return out
}

// checkFrame checks parseFrame(b) against protocol.DecodeServerFrame, the
// reference: a frame it decodes is parsed to the same reply or push.
func checkFrame(t *testing.T, b []byte) {
	reply, push, refErr := protocol.DecodeServerFrame(b)
	f, err := parseFrame(b)
	if refErr != nil {
		return // parseFrame may be stricter or more lenient about frames no server sends
	}
	if err != nil {
		t.Fatalf("parseFrame(%q) = %v; DecodeServerFrame decodes it", b, err)
	}
	switch {
	case reply != nil:
		if !f.isReply || unquote(f.id) != reply.ID || f.ok != reply.OK || !bytes.Equal(f.data, reply.Data) {
			t.Fatalf("parseFrame(%q) = reply %v, id %q, ok %v, data %q; want the reply %+v", b, f.isReply, f.id, f.ok, f.data, reply)
		}
		if !reply.OK {
			want := &Error{Code: 1, Name: "internal", Message: "error reply without an error"}
			if reply.Error != nil {
				want = &Error{Code: reply.Error.Code, Name: reply.Error.Name, Message: reply.Error.Message}
			}
			if got := replyError(f.err); *got != *want {
				t.Fatalf("replyError of %q = %+v, want %+v", b, got, want)
			}
		}
	case push != nil:
		if f.isReply || pushName(f.push) != push.Push || !bytes.Equal(f.data, push.Data) {
			t.Fatalf("parseFrame(%q) = reply %v, push %q, data %q; want the push %+v", b, f.isReply, f.push, f.data, push)
		}
	}
}

func TestParseFrame(t *testing.T) {
	for _, b := range serverFrames(t) {
		checkFrame(t, b)
	}
	// Frames the reference refuses that parseFrame must refuse too.
	for _, b := range []string{`{"id":"1","ok":true,"data":{"a":[1,2,}}`, `{"id":"1","ok":true,"data":{}}x`, `{"push":"msg","data":"\u12"}`, `{"id":1}`, `{"push":""}`, `[]`} {
		if _, err := parseFrame([]byte(b)); err == nil {
			t.Errorf("parseFrame(%q) = nil error, want a syntax error", b)
		}
	}
}

// FuzzParseFrame: go test -run '^$' -fuzz FuzzParseFrame ./client
func FuzzParseFrame(f *testing.F) {
	for _, b := range serverFrames(f) {
		f.Add(b)
	}
	f.Fuzz(checkFrame)
}

func TestAppendRequest(t *testing.T) {
	for _, tc := range []struct {
		op   string
		data any
	}{
		{"receipt.ack", protocol.ReceiptAck{GroupID: "7", Items: []protocol.AckItem{{MsgID: "9"}}}},
		{"ping", nil},
		{"we\"ird\\<op>\n\u00e9", map[string]int{"n": 1}},
	} {
		b, err := appendRequest(nil, 42, tc.op, tc.data)
		if err != nil {
			t.Fatal(err)
		}
		var r protocol.Request
		if err := protocol.Decode(b, &r); err != nil {
			t.Fatalf("appendRequest(%q) = %s: %v", tc.op, b, err)
		}
		want, _ := json.Marshal(tc.data)
		if tc.data == nil {
			want = []byte("{}")
		}
		if r.ID != "42" || r.Op != tc.op || !bytes.Equal(r.Data, want) {
			t.Errorf("appendRequest(%q) = %s, want id 42, the op and data %s", tc.op, b, want)
		}
	}
	if _, err := appendRequest(nil, 1, "x", func() {}); err == nil {
		t.Errorf("appendRequest(a func) = nil error, want the encoding error")
	}
}

// checkAckReply checks ackReply.decodeFast against encoding/json: what it
// decodes, encoding/json decodes the same.
func checkAckReply(t *testing.T, b []byte) bool {
	if _, err := skipValue(b, 0); err != nil || !json.Valid(b) {
		return false // finish only sees valid JSON
	}
	var fast ackReply
	if !fast.decodeFast(b) {
		return false
	}
	var want protocol.ReceiptAckReply
	if err := json.Unmarshal(b, &want); err != nil {
		t.Fatalf("decodeFast(%s) = true; encoding/json: %v", b, err)
	}
	if !reflect.DeepEqual(protocol.ReceiptAckReply(fast), want) {
		t.Fatalf("decodeFast(%s) = %+v, encoding/json %+v", b, fast, want)
	}
	return true
}

var ackReplies = []string{
	`{"results":[{"msgId":"123","ok":true,"counted":true,"count":7}]}`,
	`{"results":[{"msgId":"1","ok":true,"counted":false},{"ok":true,"msgId":"2","count":0,"counted":true}]}`,
	` { "results" : [ ] } `,
	`{"results":[{}]}`,
	`{"results":[{"msgId":"é","count":-3}]}`,
	`{"results":[{"msgId":"1","ok":false,"error":{"code":602,"name":"not_member","message":"m"}}]}`,
	`{"results":null}`, `{"results":[{"msgId":"a\"b"}]}`, `{"results":[{"count":1.5}]}`, `{"results":[{"count":1e2}]}`,
	`{"Results":[]}`, `{"results":[],"more":1}`, `{"results":[{"msgId":1}]}`, `{"results":[{"count":99999999999999999999}]}`,
}

func TestAckReplyFast(t *testing.T) {
	fast := 0
	for _, b := range ackReplies {
		if checkAckReply(t, []byte(b)) {
			fast++
		}
	}
	if fast != 5 {
		t.Errorf("decodeFast took %d of the replies, want the 5 of the server's shape", fast)
	}
}

// FuzzAckReply: go test -run '^$' -fuzz FuzzAckReply ./client
func FuzzAckReply(f *testing.F) {
	for _, b := range ackReplies {
		f.Add([]byte(b))
	}
	f.Fuzz(func(t *testing.T, b []byte) { checkAckReply(t, b) })
}
