// Package wsconn is the WebSocket transport of both endpoints (seen's JSON
// protocol and the vendor SDK's msync): a connection that costs little while
// idle and writes many frames in one syscall.
//
// It is built on the framing primitives of github.com/gobwas/ws. On Linux a
// Conn holds no read buffer while it waits for a message (it waits for
// readability first, then borrows a pooled bufio.Reader; elsewhere the read
// blocks with its buffer), writes every batch of frames with one writev
// under one write deadline, and never needs a context or a timer per write.
// A message's buffer grows with the bytes that arrived, not with the
// lengths its headers declare, and a message has at most maxFrames data
// frames.
//
// Goroutines: one reader (ReadMessage) at a time; any number of writers
// (WriteMessages, Ping, Close), serialised by the write lock. Control frames
// are answered by the reader.
package wsconn

import (
	"bufio"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
	"unicode/utf8"

	"github.com/gobwas/ws"
)

// ErrTooLarge: a data message over ReadMessage's max. If the message was at
// most 16*max bytes, the rest of it was read and discarded and the
// connection is usable; over that, the connection was closed at once
// (without a close handshake) and is unusable.
var ErrTooLarge = errors.New("wsconn: message too large")

// ErrClosed is the error of a write after the close frame was sent, or on a
// closed connection.
var ErrClosed = errors.New("wsconn: connection closed")

// CloseError is the error of a read after the peer's close frame.
type CloseError struct {
	// Code is the peer's code, one RFC 6455 lets an endpoint send
	// (1000-1003, 1007-1014, 3000-4999), or 1005 when the close frame
	// carried no code.
	Code   int
	Reason string
}

func (e *CloseError) Error() string {
	return fmt.Sprintf("wsconn: peer closed: %d %q", e.Code, e.Reason)
}

// ProtocolError is a violation of RFC 6455 by the peer; the caller closes
// (with 1002).
type ProtocolError struct{ Msg string }

func (e *ProtocolError) Error() string { return "wsconn: protocol error: " + e.Msg }

const (
	// readBufSize is the size of a pooled read buffer.
	readBufSize = 4096
	// controlTimeout bounds the write of a control frame (pong, ping, close)
	// and the wait for the peer's close frame.
	controlTimeout = 5 * time.Second
	// statusNoStatus is reported for a close frame without a code.
	statusNoStatus = 1005
	// maxPooledMsg is the largest message buffer kept for reuse.
	maxPooledMsg = 64 << 10
	// maxFrames is the most data frames one message may have: more is a
	// *ProtocolError. It bounds the work of a message of many tiny (or
	// empty) fragments.
	maxFrames = 1024
	// closeWriteGrace is how long Close lets a write in progress finish
	// before it aborts it (by moving the socket's write deadline).
	closeWriteGrace = time.Second
	// Close codes that Close and the reader's close echo send.
	statusNormal      = 1000
	statusProtocol    = 1002
	statusInvalidUTF8 = 1007
)

// Conn is one WebSocket connection, either side.
type Conn struct {
	nc     net.Conn
	rc     syscall.RawConn // nil if nc is no syscall.Conn: then no idle wait
	client bool            // frames we write are masked; frames we read are not

	// Read side: only the goroutine in ReadMessage (or Close, when it holds
	// rmu) touches these.
	rmu        sync.Mutex
	br         *bufio.Reader      // borrowed from readers while a message is being read
	pending    []byte             // bytes buffered by the handshake, read before the socket
	msg        *[]byte            // the last message returned, borrowed from msgs
	waited     bool               // see readable
	ready      bool               // ReadMessage saw the socket readable
	readableFn func(uintptr) bool // c.readable, made once

	// Write side, under wmu.
	wmu       sync.Mutex
	closeSent bool      // a close frame was written: no more frames
	werr      error     // a write failed part-way: the stream is broken
	wdeadline time.Time // the socket's write deadline (writeDeadline)
	// wpend is the rest of a message TryWriteMessages began: the next
	// write of any frame writes it first (writeLocked).
	wpend []byte
	// aborting: Close is aborting the write in progress; writeDeadline
	// refuses writes (ErrClosed) until Close holds wmu.
	aborting atomic.Bool

	pong      chan struct{} // a pong arrived (capacity 1)
	closeRecv chan struct{} // closed when the peer's close frame was read
	// readEnd is closed when a read failed for good (EOF, a reset, a
	// protocol error) or the socket was closed: no close frame will come.
	readEnd     chan struct{}
	readEndOnce sync.Once
	gotClose    atomic.Bool
	closing     atomic.Bool // Close or CloseNow was called
	closeOnce   sync.Once
	closeErr    error
}

