package server_test

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"encoding/pem"
	"errors"
	"io"
	"log/slog"
	"math/big"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"
	"go.uber.org/goleak"

	"seen/internal/protocol"
	"seen/internal/server"
)

// leakCheck fails the test if goroutines are left when it and its
// cleanups (which stop the servers) are done.
func leakCheck(t *testing.T) {
	t.Cleanup(func() {
		http.DefaultClient.CloseIdleConnections() // client.Register and Login use it
		goleak.VerifyNone(t)
	})
}

// testConfig is a node on a free port of 127.0.0.1 with its data in a
// temporary directory and fast password hashing.
func testConfig(t *testing.T) server.Config {
	cfg := server.DefaultConfig()
	cfg.Addr = "127.0.0.1:0"
	cfg.DataDir = t.TempDir()
	cfg.PasswordCost = 4
	cfg.AdminToken = "test-admin-token-0123456789"
	cfg.MetricsToken = testMetricsToken
	cfg.ShutdownTimeout = 5 * time.Second
	return cfg
}

// testMetricsToken opens /metrics on the main address in tests; get sends
// it.
const testMetricsToken = "test-metrics-token-0123456789"

func testLogger(t *testing.T) *slog.Logger {
	if testing.Verbose() {
		return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	return slog.New(slog.DiscardHandler)
}

// running is a server serving in the background.
type running struct {
	*server.Server
	url    string
	client *http.Client
	cancel context.CancelFunc
	done   chan error
}

// start creates and runs a server; stop (or the test's end) shuts it down.
func start(t *testing.T, cfg server.Config) *running {
	t.Helper()
	s, err := server.New(cfg, testLogger(t))
	if err != nil {
		t.Fatalf("server.New: %v", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	r := &running{Server: s, url: s.URL(), cancel: cancel, done: make(chan error, 1),
		client: &http.Client{Transport: &http.Transport{}, Timeout: 10 * time.Second}}
	go func() { r.done <- s.Run(ctx) }()
	t.Cleanup(func() { r.stop(t) })
	r.waitHealthy(t)
	return r
}

// stop cancels Run and waits for it; it may be called more than once.
func (r *running) stop(t *testing.T) {
	t.Helper()
	r.cancel()
	r.client.CloseIdleConnections()
	select {
	case err, ok := <-r.done:
		if ok && err != nil {
			t.Errorf("Run = %v", err)
		}
		if ok {
			close(r.done)
		}
	case <-time.After(15 * time.Second):
		t.Fatalf("Run did not return after cancel")
	}
}

// waitHealthy waits until Run serves, then checks that /healthz says so.
func (r *running) waitHealthy(t *testing.T) {
	t.Helper()
	waitServing(t, r.Server)
	if st, body := r.get(t, "/healthz"); st != 200 {
		t.Fatalf("server at %s serving, but GET /healthz = %d %q", r.url, st, body)
	}
}

// waitServing waits until s.Run serves.
func waitServing(t *testing.T, s *server.Server) {
	t.Helper()
	select {
	case <-s.Serving():
	case <-time.After(10 * time.Second):
		t.Fatalf("server at %s not serving 10s after Run", s.URL())
	}
}

// call makes a JSON request and decodes a JSON reply into out (if set).
func (r *running) call(t *testing.T, method, path, token string, body, out any) int {
	t.Helper()
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			t.Fatal(err)
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequest(method, r.url+path, rd)
	if err != nil {
		t.Fatal(err)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	res, err := r.client.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	defer res.Body.Close()
	raw, _ := io.ReadAll(res.Body)
	if out != nil && len(raw) > 0 {
		if err := json.Unmarshal(raw, out); err != nil {
			t.Fatalf("%s %s: decode %q: %v", method, path, raw, err)
		}
	}
	return res.StatusCode
}

func (r *running) get(t *testing.T, path string) (int, string) {
	t.Helper()
	req, _ := http.NewRequest("GET", r.url+path, nil)
	if path == "/metrics" {
		req.Header.Set("Authorization", "Bearer "+testMetricsToken)
	}
	res, err := r.client.Do(req)
	if err != nil {
		t.Fatalf("GET %s: %v", path, err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return res.StatusCode, string(b)
}

// register creates a user over REST and returns an access token.
func (r *running) register(t *testing.T, name string) string {
	t.Helper()
	creds := map[string]string{"username": name, "password": "password"}
	if st := r.call(t, "POST", "/api/v1/users", "", creds, nil); st != 201 {
		t.Fatalf("register %s = %d", name, st)
	}
	var tok struct {
		AccessToken string `json:"access_token"`
	}
	if st := r.call(t, "POST", "/api/v1/token", "", creds, &tok); st != 200 {
		t.Fatalf("login %s = %d", name, st)
	}
	return tok.AccessToken
}

func TestServe(t *testing.T) {
	leakCheck(t)
	r := start(t, testConfig(t))

	if st, body := r.get(t, "/healthz"); st != 200 || !strings.Contains(body, "ok") {
		t.Errorf("GET /healthz = %d %q, want 200 ok", st, body)
	}
	if st, body := r.get(t, "/"); st != 200 || !strings.Contains(body, "seen") {
		t.Errorf("GET / = %d %q, want the placeholder page", st, body)
	}
	if st, _ := r.get(t, "/nothing-here"); st != 404 {
		t.Errorf("GET /nothing-here = %d, want 404", st)
	}
	if !strings.HasPrefix(r.url, "http://127.0.0.1:") || strings.HasSuffix(r.url, ":0") {
		t.Errorf("URL() = %q, want http://127.0.0.1:<port>", r.url)
	}

	// Some traffic, so that every metric has a sample.
	alice, bob := r.register(t, "alice"), r.register(t, "bob")
	var g struct {
		GroupID string `json:"groupId"`
	}
	if st := r.call(t, "POST", "/api/v1/groups", alice, map[string]any{"name": "team", "members": []string{"bob"}}, &g); st != 201 {
		t.Fatalf("create group = %d", st)
	}
	var sent struct {
		ID string `json:"id"`
	}
	msg := map[string]any{"localId": "1", "type": "txt", "chatType": "groupChat", "to": g.GroupID, "msg": "hi", "msgConfig": map[string]any{"allowGroupAck": true}}
	if st := r.call(t, "POST", "/api/v1/messages", alice, msg, &sent); st != 200 {
		t.Fatalf("send = %d", st)
	}
	ack := map[string]any{"items": []map[string]any{{"msgId": sent.ID}}}
	if st := r.call(t, "POST", "/api/v1/groups/"+g.GroupID+"/receipts", bob, ack, nil); st != 200 {
		t.Fatalf("ack = %d", st)
	}
	// A WebSocket session, for the connection and frame metrics.
	c := dial(t, r, "")
	c.request(t, "1", protocol.OpAuth, protocol.Auth{Token: bob, Device: "d1", Version: protocol.Version})
	c.request(t, "2", protocol.OpPing, nil)
	c.close()

	// Frame counters are updated by the session's write loop just after
	// the write, and the closed connection is counted when the session
	// has ended: after shutdown (which waits for every session) every
	// metric is final, and the handler still serves them.
	r.stop(t)
	if _, err := r.client.Get(r.url + "/healthz"); err == nil {
		t.Errorf("GET /healthz after shutdown succeeded, want connection refused")
	}
	req := httptest.NewRequest("GET", "/metrics", nil)
	req.Header.Set("Authorization", "Bearer "+testMetricsToken)
	w := httptest.NewRecorder()
	r.Handler().ServeHTTP(w, req)
	if w.Code != 200 {
		t.Fatalf("GET /metrics after shutdown = %d", w.Code)
	}
	want := []string{
		"seen_connections ",
		"seen_connections_closed_total{code=",
		"seen_frames_in_total{op=\"auth\"} 1",
		"seen_frames_in_total{op=\"ping\"} 1",
		"seen_frames_out_total{op=\"ping\"} 1",
		"seen_messages_sent_total{chat_type=\"groupChat\"} 1",
		"seen_messages_sent_total{chat_type=\"singleChat\"} 0",
		"seen_acks_counted_total 1",
		"seen_receipt_pushes_total 1",
		"seen_store_latency_seconds_bucket{op=\"send\"",
		"seen_batch_size_bucket{op=\"ack\"",
		"go_goroutines",
	}
	for _, m := range want {
		if !strings.Contains(w.Body.String(), m) {
			t.Errorf("/metrics lacks %q", m)
		}
	}
}

func TestHealthzStates(t *testing.T) {
	leakCheck(t)
	s, err := server.New(testConfig(t), testLogger(t))
	if err != nil {
		t.Fatal(err)
	}
	health := func() int {
		w := httptest.NewRecorder()
		s.Handler().ServeHTTP(w, httptest.NewRequest("GET", "/healthz", nil))
		return w.Code
	}
	if got := health(); got != 503 {
		t.Errorf("/healthz before Run = %d, want 503", got)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- s.Run(ctx) }()
	waitServing(t, s)
	if got := health(); got != 200 {
		t.Errorf("/healthz while serving = %d, want 200", got)
	}
	cancel()
	if err := <-done; err != nil {
		t.Errorf("Run = %v", err)
	}
	if got := health(); got != 503 {
		t.Errorf("/healthz after shutdown = %d, want 503", got)
	}
	if err := s.Close(); err != nil {
		t.Errorf("Close after Run = %v", err)
	}
}

func TestCloseWithoutRun(t *testing.T) {
	leakCheck(t)
	cfg := testConfig(t)
	s, err := server.New(cfg, testLogger(t))
	if err != nil {
		t.Fatal(err)
	}
	addr := s.Addr().String()
	if err := s.Close(); err != nil {
		t.Fatalf("Close = %v", err)
	}
	// The port and the database are free again.
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		t.Fatalf("listen on %s after Close: %v", addr, err)
	}
	ln.Close()
	s2, err := server.New(cfg, testLogger(t))
	if err != nil {
		t.Fatalf("second New on the same data dir: %v", err)
	}
	s2.Close()
}

func TestCloseEndsRun(t *testing.T) {
	leakCheck(t)
	s, err := server.New(testConfig(t), testLogger(t))
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- s.Run(context.Background()) }()
	if err := s.Close(); err != nil {
		t.Errorf("Close = %v", err)
	}
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("Run = %v", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Run did not return after Close")
	}
}

func TestThreeServersInOneProcess(t *testing.T) {
	leakCheck(t)
	var rs []*running
	for range 3 {
		rs = append(rs, start(t, testConfig(t)))
	}
	for i, r := range rs {
		// Each is its own node: the same username registers on each.
		tok := r.register(t, "alice")
		if tok == "" {
			t.Errorf("server %d: no token", i)
		}
		if _, body := r.get(t, "/metrics"); !strings.Contains(body, "seen_store_latency_seconds") {
			t.Errorf("server %d: /metrics lacks its own store metrics", i)
		}
	}
	for _, r := range rs {
		r.stop(t)
	}
}

func TestNewFailsCleanly(t *testing.T) {
	leakCheck(t)
	taken, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer taken.Close()

	cfg := testConfig(t)
	cfg.Addr = taken.Addr().String()
	if _, err := server.New(cfg, testLogger(t)); err == nil || !strings.Contains(err.Error(), "listen") {
		t.Errorf("New on a taken port = %v, want a listen error", err)
	}
	// The store it opened was closed: the same data dir opens again.
	cfg.Addr = "127.0.0.1:0"
	s, err := server.New(cfg, testLogger(t))
	if err != nil {
		t.Fatalf("New after a failed New: %v", err)
	}
	s.Close()

	cfg.NATS = "nats://127.0.0.1:1" // nothing listens there
	if _, err := server.New(cfg, testLogger(t)); err == nil || !strings.Contains(err.Error(), "nats") {
		t.Errorf("New with an unreachable NATS = %v, want a nats error", err)
	}
	cfg.NATS = ""
	cfg.DataDir = filepath.Join(t.TempDir(), "file")
	os.WriteFile(cfg.DataDir, nil, 0o600)
	if _, err := server.New(cfg, testLogger(t)); err == nil {
		t.Errorf("New with a data dir that is a file = nil, want an error")
	}
}

func TestShutdownClosesSessionsGoingAway(t *testing.T) {
	leakCheck(t)
	r := start(t, testConfig(t))
	tok := r.register(t, "alice")
	c := dial(t, r, "")
	c.request(t, "1", protocol.OpAuth, protocol.Auth{Token: tok, Device: "d1", Version: protocol.Version})
	if n := r.Sessions(); n != 1 {
		t.Errorf("Sessions() = %d, want 1", n)
	}
	// Read while the server shuts down: the close handshake needs it.
	closed := make(chan error, 1)
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_, _, err := c.conn.Read(ctx)
		closed <- err
	}()
	r.stop(t)
	err := <-closed
	if got := websocket.CloseStatus(err); got != websocket.StatusGoingAway {
		t.Errorf("close status after shutdown = %v (%v), want 1001", got, err)
	}
	c.conn.CloseNow()
}

func TestWebSocketOriginCheck(t *testing.T) {
	leakCheck(t)
	cfg := testConfig(t)
	cfg.AllowedOrigins = []string{"app.example.com"}
	r := start(t, cfg)
	for _, tt := range []struct {
		origin string
		ok     bool
	}{
		{"", true},
		{r.url, true}, // same origin
		{"https://app.example.com", true},
		{"https://evil.example.com", false},
	} {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		h := http.Header{}
		if tt.origin != "" {
			h.Set("Origin", tt.origin)
		}
		conn, res, err := websocket.Dial(ctx, "ws"+strings.TrimPrefix(r.url, "http")+"/ws", &websocket.DialOptions{HTTPHeader: h, HTTPClient: r.client})
		cancel()
		if (err == nil) != tt.ok {
			t.Errorf("dial with Origin %q: err = %v, want ok %v", tt.origin, err, tt.ok)
		}
		if err != nil && res != nil && res.StatusCode != 403 {
			t.Errorf("dial with Origin %q: status %d, want 403", tt.origin, res.StatusCode)
		}
		if conn != nil {
			conn.Close(websocket.StatusNormalClosure, "")
		}
	}
}

func TestTLS(t *testing.T) {
	leakCheck(t)
	cfg := testConfig(t)
	cfg.TLSCert, cfg.TLSKey = selfSigned(t)
	s, err := server.New(cfg, testLogger(t))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(s.URL(), "https://") {
		t.Errorf("URL() = %q, want https", s.URL())
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- s.Run(ctx) }()
	tr := &http.Transport{TLSClientConfig: &tls.Config{InsecureSkipVerify: true}}
	client := &http.Client{Transport: tr, Timeout: 5 * time.Second}
	waitServing(t, s)
	res, err := client.Get(s.URL() + "/healthz")
	if err != nil {
		t.Fatalf("GET https /healthz: %v", err)
	}
	res.Body.Close()
	if res.TLS == nil || res.StatusCode != 200 {
		t.Errorf("GET https /healthz = %d, TLS %v", res.StatusCode, res.TLS != nil)
	}
	tr.CloseIdleConnections()
	cancel()
	if err := <-done; err != nil {
		t.Errorf("Run = %v", err)
	}

	cfg.TLSKey = filepath.Join(t.TempDir(), "missing.pem")
	if _, err := server.New(cfg, testLogger(t)); err == nil || !errors.Is(err, os.ErrNotExist) {
		t.Errorf("New with a missing key = %v, want not exist", err)
	}
}

func selfSigned(t *testing.T) (certFile, keyFile string) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "localhost"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		DNSNames: []string{"localhost"}, IPAddresses: []net.IP{net.ParseIP("127.0.0.1")},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	kb, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	certFile, keyFile = filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	os.WriteFile(certFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600)
	os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: kb}), 0o600)
	return certFile, keyFile
}

