package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	coder "github.com/coder/websocket"
	"github.com/gobwas/ws"
	"github.com/gobwas/ws/wsutil"
	gorilla "github.com/gorilla/websocket"
	"github.com/lesismal/nbio/nbhttp"
	nbws "github.com/lesismal/nbio/nbhttp/websocket"
	"github.com/lxzan/gws"
)

// libs lists the servers under comparison, in table order.
var libs = []string{"coder", "gorilla", "gws", "gobwas-a", "gobwas-b", "gobwas-c", "nbio"}

// sender is the push to the first connection that authenticated; the
// ticker in serve calls it every 100 ms when pushes are on.
var sender atomic.Pointer[func()]

func setSender(f func()) { sender.CompareAndSwap(nil, &f) }

// serve starts lib's server on ln and returns once it accepts.
func serve(lib string, ln net.Listener) error {
	switch lib {
	case "coder":
		go http.Serve(ln, http.HandlerFunc(coderHandler))
	case "gorilla":
		go http.Serve(ln, http.HandlerFunc(gorillaHandler))
	case "gws":
		go gws.NewServer(gwsHandler{}, &gws.ServerOption{}).RunListener(ln)
	case "gobwas-a":
		go acceptLoop(ln, gobwasA)
	case "gobwas-b":
		go acceptLoop(ln, gobwasB)
	case "gobwas-c":
		go acceptLoop(ln, gobwasC)
	case "nbio":
		// nbio listens itself: hand it the address ln was given.
		addr := ln.Addr().String()
		ln.Close()
		return nbioServe(addr)
	default:
		return fmt.Errorf("unknown lib %q (want one of %v)", lib, libs)
	}
	return nil
}

func acceptLoop(ln net.Listener, handle func(net.Conn)) {
	for {
		c, err := ln.Accept()
		if err != nil {
			return
		}
		go handle(c)
	}
}

// coder/websocket: Read and Write with a context, as its docs show.
func coderHandler(w http.ResponseWriter, r *http.Request) {
	c, err := coder.Accept(w, r, nil)
	if err != nil {
		return
	}
	defer c.CloseNow()
	ctx := context.Background()
	for {
		typ, p, err := c.Read(ctx)
		if err != nil {
			return
		}
		rep, auth := reply(p)
		if auth {
			setSender(func() { c.Write(ctx, coder.MessageText, push) })
		}
		if c.Write(ctx, typ, rep) != nil {
			return
		}
	}
}

// gorilla/websocket: ReadMessage/WriteMessage; one writer at a time.
var gorillaUpgrader = gorilla.Upgrader{}

func gorillaHandler(w http.ResponseWriter, r *http.Request) {
	c, err := gorillaUpgrader.Upgrade(w, r, nil)
	if err != nil {
		return
	}
	defer c.Close()
	var mu sync.Mutex
	for {
		typ, p, err := c.ReadMessage()
		if err != nil {
			return
		}
		rep, auth := reply(p)
		if auth {
			setSender(func() { mu.Lock(); c.WriteMessage(gorilla.TextMessage, push); mu.Unlock() })
		}
		mu.Lock()
		err = c.WriteMessage(typ, rep)
		mu.Unlock()
		if err != nil {
			return
		}
	}
}

// lxzan/gws: its Server's ReadLoop (one goroutine per conn) and OnMessage.
type gwsHandler struct{ gws.BuiltinEventHandler }

func (gwsHandler) OnMessage(c *gws.Conn, m *gws.Message) {
	defer m.Close()
	rep, auth := reply(m.Bytes())
	if auth {
		setSender(func() { c.WriteMessage(gws.OpcodeText, push) })
	}
	c.WriteMessage(gws.OpcodeText, rep)
}