func newConn(nc net.Conn, client bool, pending []byte) *Conn {
	c := &Conn{
		nc:        nc,
		client:    client,
		pending:   pending,
		pong:      make(chan struct{}, 1),
		closeRecv: make(chan struct{}),
		readEnd:   make(chan struct{}),
	}
	if sc, ok := nc.(syscall.Conn); ok {
		if rc, err := sc.SyscallConn(); err == nil {
			c.rc = rc
		}
	}
	return c
}

// RemoteAddr is the peer's address.
func (c *Conn) RemoteAddr() net.Addr { return c.nc.RemoteAddr() }

// SetReadDeadline sets the deadline of ReadMessage (the zero time: none): a
// read past it fails with an error for which errors.Is(err,
// os.ErrDeadlineExceeded). One call covers many reads, so a session can keep
// an idle deadline without a timer per read.
func (c *Conn) SetReadDeadline(t time.Time) error { return c.nc.SetReadDeadline(t) }

// readers holds the read buffers of connections that are in the middle of
// reading a message.
var readers = sync.Pool{New: func() any { return bufio.NewReaderSize(nil, readBufSize) }}

// msgs holds message buffers.
var msgs = sync.Pool{New: func() any { b := make([]byte, 0, 1024); return &b }}

// source is the Conn as the io.Reader under its bufio.Reader: the
// handshake's leftover bytes first, then the socket.
type source Conn

func (s *source) Read(p []byte) (int, error) {
	if len(s.pending) > 0 {
		n := copy(p, s.pending)
		s.pending = s.pending[n:]
		if len(s.pending) == 0 {
			s.pending = nil
		}
		return n, nil
	}
	return s.nc.Read(p)
}

// held counts the read buffers (bufio.Readers and message buffers) that
// connections hold: a measurement for tests; an idle connection holds none.
var held atomic.Int64

// borrow makes c.br ready: it waits until the socket is readable (holding no
// buffer meanwhile), then takes a reader from the pool.
func (c *Conn) borrow() error {
	if c.br != nil {
		return nil
	}
	if ready := c.ready; !ready && len(c.pending) == 0 {
		if err := c.waitReadable(); err != nil {
			return err
		}
	}
	c.ready = false
	br := readers.Get().(*bufio.Reader)
	br.Reset((*source)(c))
	c.br = br
	held.Add(1)
	return nil
}

// giveBack returns c.br to the pool if it holds no unread bytes.
func (c *Conn) giveBack() {
	if c.br != nil && c.br.Buffered() == 0 {
		c.br.Reset(nil)
		readers.Put(c.br)
		c.br = nil
		held.Add(-1)
	}
}

// releaseMsg returns the last message's buffer to the pool.
func (c *Conn) releaseMsg() {
	if c.msg != nil {
		putMsg(c.msg)
		c.msg = nil
		held.Add(-1)
	}
}

// putMsg returns a message buffer to the pool unless it is over
// maxPooledMsg.
func putMsg(b *[]byte) {
	if cap(*b) <= maxPooledMsg {
		*b = (*b)[:0]
		msgs.Put(b)
	}
}

// dropReader puts c.br back in the pool, whatever it still buffers: the
// stream is broken.
func (c *Conn) dropReader() {
	if c.br != nil {
		c.br.Reset(nil)
		readers.Put(c.br)
		c.br = nil
		held.Add(-1)
	}
}