// wsConn is a raw WebSocket connection speaking protocol frames.
type wsConn struct {
	conn *websocket.Conn
}

func dial(t *testing.T, r *running, origin string) *wsConn {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	h := http.Header{}
	if origin != "" {
		h.Set("Origin", origin)
	}
	conn, _, err := websocket.Dial(ctx, "ws"+strings.TrimPrefix(r.url, "http")+"/ws", &websocket.DialOptions{HTTPHeader: h, HTTPClient: r.client})
	if err != nil {
		t.Fatalf("dial: %v", err)
	}
	return &wsConn{conn: conn}
}

// request sends a request and waits for its reply, skipping pushes.
func (c *wsConn) request(t *testing.T, id, op string, data any) *protocol.Reply {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	req := protocol.Request{ID: id, Op: op}
	if data != nil {
		b, err := json.Marshal(data)
		if err != nil {
			t.Fatal(err)
		}
		req.Data = b
	}
	b, _ := json.Marshal(req)
	if err := c.conn.Write(ctx, websocket.MessageText, b); err != nil {
		t.Fatalf("write %s: %v", op, err)
	}
	for {
		_, b, err := c.conn.Read(ctx)
		if err != nil {
			t.Fatalf("read reply to %s: %v", op, err)
		}
		reply, _, err := protocol.DecodeServerFrame(b)
		if err != nil {
			t.Fatal(err)
		}
		if reply != nil && reply.ID == id {
			if !reply.OK {
				t.Fatalf("%s failed: %v", op, reply.Error)
			}
			return reply
		}
	}
}