// gobwas/ws style a: a goroutine per conn with the wsutil helpers on the
// bare conn, as in the library's README.
func gobwasA(c net.Conn) {
	defer c.Close()
	if _, err := ws.Upgrade(c); err != nil {
		return
	}
	var mu sync.Mutex
	for {
		p, op, err := wsutil.ReadClientData(c)
		if err != nil {
			return
		}
		rep, auth := reply(p)
		if auth {
			setSender(func() { mu.Lock(); wsutil.WriteServerMessage(c, ws.OpText, push); mu.Unlock() })
		}
		mu.Lock()
		err = wsutil.WriteServerMessage(c, op, rep)
		mu.Unlock()
		if err != nil {
			return
		}
	}
}

// gobwas/ws style b, the design of internal/wsconn: one reader goroutine
// per conn that waits for readability in syscall.RawConn.Read holding no
// buffer, a pooled bufio.Reader only while frames are there to read, every
// queued frame written in one writev, and a write deadline instead of a
// context per write.
const maxPayload = 4096

var (
	readerPool  = sync.Pool{New: func() any { return bufio.NewReaderSize(nil, 4096) }}
	payloadPool = sync.Pool{New: func() any { b := make([]byte, maxPayload); return &b }}
)

type bconn struct {
	c        net.Conn
	rc       syscall.RawConn
	peek     [1]byte
	waited   bool
	mu       sync.Mutex
	q, spare [][]byte // frames queued, and the last batch's slice for reuse
	flushing bool
}

func gobwasB(c net.Conn) {
	defer c.Close()
	if _, err := ws.Upgrade(c); err != nil {
		return
	}
	rc, err := c.(syscall.Conn).SyscallConn()
	if err != nil {
		return
	}
	b := &bconn{c: c, rc: rc}
	for {
		if err := b.waitReadable(); err != nil {
			return
		}
		br := readerPool.Get().(*bufio.Reader)
		br.Reset(c)
		err := b.readBuffered(br)
		br.Reset(nil)
		readerPool.Put(br)
		if ferr := b.flush(); err == nil {
			err = ferr
		}
		if err != nil {
			return
		}
	}
}

// waitReadable parks until the socket has bytes (or EOF or an error) to
// read, without a read buffer, as internal/wsconn does: RawRead resets the
// poller's readiness before its first call, so that call peeks (1 byte,
// MSG_PEEK|MSG_DONTWAIT) for bytes that came before; on EAGAIN it returns
// false and the goroutine parks until the next edge, after which the call
// returns true and the bufio read that follows gets the bytes.
func (b *bconn) waitReadable() error {
	b.waited = false
	return b.rc.Read(b.readable)
}

func (b *bconn) readable(fd uintptr) bool {
	if b.waited {
		return true
	}
	b.waited = true
	_, _, err := syscall.Recvfrom(int(fd), b.peek[:], syscall.MSG_PEEK|syscall.MSG_DONTWAIT)
	return err != syscall.EAGAIN
}

var errFrame = errors.New("unsupported frame")

// readBuffered handles frames until br holds no more bytes, queueing the
// replies; it blocks only inside a frame that arrived in part.
func (b *bconn) readBuffered(br *bufio.Reader) error {
	pp := payloadPool.Get().(*[]byte)
	defer payloadPool.Put(pp)
	for {
		h, err := ws.ReadHeader(br)
		if err != nil {
			return err
		}
		if !h.Fin || !h.Masked || h.Length > maxPayload {
			return errFrame
		}
		p := (*pp)[:h.Length]
		if _, err := io.ReadFull(br, p); err != nil {
			return err
		}
		ws.Cipher(p, h.Mask, 0)
		switch h.OpCode {
		case ws.OpClose:
			return io.EOF
		case ws.OpPing:
			b.enqueue(ws.OpPong, p)
		case ws.OpText, ws.OpBinary:
			rep, auth := reply(p)
			if auth {
				setSender(func() { b.enqueue(ws.OpText, push); b.flush() })
			}
			b.enqueue(ws.OpText, rep)
		}
		if br.Buffered() == 0 {
			return nil
		}
	}
}

