package ws

// FuzzFrame sends fuzzed text frames over one real, authenticated
// WebSocket to a real server (SQLite, in-process bus) and checks what
// comes back, so that the envelope decoding of session.go and the strict
// decoding of every op in dispatch.go are fuzzed together with what the
// service does with what they accept:
//
//   - a frame that is not a JSON request with a valid id is closed with
//     4000 (protocol violation) and nothing else;
//   - any other frame gets exactly one reply, with its id, that is valid
//     UTF-8 JSON, and whose error, if any, is never internal;
//   - the server never panics (the test binary would die).
//
// Seeds are the golden request frames, pointed at a real group and real
// messages, plus hostile frames. Run it longer with
// go test -run '^$' -fuzz '^FuzzFrame$' -fuzztime 60s ./internal/ws
// (or `make fuzz`).

import (
	"context"
	"encoding/json"
	"os"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/coder/websocket"

	"seen/internal/chat"
	"seen/internal/protocol"
)

func FuzzFrame(f *testing.F) {
	ctx := context.Background()
	// No rate limit to speak of: the fuzzer sends as fast as it can.
	cfg := DefaultConfig()
	cfg.RatePerSec, cfg.RateBurst = 1e9, 1<<30
	st := newStack(f, cfg)
	svc, url := st.svc, st.url
	var conn *websocket.Conn
	f.Cleanup(func() {
		if conn != nil {
			conn.CloseNow()
		}
	})

	var creds []chat.Credentials
	for _, n := range []string{"alice", "bob", "carol", "dave", "erin"} {
		creds = append(creds, chat.Credentials{Username: n, Password: "password"})
	}
	us, err := svc.CreateUsers(ctx, chat.AdminActor, creds)
	if err != nil {
		f.Fatal(err)
	}
	alice := chat.Actor{User: us[0].ID, Name: "alice", Device: "d1"}
	bob := chat.Actor{User: us[1].ID, Name: "bob", Device: "d1"}
	g, err := svc.CreateGroup(ctx, alice, chat.GroupSpec{Name: "g", Members: []string{"bob", "carol"}})
	if err != nil {
		f.Fatal(err)
	}
	gm, err := svc.Send(ctx, alice, chat.Outgoing{LocalID: "f1", Type: chat.TypeText, ChatType: chat.GroupChat, To: g.ID.String(), Text: "hi", AllowGroupAck: true})
	if err != nil {
		f.Fatal(err)
	}
	sm, err := svc.Send(ctx, bob, chat.Outgoing{LocalID: "f2", Type: chat.TypeText, ChatType: chat.SingleChat, To: "alice", Text: "hi"})
	if err != nil {
		f.Fatal(err)
	}
	grant, err := svc.Login(ctx, chat.Credentials{Username: "alice", Password: "password"})
	if err != nil {
		f.Fatal(err)
	}

	// Seeds: the golden requests, on the real group and messages but for
	// those that would end the group for the seeds after them.
	raw, err := os.ReadFile("../protocol/testdata/golden.json")
	if err != nil {
		f.Fatal(err)
	}
	var golden []struct {
		Frame json.RawMessage `json:"frame"`
	}
	if err := json.Unmarshal(raw, &golden); err != nil {
		f.Fatal(err)
	}
	real := strings.NewReplacer("987654321098765432", g.ID.String(), "123456789012345678", gm.ID.String(), "123456789012345679", sm.ID.String())
	for _, gf := range golden {
		var req protocol.Request
		if json.Unmarshal(gf.Frame, &req) != nil || req.Op == "" {
			continue
		}
		f.Add([]byte(gf.Frame))
		switch req.Op {
		case protocol.OpGroupDestroy, protocol.OpGroupLeave, protocol.OpGroupTransfer, protocol.OpGroupRemove:
		default:
			f.Add([]byte(real.Replace(string(gf.Frame))))
		}
	}
	for _, h := range []string{
		``, ` `, `null`, `{}`, `[]`, `"x"`, "\x00", "\xff",
		`{"id":"","op":"ping"}`, `{"id":1,"op":"ping"}`, `{"id":"` + strings.Repeat("x", protocol.MaxRequestID+1) + `","op":"ping"}`,
		`{"id":"1","op":"ping","extra":1}`, `{"id":"1","op":"nope"}`, `{"id":"1"}`, `{"id":"1","op":"ping"} {}`,
		`{"id":"\u0000","op":"ping"}`, "{\"id\":\"\xff\",\"op\":\"ping\"}", `{"id":"1","op":"auth","data":{}}`,
		`{"id":"1","op":"sync","data":{"ack":-1,"limit":-1}}`, `{"id":"1","op":"sync","data":{"ack":99999999999999999999}}`,
		`{"id":"1","op":"receipt.counts","data":{"groupId":"` + g.ID.String() + `","msgIds":["0","-1","` + gm.ID.String() + `"]}}`,
		`{"id":"1","op":"msg.send","data":{"localId":"\u0000","type":"txt","chatType":"groupChat","to":"` + g.ID.String() + `","msg":"a\u0000b"}}`,
		"{\"id\":\"1\",\"op\":\"msg.send\",\"data\":{\"localId\":\"x\",\"type\":\"txt\",\"chatType\":\"singleChat\",\"to\":\"bob\",\"msg\":\"\xff\",\"ext\":{\"k\":\"\xff\"}}}",
		`{"id":"1","op":"group.create","data":{"name":"n","ext":` + strings.Repeat(`[`, 5000) + strings.Repeat(`]`, 5000) + `}}`,
		`{"id":"1","op":"history","data":{"chatType":"groupChat","to":"` + g.ID.String() + `","cursor":"-5","limit":100000}}`,
		// After the hostile sends above: what they stored comes back.
		`{"id":"s","op":"sync","data":{"ack":0,"limit":100}}`,
		`{"id":"h","op":"history","data":{"chatType":"singleChat","to":"bob"}}`,
	} {
		f.Add([]byte(h))
	}

	dial := func(t *testing.T) *websocket.Conn {
		t.Helper()
		dctx, cancel := context.WithTimeout(context.Background(), wait)
		defer cancel()
		c, _, err := websocket.Dial(dctx, url, nil)
		if err != nil {
			t.Fatalf("websocket.Dial = %v", err)
		}
		c.SetReadLimit(-1)
		auth, _ := json.Marshal(protocol.Request{ID: "auth", Op: protocol.OpAuth, Data: json.RawMessage(`{"token":"` + grant.Token + `","device":"fuzz","version":1}`)})
		if err := c.Write(dctx, websocket.MessageText, auth); err != nil {
			t.Fatalf("write auth: %v", err)
		}
		for {
			_, b, err := c.Read(dctx)
			if err != nil {
				t.Fatalf("read auth reply: %v", err)
			}
			if rep, _, _ := protocol.DecodeServerFrame(b); rep != nil {
				if !rep.OK {
					t.Fatalf("auth reply = %s", b)
				}
				return c
			}
		}
	}

	f.Fuzz(func(t *testing.T, frame []byte) {
		if conn == nil {
			conn = dial(t)
		}
		// What the server will make of the frame, by its own rules.
		var req protocol.Request
		valid := len(frame) <= cfg.MaxFrameBytes && json.Unmarshal(frame, &req) == nil &&
			req.ID != "" && len(req.ID) <= protocol.MaxRequestID
		rctx, cancel := context.WithTimeout(context.Background(), wait)
		defer cancel()
		if err := conn.Write(rctx, websocket.MessageText, frame); err != nil {
			t.Fatalf("write %q: %v", frame, err)
		}
		for {
			_, b, err := conn.Read(rctx)
			if err != nil {
				conn.CloseNow()
				conn = nil
				code := websocket.CloseStatus(err)
				switch {
				case valid:
					t.Fatalf("frame %q: connection closed (%d, %v), want a reply", frame, code, err)
				case len(frame) > cfg.MaxFrameBytes:
				case code != protocol.CloseProtocol:
					t.Fatalf("frame %q: closed with %d (%v), want %d", frame, code, err, protocol.CloseProtocol)
				}
				return
			}
			if !utf8.Valid(b) {
				t.Fatalf("frame %q: the server wrote invalid UTF-8: %q", frame, b)
			}
			rep, _, err := protocol.DecodeServerFrame(b)
			if err != nil {
				t.Fatalf("frame %q: the server wrote %q: %v", frame, b, err)
			}
			if rep == nil {
				continue // a push
			}
			if !valid {
				t.Fatalf("frame %q: got the reply %s, want close %d", frame, b, protocol.CloseProtocol)
			}
			if rep.ID != req.ID {
				t.Fatalf("frame %q: reply %s has the id %q, want %q", frame, b, rep.ID, req.ID)
			}
			if !rep.OK && (rep.Error == nil || rep.Error.Name == string(chat.CodeInternal)) {
				t.Fatalf("frame %q: reply %s is an internal error", frame, b)
			}
			return
		}
	})
}