// header reads one frame header from c.br.
func (c *Conn) header() (ws.Header, error) {
	var h ws.Header
	b, err := c.br.Peek(2)
	if err != nil {
		return h, err
	}
	h.Fin = b[0]&0x80 != 0
	h.Rsv = (b[0] & 0x70) >> 4
	h.OpCode = ws.OpCode(b[0] & 0x0f)
	h.Masked = b[1]&0x80 != 0
	n := 2
	l := int64(b[1] & 0x7f)
	switch l {
	case 126:
		n += 2
	case 127:
		n += 8
	}
	if h.Masked {
		n += 4
	}
	if b, err = c.br.Peek(n); err != nil {
		return h, err
	}
	switch l {
	case 126:
		l = int64(binary.BigEndian.Uint16(b[2:4]))
	case 127:
		u := binary.BigEndian.Uint64(b[2:10])
		if u>>63 != 0 {
			return h, &ProtocolError{"frame length with the most significant bit set"}
		}
		l = int64(u)
	}
	h.Length = l
	if h.Masked {
		copy(h.Mask[:], b[n-4:n])
	}
	_, _ = c.br.Discard(n)
	return h, nil
}

// ReadMessage waits for the next data message and returns it whole (fragments joined,
// unmasked), with binary=false for text. The slice is valid until the next ReadMessage.
// On Linux it holds no read buffer while waiting: it waits for readability first, then
// reads with a pooled bufio.Reader that goes back to the pool once nothing is buffered
// (elsewhere the read blocks holding the reader). The message's buffer grows as its
// bytes arrive (by doubling, up to max), whatever length a header declares.
// Control frames are handled inside: ping → pong (written under the write lock),
// pong → wakes Ping, close → answers with a close frame and returns *CloseError
// (echoing the peer's code, or sending none if it sent none). Only one goroutine calls
// ReadMessage at a time. Protocol errors return a *ProtocolError (the caller closes with
// 1002): a bad or reserved opcode, reserved bits, a masked frame from the server or an
// unmasked one from the client, a fragmented or over-125-byte control frame, a data
// message in more than 1024 frames, and a close frame with a 1-byte payload, a code an
// endpoint may not send (only 1000-1003, 1007-1014, 3000-4999 are accepted; 1002 is
// echoed) or a reason that is not UTF-8 (1007 is echoed). UTF-8 of text messages is not
// checked. After any error the stream is broken except after ErrTooLarge for a message
// of at most 16*max bytes, or a deadline that passed while waiting for a message.
func (c *Conn) ReadMessage(max int) (binary bool, msg []byte, err error) {
	c.rmu.Lock()
	defer c.rmu.Unlock()
	c.releaseMsg()
	if c.br == nil && len(c.pending) == 0 {
		// Wait here, not deeper in read: an idle goroutine's stack
		// shrinks (at GC) only while it uses under a quarter of it.
		if err := c.waitReadable(); err != nil {
			return false, nil, err
		}
		c.ready = true
	}
	return c.read(max, false)
}

