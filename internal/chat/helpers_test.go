package chat_test

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"fmt"
	"os"
	"sync"
	"testing"
	"time"

	"seen/internal/auth"
	"seen/internal/bus"
	"seen/internal/chat"
	"seen/internal/chat/chattest"
	"seen/internal/sqlstore"
	"seen/internal/sqlstore/sqltest"
)

// fastHash is a salted SHA-256 used where a test creates thousands of
// users: bcrypt at its minimum cost would dominate the run. Tests of the
// account rules use the real bcrypt hasher.
type fastHash struct{}

func (fastHash) Hash(pw string) ([]byte, error) {
	h := sha256.Sum256([]byte("seen-test:" + pw))
	return h[:], nil
}

func (fastHash) Verify(hash []byte, pw string) bool {
	h := sha256.Sum256([]byte("seen-test:" + pw))
	return subtle.ConstantTimeCompare(hash, h[:]) == 1
}

type env struct {
	svc   *chat.Service
	bus   *bus.Local
	clock *chattest.Clock
	store chat.Store
}

type option func(*chat.Config, *chat.Deps)

func withFastHash() option {
	return func(_ *chat.Config, d *chat.Deps) { d.Passwords = fastHash{} }
}

func withConfig(f func(*chat.Config)) option {
	return func(c *chat.Config, _ *chat.Deps) { f(c) }
}

// onStores runs test on SQLite always, and on PostgreSQL when
// SEEN_TEST_POSTGRES_URL is set, each with a fresh service made by newEnv.
func onStores(t *testing.T, test func(t *testing.T, newEnv func(t testing.TB, opts ...option) *env)) {
	t.Run("sqlite", func(t *testing.T) { test(t, newEnv) })
	url := os.Getenv(sqltest.EnvPostgres)
	if url == "" {
		return
	}
	t.Run("postgres", func(t *testing.T) {
		test(t, func(t testing.TB, opts ...option) *env {
			return newEnvDSN(t, sqltest.PostgresDSN(t, url), opts...)
		})
	})
}

// newEnv starts a service on a fresh SQLite store.
func newEnv(t testing.TB, opts ...option) *env {
	t.Helper()
	return newEnvDSN(t, "sqlite:"+t.TempDir()+"/seen.db", opts...)
}

func newEnvDSN(t testing.TB, dsn string, opts ...option) *env {
	t.Helper()
	ctx := context.Background()
	st, err := sqlstore.Open(ctx, dsn)
	if err != nil {
		t.Fatalf("open store: %v", err)
	}
	pw, err := auth.NewBcrypt(4)
	if err != nil {
		t.Fatal(err)
	}
	cfg := chat.DefaultConfig()
	cfg.CoalesceInterval = 20 * time.Millisecond
	clock := chattest.NewClock(time.Date(2026, 11, 26, 9, 0, 0, 0, time.UTC))
	b := bus.NewLocal()
	d := chat.Deps{Store: st, Bus: b, Passwords: pw, Clock: clock}
	for _, o := range opts {
		o(&cfg, &d)
	}
	svc, err := chat.NewService(cfg, d)
	if err != nil {
		t.Fatalf("new service: %v", err)
	}
	t.Cleanup(func() {
		svc.Close()
		st.Close()
	})
	return &env{svc: svc, bus: b, clock: clock, store: st}
}

// users creates users with password "password" and returns their actors,
// each on device "d1".
func (e *env) users(t testing.TB, names ...string) []chat.Actor {
	t.Helper()
	cs := make([]chat.Credentials, len(names))
	for i, n := range names {
		cs[i] = chat.Credentials{Username: n, Password: "password"}
	}
	us, err := e.svc.CreateUsers(context.Background(), chat.AdminActor, cs)
	if err != nil {
		t.Fatalf("CreateUsers(%v) = %v", names, err)
	}
	as := make([]chat.Actor, len(us))
	for i, u := range us {
		as[i] = chat.Actor{User: u.ID, Name: u.Name, Device: "d1"}
	}
	return as
}

// group creates a group owned by owner with the given members.
func (e *env) group(t testing.TB, owner chat.Actor, members ...chat.Actor) chat.GroupID {
	t.Helper()
	names := make([]string, len(members))
	for i, m := range members {
		names[i] = m.Name
	}
	g, err := e.svc.CreateGroup(context.Background(), owner, chat.GroupSpec{Name: "g", Members: names})
	if err != nil {
		t.Fatalf("CreateGroup = %v", err)
	}
	return g.ID
}

var localSeq struct {
	sync.Mutex
	n int
}

func nextLocal() string {
	localSeq.Lock()
	defer localSeq.Unlock()
	localSeq.n++
	return fmt.Sprintf("l%d", localSeq.n)
}

// sendGroup sends a text to a group, optionally asking for receipts.
func (e *env) sendGroup(t testing.TB, from chat.Actor, g chat.GroupID, ack bool) chat.Message {
	t.Helper()
	m, err := e.svc.Send(context.Background(), from, chat.Outgoing{
		LocalID: nextLocal(), Type: chat.TypeText, ChatType: chat.GroupChat, To: g.String(), Text: "hi", AllowGroupAck: ack,
	})
	if err != nil {
		t.Fatalf("Send = %v", err)
	}
	return m
}

// wantCode fails unless err carries code.
func wantCode(t testing.TB, what string, err error, code chat.Code) {
	t.Helper()
	if got := chat.ErrorCode(err); got != code {
		t.Errorf("%s = %v (code %q), want code %q", what, err, got, code)
	}
}

// recorder collects the events published to one topic.
type recorder struct {
	mu  sync.Mutex
	evs []chat.Event
	ch  chan chat.Event
}

func (e *env) record(t testing.TB, topic string) *recorder {
	r := &recorder{ch: make(chan chat.Event, 1<<16)}
	cancel, err := e.bus.Subscribe(topic, func(ev chat.Event) {
		r.mu.Lock()
		r.evs = append(r.evs, ev)
		r.mu.Unlock()
		select {
		case r.ch <- ev:
		default:
		}
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(cancel)
	return r
}

func (r *recorder) events() []chat.Event {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]chat.Event(nil), r.evs...)
}

// waitFor waits until pred holds for an event, or fails after a deadline.
func (r *recorder) waitFor(t testing.TB, what string, pred func(chat.Event) bool) chat.Event {
	t.Helper()
	for _, ev := range r.events() {
		if pred(ev) {
			return ev
		}
	}
	deadline := time.After(10 * time.Second)
	for {
		select {
		case ev := <-r.ch:
			if pred(ev) {
				return ev
			}
		case <-deadline:
			t.Fatalf("no event: %s", what)
			return chat.Event{}
		}
	}
}
