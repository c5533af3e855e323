package msync

import (
	"context"
	"errors"
	"time"

	"github.com/coder/websocket"
)

// transport is a session's connection: one WebSocket carrying binary
// frames. The read loop is its only reader and the write loop its only
// writer.
type transport interface {
	// Read waits at most timeout (0: without limit) for the next message
	// and returns its bytes; a text message is an error.
	Read(timeout time.Duration) ([]byte, error)
	// Ping sends a ping and waits within ctx for the pong, which arrives
	// while Read is being called.
	Ping(ctx context.Context) error
	// Write writes one binary message within timeout.
	Write(timeout time.Duration, b []byte) error
	// Close sends a close frame and closes the connection.
	Close(code int, reason string) error
	// CloseNow closes the connection without a close handshake.
	CloseNow() error
}

// Close codes, besides the standard ones: as internal/ws uses them, and
// closeReplaced of this endpoint only.
const (
	closeNormal       = 1000
	closePolicy       = 1008
	closeInternal     = 1011
	closeAuthFailed   = 4001
	closeTokenRevoked = 4002
	closeReplaced     = 4003 // a newer connection of the device logged in
	closeSlowConsumer = 4009
)

// errText is the read error of a text message.
var errText = errors.New("text message on the msync endpoint")

// coderConn is the transport over github.com/coder/websocket.
type coderConn struct{ c *websocket.Conn }

func (t coderConn) Read(timeout time.Duration) ([]byte, error) {
	ctx := context.Background()
	if timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, timeout)
		defer cancel()
	}
	typ, b, err := t.c.Read(ctx)
	if err != nil {
		return nil, err
	}
	if typ != websocket.MessageBinary {
		return nil, errText
	}
	return b, nil
}

func (t coderConn) Write(timeout time.Duration, b []byte) error {
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	return t.c.Write(ctx, websocket.MessageBinary, b)
}

func (t coderConn) Ping(ctx context.Context) error { return t.c.Ping(ctx) }

func (t coderConn) Close(code int, reason string) error {
	return t.c.Close(websocket.StatusCode(code), reason)
}

func (t coderConn) CloseNow() error { return t.c.CloseNow() }