// read reads frames until a whole data message (or, with discard, until the
// peer's close frame, dropping data). The caller holds rmu.
func (c *Conn) read(max int, discard bool) (bool, []byte, error) {
	if c.gotClose.Load() {
		return false, nil, ErrClosed
	}
	var (
		inMsg     bool
		isBinary  bool
		tooLarge  bool
		frames    int
		total     int64
		buf       *[]byte
		limit     = int64(max)
		skipLimit = 16 * int64(max)
	)
	fail := func(err error) (bool, []byte, error) {
		if buf != nil {
			putMsg(buf)
		}
		if err != ErrTooLarge {
			// The stream is broken: drop what is buffered.
			c.dropReader()
		}
		c.giveBack()
		if err != ErrTooLarge && !errors.Is(err, os.ErrDeadlineExceeded) {
			c.endRead()
		}
		return false, nil, err
	}
	for {
		if err := c.borrow(); err != nil {
			return fail(err)
		}
		h, err := c.header()
		if err != nil {
			return fail(err)
		}
		if h.Rsv != 0 {
			return fail(&ProtocolError{"reserved bits set (no extension was negotiated)"})
		}
		if h.Masked == c.client {
			if c.client {
				return fail(&ProtocolError{"masked frame from the server"})
			}
			return fail(&ProtocolError{"unmasked frame from the client"})
		}
		if h.OpCode.IsControl() {
			if !h.Fin {
				return fail(&ProtocolError{"fragmented control frame"})
			}
			if h.Length > 125 {
				return fail(&ProtocolError{"control frame over 125 bytes"})
			}
			if err := c.control(h); err != nil {
				return fail(err)
			}
			c.giveBack()
			continue
		}
		switch h.OpCode {
		case ws.OpText, ws.OpBinary:
			if inMsg {
				return fail(&ProtocolError{"new data frame inside a fragmented message"})
			}
			inMsg, isBinary = true, h.OpCode == ws.OpBinary
		case ws.OpContinuation:
			if !inMsg {
				return fail(&ProtocolError{"continuation frame outside a message"})
			}
		default:
			return fail(&ProtocolError{fmt.Sprintf("reserved opcode %d", h.OpCode)})
		}
		if frames++; frames > maxFrames {
			return fail(&ProtocolError{fmt.Sprintf("a message in more than %d frames", maxFrames)})
		}
		total += min(h.Length, skipLimit+1) // total <= skipLimit before: no overflow
		if discard || tooLarge || total > limit {
			if !discard && !tooLarge {
				tooLarge = true
			}
			if !discard && total > skipLimit {
				_ = c.CloseNow()
				c.dropReader() // it may hold the frame's first bytes
				return fail(ErrTooLarge)
			}
			if _, err := c.br.Discard(int(h.Length)); err != nil {
				return fail(err)
			}
		} else {
			if buf == nil {
				buf = msgs.Get().(*[]byte)
			}
			b, err := c.readPayload(*buf, int(h.Length), max)
			*buf = b
			if err != nil {
				return fail(err)
			}
			if h.Masked {
				ws.Cipher(b[len(b)-int(h.Length):], h.Mask, 0)
			}
		}
		if !h.Fin {
			continue
		}
		c.giveBack()
		if discard {
			inMsg, total, frames = false, 0, 0
			continue
		}
		if tooLarge {
			return fail(ErrTooLarge)
		}
		if buf == nil {
			buf = msgs.Get().(*[]byte)
		}
		c.msg = buf
		held.Add(1)
		return isBinary, *buf, nil
	}
}

// readPayload appends n bytes from c.br to b, which may grow to limit
// bytes (len(b)+n <= limit). It grows b only when it is full, and then doubles it
// (at most to max): the bytes held are at most twice those that arrived
// (or the pooled buffer's capacity), so a header that declares a large
// payload and is followed by nothing pins no more, and reassembling a
// message of many fragments copies each byte a constant number of times.
func (c *Conn) readPayload(b []byte, n, limit int) ([]byte, error) {
	for n > 0 {
		if len(b) == cap(b) {
			nc := 2 * cap(b) // doubling (the tests' const max hides the builtin)
			if nc < readBufSize {
				nc = readBufSize
			}
			nc = min(nc, limit)
			nb := make([]byte, len(b), nc)
			copy(nb, b)
			b = nb
		}
		k := min(n, cap(b)-len(b))
		got, err := io.ReadFull(c.br, b[len(b):len(b)+k])
		b = b[:len(b)+got]
		if err != nil {
			return b, err
		}
		n -= k
	}
	return b, nil
}

