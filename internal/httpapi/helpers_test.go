package httpapi_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"seen/internal/auth"
	"seen/internal/bus"
	"seen/internal/chat"
	"seen/internal/httpapi"
	"seen/internal/sqlstore"
	"seen/internal/sqlstore/sqltest"
)

const adminToken = "s3cret-admin"

// harness is a real REST server over a real service on a fresh SQLite
// store.
type harness struct {
	t   *testing.T
	srv *httptest.Server
	svc *chat.Service
	st  chat.Store // the real store under svc
	// sent numbers the localIds of the messages h.notice sends.
	sent int
}

type harnessOpt func(*chat.Config, *httpapi.Config, *chat.Deps)

func closedRegistration() harnessOpt {
	return func(c *chat.Config, _ *httpapi.Config, _ *chat.Deps) { c.OpenRegistration = false }
}

func noAdmin() harnessOpt {
	return func(_ *chat.Config, a *httpapi.Config, _ *chat.Deps) { a.AdminToken = "" }
}

func withConfig(f func(*chat.Config)) harnessOpt {
	return func(c *chat.Config, _ *httpapi.Config, _ *chat.Deps) { f(c) }
}

// fastHashing replaces bcrypt by fastHash, for tests that create
// thousands of users.
func fastHashing() harnessOpt {
	return func(_ *chat.Config, _ *httpapi.Config, d *chat.Deps) { d.Passwords = fastHash{} }
}

// fastHash is a salted SHA-256: bcrypt at its minimum cost would dominate
// a test that creates thousands of users. The account tests use bcrypt.
type fastHash struct{}

func (fastHash) Hash(pw string) ([]byte, error) {
	h := sha256.Sum256([]byte("seen-test:" + pw))
	return h[:], nil
}

func (fastHash) Verify(hash []byte, pw string) bool {
	h := sha256.Sum256([]byte("seen-test:" + pw))
	return subtle.ConstantTimeCompare(hash, h[:]) == 1
}

func newHarness(t *testing.T, opts ...harnessOpt) *harness {
	t.Helper()
	return newHarnessAt(t, "sqlite:"+t.TempDir()+"/seen.db", opts...)
}

// onStores runs test on SQLite, and on PostgreSQL when
// SEEN_TEST_POSTGRES_URL is set, with the DSN of a fresh store.
func onStores(t *testing.T, test func(t *testing.T, dsn string)) {
	t.Run("sqlite", func(t *testing.T) { test(t, "sqlite:"+t.TempDir()+"/seen.db") })
	base := os.Getenv(sqltest.EnvPostgres)
	t.Run("postgres", func(t *testing.T) {
		if base == "" {
			t.Skip(sqltest.EnvPostgres + " not set")
		}
		test(t, sqltest.PostgresDSN(t, base))
	})
}

// newHarnessAt is newHarness on the store at dsn.
func newHarnessAt(t *testing.T, dsn string, opts ...harnessOpt) *harness {
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
	cfg.CoalesceInterval = 0
	acfg := httpapi.Config{AdminToken: adminToken, AllowedOrigins: []string{"localhost:*", "https://app.example.com"}}
	deps := chat.Deps{Store: st, Bus: bus.NewLocal(), Passwords: pw}
	for _, o := range opts {
		o(&cfg, &acfg, &deps)
	}
	svc, err := chat.NewService(cfg, deps)
	if err != nil {
		t.Fatalf("new service: %v", err)
	}
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	srv := httptest.NewServer(httpapi.New(svc, acfg, log))
	t.Cleanup(func() {
		srv.Close()
		svc.Close()
		st.Close()
	})
	return &harness{t: t, srv: srv, svc: svc, st: st}
}

// req is one API call. Body is JSON-encoded unless it is a string or
// []byte, which are sent as is.
type req struct {
	method, path string
	token        string
	body         any
	header       map[string]string
}

type resp struct {
	status int
	header http.Header
	raw    []byte
	body   map[string]any
}

// code returns the error name of an error reply, "" otherwise.
func (r resp) code() string {
	e, _ := r.body["error"].(map[string]any)
	name, _ := e["name"].(string)
	return name
}