// enqueue frames p (header and payload in one slice) onto the write queue.
func (b *bconn) enqueue(op ws.OpCode, p []byte) {
	f := make([]byte, 0, 4+len(p))
	f = append(f, 0x80|byte(op))
	if len(p) < 126 {
		f = append(f, byte(len(p)))
	} else {
		f = append(f, 126, byte(len(p)>>8), byte(len(p)))
	}
	f = append(f, p...)
	b.mu.Lock()
	b.q = append(b.q, f)
	b.mu.Unlock()
}

// flush writes everything queued in one writev; whoever finds the queue
// being written leaves the frames to the writer already at work.
func (b *bconn) flush() error {
	b.mu.Lock()
	if b.flushing {
		b.mu.Unlock()
		return nil
	}
	b.flushing = true
	var err error
	for len(b.q) > 0 && err == nil {
		q := b.q
		b.q = b.spare[:0]
		b.mu.Unlock()
		b.c.SetWriteDeadline(time.Now().Add(10 * time.Second))
		bufs := net.Buffers(q)
		_, err = bufs.WriteTo(b.c)
		clear(q)
		b.mu.Lock()
		b.spare = q[:0]
	}
	b.flushing = false
	b.mu.Unlock()
	return err
}

// gobwas/ws style c: style b without the MSG_PEEK. The RawConn.Read
// callback takes a pooled buffer and reads into it; on EAGAIN it gives the
// buffer back before the goroutine parks, so an idle conn still holds none.
var chunkPool = sync.Pool{New: func() any { b := make([]byte, 4096); return &b }}

// chunkReader yields the bytes read at wake-up, then reads the conn
// (blocking) for the rest of a frame that arrived in part.
type chunkReader struct {
	p []byte
	c net.Conn
}

func (r *chunkReader) Read(p []byte) (int, error) {
	if len(r.p) == 0 {
		return r.c.Read(p)
	}
	n := copy(p, r.p)
	r.p = r.p[n:]
	return n, nil
}

func gobwasC(c net.Conn) {
	defer c.Close()
	if _, err := ws.Upgrade(c); err != nil {
		return
	}
	rc, err := c.(syscall.Conn).SyscallConn()
	if err != nil {
		return
	}
	b := &bconn{c: c, rc: rc}
	var (
		chunk *[]byte
		n     int
		rerr  error
	)
	read := func(fd uintptr) bool {
		chunk = chunkPool.Get().(*[]byte)
		n, rerr = syscall.Read(int(fd), *chunk)
		if rerr == syscall.EAGAIN {
			chunkPool.Put(chunk)
			return false
		}
		return true
	}
	cr := &chunkReader{c: c}
	for {
		if err := rc.Read(read); err != nil {
			return
		}
		if rerr != nil || n <= 0 {
			chunkPool.Put(chunk)
			return
		}
		cr.p = (*chunk)[:n]
		br := readerPool.Get().(*bufio.Reader)
		br.Reset(cr)
		var err error
		for err == nil && (br.Buffered() > 0 || len(cr.p) > 0) {
			err = b.readBuffered(br)
		}
		br.Reset(nil)
		readerPool.Put(br)
		cr.p = nil
		chunkPool.Put(chunk)
		if ferr := b.flush(); err == nil {
			err = ferr
		}
		if err != nil {
			return
		}
	}
}

// lesismal/nbio: its event loop (non-blocking mode, no goroutine per conn)
// and OnMessage with WriteMessage.
func nbioServe(addr string) error {
	u := nbws.NewUpgrader()
	u.OnMessage(func(c *nbws.Conn, typ nbws.MessageType, p []byte) {
		rep, auth := reply(p)
		if auth {
			setSender(func() { c.WriteMessage(nbws.TextMessage, push) })
		}
		c.WriteMessage(typ, rep)
	})
	e := nbhttp.NewEngine(nbhttp.Config{
		Network: "tcp",
		Addrs:   []string{addr},
		Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			u.Upgrade(w, r, nil)
		}),
	})
	return e.Start()
}
