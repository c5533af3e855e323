package msync_test

import (
	"context"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"seen/internal/auth"
	"seen/internal/bus"
	"seen/internal/chat"
	"seen/internal/hub"
	"seen/internal/msync"
	"seen/internal/sqlstore"
	"seen/internal/ws"
)

const appKey = "seen#demo"

// env is one node: a real store, the in-process bus, the service, and
// both transports on one HTTP server (/ws seen's, /websocket msync).
type env struct {
	t   *testing.T
	svc *chat.Service
	// ms and ws are the endpoints' URLs.
	ms, ws string
	// srv is the msync endpoint.
	srv *msync.Server
	// ended counts the msync connections that have ended and given back
	// their admission slot.
	ended *counter
}

// counter counts events and lets a test wait for a count.
type counter struct {
	mu      sync.Mutex
	n       int
	changed chan struct{} // closed and replaced at each add
}

func (c *counter) add() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.n++
	close(c.changed)
	c.changed = make(chan struct{})
}

// waitFor waits until the count is at least n.
func (c *counter) waitFor(t *testing.T, what string, n int) {
	t.Helper()
	timeout := time.After(wait)
	for {
		c.mu.Lock()
		got, changed := c.n, c.changed
		c.mu.Unlock()
		if got >= n {
			return
		}
		select {
		case <-changed:
		case <-timeout:
			t.Fatalf("%s: %d, want %d", what, got, n)
		}
	}
}

// stores runs fn on SQLite, and on PostgreSQL when
// SEEN_TEST_POSTGRES_URL is set.
func stores(t *testing.T, fn func(t *testing.T, e *env)) {
	storesWith(t, msync.Config{AppKey: appKey}, fn)
}

// storesWith is stores with the endpoint's configuration cfg.
func storesWith(t *testing.T, cfg msync.Config, fn func(t *testing.T, e *env)) {
	t.Run("sqlite", func(t *testing.T) {
		fn(t, newEnv(t, cfg, "sqlite:"+filepath.Join(t.TempDir(), "seen.db")))
	})
	if base := os.Getenv("SEEN_TEST_POSTGRES_URL"); base != "" {
		t.Run("postgres", func(t *testing.T) {
			dsn, drop, err := sqlstore.NewSchema(context.Background(), base, "seen_msync_")
			if err != nil {
				t.Fatalf("NewSchema: %v", err)
			}
			t.Cleanup(func() { _ = drop() })
			fn(t, newEnv(t, cfg, dsn))
		})
	}
}

func newEnv(t *testing.T, cfg msync.Config, dsn string) *env {
	t.Helper()
	return newEnvWith(t, cfg, ws.DefaultConfig(), dsn)
}

// newEnvWith is newEnv with seen's endpoint configured by wcfg. Unless
// cfg has an Admission, the endpoints share ws's, as internal/server
// wires them.
func newEnvWith(t *testing.T, cfg msync.Config, wcfg ws.Config, dsn string) *env {
	t.Helper()
	ctx := context.Background()
	st, err := sqlstore.Open(ctx, dsn)
	if err != nil {
		t.Fatalf("open store: %v", err)
	}
	t.Cleanup(func() { st.Close() })
	pw, err := auth.NewBcrypt(4)
	if err != nil {
		t.Fatal(err)
	}
	b := bus.NewLocal()
	svc, err := chat.NewService(chat.DefaultConfig(), chat.Deps{Store: st, Bus: b, Passwords: pw})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(svc.Close)
	log := slog.New(slog.DiscardHandler)
	wss := ws.New(svc, b, wcfg, log, nil)
	if cfg.Admission == nil {
		cfg.Admission = wss.Admission()
	}
	ms, err := msync.New(cfg, svc, hub.New(b, log), log)
	if err != nil {
		t.Fatal(err)
	}
	ended := &counter{changed: make(chan struct{})}
	ms.SetEnded(ended.add)
	mux := http.NewServeMux()
	mux.Handle("/websocket", ms)
	mux.Handle("/ws", wss)
	hs := httptest.NewServer(mux)
	t.Cleanup(func() {
		_ = ms.Close(context.Background())
		wss.Close(context.Background())
		hs.Close()
	})
	u := "ws" + strings.TrimPrefix(hs.URL, "http")
	return &env{t: t, svc: svc, srv: ms, ms: u + "/websocket", ws: u + "/ws", ended: ended}
}

// user registers name and returns its actor and an access token.
func (e *env) user(name string) (chat.Actor, string) {
	e.t.Helper()
	ctx := context.Background()
	if _, err := e.svc.Register(ctx, chat.Credentials{Username: name, Password: "password"}); err != nil {
		e.t.Fatalf("Register(%s) = %v", name, err)
	}
	g, err := e.svc.Login(ctx, chat.Credentials{Username: name, Password: "password"})
	if err != nil {
		e.t.Fatalf("Login(%s) = %v", name, err)
	}
	return chat.Actor{User: g.User.ID, Name: g.User.Name, Device: "setup"}, g.Token
}

// group creates a group of owner with members.
func (e *env) group(owner chat.Actor, members ...string) string {
	e.t.Helper()
	g, err := e.svc.CreateGroup(context.Background(), owner, chat.GroupSpec{Name: "g", Members: members})
	if err != nil {
		e.t.Fatalf("CreateGroup = %v", err)
	}
	return g.ID.String()
}

// dial connects an msync client of name with token on device res.
func (e *env) dial(name, token, res string) *mclient {
	e.t.Helper()
	return dialM(e.t, e.ms, appKey, name, token, res)
}
