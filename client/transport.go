package client

import (
	"context"
	"errors"
	"net"
	"net/http"
	"strings"
	"time"

	"github.com/coder/websocket"

	"seen/internal/wsconn"
)

// transport is the WebSocket under a Conn: internal/wsconn for ws://
// URLs, coder/websocket (through net/http) for wss:// and WithHTTPClient.
// One goroutine reads; writes may come from any goroutine.
type transport interface {
	// read returns the next data message, valid until the next read, and
	// whether it is text.
	read() (text bool, msg []byte, err error)
	// write writes msgs as text frames in order, within timeout.
	write(timeout time.Duration, msgs [][]byte) error
	ping(ctx context.Context) error
	close(code int, reason string)
	closeNow()
}

// errTooLarge is the read error of a frame over the read limit.
var errTooLarge = errors.New("seen: frame over the read limit")

// dialTransport opens the WebSocket of Dial, bounded by ctx.
func dialTransport(ctx context.Context, wsURL string, o *options) (transport, error) {
	if o.httpClient == nil && strings.HasPrefix(wsURL, "ws://") {
		wc, err := wsconn.Dial(ctx, wsURL, o.header, o.localAddr)
		if err != nil {
			return nil, err
		}
		return &wsTransport{c: wc, max: int(min(o.readLimit, int64(maxInt)))}, nil
	}
	hc := o.httpClient
	if hc == nil {
		d := &net.Dialer{LocalAddr: o.localAddr}
		hc = &http.Client{Transport: &http.Transport{DialContext: d.DialContext, Proxy: http.ProxyFromEnvironment}}
	}
	ws, _, err := websocket.Dial(ctx, wsURL, &websocket.DialOptions{HTTPClient: hc, HTTPHeader: o.header})
	if err != nil {
		return nil, err
	}
	ws.SetReadLimit(o.readLimit)
	return &coderTransport{c: ws}, nil
}

const maxInt = int(^uint(0) >> 1)

// wsTransport is a wsconn.Conn: no read buffer while idle, one writev per
// batch of frames, no timer per write.
type wsTransport struct {
	c   *wsconn.Conn
	max int
}

func (t *wsTransport) read() (bool, []byte, error) {
	binary, msg, err := t.c.ReadMessage(t.max)
	if errors.Is(err, wsconn.ErrTooLarge) {
		err = errTooLarge
	}
	return !binary, msg, err
}

func (t *wsTransport) write(timeout time.Duration, msgs [][]byte) error {
	_, err := t.c.WriteMessages(timeout, false, msgs...)
	return err
}

func (t *wsTransport) ping(ctx context.Context) error { return t.c.Ping(ctx) }
func (t *wsTransport) close(code int, reason string)  { _ = t.c.Close(code, reason) }
func (t *wsTransport) closeNow()                      { _ = t.c.CloseNow() }

// coderTransport is a coder/websocket.Conn.
type coderTransport struct{ c *websocket.Conn }

func (t *coderTransport) read() (bool, []byte, error) {
	typ, msg, err := t.c.Read(context.Background()) // over the limit: the library closes with 1009
	return typ == websocket.MessageText, msg, err
}

func (t *coderTransport) write(timeout time.Duration, msgs [][]byte) error {
	// The write does not use a caller's ctx: the library closes the
	// connection when a write's context ends.
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	for _, m := range msgs {
		if err := t.c.Write(ctx, websocket.MessageText, m); err != nil {
			return err
		}
	}
	return nil
}

func (t *coderTransport) ping(ctx context.Context) error { return t.c.Ping(ctx) }
func (t *coderTransport) close(code int, reason string) {
	_ = t.c.Close(websocket.StatusCode(code), reason)
}
func (t *coderTransport) closeNow() { _ = t.c.CloseNow() }
