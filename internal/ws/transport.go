package ws

import (
	"context"
	"errors"
	"time"

	"seen/internal/wsconn"
)

// transport is a session's connection: one WebSocket, whatever library
// speaks it underneath (wsConn over internal/wsconn). The session's read
// loop is its only reader and the flusher its only writer of data
// frames; a ping may be in flight beside them (the transport serializes
// its control frames with the data frames). Session logic is tested over
// a fake one (fake_test.go).
type transport interface {
	// Read waits for the next message and returns whether it is text and
	// its payload, valid until the next Read. It holds no buffer while
	// waiting. A message over max bytes is errTooLarge: if it was at
	// most 16*max, its rest was discarded and the close handshake can
	// still read the peer's close frame; over that, the connection was
	// closed at once. After the peer's close frame the error is a
	// *peerClosed.
	Read(max int) (text bool, b []byte, err error)
	// Write writes msgs as text messages, in order, in one system call
	// where it can, within timeout for the whole batch (so a peer that
	// stops reading fails it in bounded time), and returns how many it
	// wrote whole. The session hands over everything queued at once: it
	// lowers the send queue's bytes and checks for a close between
	// batches.
	Write(timeout time.Duration, msgs ...[]byte) (int, error)
	// TryWrite writes msgs as Write does, but only what the socket takes
	// at once, and never waits (not for a Write in progress either): it
	// returns how many it took, the last perhaps begun, and then pending
	// reports that the transport kept that one's rest, which the next
	// Write (with no messages if need be) writes first. The messages not
	// taken are the caller's to write.
	TryWrite(timeout time.Duration, msgs ...[]byte) (taken int, pending bool, err error)
	// Ping sends a ping and waits within ctx for its pong, which arrives
	// while Read is being called.
	Ping(ctx context.Context) error
	// Close sends a close frame with code and reason and waits, boundedly,
	// for the peer's, then closes the connection.
	Close(code int, reason string) error
	// CloseNow closes the connection without a close handshake.
	CloseNow() error
}

// errTooLarge is the error of a Read of a message over its max.
var errTooLarge = errors.New("message too large")

// Close codes the session uses besides protocol's: a peer that broke the
// WebSocket protocol, a connection that failed or that the peer dropped
// (never sent), and a server failure.
const (
	closeProtocolError = 1002
	closeAbnormal      = 1006
	closeInternal      = 1011
)

// peerClosed is the error of a read after the peer's close frame.
type peerClosed struct{ code int }

func (e *peerClosed) Error() string { return "peer closed the connection" }

// closeCodeOf is the close code a read error ends the session with: the
// peer's, 1002 for a peer that broke the WebSocket protocol, or
// closeAbnormal when the connection just failed.
func closeCodeOf(err error) int {
	var pc *peerClosed
	if errors.As(err, &pc) {
		return pc.code
	}
	var pe *wsconn.ProtocolError
	if errors.As(err, &pe) {
		return closeProtocolError
	}
	return closeAbnormal
}

// wsConn is the transport over internal/wsconn.
type wsConn struct{ c *wsconn.Conn }

func (t wsConn) Read(max int) (bool, []byte, error) {
	binary, b, err := t.c.ReadMessage(max)
	if err != nil {
		var ce *wsconn.CloseError
		switch {
		case errors.As(err, &ce):
			return false, nil, &peerClosed{code: ce.Code}
		case errors.Is(err, wsconn.ErrTooLarge):
			return false, nil, errTooLarge
		}
		return false, nil, err
	}
	return !binary, b, nil
}

// Write writes msgs in one writev, with one write deadline.
func (t wsConn) Write(timeout time.Duration, msgs ...[]byte) (int, error) {
	return t.c.WriteMessages(timeout, false, msgs...)
}

// TryWrite writes what the socket takes in one non-blocking writev.
func (t wsConn) TryWrite(timeout time.Duration, msgs ...[]byte) (int, bool, error) {
	return t.c.TryWriteMessages(timeout, false, msgs...)
}

func (t wsConn) Ping(ctx context.Context) error { return t.c.Ping(ctx) }

func (t wsConn) Close(code int, reason string) error { return t.c.Close(code, reason) }

func (t wsConn) CloseNow() error { return t.c.CloseNow() }