// control handles a control frame whose header was read.
func (c *Conn) control(h ws.Header) error {
	n := int(h.Length)
	p, err := c.br.Peek(n)
	if err != nil {
		return err
	}
	if h.Masked {
		ws.Cipher(p, h.Mask, 0)
	}
	switch h.OpCode {
	case ws.OpPing:
		err = c.writeControl(ws.OpPong, p)
		if errors.Is(err, ErrClosed) {
			err = nil // no pong after our close frame
		}
	case ws.OpPong:
		select {
		case c.pong <- struct{}{}:
		default:
		}
	case ws.OpClose:
		ce := &CloseError{Code: statusNoStatus}
		var echo []byte // no code for no code
		var bad [2]byte
		switch {
		case n == 1:
			err = &ProtocolError{"close frame with a 1-byte payload"}
			binary.BigEndian.PutUint16(bad[:], statusProtocol)
			echo = bad[:]
		case n >= 2:
			code := int(binary.BigEndian.Uint16(p))
			switch {
			case !validCloseCode(code):
				err = &ProtocolError{fmt.Sprintf("close code %d", code)}
				binary.BigEndian.PutUint16(bad[:], statusProtocol)
				echo = bad[:]
			case !utf8.Valid(p[2:]):
				err = &ProtocolError{"close reason is not UTF-8"}
				binary.BigEndian.PutUint16(bad[:], statusInvalidUTF8)
				echo = bad[:]
			default:
				ce.Code, ce.Reason = code, string(p[2:])
				echo = p[:2]
			}
		}
		c.gotClose.Store(true)
		_ = c.writeControl(ws.OpClose, echo) // ErrClosed: we closed first
		close(c.closeRecv)
		if err == nil {
			err = ce
		}
	default:
		err = &ProtocolError{fmt.Sprintf("reserved control opcode %d", h.OpCode)}
	}
	if _, derr := c.br.Discard(n); derr != nil && err == nil {
		err = derr
	}
	return err
}

// validCloseCode reports whether an endpoint may send code in a close
// frame (RFC 6455 7.4, and the IANA registry's 1012-1014).
func validCloseCode(code int) bool {
	switch {
	case code >= 1000 && code <= 1003, code >= 1007 && code <= 1014:
		return true
	}
	return code >= 3000 && code <= 4999
}

// putHeader writes a frame header into b (at least 14 bytes) and returns its
// length.
func putHeader(b []byte, op ws.OpCode, length int, mask *[4]byte) int {
	b[0] = 0x80 | byte(op)
	n := 2
	switch {
	case length < 126:
		b[1] = byte(length)
	case length <= 0xffff:
		b[1] = 126
		binary.BigEndian.PutUint16(b[2:], uint16(length))
		n = 4
	default:
		b[1] = 127
		binary.BigEndian.PutUint64(b[2:], uint64(length))
		n = 10
	}
	if mask != nil {
		b[1] |= 0x80
		n += copy(b[n:], mask[:])
	}
	return n
}

// batch is the scratch space of one WriteMessages or TryWriteMessages call.
type batch struct {
	hdrs   []byte
	masked []byte
	bufs   net.Buffers
	orig   net.Buffers
	ends   []int64 // byte offset at which each message ends
	iov    []syscall.Iovec
}

var batches = sync.Pool{New: func() any { return new(batch) }}

// getBatch frames msgs into a pooled batch: header+payload pairs in
// b.orig (masked into a copy on a client), the end of each message in
// b.ends. putBatch returns it.
func (c *Conn) getBatch(binary bool, msgs [][]byte) *batch {
	op := ws.OpText
	if binary {
		op = ws.OpBinary
	}
	b := batches.Get().(*batch)
	if need := len(msgs) * ws.MaxHeaderSize; cap(b.hdrs) < need {
		b.hdrs = make([]byte, need)
	}
	b.hdrs = b.hdrs[:cap(b.hdrs)]
	if c.client {
		size := 0
		for _, m := range msgs {
			size += len(m)
		}
		if cap(b.masked) < size {
			b.masked = make([]byte, 0, size)
		}
		b.masked = b.masked[:0]
	}
	b.ends = b.ends[:0]
	var off, end int64
	for _, m := range msgs {
		var mask *[4]byte
		var mk [4]byte
		if c.client {
			mk = ws.NewMask()
			mask = &mk
		}
		n := putHeader(b.hdrs[off:], op, len(m), mask)
		b.orig = append(b.orig, b.hdrs[off:off+int64(n)])
		off += int64(n)
		if len(m) > 0 {
			if c.client {
				start := len(b.masked)
				b.masked = append(b.masked, m...)
				mm := b.masked[start:]
				ws.Cipher(mm, mk, 0)
				m = mm
			}
			b.orig = append(b.orig, m)
		}
		end += int64(n + len(m))
		b.ends = append(b.ends, end)
	}
	return b
}

