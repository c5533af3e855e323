package bench

import (
	"context"
	"net"
	"time"

	"seen/internal/wsconn"
)

// frameConn is the load's side of one WebSocket: the calls of
// internal/wsconn's Conn that a member needs.
type frameConn interface {
	ReadMessage(max int) (binary bool, msg []byte, err error)
	WriteMessages(timeout time.Duration, binary bool, msgs ...[]byte) (int, error)
	CloseNow() error
}

// dialWS opens a client WebSocket to url from the source address local
// (nil: any), the dial and the handshake bounded by ctx. The members ride
// the same transport as the servers, so that the load costs little.
func dialWS(ctx context.Context, url string, local net.Addr) (frameConn, error) {
	c, err := wsconn.Dial(ctx, url, nil, local)
	if err != nil {
		return nil, err
	}
	return c, nil
}
