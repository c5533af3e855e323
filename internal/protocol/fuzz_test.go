package protocol

// Fuzz targets for the decoders of the WebSocket protocol: the request
// envelope as the server reads it (internal/ws/session.go), the data of
// every op as the op table decodes it (internal/ws/dispatch.go, via
// Decode), and the server frame as a client reads it (DecodeServerFrame).
// Seeds are the golden frames plus fuzzHostile inputs; without -fuzz, go test
// runs the seeds as ordinary tests. Run one for longer with
//
//	go test -run '^$' -fuzz '^FuzzRequestData$' -fuzztime 60s ./internal/protocol
//
// or `make fuzz`.

import (
	"bytes"
	"encoding/json"
	"os"
	"reflect"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
)

// fuzzGolden returns the frames of testdata/golden.json.
func fuzzGolden(tb testing.TB) []golden {
	tb.Helper()
	b, err := os.ReadFile("testdata/golden.json")
	if err != nil {
		tb.Fatal(err)
	}
	var gs []golden
	if err := json.Unmarshal(b, &gs); err != nil {
		tb.Fatalf("decode golden.json: %v", err)
	}
	return gs
}

// fuzzHostile are seeds that no golden frame covers: empty, NUL, invalid
// UTF-8, huge and odd numbers, deep nesting, wrong types, trailing data.
var fuzzHostile = []string{
	``,
	` `,
	`null`,
	`{}`,
	`[]`,
	`""`,
	`0`,
	"\x00",
	`{"id":"\u0000","op":"ping"}`,
	"{\"id\":\"1\x00\",\"op\":\"ping\"}",
	"{\"id\":\"\xff\xfe\",\"op\":\"ping\"}",
	"{\"id\":\"1\",\"op\":\"msg.send\",\"data\":{\"msg\":\"\xc3\x28\",\"ext\":{\"k\":\"\xff\"}}}",
	`{"id":"1","op":"sync","data":{"ack":99999999999999999999999}}`,
	`{"id":"1","op":"sync","data":{"ack":-9223372036854775808,"limit":-1}}`,
	`{"id":"1","op":"sync","data":{"ack":1e3}}`,
	`{"id":"1","op":"sync","data":{"ack":1.5}}`,
	`{"id":"1","op":"history","data":{"limit":2147483648}}`,
	`{"id":"1","op":"group.create","data":{"ext":` + strings.Repeat(`[`, 20000) + strings.Repeat(`]`, 20000) + `}}`,
	`{"id":"1","op":"group.create","data":{"ext":` + strings.Repeat(`{"a":`, 1000) + `1` + strings.Repeat(`}`, 1000) + `}}`,
	`{"id":"1","op":"ping","data":{}} {}`,
	`{"id":"1","op":"ping","data":{},"extra":1}`,
	`{"id":"1","op":"ping","id":"2"}`,
	`{"ID":"1","OP":"ping","DATA":{}}`,
	`{"id":1,"op":"ping"}`,
	`{"id":"` + strings.Repeat("x", MaxRequestID+1) + `","op":"ping"}`,
	`{"id":"1","op":"receipt.ack","data":{"groupId":"1","items":[{"msgId":"1","ackContent":"\ud800"}]}}`,
	`{"id":"1","op":"receipt.counts","data":{"groupId":"1","msgIds":null}}`,
	`{"id":"1","op":"msg.send","data":{"msgConfig":null,"ext":null}}`,
	`{"id":null,"push":"msg","data":null}`,
	`{"push":"","ok":true}`,
}

// fuzzDataOf returns the data of a request frame, or nil.
func fuzzDataOf(frame []byte) (op string, data []byte) {
	var r Request
	if json.Unmarshal(frame, &r) != nil {
		return "", nil
	}
	return r.Op, r.Data
}

// fuzzEqualJSON compares raw JSON values by meaning where the encoder may
// respell them: json.Marshal compacts a RawMessage, and absent and null
// data decode alike (Decode treats both as {}), and json.Marshal escapes
// <, > and & inside a RawMessage.
var fuzzEqualJSON = cmp.Comparer(func(a, b json.RawMessage) bool {
	return bytes.Equal(fuzzCompact(a), fuzzCompact(b))
})

// fuzzEquateEmpty is cmpopts.EquateEmpty but for raw JSON, which
// fuzzEqualJSON compares.
var fuzzEquateEmpty = cmp.FilterPath(func(p cmp.Path) bool {
	return p.Last().Type() != reflect.TypeFor[json.RawMessage]()
}, cmpopts.EquateEmpty())

func fuzzCompact(raw json.RawMessage) []byte {
	if len(raw) == 0 {
		return []byte("null")
	}
	var buf, esc bytes.Buffer
	if err := json.Compact(&buf, raw); err != nil {
		return raw
	}
	json.HTMLEscape(&esc, buf.Bytes()) // as json.Marshal spells a RawMessage
	return esc.Bytes()
}

