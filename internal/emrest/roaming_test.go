package emrest_test

import (
	"context"
	"encoding/base64"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"testing"

	"google.golang.org/protobuf/proto"

	"seen/client"
	"seen/internal/auth"
	"seen/internal/bus"
	"seen/internal/chat"
	"seen/internal/emrest"
	"seen/internal/httpapi"
	"seen/internal/msync/pb"
	"seen/internal/server"
	"seen/internal/sqlstore"
	"seen/internal/sqlstore/sqltest"
)

// testMeta is the tests' EncodeMessage: the server id and the text in a
// CHAT meta, enough to tell which message came back where.
func testMeta(m *chat.Message) ([]byte, error) {
	body, err := proto.Marshal(&pb.MessageBody{Contents: []*pb.MessageBody_Content{{Type: pb.MessageBody_Content_TEXT.Enum(), Text: proto.String(m.Text)}}})
	if err != nil {
		return nil, err
	}
	return proto.Marshal(&pb.Meta{Id: proto.Uint64(uint64(m.ID)), Ns: pb.Meta_CHAT.Enum(), Payload: body})
}

// roamingServer is a service on SQLite (or PostgreSQL) with the vendor
// API in front, encoding messages with testMeta: the server does not wire
// an encoder until the msync endpoint exports one.
func roamingServer(t *testing.T, pg bool) (*srv, *chat.Service) {
	t.Helper()
	return roamingServerWith(t, pg, testMeta)
}

