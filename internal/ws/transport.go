package ws

import (
	"context"
	"errors"
	"io"
	"time"

	"github.com/coder/websocket"
)

// transport is a session's connection: one WebSocket, whatever library
// speaks it underneath (coderConn today). The session's read loop is its
// only reader and the write loop its only writer of data frames; a ping
// may be in flight beside them (the transport serializes its control
// frames with the data frames). Session logic is tested over a fake one
// (fake_test.go).
type transport interface {
	// Reader waits for the next message and returns whether it is text
	// and a reader of its payload, valid until the next call. When the
	// peer has closed the connection the error is a *peerClosed.
	Reader() (text bool, r io.Reader, err error)
	// Write writes msgs as text messages, in order, giving each at most
	// timeout (so a peer that stops reading fails it in bounded time),
	// and returns how many it wrote. An adapter that can may send many in
	// one system call. The session hands over one frame at a time today:
	// it lowers the send queue's bytes and checks for a close between
	// frames, so writing many at once changes that accounting with it.
	Write(timeout time.Duration, msgs ...[]byte) (int, error)
	// Ping sends a ping and waits within ctx for its pong, which arrives
	// while Reader is being called.
	Ping(ctx context.Context) error
	// Close sends a close frame with code and reason and waits, boundedly,
	// for the peer's, then closes the connection.
	Close(code int, reason string) error
	// CloseNow closes the connection without a close handshake.
	CloseNow() error
}

// Close codes the session uses besides protocol's: a connection that
// failed or that the peer dropped (never sent), and a server failure.
const (
	closeAbnormal = 1006
	closeInternal = 1011
)

// peerClosed is the error of a read after the peer's close frame.
type peerClosed struct{ code int }

func (e *peerClosed) Error() string { return "peer closed the connection" }

// closeCodeOf is the close code a read error ends the session with: the
// peer's, or closeAbnormal when the connection just failed.
func closeCodeOf(err error) int {
	var pc *peerClosed
	if errors.As(err, &pc) {
		return pc.code
	}
	return closeAbnormal
}

// coderConn is the transport over github.com/coder/websocket.
type coderConn struct{ c *websocket.Conn }

// newCoderConn wraps c, which reads without the library's own size limit:
// that would close with 1009, and the session closes with 4000.
func newCoderConn(c *websocket.Conn) coderConn {
	c.SetReadLimit(-1)
	return coderConn{c}
}

func (t coderConn) Reader() (bool, io.Reader, error) {
	typ, r, err := t.c.Reader(context.Background())
	if err != nil {
		if code := websocket.CloseStatus(err); code != -1 {
			return false, nil, &peerClosed{code: int(code)}
		}
		return false, nil, err
	}
	return typ == websocket.MessageText, r, nil
}

// Write writes msgs one by one: coder/websocket flushes every message.
func (t coderConn) Write(timeout time.Duration, msgs ...[]byte) (int, error) {
	for i, m := range msgs {
		if err := t.write(timeout, m); err != nil {
			return i, err
		}
	}
	return len(msgs), nil
}

func (t coderConn) write(timeout time.Duration, msg []byte) error {
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	return t.c.Write(ctx, websocket.MessageText, msg)
}

func (t coderConn) Ping(ctx context.Context) error { return t.c.Ping(ctx) }

func (t coderConn) Close(code int, reason string) error {
	return t.c.Close(websocket.StatusCode(code), reason)
}

func (t coderConn) CloseNow() error { return t.c.CloseNow() }