func (h *harness) do(q req) resp {
	h.t.Helper()
	var body io.Reader
	ctype := ""
	switch b := q.body.(type) {
	case nil:
	case string:
		body, ctype = strings.NewReader(b), "application/json"
	case []byte:
		body, ctype = bytes.NewReader(b), "application/json"
	case chunked: // no Content-Length
		body, ctype = io.MultiReader(strings.NewReader(string(b))), "application/json"
	default:
		raw, err := json.Marshal(b)
		if err != nil {
			h.t.Fatal(err)
		}
		body, ctype = bytes.NewReader(raw), "application/json"
	}
	r, err := http.NewRequest(q.method, h.srv.URL+q.path, body)
	if err != nil {
		h.t.Fatal(err)
	}
	if ctype != "" {
		r.Header.Set("Content-Type", ctype)
	}
	if q.token != "" {
		r.Header.Set("Authorization", "Bearer "+q.token)
	}
	for k, v := range q.header {
		if v == "" {
			r.Header.Del(k)
		} else {
			r.Header.Set(k, v)
		}
	}
	res, err := h.srv.Client().Do(r)
	if err != nil {
		h.t.Fatalf("%s %s: %v", q.method, q.path, err)
	}
	defer res.Body.Close()
	raw, err := io.ReadAll(res.Body)
	if err != nil {
		h.t.Fatal(err)
	}
	out := resp{status: res.StatusCode, header: res.Header, raw: raw}
	if len(raw) > 0 {
		var v any
		if err := json.Unmarshal(raw, &v); err != nil {
			h.t.Fatalf("%s %s: reply is not JSON: %q", q.method, q.path, raw)
		}
		out.body, _ = v.(map[string]any)
		if out.body == nil {
			out.body = map[string]any{"": v}
		}
	}
	return out
}

// must calls q and fails the test unless the status is want.
func (h *harness) must(want int, q req) resp {
	h.t.Helper()
	r := h.do(q)
	if r.status != want {
		h.t.Fatalf("%s %s = %d %s, want %d", q.method, q.path, r.status, r.raw, want)
	}
	return r
}

// wantErr calls q and checks the status and error name.
func (h *harness) wantErr(status int, name string, q req) resp {
	h.t.Helper()
	r := h.do(q)
	if r.status != status || r.code() != name {
		h.t.Errorf("%s %s = %d %s, want %d %s", q.method, q.path, r.status, r.raw, status, name)
	}
	return r
}

// user registers name and logs in; it returns the access token.
func (h *harness) user(name string) string {
	h.t.Helper()
	h.must(201, req{method: "POST", path: "/api/v1/users", body: map[string]string{"username": name, "password": "password"}})
	return h.login(name, "password")
}

func (h *harness) login(name, pw string) string {
	h.t.Helper()
	r := h.must(200, req{method: "POST", path: "/api/v1/token", body: map[string]string{"username": name, "password": pw}})
	return r.body["access_token"].(string)
}

// group creates a group owned by the token's user and returns its id.
func (h *harness) group(token string, body map[string]any) string {
	h.t.Helper()
	r := h.must(201, req{method: "POST", path: "/api/v1/groups", token: token, body: body})
	return r.body["groupId"].(string)
}

func (h *harness) send(token string, body map[string]any) resp {
	h.t.Helper()
	return h.must(200, req{method: "POST", path: "/api/v1/messages", token: token, body: body})
}

// list returns the array at key of a reply.
func list(r resp, key string) []any {
	l, _ := r.body[key].([]any)
	return l
}

// strs returns the array at key of a reply as strings (or the field of
// each object when field is set).
func strs(r resp, key, field string) []string {
	var out []string
	for _, v := range list(r, key) {
		if field != "" {
			v = v.(map[string]any)[field]
		}
		s, _ := v.(string)
		out = append(out, s)
	}
	return out
}

// userID returns the id of user name, as the API writes it.
func (h *harness) userID(name string) string {
	h.t.Helper()
	p, err := h.svc.ListUsers(context.Background(), chat.AdminActor, "", 1000)
	if err != nil {
		h.t.Fatal(err)
	}
	for _, u := range p.Users {
		if u.Name == name {
			return u.ID.String()
		}
	}
	h.t.Fatalf("no user %q", name)
	return ""
}

// timeOf is the RFC 3339 time (UTC, ms) of Unix ms.
func timeOf(ms int64) string {
	return time.UnixMilli(ms).UTC().Format("2006-01-02T15:04:05.000Z07:00")
}

func sorted(s []string) []string {
	s = slices.Clone(s)
	slices.Sort(s)
	return s
}