func putBatch(b *batch) {
	clear(b.orig)
	clear(b.bufs) // writeBufs left it as long as its last writev
	clear(b.iov)
	b.bufs, b.orig, b.iov = b.bufs[:0], b.orig[:0], b.iov[:0]
	if cap(b.masked) > maxPooledMsg {
		b.masked = nil
	}
	if cap(b.ends) > 4096 {
		*b = batch{}
	}
	batches.Put(b)
}

// WriteMessages writes msgs as data frames (text, or binary), in order, in one writev
// (net.Buffers of header+payload pairs; a client masks into a pooled copy), under the
// write lock, with one write deadline for the whole batch (between 3/4 of timeout and
// timeout from now: see writeDeadline), and returns
// how many messages were written whole. What TryWriteMessages left of a message
// goes first; with no msgs, WriteMessages writes just that (if any). Safe to call
// concurrently with ReadMessage, Ping, Close. After a failed write the stream is
// broken: every later write fails.
func (c *Conn) WriteMessages(timeout time.Duration, binary bool, msgs ...[]byte) (int, error) {
	b := c.getBatch(binary, msgs)
	defer putBatch(b)

	c.wmu.Lock()
	defer c.wmu.Unlock()
	if len(msgs) == 0 && len(c.wpend) == 0 {
		return 0, nil
	}
	if err := c.writable(); err != nil {
		return 0, err
	}
	if err := c.writeDeadline(timeout); err != nil {
		return 0, err
	}
	written, err := c.writeBufs(&b.bufs, b.orig...)
	whole := 0
	for whole < len(b.ends) && b.ends[whole] <= written {
		whole++
	}
	if err != nil {
		c.werr = err
	}
	return whole, err
}

// maxTryMessages is the most messages one TryWriteMessages writes: two
// iovecs each, within Linux's IOV_MAX (1024).
const maxTryMessages = 500

// TryWriteMessages writes msgs as WriteMessages does, but only what the
// socket takes at once, in one non-blocking writev, and never waits: not for
// the socket, nor for the write lock (a write in progress: it writes
// nothing). It returns how many messages it took: written whole, the last
// perhaps begun, and then pending reports that the rest of that one is kept
// (copied) to go first with the next write of any frame, which the caller
// must make (WriteMessages, with no messages if need be) before it can
// count that message written. Messages not taken are the caller's to write
// later. Where the connection cannot write without blocking (not a socket,
// or not Linux) it takes none. It is what lets a sender write a reply or
// a push from its own goroutine, in the common case of a socket with room,
// with no writer goroutine to start.
func (c *Conn) TryWriteMessages(timeout time.Duration, binary bool, msgs ...[]byte) (taken int, pending bool, err error) {
	if c.rc == nil || len(msgs) == 0 || !canTryWrite {
		return 0, false, nil
	}
	if !c.wmu.TryLock() {
		return 0, false, nil
	}
	defer c.wmu.Unlock()
	if err := c.writable(); err != nil {
		return 0, false, err
	}
	if len(c.wpend) > 0 {
		return 0, true, nil
	}
	// A deadline in the past would fail the raw write; this moves it
	// only when it is near (writeDeadline).
	if err := c.writeDeadline(timeout); err != nil {
		return 0, false, err
	}
	if len(msgs) > maxTryMessages {
		msgs = msgs[:maxTryMessages]
	}
	b := c.getBatch(binary, msgs)
	defer putBatch(b)
	n, err := c.writev(b)
	if err != nil {
		c.werr = err
		return 0, false, err
	}
	for taken < len(b.ends) && b.ends[taken] <= n {
		taken++
	}
	if taken < len(b.ends) && n > 0 && (taken == 0 || b.ends[taken-1] < n) {
		// The socket took part of message taken: keep its rest.
		c.wpend = restOf(b.orig, n, b.ends[taken])
		taken++
		pending = true
	}
	return taken, pending, nil
}