// fuzzRoundTrip is the property every accepted value must have: it encodes,
// the encoding decodes strictly again, to the same value, and encoding
// that gives the same bytes. Empty and absent slices are the same on the
// wire (omitempty), hence EquateEmpty.
func fuzzRoundTrip(t *testing.T, v any, decode func([]byte, any) error) {
	t.Helper()
	b1, err := json.Marshal(v)
	if err != nil {
		t.Fatalf("json.Marshal(%#v) = %v: an accepted value does not encode", v, err)
	}
	v2 := reflect.New(reflect.TypeOf(v).Elem()).Interface()
	if err := decode(b1, v2); err != nil {
		t.Fatalf("decode(%s) = %v: the encoding of an accepted value is refused", b1, err)
	}
	if d := cmp.Diff(v, v2, fuzzEqualJSON, fuzzEquateEmpty); d != "" {
		t.Fatalf("round trip through %s changed the value (-first +second):\n%s", b1, d)
	}
	b2, err := json.Marshal(v2)
	if err != nil {
		t.Fatalf("json.Marshal(%#v) = %v", v2, err)
	}
	if !bytes.Equal(b1, b2) {
		t.Fatalf("encoding is not stable:\n first %s\nsecond %s", b1, b2)
	}
}

// FuzzRequest fuzzes the request envelope exactly as the server reads a
// text frame: a lenient json.Unmarshal for the id and op, then Decode of
// the whole frame (unknown envelope keys are refused). Neither may panic;
// whatever the strict decoder accepts, the lenient one accepts with the
// same value; and an accepted envelope round-trips.
func FuzzRequest(f *testing.F) {
	for _, g := range fuzzGolden(f) {
		f.Add([]byte(g.Frame))
	}
	for _, h := range fuzzHostile {
		f.Add([]byte(h))
	}
	f.Fuzz(func(t *testing.T, frame []byte) {
		var lenient Request
		lerr := json.Unmarshal(frame, &lenient)
		var strict Request
		serr := Decode(frame, &strict)
		if serr != nil {
			if serr.Error() == "" {
				t.Fatalf("Decode(%q) failed with an empty message", frame)
			}
			return
		}
		if lerr != nil && len(bytes.TrimSpace(frame)) != 0 {
			t.Fatalf("Decode accepts %q, json.Unmarshal refuses it: %v", frame, lerr)
		}
		if lerr == nil {
			if d := cmp.Diff(lenient, strict, fuzzEqualJSON); d != "" {
				t.Fatalf("lenient and strict decoding of %q differ (-lenient +strict):\n%s", frame, d)
			}
		}
		fuzzRoundTrip(t, &strict, Decode)
	})
}

// FuzzRequestData fuzzes the data of every op, decoded into the op's
// request type with Decode as internal/ws's op table does (the op is
// picked by index into Ops, so that mutations stay on known ops). Decode
// must not panic, and an accepted value round-trips.
func FuzzRequestData(f *testing.F) {
	index := map[string]uint8{}
	for i, op := range Ops {
		if _, ok := ops[op]; !ok {
			f.Fatalf("op %q has no request type in the ops table of protocol_test.go", op)
		}
		index[op] = uint8(i)
	}
	for _, g := range fuzzGolden(f) {
		if op, data := fuzzDataOf(g.Frame); op != "" {
			f.Add(index[op], data)
		}
	}
	for i := range Ops {
		for _, h := range fuzzHostile {
			if _, data := fuzzDataOf([]byte(h)); data != nil {
				f.Add(uint8(i), data)
			}
			f.Add(uint8(i), []byte(h))
		}
	}
	f.Fuzz(func(t *testing.T, i uint8, data []byte) {
		op := Ops[int(i)%len(Ops)]
		v := reflect.New(reflect.TypeOf(ops[op].req)).Interface()
		if err := Decode(data, v); err != nil {
			if err.Error() == "" {
				t.Fatalf("%s: Decode(%q) failed with an empty message", op, data)
			}
			return
		}
		fuzzRoundTrip(t, v, Decode)
	})
}

// FuzzServerFrame fuzzes the client's decoder of server frames: it must
// not panic, must return exactly one of a reply or a push or an error,
// and a decoded frame re-encodes to a frame that decodes to the same.
func FuzzServerFrame(f *testing.F) {
	for _, g := range fuzzGolden(f) {
		f.Add([]byte(g.Frame))
	}
	for _, h := range fuzzHostile {
		f.Add([]byte(h))
	}
	f.Fuzz(func(t *testing.T, frame []byte) {
		reply, push, err := DecodeServerFrame(frame)
		n := 0
		for _, ok := range []bool{reply != nil, push != nil, err != nil} {
			if ok {
				n++
			}
		}
		if n != 1 {
			t.Fatalf("DecodeServerFrame(%q) = %v, %v, %v: want exactly one", frame, reply, push, err)
		}
		var b []byte
		switch {
		case reply != nil:
			b, err = json.Marshal(reply)
		case push != nil:
			b, err = json.Marshal(push)
		default:
			return
		}
		if err != nil {
			t.Fatalf("json.Marshal of a decoded frame of %q = %v", frame, err)
		}
		reply2, push2, err := DecodeServerFrame(b)
		if err != nil {
			t.Fatalf("DecodeServerFrame(%s), the re-encoding of %q, = %v", b, frame, err)
		}
		if d := cmp.Diff(reply, reply2, fuzzEqualJSON); d != "" {
			t.Fatalf("reply of %q changed through %s (-first +second):\n%s", frame, b, d)
		}
		if d := cmp.Diff(push, push2, fuzzEqualJSON); d != "" {
			t.Fatalf("push of %q changed through %s (-first +second):\n%s", frame, b, d)
		}
	})
}
