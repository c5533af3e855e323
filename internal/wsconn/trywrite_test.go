//go:build linux

package wsconn

import (
	"bytes"
	"fmt"
	"testing"
	"time"
)

// TestTryWriteMessages: against a peer that does not read yet, the tries
// take messages while the socket has room, then begin one and keep its
// rest (pending), then take none; a Ping and WriteMessages with no
// messages write the rest first. Once the peer reads, it gets every
// message taken, whole and in order, then the ones written after.
func TestTryWriteMessages(t *testing.T) {
	type result struct {
		taken    int
		stuck    bool // a try took none while a rest was pending
		pingErr  error
		flushErr error
		after    error
	}
	res := make(chan result, 1)
	start := make(chan struct{})
	payload := func(i int) []byte { return []byte(fmt.Sprintf("%06d %s", i, bytes.Repeat([]byte{'x'}, 3000+i%7))) }
	url := server(t, nil, func(c *Conn) {
		defer c.CloseNow()
		var r result
		for i := 0; r.taken < 1e5; i++ {
			n, pending, err := c.TryWriteMessages(5*time.Second, false, payload(r.taken), payload(r.taken+1))
			if err != nil {
				t.Errorf("TryWriteMessages: %v", err)
				res <- r
				return
			}
			r.taken += n
			if pending {
				if n2, p2, _ := c.TryWriteMessages(5*time.Second, false, payload(r.taken)); n2 != 0 || !p2 {
					t.Errorf("a try with a rest pending = %d, %v, want 0, true", n2, p2)
				}
				r.stuck = true
				break
			}
		}
		close(start)
		// The peer reads from now on: a ping (its pong answered by the
		// peer's read loop) and an empty write finish the rest.
		done := make(chan error, 1)
		go func() { done <- c.writeControl(0x9, nil) }()
		r.pingErr = <-done
		_, r.flushErr = c.WriteMessages(5*time.Second, false)
		_, r.after = c.WriteMessages(5*time.Second, false, []byte("after"))
		res <- r
		c.ReadMessage(max)
	})
	cl := dial(t, url)
	<-start
	got := 0
	var r result
	for {
		_, b, err := cl.ReadMessage(max)
		if err != nil {
			t.Fatalf("read %d: %v", got, err)
		}
		if string(b) == "after" {
			r = <-res
			break
		}
		if want := payload(got); !bytes.Equal(b, want) {
			t.Fatalf("message %d = %.10q (%d bytes), want %.10q (%d)", got, b, len(b), want, len(want))
		}
		got++
	}
	if !r.stuck {
		t.Fatalf("no try ever left a rest pending: %d taken", r.taken)
	}
	if r.pingErr != nil || r.flushErr != nil || r.after != nil {
		t.Fatalf("writes after the rest = %v, %v, %v", r.pingErr, r.flushErr, r.after)
	}
	if got != r.taken {
		t.Fatalf("read %d messages, the tries took %d", got, r.taken)
	}
}

// TestTryWriteBusy: while another write holds the write lock, a try takes
// nothing and does not wait.
func TestTryWriteBusy(t *testing.T) {
	res := make(chan string, 1)
	url := server(t, nil, func(c *Conn) {
		defer c.CloseNow()
		c.wmu.Lock()
		n, p, err := c.TryWriteMessages(time.Second, false, []byte("x"))
		c.wmu.Unlock()
		res <- fmt.Sprint(n, p, err)
		c.ReadMessage(max)
	})
	_ = dial(t, url)
	if got := <-res; got != "0 false <nil>" {
		t.Fatalf("try under a held lock = %s, want 0 false <nil>", got)
	}
}