// restOf copies the bytes of bufs from offset from up to offset to.
func restOf(bufs net.Buffers, from, to int64) []byte {
	out := make([]byte, 0, to-from)
	var off int64
	for _, p := range bufs {
		end := off + int64(len(p))
		if end > from && off < to {
			lo, hi := from-off, to-off
			if lo < 0 {
				lo = 0
			}
			if hi > int64(len(p)) {
				hi = int64(len(p))
			}
			out = append(out, p[lo:hi]...)
		}
		off = end
	}
	return out
}

// writeDeadline gives the next write at least three quarters of timeout
// and at most timeout. Moving a socket's deadline resets a runtime timer
// (about 6% of the server's CPU when it was done for every batch), so the
// deadline moves only when it would give less than that. The caller holds
// wmu.
//
// While Close aborts a write (aborting), it returns ErrClosed: checked
// after the deadline is set, so either this write sees the flag or Close's
// SetWriteDeadline comes after this one's and aborts the write.
func (c *Conn) writeDeadline(timeout time.Duration) error {
	want := time.Now().Add(timeout)
	if d := want.Sub(c.wdeadline); c.wdeadline.IsZero() || d < 0 || d > timeout/4 {
		if err := c.nc.SetWriteDeadline(want); err != nil {
			return err
		}
		c.wdeadline = want
	}
	if c.aborting.Load() {
		return ErrClosed
	}
	return nil
}

// writable reports why no frame may be written now. The caller holds wmu.
func (c *Conn) writable() error {
	switch {
	case c.werr != nil:
		return c.werr
	case c.closeSent:
		return ErrClosed
	}
	return nil
}

// controlFrame puts a control frame (masked on the client) into frame and
// returns its length.
func (c *Conn) controlFrame(frame *[ws.MaxHeaderSize + 125]byte, op ws.OpCode, p []byte) int {
	var mask *[4]byte
	var mk [4]byte
	if c.client {
		mk = ws.NewMask()
		mask = &mk
	}
	n := putHeader(frame[:], op, len(p), mask)
	n += copy(frame[n:], p)
	if c.client {
		ws.Cipher(frame[n-len(p):n], mk, 0)
	}
	return n
}

// writeControl writes one control frame (payload at most 125 bytes) under
// the write lock; a close frame is the last frame.
func (c *Conn) writeControl(op ws.OpCode, p []byte) error {
	var frame [ws.MaxHeaderSize + 125]byte
	n := c.controlFrame(&frame, op, p)
	c.wmu.Lock()
	defer c.wmu.Unlock()
	if err := c.writable(); err != nil {
		return err
	}
	if err := c.writeDeadline(controlTimeout); err != nil {
		return err
	}
	if op == ws.OpClose {
		c.closeSent = true
	}
	if err := c.writeLocked(frame[:n]); err != nil {
		c.werr = err
		return err
	}
	return nil
}

// writeLocked writes the control frame p (see writeBufs).
func (c *Conn) writeLocked(p []byte) error {
	var scratch net.Buffers
	_, err := c.writeBufs(&scratch, p)
	return err
}

// writeBufs writes bufs in one writev, after what TryWriteMessages left
// pending, if anything, and returns how many bytes of bufs went out.
// scratch is the caller's storage for the writev's buffers, kept for its
// next call. The caller holds wmu.
func (c *Conn) writeBufs(scratch *net.Buffers, bufs ...[]byte) (int64, error) {
	all := (*scratch)[:0]
	pend := int64(len(c.wpend))
	if pend > 0 {
		all = append(all, c.wpend)
	}
	all = append(all, bufs...)
	*scratch = all
	written, err := all.WriteTo(c.nc) // consumes all, not *scratch
	if written < pend {
		return 0, err
	}
	c.wpend = nil
	return written - pend, err
}