func (c *wsConn) close() { c.conn.Close(websocket.StatusNormalClosure, "") }

// The WebSocket's per-address caps name the client the same way the REST
// limits do: behind a trusted proxy, by X-Forwarded-For.
func TestWebSocketCapsBehindTrustedProxy(t *testing.T) {
	leakCheck(t)
	cfg := testConfig(t)
	cfg.TrustedProxies = []string{"127.0.0.1/32", "::1"}
	cfg.WS.MaxConnsPerAddr, cfg.WS.MaxUnauthPerAddr = 1, 1
	r := start(t, cfg)
	dialFrom := func(client string) (*websocket.Conn, int, error) {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		h := http.Header{"X-Forwarded-For": {client}}
		conn, res, err := websocket.Dial(ctx, "ws"+strings.TrimPrefix(r.url, "http")+"/ws", &websocket.DialOptions{HTTPHeader: h, HTTPClient: r.client})
		status := 0
		if res != nil {
			status = res.StatusCode
		}
		return conn, status, err
	}
	a, _, err := dialFrom("192.0.2.1")
	if err != nil {
		t.Fatalf("first client: %v", err)
	}
	defer a.Close(websocket.StatusNormalClosure, "")
	b, _, err := dialFrom("192.0.2.2")
	if err != nil {
		t.Fatalf("second client behind the same proxy: %v, want its own cap", err)
	}
	defer b.Close(websocket.StatusNormalClosure, "")
	if c, status, err := dialFrom("192.0.2.1"); err == nil || status != http.StatusTooManyRequests {
		if c != nil {
			c.Close(websocket.StatusNormalClosure, "")
		}
		t.Fatalf("first client again: err %v, status %d, want 429", err, status)
	}
}

