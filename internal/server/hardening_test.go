package server_test

import (
	"bytes"
	"compress/gzip"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	"seen/internal/server"
	"seen/sdk"
)

// shortHTTP is a config whose HTTP timeouts are short enough to watch.
func shortHTTP(t *testing.T, d time.Duration) server.Config {
	cfg := testConfig(t)
	cfg.HTTP.ReadHeaderTimeout = d
	cfg.HTTP.ReadTimeout = d
	cfg.HTTP.WriteTimeout = d
	return cfg
}

// readUntilClosed reads c until the server closes it, or fails the test
// when it is still open after wait.
func readUntilClosed(t *testing.T, c net.Conn, wait time.Duration) []byte {
	t.Helper()
	_ = c.SetReadDeadline(time.Now().Add(wait))
	b, err := io.ReadAll(c)
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() {
		t.Fatalf("the server kept the connection open for %v (read %d bytes)", wait, len(b))
	}
	if err != nil && !errors.Is(err, syscall.ECONNRESET) {
		t.Fatalf("read: %v", err)
	}
	return b
}

// TestTricklingBodyIsCut: a client sending its body a byte at a time is
// cut at the read timeout (slowloris on the body).
func TestTricklingBodyIsCut(t *testing.T) {
	leakCheck(t)
	r := start(t, shortHTTP(t, 300*time.Millisecond))
	c, err := net.Dial("tcp", r.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	fmt.Fprintf(c, "POST /api/v1/users HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 100000\r\n\r\n{")
	stop := make(chan struct{})
	defer close(stop)
	go func() {
		tick := time.NewTicker(20 * time.Millisecond)
		defer tick.Stop()
		for {
			select {
			case <-stop:
				return
			case <-tick.C:
				if _, err := c.Write([]byte(" ")); err != nil {
					return
				}
			}
		}
	}()
	// The trickle would take over half an hour; the server must close
	// the connection long before.
	reply := readUntilClosed(t, c, 10*time.Second)
	if bytes.HasPrefix(reply, []byte("HTTP/1.1 2")) {
		t.Errorf("a trickled request succeeded: %.100s", reply)
	}
}

// TestNonReadingClientIsCut: a client that asks for a large reply and
// never reads it is cut at the write timeout instead of holding the
// reply's memory.
func TestNonReadingClientIsCut(t *testing.T) {
	leakCheck(t)
	cfg := shortHTTP(t, 500*time.Millisecond)
	r := start(t, cfg)
	alice := r.register(t, "alice")
	r.register(t, "bob")
	big := strings.Repeat("x", 60_000)
	for i := range 20 {
		body := map[string]any{"localId": fmt.Sprint("l", i), "chatType": "singleChat", "to": "bob", "type": "txt", "msg": big}
		if st := r.call(t, "POST", "/api/v1/messages", alice, body, nil); st != 200 {
			t.Fatalf("send %d = %d", i, st)
		}
	}
	const path = "/api/v1/history?chatType=singleChat&to=bob&limit=50"
	// What a reading client gets.
	req, _ := http.NewRequest("GET", r.url+path, nil)
	req.Header.Set("Authorization", "Bearer "+alice)
	res, err := r.client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	full, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if res.StatusCode != 200 || len(full) < 500_000 {
		t.Fatalf("history = %d, %d bytes; want 200 and a large page", res.StatusCode, len(full))
	}

	// A client with a tiny receive window that reads nothing.
	d := net.Dialer{Control: func(_, _ string, rc syscall.RawConn) error {
		return rc.Control(func(fd uintptr) { _ = syscall.SetsockoptInt(int(fd), syscall.SOL_SOCKET, syscall.SO_RCVBUF, 4096) })
	}}
	c, err := d.Dial("tcp", r.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	// Pipelined, so that the replies together overflow the socket
	// buffers (which alone hold a few MB on loopback) and the server's
	// write blocks.
	const n = 12
	for range n {
		fmt.Fprintf(c, "GET %s HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer %s\r\n\r\n", path, alice)
	}
	time.Sleep(4 * cfg.HTTP.WriteTimeout) // the behaviour under test is "does not read for a while"
	got := readUntilClosed(t, c, 20*time.Second)
	if len(got) >= n*len(full) {
		t.Errorf("the non-reading client got every reply (%d bytes of %d): not cut", len(got), n*len(full))
	}
}

// TestWebSocketOutlivesHTTPTimeouts: the HTTP timeouts end at the
// upgrade; a WebSocket lives on, idle and busy, long past them.
func TestWebSocketOutlivesHTTPTimeouts(t *testing.T) {
	cfg := shortHTTP(t, 200*time.Millisecond)
	e := newE2E(t, cfg)
	tok := e.user("carol")
	e.user("dave")
	c := e.dial(tok, "d1")
	ctx := ctxT(t)
	for i := range 3 {
		time.Sleep(2 * cfg.HTTP.ReadTimeout) // idle past every HTTP timeout
		if _, err := c.SendText(ctx, "singleChat", "dave", fmt.Sprint("still here ", i)); err != nil {
			t.Fatalf("send after %v idle: %v", time.Duration(i+1)*2*cfg.HTTP.ReadTimeout, err)
		}
	}
	select {
	case <-c.Done():
		t.Fatalf("the WebSocket ended: %v", c.Err())
	default:
	}
}

// TestSecurityHeaders: the demo, the SDK and the API are served with a
// Content-Security-Policy the demo can live with, nosniff, a referrer
// policy and no framing.
func TestSecurityHeaders(t *testing.T) {
	r := start(t, testConfig(t))
	for _, p := range []string{"/", "/assets/app.js", "/sdk/webim.js", "/api/v1/groups", "/healthz"} {
		res, err := r.client.Get(r.url + p)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		h := res.Header
		csp := h.Get("Content-Security-Policy")
		for _, want := range []string{"default-src 'self'", "script-src 'self'", "frame-ancestors 'none'", "object-src 'none'", "connect-src 'self'"} {
			if !strings.Contains(csp, want) {
				t.Errorf("GET %s: Content-Security-Policy %q lacks %q", p, csp, want)
			}
		}
		if strings.Contains(csp, "unsafe") {
			t.Errorf("GET %s: Content-Security-Policy %q allows unsafe sources", p, csp)
		}
		if h.Get("X-Content-Type-Options") != "nosniff" || h.Get("Referrer-Policy") != "no-referrer" || h.Get("X-Frame-Options") != "DENY" {
			t.Errorf("GET %s: nosniff %q, Referrer-Policy %q, X-Frame-Options %q", p,
				h.Get("X-Content-Type-Options"), h.Get("Referrer-Policy"), h.Get("X-Frame-Options"))
		}
	}
}

// TestDemoFitsTheCSP: the demo page has no inline script, style or
// event handler, which the policy (script-src and style-src 'self')
// would block.
func TestDemoFitsTheCSP(t *testing.T) {
	r := start(t, testConfig(t))
	_, page := r.get(t, "/")
	for _, tag := range regexp.MustCompile(`(?is)<script\b[^>]*>`).FindAllString(page, -1) {
		if !strings.Contains(tag, "src=") {
			t.Errorf("inline script %s in the demo page", tag)
		}
	}
	if regexp.MustCompile(`(?is)<style\b|\sstyle=|\son[a-z]+=|javascript:`).MatchString(page) {
		t.Errorf("inline style or event handler in the demo page:\n%s", page)
	}
}

// TestGzip: the SDK bundle and the demo's files are served gzipped to
// clients that accept it, with Vary: Accept-Encoding, and plain to the
// others.
func TestGzip(t *testing.T) {
	r := start(t, testConfig(t))
	raw := &http.Client{Transport: &http.Transport{DisableCompression: true}}
	defer raw.CloseIdleConnections()
	get := func(path, accept string) (*http.Response, []byte) {
		req, _ := http.NewRequest("GET", r.url+path, nil)
		if accept != "" {
			req.Header.Set("Accept-Encoding", accept)
		}
		res, err := raw.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		b, _ := io.ReadAll(res.Body)
		return res, b
	}
	app, err := os.ReadFile("../../demo/dist/assets/app.js")
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		path string
		want []byte
	}{{"/sdk/webim.js", sdk.Bundle}, {"/assets/app.js", app}} {
		res, b := get(tc.path, "br, gzip;q=0.8, deflate")
		if res.Header.Get("Content-Encoding") != "gzip" || !strings.Contains(res.Header.Get("Vary"), "Accept-Encoding") {
			t.Fatalf("GET %s: Content-Encoding %q, Vary %q; want gzip, Accept-Encoding", tc.path, res.Header.Get("Content-Encoding"), res.Header.Get("Vary"))
		}
		if len(b) >= len(tc.want)/2 {
			t.Errorf("GET %s: %d gzipped bytes for %d", tc.path, len(b), len(tc.want))
		}
		zr, err := gzip.NewReader(bytes.NewReader(b))
		if err != nil {
			t.Fatal(err)
		}
		plain, err := io.ReadAll(zr)
		if err != nil || !bytes.Equal(plain, tc.want) {
			t.Errorf("GET %s: the gzipped body is not the file (%v)", tc.path, err)
		}
		gzTag := res.Header.Get("ETag")

		for _, accept := range []string{"", "identity", "gzip;q=0"} {
			res, b = get(tc.path, accept)
			if res.Header.Get("Content-Encoding") != "" || !bytes.Equal(b, tc.want) {
				t.Errorf("GET %s with Accept-Encoding %q: Content-Encoding %q, %d bytes; want the plain file", tc.path, accept, res.Header.Get("Content-Encoding"), len(b))
			}
			if res.Header.Get("ETag") == gzTag {
				t.Errorf("GET %s: the plain and gzipped forms share the ETag %s", tc.path, gzTag)
			}
		}
	}
}

// TestMetricsAccess: /metrics is off the main address by default, needs
// the token there, and can have a listener of its own.
func TestMetricsAccess(t *testing.T) {
	status := func(url, token string) int {
		req, _ := http.NewRequest("GET", url+"/metrics", nil)
		if token != "" {
			req.Header.Set("Authorization", "Bearer "+token)
		}
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		io.Copy(io.Discard, res.Body)
		res.Body.Close()
		return res.StatusCode
	}
	t.Run("default: off", func(t *testing.T) {
		cfg := testConfig(t)
		cfg.MetricsToken = ""
		r := start(t, cfg)
		if st := status(r.url, ""); st != 404 {
			t.Errorf("GET /metrics = %d, want 404", st)
		}
	})
	t.Run("token", func(t *testing.T) {
		r := start(t, testConfig(t))
		for token, want := range map[string]int{"": 401, "wrong-token-0123456789": 401, testMetricsToken: 200} {
			if st := status(r.url, token); st != want {
				t.Errorf("GET /metrics with token %q = %d, want %d", token, st, want)
			}
		}
	})
	t.Run("own listener", func(t *testing.T) {
		cfg := testConfig(t)
		cfg.MetricsToken = ""
		cfg.MetricsAddr = "127.0.0.1:0"
		r := start(t, cfg)
		if st := status(r.url, testMetricsToken); st != 404 {
			t.Errorf("GET /metrics on the main address = %d, want 404", st)
		}
		if st := status("http://"+r.MetricsAddr().String(), ""); st != 200 {
			t.Errorf("GET /metrics on --metrics-addr = %d, want 200", st)
		}
	})
}