// Ping writes a ping and waits within ctx for a pong, which arrives while another
// goroutine is in ReadMessage. Pongs carry no token: of two Pings at once, either may
// take the first pong (and the other waits for the next).
func (c *Conn) Ping(ctx context.Context) error {
	select { // forget a stale pong
	case <-c.pong:
	default:
	}
	if err := c.writeControl(ws.OpPing, nil); err != nil {
		return err
	}
	select {
	case <-c.pong:
		return nil
	case <-c.closeRecv:
		return ErrClosed
	case <-c.readEnd:
		return ErrClosed
	case <-ctx.Done():
		return ctx.Err()
	}
}

// Close writes a close frame with code and reason (no code for 0 or 1005), waits for
// the peer's close frame (whether or not a goroutine is in ReadMessage: if none is,
// Close reads itself, discarding data), then closes the socket; all of it within 5 s.
// A write in progress (WriteMessages to a peer that stopped reading) gets 1 s of that
// to finish, then is aborted: the stream is broken, no close frame can follow, and
// Close closes the socket and returns the write's error. Writes that start while Close
// waits fail with ErrClosed. Idempotent; later calls return nil quickly.
func (c *Conn) Close(code int, reason string) error {
	if !c.closing.CompareAndSwap(false, true) {
		return nil
	}
	deadline := time.Now().Add(controlTimeout)
	if len(reason) > 123 {
		reason = truncUTF8(reason, 123)
	}
	var body [125]byte
	n := 0
	if code != 0 && code != statusNoStatus {
		binary.BigEndian.PutUint16(body[:], uint16(code))
		n = 2 + copy(body[2:], reason)
	}
	var frame [ws.MaxHeaderSize + 125]byte
	n = c.controlFrame(&frame, ws.OpClose, body[:n])
	if !c.wmu.TryLock() {
		// A write is in progress: bound it (see writeDeadline for the
		// writes that set their deadline after this).
		c.aborting.Store(true)
		_ = c.nc.SetWriteDeadline(time.Now().Add(closeWriteGrace))
		c.wmu.Lock()
		c.aborting.Store(false) // closeSent refuses the writes from now on
	}
	err := c.writable()
	if err == nil {
		c.closeSent = true
		if err = c.nc.SetWriteDeadline(deadline); err == nil {
			c.wdeadline = deadline
			if err = c.writeLocked(frame[:n]); err != nil {
				c.werr = err
			}
		}
	}
	c.wmu.Unlock()
	if errors.Is(err, ErrClosed) {
		err = nil // the peer's close was echoed already
	}
	if err == nil && !c.gotClose.Load() {
		_ = c.nc.SetReadDeadline(deadline)
		if c.rmu.TryLock() {
			// The last message stays: its reader may still be using it.
			_, _, _ = c.read(0, true)
			c.rmu.Unlock()
		} else {
			t := time.NewTimer(time.Until(deadline))
			select {
			case <-c.closeRecv:
			case <-c.readEnd: // the reader failed: no close frame will come
			case <-t.C:
			}
			t.Stop()
		}
	}
	if cerr := c.closeSocket(); err == nil {
		err = cerr
	}
	return err
}

// truncUTF8 cuts s to at most n bytes without splitting a rune.
func truncUTF8(s string, n int) string {
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n]
}

// CloseNow closes the socket without a handshake. Idempotent.
func (c *Conn) CloseNow() error {
	c.closing.Store(true)
	return c.closeSocket()
}

func (c *Conn) closeSocket() error {
	c.closeOnce.Do(func() {
		c.closeErr = c.nc.Close()
		c.endRead()
	})
	return c.closeErr
}

// endRead wakes Close and Ping: the peer's close frame will not come.
func (c *Conn) endRead() { c.readEndOnce.Do(func() { close(c.readEnd) }) }