// TestVendorWebSocketSharesTheCaps: a server started with the defaults
// serves the vendor SDK's msync WebSocket at /websocket, and it counts
// against the same connection caps as /ws: one admission per node.
func TestVendorWebSocketSharesTheCaps(t *testing.T) {
	leakCheck(t)
	cfg := testConfig(t)
	cfg.TrustedProxies = []string{"127.0.0.1/32", "::1"}
	cfg.WS.MaxConnsPerAddr, cfg.WS.MaxUnauthPerAddr = 1, 1
	r := start(t, cfg)
	dialFrom := func(path, client string) (*websocket.Conn, int, error) {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		h := http.Header{"X-Forwarded-For": {client}}
		conn, res, err := websocket.Dial(ctx, "ws"+strings.TrimPrefix(r.url, "http")+path, &websocket.DialOptions{HTTPHeader: h, HTTPClient: r.client})
		status := 0
		if res != nil {
			status = res.StatusCode
		}
		return conn, status, err
	}
	v, _, err := dialFrom("/websocket", "192.0.2.1")
	if err != nil {
		t.Fatalf("/websocket: %v, want the vendor endpoint served with no flags", err)
	}
	defer v.CloseNow()
	if c, status, err := dialFrom("/ws", "192.0.2.1"); err == nil || status != http.StatusTooManyRequests {
		if c != nil {
			c.CloseNow()
		}
		t.Fatalf("/ws from the address holding a /websocket connection: err %v, status %d, want 429 (one cap for both)", err, status)
	}
	w, _, err := dialFrom("/ws", "192.0.2.2")
	if err != nil {
		t.Fatalf("/ws from another address: %v", err)
	}
	defer w.CloseNow()
	if c, status, err := dialFrom("/websocket", "192.0.2.2"); err == nil || status != http.StatusTooManyRequests {
		if c != nil {
			c.CloseNow()
		}
		t.Fatalf("/websocket from the address holding a /ws connection: err %v, status %d, want 429", err, status)
	}
}
