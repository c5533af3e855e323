package wsconn

import (
	"bytes"
	"encoding/binary"
	"errors"
	"io"
	"net"
	"runtime"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gobwas/ws"
)

// tcpPair returns the two ends of a loopback TCP connection: the
// server's (accepted) and the client's.
func tcpPair(t *testing.T) (srv, cli net.Conn) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	cli, err = net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	srv, err = ln.Accept()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { srv.Close(); cli.Close() })
	return srv, cli
}

// clientFrame is a masked frame as a client sends it.
func clientFrame(fin bool, op ws.OpCode, p []byte) []byte {
	b := make([]byte, ws.MaxHeaderSize+len(p))
	mk := ws.NewMask()
	n := putHeader(b, op, len(p), &mk)
	if !fin {
		b[0] &^= 0x80
	}
	n += copy(b[n:], p)
	ws.Cipher(b[n-len(p):n], mk, 0)
	return b[:n]
}

// fragments is a text message of n frames with payload each.
func fragments(n int, payload []byte) []byte {
	var wire []byte
	for i := range n {
		op := ws.OpContinuation
		if i == 0 {
			op = ws.OpText
		}
		wire = append(wire, clientFrame(i == n-1, op, payload)...)
	}
	return wire
}

// TestFragmentCap: a message of maxFrames data frames is read; one of
// more frames (here empty ones, which cost the peer 6 bytes each) is a
// protocol error.
func TestFragmentCap(t *testing.T) {
	srv, cli := tcpPair(t)
	c := newConn(srv, false, nil)
	go func() {
		cli.Write(fragments(maxFrames, []byte("x")))
		cli.Write(fragments(maxFrames+1, nil))
	}()
	if _, msg, err := c.ReadMessage(1 << 20); err != nil || !bytes.Equal(msg, bytes.Repeat([]byte("x"), maxFrames)) {
		t.Fatalf("message of %d frames = %d bytes, %v", maxFrames, len(msg), err)
	}
	var pe *ProtocolError
	if _, _, err := c.ReadMessage(1 << 20); !errors.As(err, &pe) {
		t.Fatalf("message of %d empty frames = %v, want a protocol error", maxFrames+1, err)
	}
}

// TestReassemblyLinear: joining a 256 KiB message of maxFrames fragments
// allocates about its size, not the sum of its prefixes (128 MiB when
// every fragment reallocated the message).
func TestReassemblyLinear(t *testing.T) {
	srv, cli := tcpPair(t)
	c := newConn(srv, false, nil)
	payload := bytes.Repeat([]byte("y"), 256)
	wire := fragments(maxFrames, payload)
	go cli.Write(wire)
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	_, msg, err := c.ReadMessage(1 << 20)
	runtime.ReadMemStats(&after)
	if err != nil || len(msg) != maxFrames*len(payload) {
		t.Fatalf("ReadMessage = %d bytes, %v", len(msg), err)
	}
	if got, limit := after.TotalAlloc-before.TotalAlloc, uint64(4*len(msg)); got > limit {
		t.Fatalf("reassembling %d bytes in %d frames allocated %d bytes, want at most %d", len(msg), maxFrames, got, limit)
	}
}

// notifyConn signals (once) when a Read is called after at least
// after bytes were read: the reader waits for more.
type notifyConn struct {
	net.Conn
	read    atomic.Int64
	after   int64
	waiting chan struct{}
}

func (n *notifyConn) Read(p []byte) (int, error) {
	if n.read.Load() >= n.after && n.waiting != nil {
		close(n.waiting)
		n.waiting = nil
	}
	k, err := n.Conn.Read(p)
	n.read.Add(int64(k))
	return k, err
}

// TestDeclaredLengthNotAllocated: a header that declares a 1 MiB payload,
// followed by nothing, does not make the reader allocate the payload.
func TestDeclaredLengthNotAllocated(t *testing.T) {
	const conns, declared = 16, 1 << 20
	hdr := make([]byte, ws.MaxHeaderSize)
	mk := ws.NewMask()
	hdr = hdr[:putHeader(hdr, ws.OpBinary, declared, &mk)]
	var waiting []chan struct{}
	var clis []net.Conn
	for range conns {
		srv, cli := tcpPair(t)
		nc := &notifyConn{Conn: srv, after: int64(len(hdr)), waiting: make(chan struct{})}
		waiting = append(waiting, nc.waiting)
		clis = append(clis, cli)
		c := newConn(nc, false, nil)
		go c.ReadMessage(declared)
	}
	runtime.GC()
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	for _, cli := range clis {
		if _, err := cli.Write(hdr); err != nil {
			t.Fatal(err)
		}
	}
	for _, w := range waiting {
		<-w // the header was read; the reader waits for the payload
	}
	runtime.GC()
	runtime.ReadMemStats(&after)
	if got, limit := int64(after.HeapAlloc)-int64(before.HeapAlloc), int64(conns*128<<10); got > limit {
		t.Fatalf("%d readers waiting for a declared %d bytes hold %d more heap bytes, want at most %d", conns, declared, got, limit)
	}
}

// TestTooLargeCloseReleasesReader: a message over 16*max closes the
// connection and gives its read buffer back, though it still held bytes.
func TestTooLargeCloseReleasesReader(t *testing.T) {
	srv, cli := tcpPair(t)
	c := newConn(srv, false, nil)
	if _, err := cli.Write(clientFrame(true, ws.OpBinary, make([]byte, 1601))); err != nil {
		t.Fatal(err)
	}
	base := held.Load()
	if _, _, err := c.ReadMessage(100); !errors.Is(err, ErrTooLarge) {
		t.Fatalf("ReadMessage = %v, want ErrTooLarge", err)
	}
	deadline := time.Now().Add(2 * time.Second) // other tests' conns may still settle
	for held.Load() != base && time.Now().Before(deadline) {
		time.Sleep(time.Millisecond)
	}
	if got := held.Load() - base; got != 0 {
		t.Fatalf("a closed connection holds %d read buffers, want 0", got)
	}
}

