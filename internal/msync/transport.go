package msync

import (
	"context"
	"errors"
	"fmt"
	"os"
	"time"

	"seen/internal/wsconn"
)

// transport is a session's connection: one WebSocket carrying binary
// frames. The read loop is its only reader; the flusher alone calls
// Write and Close, the idle helper Ping; CloseNow is called by the
// flusher and by Server.Close.
type transport interface {
	// Read waits at most timeout (0: without limit) for the next message
	// and returns its bytes, valid until the next Read. A text message
	// is errText, a message over the limit errTooLarge, a deadline that
	// passed an error that is context.DeadlineExceeded.
	Read(timeout time.Duration) ([]byte, error)
	// Ping sends a ping and waits within ctx for the pong, which arrives
	// while Read is being called.
	Ping(ctx context.Context) error
	// Write writes frames as binary messages, in order, in one write
	// within timeout, and returns how many were written whole.
	Write(timeout time.Duration, frames ...[]byte) (int, error)
	// TryWrite writes frames as Write does, but only what the socket takes
	// at once, and never waits: it returns how many it took, the last
	// perhaps begun, and then pending reports that the transport kept
	// that one's rest, which the next Write (with no frames if need be)
	// writes first. The frames not taken are the caller's to write.
	TryWrite(timeout time.Duration, frames ...[]byte) (taken int, pending bool, err error)
	// Close sends a close frame and closes the connection.
	Close(code int, reason string) error
	// CloseNow closes the connection without a close handshake.
	CloseNow() error
}

// Close codes, besides the standard ones: as internal/ws uses them, and
// closeReplaced of this endpoint only.
const (
	closeNormal       = 1000
	closeProtocol     = 1002
	closeUnsupported  = 1003
	closePolicy       = 1008
	closeTooBig       = 1009
	closeInternal     = 1011
	closeAuthFailed   = 4001
	closeTokenRevoked = 4002
	closeReplaced     = 4003 // a newer connection of the device logged in
	closeSlowConsumer = 4009
)

var (
	// errText is the read error of a text message.
	errText = errors.New("text message on the msync endpoint")
	// errTooLarge is the read error of a message over MaxFrameBytes.
	errTooLarge = wsconn.ErrTooLarge
)

// wsConn is the transport over internal/wsconn.
type wsConn struct {
	c        *wsconn.Conn
	max      int  // MaxFrameBytes
	deadline bool // a read deadline is set (Read with a timeout)
}

// Read sets a read deadline only when a timeout is asked for (the
// PROVISION's), and clears it once: no timer per read. It is kept small:
// the read loop waits in it, and an idle goroutine's stack shrinks only
// while it uses under a quarter of it.
func (t *wsConn) Read(timeout time.Duration) ([]byte, error) {
	if timeout > 0 || t.deadline {
		if err := t.setDeadline(timeout); err != nil {
			return nil, err
		}
	}
	binary, b, err := t.c.ReadMessage(t.max)
	if err != nil || !binary {
		return nil, readErr(err)
	}
	return b, nil
}

// setDeadline sets the read deadline timeout from now, or clears it (0).
func (t *wsConn) setDeadline(timeout time.Duration) error {
	t.deadline = timeout > 0
	var at time.Time
	if t.deadline {
		at = time.Now().Add(timeout)
	}
	return t.c.SetReadDeadline(at)
}

// readErr is Read's error for err from ReadMessage (nil: a text message).
func readErr(err error) error {
	switch {
	case err == nil:
		return errText
	case errors.Is(err, os.ErrDeadlineExceeded):
		return fmt.Errorf("msync read: %w (%w)", context.DeadlineExceeded, err)
	}
	return err
}

func (t *wsConn) Write(timeout time.Duration, frames ...[]byte) (int, error) {
	return t.c.WriteMessages(timeout, true, frames...)
}

func (t *wsConn) TryWrite(timeout time.Duration, frames ...[]byte) (int, bool, error) {
	return t.c.TryWriteMessages(timeout, true, frames...)
}

func (t *wsConn) Ping(ctx context.Context) error { return t.c.Ping(ctx) }

func (t *wsConn) Close(code int, reason string) error { return t.c.Close(code, reason) }

func (t *wsConn) CloseNow() error { return t.c.CloseNow() }
