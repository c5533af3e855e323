package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"sync"
	"time"

	"github.com/gobwas/ws"
)

// The one client every server gets: gobwas/ws for the handshake, frames
// masked once up front, a small bufio.Reader per conn, one write per frame.
var (
	mask        = [4]byte{0x12, 0x34, 0x56, 0x78}
	authFrame   = clientFrame(authReq)
	ackFrame    = clientFrame(ackReq)
	errBadFrame = errors.New("unexpected frame from server")
)

func clientFrame(p []byte) []byte {
	f := []byte{0x80 | byte(ws.OpText), 0x80 | byte(len(p))} // every frame here is under 126 bytes
	f = append(f, mask[:]...)
	m := append([]byte(nil), p...)
	ws.Cipher(m, mask, 0)
	return append(f, m...)
}

type cconn struct {
	c   net.Conn
	br  *bufio.Reader
	buf [256]byte
}

// dialAll opens n connections, each authenticated (request sent and reply
// read); the first one is dialled alone so it becomes the push target.
func dialAll(addr string, n int) ([]*cconn, error) {
	cs := make([]*cconn, n)
	c, err := dial(addr)
	if err != nil {
		return nil, err
	}
	cs[0] = c
	var (
		wg   sync.WaitGroup
		mu   sync.Mutex
		ferr error
		next = make(chan int)
	)
	for w := 0; w < 50; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range next {
				c, err := dial(addr)
				mu.Lock()
				if err != nil && ferr == nil {
					ferr = fmt.Errorf("conn %d: %w", i, err)
				}
				cs[i] = c
				mu.Unlock()
			}
		}()
	}
	for i := 1; i < n; i++ {
		next <- i
	}
	close(next)
	wg.Wait()
	return cs, ferr
}

func dial(addr string) (*cconn, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	nc, br, _, err := ws.Dialer{Timeout: 10 * time.Second}.Dial(ctx, "ws://"+addr+"/")
	if err != nil {
		return nil, err
	}
	if br == nil {
		br = bufio.NewReaderSize(nc, 512)
	}
	c := &cconn{c: nc, br: br}
	nc.SetDeadline(time.Now().Add(30 * time.Second))
	if _, err := nc.Write(authFrame); err != nil {
		nc.Close()
		return nil, err
	}
	if k, err := c.recv(); err != nil || k != 'i' {
		nc.Close()
		return nil, errors.Join(err, errBadFrame)
	}
	nc.SetDeadline(time.Time{})
	return c, nil
}

func closeAll(cs []*cconn) {
	for _, c := range cs {
		if c != nil {
			c.c.Close()
		}
	}
}

// recv reads one frame and returns the first letter of its first key:
// 'i' for a reply ({"id":...}), 'o' for a push ({"op":...}).
func (c *cconn) recv() (byte, error) {
	h, err := ws.ReadHeader(c.br)
	if err != nil {
		return 0, err
	}
	if h.Length > int64(len(c.buf)) || h.Length < 3 || h.OpCode != ws.OpText {
		return 0, errBadFrame
	}
	if _, err := io.ReadFull(c.br, c.buf[:h.Length]); err != nil {
		return 0, err
	}
	return c.buf[2], nil
}

// acks sends m acks, keeping w of them awaiting their replies, and returns
// the pushes it received meanwhile.
func (c *cconn) acks(m, w int) (int64, error) {
	c.c.SetDeadline(time.Now().Add(2 * time.Minute))
	var pushes int64
	sent := 0
	for ; sent < min(w, m); sent++ {
		if _, err := c.c.Write(ackFrame); err != nil {
			return pushes, err
		}
	}
	for got := 0; got < m; {
		k, err := c.recv()
		if err != nil {
			return pushes, err
		}
		if k != 'i' {
			pushes++
			continue
		}
		got++
		if sent < m {
			if _, err := c.c.Write(ackFrame); err != nil {
				return pushes, err
			}
			sent++
		}
	}
	return pushes, nil
}
