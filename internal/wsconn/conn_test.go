package wsconn

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/gobwas/ws"
)

const max = 1 << 16

// server starts an httptest server whose handler upgrades with patterns and
// hands each Conn to serve (in the handler's goroutine). It returns the
// ws:// URL.
func server(t testing.TB, patterns []string, serve func(*Conn)) string {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c, err := Upgrade(w, r, patterns)
		if err != nil {
			return
		}
		serve(c)
	}))
	t.Cleanup(srv.Close)
	return "ws" + strings.TrimPrefix(srv.URL, "http")
}

// echo echoes every message until an error, then closes.
func echo(c *Conn) {
	defer c.CloseNow()
	for {
		bin, msg, err := c.ReadMessage(max)
		if errors.Is(err, ErrTooLarge) {
			if _, err := c.WriteMessages(time.Second, false, []byte("too large")); err != nil {
				return
			}
			continue
		}
		if err != nil {
			return
		}
		if _, err := c.WriteMessages(5*time.Second, bin, msg); err != nil {
			return
		}
	}
}

func ctx(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	t.Cleanup(cancel)
	return ctx
}

func dialCoder(t *testing.T, url string) *websocket.Conn {
	t.Helper()
	c, _, err := websocket.Dial(ctx(t), url, nil)
	if err != nil {
		t.Fatalf("coder dial: %v", err)
	}
	c.SetReadLimit(1 << 24)
	t.Cleanup(func() { c.CloseNow() })
	return c
}

func dial(t *testing.T, url string) *Conn {
	t.Helper()
	c, err := Dial(ctx(t), url, nil, nil)
	if err != nil {
		t.Fatalf("Dial: %v", err)
	}
	t.Cleanup(func() { c.CloseNow() })
	return c
}

func TestHandshake(t *testing.T) {
	url := server(t, []string{"*.example.com", "https://app.test"}, echo)
	httpURL := "http" + strings.TrimPrefix(url, "ws")
	host := strings.TrimPrefix(httpURL, "http://")
	for _, tc := range []struct {
		name   string
		header map[string]string
		want   int
	}{
		{"no origin", nil, http.StatusSwitchingProtocols},
		{"same host", map[string]string{"Origin": "http://" + strings.ToUpper(host)}, http.StatusSwitchingProtocols},
		{"host pattern", map[string]string{"Origin": "https://a.example.com"}, http.StatusSwitchingProtocols},
		{"scheme pattern", map[string]string{"Origin": "https://app.test"}, http.StatusSwitchingProtocols},
		{"scheme pattern, other scheme", map[string]string{"Origin": "http://app.test"}, http.StatusForbidden},
		{"other origin", map[string]string{"Origin": "https://evil.test"}, http.StatusForbidden},
		{"wrong version", map[string]string{"Sec-WebSocket-Version": "8"}, http.StatusUpgradeRequired},
		{"no key", map[string]string{"Sec-WebSocket-Key": ""}, http.StatusBadRequest},
		{"no upgrade", map[string]string{"Upgrade": ""}, http.StatusBadRequest},
	} {
		t.Run(tc.name, func(t *testing.T) {
			req, _ := http.NewRequestWithContext(ctx(t), http.MethodGet, httpURL, nil)
			req.Header.Set("Connection", "Upgrade")
			req.Header.Set("Upgrade", "websocket")
			req.Header.Set("Sec-WebSocket-Version", "13")
			req.Header.Set("Sec-WebSocket-Key", "dGhlIHNhbXBsZSBub25jZQ==")
			for k, v := range tc.header {
				if v == "" {
					req.Header.Del(k)
				} else {
					req.Header.Set(k, v)
				}
			}
			resp, err := http.DefaultTransport.RoundTrip(req)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			if resp.StatusCode != tc.want {
				t.Fatalf("status = %d, want %d", resp.StatusCode, tc.want)
			}
			if tc.want != http.StatusSwitchingProtocols {
				body, _ := io.ReadAll(resp.Body)
				if len(bytes.TrimSpace(body)) == 0 {
					t.Errorf("error response has no body")
				}
			}
		})
	}
}

