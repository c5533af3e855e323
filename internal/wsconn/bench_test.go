package wsconn

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/gobwas/ws"
)

// BenchmarkWriteMessages: a server writes batches of 16 ack-sized frames
// to a client that discards them.
func BenchmarkWriteMessages(b *testing.B) {
	for _, batch := range []int{1, 16} {
		b.Run(fmt.Sprint("batch=", batch), func(b *testing.B) {
			done := make(chan struct{})
			url := server(b, nil, func(c *Conn) {
				defer c.CloseNow()
				msgs := make([][]byte, batch)
				for i := range msgs {
					msgs[i] = []byte(`{"type":"ack_ok","id":"1234567890","count":42}`)
				}
				b.ResetTimer()
				for range b.N {
					if _, err := c.WriteMessages(5*time.Second, false, msgs...); err != nil {
						b.Error(err)
						break
					}
				}
				b.StopTimer()
				close(done)
			})
			nc, _, _, err := ws.Dial(context.Background(), url)
			if err != nil {
				b.Fatal(err)
			}
			defer nc.Close()
			go io.Copy(io.Discard, nc)
			<-done
			b.ReportMetric(float64(b.N*batch)/b.Elapsed().Seconds(), "frames/s")
		})
	}
}

// BenchmarkEcho: a Dial client writes a frame and waits for its echo.
func BenchmarkEcho(b *testing.B) {
	c, err := Dial(context.Background(), server(b, nil, echo), nil, nil)
	if err != nil {
		b.Fatal(err)
	}
	defer c.CloseNow()
	msg := []byte(`{"type":"ack","group_id":"g1","msg_id":"1234567890"}`)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := c.WriteMessages(5*time.Second, false, msg); err != nil {
			b.Fatal(err)
		}
		if _, got, err := c.ReadMessage(max); err != nil || !bytes.Equal(got, msg) {
			b.Fatalf("echo = %q, %v", got, err)
		}
	}
}

// BenchmarkIdleConn measures what an idle server-side connection costs, a
// goroutine waiting in a read on each: wsconn against coder/websocket. The
// clients are bare sockets after a gobwas handshake (no goroutine, no
// buffer), the same for both, so the difference is the server's stack. It
// reports heap+stack bytes per connection (the client sockets included) and
// RSS growth per connection. Run with -benchtime=1x.
func BenchmarkIdleConn(b *testing.B) {
	const n = 2000
	for _, impl := range []string{"wsconn", "coder"} {
		b.Run(impl, func(b *testing.B) {
			for range b.N {
				idle(b, impl, n)
			}
		})
	}
}

func idle(b *testing.B, impl string, n int) {
	accepted := make(chan struct{}, n)
	stop := make(chan struct{})
	h := func(w http.ResponseWriter, r *http.Request) {
		if impl == "coder" {
			c, err := websocket.Accept(w, r, nil)
			if err != nil {
				return
			}
			go func() {
				defer c.CloseNow()
				accepted <- struct{}{}
				c.Read(context.Background())
			}()
			return
		}
		c, err := Upgrade(w, r, nil)
		if err != nil {
			return
		}
		go func() {
			defer c.CloseNow()
			accepted <- struct{}{}
			c.ReadMessage(max)
		}()
	}
	srv := httptest.NewServer(http.HandlerFunc(h))
	defer srv.Close()
	defer close(stop)
	url := "ws" + strings.TrimPrefix(srv.URL, "http")

	before, rssBefore := memNow()
	conns := make([]net.Conn, 0, n)
	defer func() {
		for _, c := range conns {
			c.Close()
		}
	}()
	for range n {
		nc, _, _, err := ws.Dial(context.Background(), url)
		if err != nil {
			b.Fatal(err)
		}
		conns = append(conns, nc)
		<-accepted
	}
	time.Sleep(100 * time.Millisecond) // let the handlers' goroutines finish
	after, rssAfter := memNow()
	b.ReportMetric(float64(after-before)/float64(n), "heap+stack-B/conn")
	b.ReportMetric(float64(rssAfter-rssBefore)/float64(n), "rss-B/conn")
}

// memNow is the heap and stack in use after a GC, and the process's RSS.
func memNow() (uint64, uint64) {
	for range 6 { // each GC halves the stacks that use under a quarter
		runtime.GC()
	}
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return m.HeapInuse + m.StackInuse, rss()
}

func rss() uint64 {
	b, err := os.ReadFile("/proc/self/statm")
	if err != nil {
		return 0
	}
	var size, res uint64
	fmt.Sscan(string(b), &size, &res)
	return res * 4096
}