// roamingServerWith is roamingServer encoding messages with enc.
func roamingServerWith(t *testing.T, pg bool, enc func(*chat.Message) ([]byte, error)) (*srv, *chat.Service) {
	t.Helper()
	ctx := context.Background()
	dsn := "sqlite:" + filepath.Join(t.TempDir(), "seen.db")
	if pg {
		url := os.Getenv(sqltest.EnvPostgres)
		if url == "" {
			t.Skip(sqltest.EnvPostgres + " is not set: PostgreSQL skipped")
		}
		dsn = sqltest.PostgresDSN(t, url)
	}
	st, err := sqlstore.Open(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	pw, err := auth.NewBcrypt(4)
	if err != nil {
		t.Fatal(err)
	}
	svc, err := chat.NewService(chat.DefaultConfig(), chat.Deps{Store: st, Bus: bus.NewLocal(), Passwords: pw})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(svc.Close)
	api := httpapi.New(svc, httpapi.Config{}, nil)
	h, err := emrest.New(svc, api, emrest.Config{AppKey: "seen#demo", EncodeMessage: enc}, nil)
	if err != nil {
		t.Fatal(err)
	}
	hs := httptest.NewServer(h)
	t.Cleanup(hs.Close)
	return &srv{t: t, url: hs.URL, client: hs.Client()}, svc
}

// roamingPage is one decoded answer of message roaming: the texts, in order.
func (s *srv) roamingPage(token string, body any) (texts []string, ids []uint64, next string, last bool) {
	s.t.Helper()
	var r struct {
		Data struct {
			Msgs []struct {
				Msg string `json:"msg"`
			} `json:"msgs"`
			NextKey string `json:"next_key"`
			IsLast  bool   `json:"is_last"`
		} `json:"data"`
	}
	s.ok("POST", prefix+"/users/bob/messageroaming", token, body, &r)
	for _, m := range r.Data.Msgs {
		raw, err := base64.StdEncoding.DecodeString(m.Msg)
		if err != nil {
			s.t.Fatalf("msg %q is not base64: %v", m.Msg, err)
		}
		var meta pb.Meta
		var mb pb.MessageBody
		if err := proto.Unmarshal(raw, &meta); err != nil || proto.Unmarshal(meta.GetPayload(), &mb) != nil || len(mb.GetContents()) != 1 {
			s.t.Fatalf("msg is not a Meta with a body: %v", err)
		}
		texts = append(texts, mb.GetContents()[0].GetText())
		ids = append(ids, meta.GetId())
	}
	return texts, ids, r.Data.NextKey, r.Data.IsLast
}

// TestRoaming checks message roaming against seen's own history: the
// same messages, in the same order, paged the SDK's way.
func TestRoaming(t *testing.T) {
	for _, pg := range []bool{false, true} {
		name := map[bool]string{false: "sqlite", true: "postgres"}[pg]
		t.Run(name, func(t *testing.T) {
			s, svc := roamingServer(t, pg)
			ctx := context.Background()
			alice, bob := s.register("alice"), s.register("bob")
			ua, err := svc.Authenticate(ctx, alice)
			if err != nil {
				t.Fatal(err)
			}
			actor := chat.Actor{User: ua.ID, Name: ua.Name, Device: "a1"}
			gid := s.createGroup(alice, "alice", "bob")
			var sent []chat.Message
			for _, text := range []string{"one", "two", "three"} {
				m, err := svc.Send(ctx, actor, chat.Outgoing{LocalID: "l-" + text, Type: chat.TypeText, ChatType: chat.SingleChat, To: "bob", Text: text})
				if err != nil {
					t.Fatal(err)
				}
				sent = append(sent, m)
			}
			if _, err := svc.Send(ctx, actor, chat.Outgoing{LocalID: "g1", Type: chat.TypeText, ChatType: chat.GroupChat, To: gid, Text: "in the group"}); err != nil {
				t.Fatal(err)
			}

			// getHistoryMessages({targetId: "alice", pageSize: 2}): newest first.
			texts, ids, next, last := s.roamingPage(bob, map[string]any{"queue": "alice@easemob.com", "start": -1, "pull_number": 2, "is_positive": false,
				"msgType": "", "end": -1, "startTime": nil, "endTime": nil, "userId": nil})
			if len(texts) != 2 || texts[0] != "three" || texts[1] != "two" || ids[0] != uint64(sent[2].ID) || last || next == "" {
				t.Fatalf("first page = %v %v next %q last %v", texts, ids, next, last)
			}
			texts, _, _, last = s.roamingPage(bob, map[string]any{"queue": "alice@easemob.com", "start": next, "pull_number": 2})
			if len(texts) != 1 || texts[0] != "one" || !last {
				t.Errorf("second page = %v last %v", texts, last)
			}
			// "down": oldest first.
			texts, _, _, _ = s.roamingPage(bob, map[string]any{"queue": "alice@easemob.com", "start": -1, "pull_number": 20, "is_positive": true})
			if len(texts) != 3 || texts[0] != "one" || texts[2] != "three" {
				t.Errorf("oldest first = %v", texts)
			}
			texts, _, _, _ = s.roamingPage(bob, map[string]any{"queue": gid + "@conference.easemob.com", "start": -1, "pull_number": 20})
			if len(texts) != 1 || texts[0] != "in the group" {
				t.Errorf("group history = %v", texts)
			}
			// The same as seen's own history.
			ub, _ := svc.Authenticate(ctx, bob)
			own, err := svc.History(ctx, chat.Actor{User: ub.ID, Name: ub.Name, Device: "b1"}, chat.HistoryQuery{ChatType: chat.SingleChat, With: "alice", Limit: 20})
			if err != nil || len(own.Messages) != 3 || own.Messages[0].Text != "three" {
				t.Errorf("seen's history = %+v, %v", own, err)
			}

			for _, bad := range []map[string]any{
				{"queue": "alice", "start": -1},
				{"queue": "alice@easemob.com", "start": true},
				{"queue": "alice@easemob.com", "msgType": "txt"},
				{"queue": "alice@easemob.com", "pull_number": 1000},
			} {
				r := s.do("POST", prefix+"/users/bob/messageroaming", bob, bad)
				if r.status != http.StatusBadRequest && r.status != http.StatusForbidden {
					t.Errorf("roaming %v = %d %s, want refused", bad, r.status, r.body)
				}
			}
			s.do("POST", prefix+"/users/alice/messageroaming", bob, map[string]any{"queue": "bob@easemob.com"}).wantError(t, http.StatusForbidden, "", "own account")
			// Not a member of the group: refused.
			carol := s.register("carol")
			s.do("POST", prefix+"/users/carol/messageroaming", carol, map[string]any{"queue": gid + "@conference.easemob.com"}).wantError(t, http.StatusForbidden, "", "")
		})
	}
}

// TestRoamingServer checks message roaming on a real server, whose
// messages are encoded by the msync endpoint's encoder: the SDK decodes
// the same ids, sender and text that seen's own protocol sent.
func TestRoamingServer(t *testing.T) {
	stores(t, func(t *testing.T, cfg server.Config) {
		s := start(t, cfg)
		alice, bob := s.register("alice"), s.register("bob")
		ca := s.dial(alice, "a1")
		ctx := ctxT(t)
		sent, err := ca.Send(ctx, client.Send{LocalID: ca.NewLocalID(), Type: "txt", ChatType: client.SingleChat, To: "bob", Msg: "hello"})
		if err != nil {
			t.Fatal(err)
		}
		var r struct {
			Data struct {
				Msgs []struct {
					Msg string `json:"msg"`
				} `json:"msgs"`
				IsLast bool `json:"is_last"`
			} `json:"data"`
		}
		s.ok("POST", prefix+"/users/bob/messageroaming", bob, map[string]any{"queue": "alice@easemob.com", "start": -1, "pull_number": 20, "is_positive": false}, &r)
		if len(r.Data.Msgs) != 1 || !r.Data.IsLast {
			t.Fatalf("roaming = %+v, want the one message", r.Data)
		}
		raw, err := base64.StdEncoding.DecodeString(r.Data.Msgs[0].Msg)
		if err != nil {
			t.Fatal(err)
		}
		var meta pb.Meta
		var body pb.MessageBody
		if err := proto.Unmarshal(raw, &meta); err != nil {
			t.Fatal(err)
		}
		if err := proto.Unmarshal(meta.GetPayload(), &body); err != nil {
			t.Fatal(err)
		}
		if strconv.FormatUint(meta.GetId(), 10) != sent.ID || meta.GetNs() != pb.Meta_CHAT || body.GetFrom().GetName() != "alice" || body.GetTo().GetName() != "bob" ||
			len(body.GetContents()) != 1 || body.GetContents()[0].GetText() != "hello" || body.GetType() != pb.MessageBody_CHAT {
			t.Errorf("roamed meta = %v, body = %v; want id %s from alice to bob, text hello", &meta, &body, sent.ID)
		}
	})
}