func TestRoundTripCoderClient(t *testing.T) {
	c := dialCoder(t, server(t, nil, echo))
	for _, typ := range []websocket.MessageType{websocket.MessageText, websocket.MessageBinary} {
		for _, size := range []int{0, 1, 125, 126, 65535, 65536, 200000} {
			want := bytes.Repeat([]byte{'a' + byte(size%26)}, size)
			if size > max {
				c.Write(ctx(t), typ, want)
				_, got, err := c.Read(ctx(t))
				if err != nil || string(got) != "too large" {
					t.Fatalf("Read after %d bytes = %q, %v, want too large", size, got, err)
				}
				continue
			}
			if err := c.Write(ctx(t), typ, want); err != nil {
				t.Fatal(err)
			}
			gotTyp, got, err := c.Read(ctx(t))
			if err != nil || gotTyp != typ || !bytes.Equal(got, want) {
				t.Fatalf("echo of %v %d bytes = %v %d bytes, %v", typ, size, gotTyp, len(got), err)
			}
		}
	}
}

func TestRoundTripDial(t *testing.T) {
	c := dial(t, server(t, nil, echo))
	for _, bin := range []bool{false, true} {
		for _, size := range []int{0, 5, 126, 65000} {
			want := bytes.Repeat([]byte("xy"), size/2)
			if _, err := c.WriteMessages(time.Second, bin, want); err != nil {
				t.Fatal(err)
			}
			gotBin, got, err := c.ReadMessage(1 << 20)
			if err != nil || gotBin != bin || !bytes.Equal(got, want) {
				t.Fatalf("echo of %d bytes (binary %v) = %d bytes (binary %v), %v", len(want), bin, len(got), gotBin, err)
			}
		}
	}
}

// TestDialCoderServer: our client against coder's server, including frames
// the server writes right after the handshake.
func TestDialCoderServer(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c, err := websocket.Accept(w, r, nil)
		if err != nil {
			return
		}
		defer c.CloseNow()
		ctx := r.Context()
		c.Write(ctx, websocket.MessageText, []byte("hello"))
		for {
			typ, b, err := c.Read(ctx)
			if err != nil {
				return
			}
			c.Write(ctx, typ, b)
		}
	}))
	defer srv.Close()
	c := dial(t, "ws"+strings.TrimPrefix(srv.URL, "http"))
	if bin, got, err := c.ReadMessage(max); err != nil || bin || string(got) != "hello" {
		t.Fatalf("first message = %v %q, %v", bin, got, err)
	}
	if _, err := c.WriteMessages(time.Second, true, []byte{1, 2, 3}); err != nil {
		t.Fatal(err)
	}
	if bin, got, err := c.ReadMessage(max); err != nil || !bin || !bytes.Equal(got, []byte{1, 2, 3}) {
		t.Fatalf("echo = %v %v, %v", bin, got, err)
	}
	if err := c.Close(4005, "done"); err != nil {
		t.Fatalf("Close = %v", err)
	}
}