// TestFailDoesNotPoolLargeBuffers: the buffer of a message whose read
// failed goes back to the pool only if it is at most maxPooledMsg.
func TestFailDoesNotPoolLargeBuffers(t *testing.T) {
	srv, cli := tcpPair(t)
	c := newConn(srv, false, nil)
	cli.Write(clientFrame(false, ws.OpBinary, make([]byte, 4*maxPooledMsg)))
	cli.Close()
	if _, _, err := c.ReadMessage(1 << 20); !errors.Is(err, io.EOF) && !errors.Is(err, io.ErrUnexpectedEOF) {
		t.Fatalf("ReadMessage = %v, want EOF", err)
	}
	var got []*[]byte
	for range 4 {
		b := msgs.Get().(*[]byte)
		got = append(got, b)
		if cap(*b) > maxPooledMsg {
			t.Errorf("pooled message buffer of %d bytes, want at most %d", cap(*b), maxPooledMsg)
		}
	}
	for _, b := range got {
		msgs.Put(b)
	}
}

// TestCloseCodes: the reader accepts only the close codes an endpoint may
// send and a UTF-8 reason; it echoes the code, 1002 for a bad code, 1007
// for a bad reason, and no code for none.
func TestCloseCodes(t *testing.T) {
	code := func(c uint16, reason string) []byte {
		return append(binary.BigEndian.AppendUint16(nil, c), reason...)
	}
	for _, tc := range []struct {
		name    string
		payload []byte
		want    int // CloseError.Code, or 0 for a protocol error
		echo    int // the code echoed, or 0 for none
	}{
		{"none", nil, 1005, 0},
		{"1000", code(1000, "bye"), 1000, 1000},
		{"1003", code(1003, ""), 1003, 1003},
		{"1007", code(1007, ""), 1007, 1007},
		{"1014", code(1014, ""), 1014, 1014},
		{"3000", code(3000, ""), 3000, 3000},
		{"4999", code(4999, ""), 4999, 4999},
		{"one byte", []byte{3}, 0, 1002},
		{"999", code(999, ""), 0, 1002},
		{"1004", code(1004, ""), 0, 1002},
		{"1005", code(1005, ""), 0, 1002},
		{"1006", code(1006, ""), 0, 1002},
		{"1015", code(1015, ""), 0, 1002},
		{"2999", code(2999, ""), 0, 1002},
		{"5000", code(5000, ""), 0, 1002},
		{"bad reason", code(1000, "bad \xff"), 0, 1007},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srv, cli := tcpPair(t)
			c := newConn(srv, false, nil)
			if _, err := cli.Write(clientFrame(true, ws.OpClose, tc.payload)); err != nil {
				t.Fatal(err)
			}
			_, _, err := c.ReadMessage(max)
			var ce *CloseError
			var pe *ProtocolError
			switch {
			case tc.want != 0 && (!errors.As(err, &ce) || ce.Code != tc.want):
				t.Errorf("ReadMessage = %v, want close %d", err, tc.want)
			case tc.want == 0 && !errors.As(err, &pe):
				t.Errorf("ReadMessage = %v, want a protocol error", err)
			}
			cli.SetReadDeadline(time.Now().Add(5 * time.Second))
			h, err := ws.ReadHeader(cli)
			if err != nil || h.OpCode != ws.OpClose || h.Length > 125 {
				t.Fatalf("echo = %+v %v, want a close frame", h, err)
			}
			p := make([]byte, h.Length)
			if _, err := io.ReadFull(cli, p); err != nil {
				t.Fatal(err)
			}
			got := 0
			if len(p) >= 2 {
				got = int(binary.BigEndian.Uint16(p))
			}
			if got != tc.echo || len(p) == 1 {
				t.Errorf("echoed %v, want code %d", p, tc.echo)
			}
		})
	}
}

// TestCloseAbortsStalledWrite: Close of a connection whose writer is stuck
// on a peer that reads nothing (with a long write timeout) returns within
// its 5 s, and the stuck write fails.
func TestCloseAbortsStalledWrite(t *testing.T) {
	srv, _ := tcpPair(t) // the client never reads
	c := newConn(srv, false, nil)
	wrote := make(chan error, 1)
	go func() {
		big := make([]byte, 1<<20)
		for {
			if _, err := c.WriteMessages(10*time.Minute, true, big, big); err != nil {
				wrote <- err
				return
			}
		}
	}()
	// Until the writer holds the write lock for good (the socket
	// buffers are full): then Close finds it busy.
	for stuck := 0; stuck < 50; {
		if c.wmu.TryLock() {
			c.wmu.Unlock()
			stuck = 0
		} else {
			stuck++
		}
		time.Sleep(time.Millisecond)
	}
	done := make(chan time.Duration, 1)
	go func() {
		start := time.Now()
		c.Close(1000, "")
		done <- time.Since(start)
	}()
	select {
	case d := <-done:
		if d > controlTimeout+time.Second {
			t.Errorf("Close took %v, want at most %v", d, controlTimeout)
		}
	case <-time.After(30 * time.Second):
		c.CloseNow()
		t.Fatal("Close waited for the stuck write (over 30 s)")
	}
	if err := <-wrote; err == nil {
		t.Fatal("the stuck write did not fail")
	}
}