func TestFragmented(t *testing.T) {
	got := make(chan string, 1)
	url := server(t, nil, func(c *Conn) {
		defer c.CloseNow()
		bin, msg, err := c.ReadMessage(max)
		got <- fmt.Sprintf("%v %s %v", bin, msg, err)
	})
	c := dialCoder(t, url)
	w, err := c.Writer(ctx(t), websocket.MessageText)
	if err != nil {
		t.Fatal(err)
	}
	for _, part := range []string{"one ", "two ", "three"} {
		if _, err := w.Write([]byte(part)); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	if g, want := <-got, "false one two three <nil>"; g != want {
		t.Fatalf("ReadMessage = %q, want %q", g, want)
	}
}

func TestPing(t *testing.T) {
	t.Run("server pings", func(t *testing.T) {
		res := make(chan error, 1)
		url := server(t, nil, func(c *Conn) {
			defer c.CloseNow()
			go c.ReadMessage(max)
			res <- c.Ping(ctx(t))
		})
		c := dialCoder(t, url)
		go c.Read(ctx(t)) // answers pings
		if err := <-res; err != nil {
			t.Fatalf("Ping = %v", err)
		}
	})
	t.Run("client pings", func(t *testing.T) {
		c := dialCoder(t, server(t, nil, echo))
		go c.Read(ctx(t))
		if err := c.Ping(ctx(t)); err != nil {
			t.Fatalf("coder Ping = %v", err)
		}
	})
	t.Run("Dial pings", func(t *testing.T) {
		c := dial(t, server(t, nil, echo))
		go c.ReadMessage(max)
		if err := c.Ping(ctx(t)); err != nil {
			t.Fatalf("Ping = %v", err)
		}
	})
}

func TestCloseHandshake(t *testing.T) {
	t.Run("server closes", func(t *testing.T) {
		res := make(chan error, 1)
		url := server(t, nil, func(c *Conn) {
			res <- c.Close(4001, "auth failed") // nobody reads: Close reads itself
		})
		c := dialCoder(t, url)
		_, _, err := c.Read(ctx(t))
		var ce websocket.CloseError
		if !errors.As(err, &ce) || ce.Code != 4001 || ce.Reason != "auth failed" {
			t.Fatalf("coder Read = %v, want close 4001 auth failed", err)
		}
		if err := <-res; err != nil {
			t.Fatalf("Close = %v", err)
		}
	})
	t.Run("server closes while reading", func(t *testing.T) {
		res := make(chan error, 2)
		url := server(t, nil, func(c *Conn) {
			go func() { _, _, err := c.ReadMessage(max); res <- err }()
			time.Sleep(10 * time.Millisecond) // let the read start; either way must work
			res <- c.Close(4002, "")
		})
		c := dialCoder(t, url)
		_, _, err := c.Read(ctx(t))
		if websocket.CloseStatus(err) != 4002 {
			t.Fatalf("coder Read = %v, want close 4002", err)
		}
		for range 2 {
			if err := <-res; err != nil && !isClose(err, 4002) {
				t.Fatalf("server = %v", err)
			}
		}
	})
	t.Run("peer vanishes while server reads", func(t *testing.T) {
		// The peer drops TCP after the server's close frame without
		// answering it: the reader's EOF ends Close's wait, not the timeout.
		res := make(chan time.Duration, 1)
		url := server(t, nil, func(c *Conn) {
			go c.ReadMessage(max)
			for c.rmu.TryLock() { // until the read holds the read side
				c.rmu.Unlock()
				time.Sleep(time.Millisecond)
			}
			start := time.Now()
			c.Close(1001, "going away")
			res <- time.Since(start)
		})
		nc, _, _, err := ws.Dial(ctx(t), url)
		if err != nil {
			t.Fatal(err)
		}
		var b [64]byte
		if _, err := nc.Read(b[:]); err != nil { // the close frame
			t.Fatal(err)
		}
		// Close is waiting by now (it got here within microseconds); if
		// it is not, it reads the EOF itself and the test proves less.
		time.Sleep(100 * time.Millisecond)
		nc.Close()
		if d := <-res; d >= controlTimeout {
			t.Fatalf("Close waited %v: the reader's EOF did not end the wait", d)
		}
	})
	t.Run("client closes", func(t *testing.T) {
		res := make(chan error, 1)
		url := server(t, nil, func(c *Conn) {
			defer c.CloseNow()
			_, _, err := c.ReadMessage(max)
			res <- err
		})
		c := dialCoder(t, url)
		if err := c.Close(4003, "replaced"); err != nil {
			t.Fatalf("coder Close = %v (the handshake did not complete)", err)
		}
		err := <-res
		var ce *CloseError
		if !errors.As(err, &ce) || ce.Code != 4003 || ce.Reason != "replaced" {
			t.Fatalf("ReadMessage = %v, want close 4003 replaced", err)
		}
	})
	t.Run("Dial closes", func(t *testing.T) {
		res := make(chan error, 1)
		url := server(t, nil, func(c *Conn) {
			defer c.CloseNow()
			_, _, err := c.ReadMessage(max)
			res <- err
		})
		c := dial(t, url)
		if err := c.Close(1000, ""); err != nil {
			t.Fatal(err)
		}
		if err := <-res; !isClose(err, 1000) {
			t.Fatalf("ReadMessage = %v, want close 1000", err)
		}
		if err := c.Close(1000, ""); err != nil {
			t.Fatalf("second Close = %v", err)
		}
		if _, err := c.WriteMessages(time.Second, true, []byte("x")); !errors.Is(err, ErrClosed) {
			t.Fatalf("WriteMessages after Close = %v, want ErrClosed", err)
		}
	})
}

func isClose(err error, code int) bool {
	var ce *CloseError
	return errors.As(err, &ce) && ce.Code == code
}

func TestTooLarge(t *testing.T) {
	res := make(chan string, 4)
	url := server(t, nil, func(c *Conn) {
		defer c.CloseNow()
		for {
			_, msg, err := c.ReadMessage(100)
			res <- fmt.Sprintf("%s %v", msg, err)
			if err != nil && !errors.Is(err, ErrTooLarge) {
				return
			}
		}
	})
	c := dialCoder(t, url)
	// Fragmented, so the excess arrives in later frames too.
	w, _ := c.Writer(ctx(t), websocket.MessageText)
	for range 10 {
		w.Write(bytes.Repeat([]byte("z"), 50))
	}
	w.Close()
	c.Write(ctx(t), websocket.MessageText, []byte("next"))
	if got := <-res; got != " "+ErrTooLarge.Error() {
		t.Fatalf("ReadMessage = %q, want ErrTooLarge", got)
	}
	if got := <-res; got != "next <nil>" {
		t.Fatalf("ReadMessage after too large = %q, want next", got)
	}
	// Over 16*max: the connection is closed.
	c.Write(ctx(t), websocket.MessageBinary, make([]byte, 1601))
	if got := <-res; got != " "+ErrTooLarge.Error() {
		t.Fatalf("ReadMessage = %q, want ErrTooLarge", got)
	}
	if _, _, err := c.Read(ctx(t)); err == nil {
		t.Fatalf("connection still open after a message over 16*max")
	}
}

func TestWriteMessagesBatch(t *testing.T) {
	const n = 100
	url := server(t, nil, func(c *Conn) {
		defer c.CloseNow()
		msgs := make([][]byte, n)
		for i := range msgs {
			msgs[i] = []byte(fmt.Sprintf("msg %d %s", i, strings.Repeat("p", i*50)))
		}
		if got, err := c.WriteMessages(5*time.Second, false, msgs...); got != n || err != nil {
			t.Errorf("WriteMessages = %d, %v, want %d", got, err, n)
		}
		c.ReadMessage(max)
	})
	for _, name := range []string{"coder", "Dial"} {
		t.Run(name, func(t *testing.T) {
			var next func() (string, error)
			if name == "coder" {
				c := dialCoder(t, url)
				next = func() (string, error) { _, b, err := c.Read(ctx(t)); return string(b), err }
			} else {
				c := dial(t, url)
				next = func() (string, error) { _, b, err := c.ReadMessage(max); return string(b), err }
			}
			for i := range n {
				got, err := next()
				want := fmt.Sprintf("msg %d %s", i, strings.Repeat("p", i*50))
				if err != nil || got != want {
					t.Fatalf("message %d = %.20q, %v, want %.20q", i, got, err, want)
				}
			}
		})
	}
}

// TestWriteStalledPeer: a peer that stops reading makes WriteMessages fail
// with the deadline once the socket buffers are full.
func TestWriteStalledPeer(t *testing.T) {
	res := make(chan error, 1)
	url := server(t, nil, func(c *Conn) {
		defer c.CloseNow()
		big := make([]byte, 1<<20)
		for i := 0; ; i++ {
			if _, err := c.WriteMessages(200*time.Millisecond, true, big, big); err != nil {
				res <- err
				return
			}
			if i > 1000 {
				res <- errors.New("1 GiB written to a peer that reads nothing")
				return
			}
		}
	})
	_ = dial(t, url) // never reads
	if err := <-res; !errors.Is(err, os.ErrDeadlineExceeded) {
		t.Fatalf("WriteMessages = %v, want a deadline error", err)
	}
}

func TestConcurrentWriters(t *testing.T) {
	const writers, batches, per = 4, 50, 5
	url := server(t, nil, func(c *Conn) {
		defer c.CloseNow()
		var wg sync.WaitGroup
		for w := range writers {
			wg.Go(func() {
				for b := range batches {
					msgs := make([][]byte, per)
					for i := range msgs {
						msgs[i] = fmt.Appendf(nil, "%d %d %s", w, b*per+i, strings.Repeat(string(rune('a'+w)), 3000))
					}
					if _, err := c.WriteMessages(5*time.Second, false, msgs...); err != nil {
						t.Error(err)
						return
					}
				}
			})
		}
		go c.Ping(ctx(t)) // a control frame among them
		wg.Wait()
		c.ReadMessage(max)
	})
	c := dial(t, url)
	next := make([]int, writers)
	for range writers * batches * per {
		_, b, err := c.ReadMessage(max)
		if err != nil {
			t.Fatal(err)
		}
		var w, i int
		var body string
		if _, err := fmt.Sscanf(string(b), "%d %d %s", &w, &i, &body); err != nil || body != strings.Repeat(string(rune('a'+w)), 3000) {
			t.Fatalf("interleaved frame: %.40q (%v)", b, err)
		}
		if i != next[w] {
			t.Fatalf("writer %d: message %d, want %d", w, i, next[w])
		}
		next[w]++
	}
}

// TestIdleHoldsNoBuffer: connections waiting in ReadMessage hold no read
// buffer, and a message that arrives while they wait is read.
func TestIdleHoldsNoBuffer(t *testing.T) {
	const n = 20
	base := held.Load()
	ready := make(chan struct{}, n)
	url := server(t, nil, func(c *Conn) {
		defer c.CloseNow()
		for {
			if _, _, err := c.ReadMessage(max); err != nil {
				return
			}
			ready <- struct{}{}
		}
	})
	conns := make([]*Conn, n)
	for i := range conns {
		conns[i] = dial(t, url)
		if _, err := conns[i].WriteMessages(time.Second, true, []byte("hello")); err != nil {
			t.Fatal(err)
		}
	}
	for range n {
		<-ready
	}
	// Every server conn is back in ReadMessage or about to be: it released
	// its message buffer at the start of the call and holds no reader.
	deadline := time.Now().Add(5 * time.Second)
	for held.Load() != base && time.Now().Before(deadline) {
		time.Sleep(time.Millisecond)
	}
	if got := held.Load() - base; got != 0 {
		t.Fatalf("idle connections hold %d read buffers, want 0", got)
	}
	// A second message still arrives (the wait sees bytes that came before it).
	for _, c := range conns {
		c.WriteMessages(time.Second, true, []byte("again"))
	}
	for range n {
		<-ready
	}
}

// TestWriteDeadlineMovesLazily: a write deadline that still gives a write
// at least three quarters of its timeout is kept; a shorter timeout (a
// control frame after data) or an older deadline moves it.
func TestWriteDeadlineMovesLazily(t *testing.T) {
	a, b := net.Pipe()
	defer a.Close()
	defer b.Close()
	c := newConn(a, false, nil)
	if err := c.writeDeadline(time.Hour); err != nil {
		t.Fatal(err)
	}
	first := c.wdeadline
	if err := c.writeDeadline(time.Hour); err != nil {
		t.Fatal(err)
	}
	if c.wdeadline != first {
		t.Errorf("deadline moved from %v to %v, want it kept", first, c.wdeadline)
	}
	if err := c.writeDeadline(time.Minute); err != nil {
		t.Fatal(err)
	}
	if until := time.Until(c.wdeadline); until > time.Minute {
		t.Errorf("deadline %v away after a 1m timeout, want at most 1m", until)
	}
	c.wdeadline = time.Now().Add(-time.Second) // passed
	if err := c.writeDeadline(time.Minute); err != nil {
		t.Fatal(err)
	}
	if until := time.Until(c.wdeadline); until < 45*time.Second {
		t.Errorf("deadline %v away, want at least 45s", until)
	}
}
