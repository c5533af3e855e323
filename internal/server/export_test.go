package server

import (
	"net"
	"net/http"

	"seen/internal/bus"
)

// Accessors for the tests of package server_test, which drive a Server
// from outside.

// NATS returns the node's NATS bus (nil on a single node), so that
// cluster tests wait for its Changed instead of polling /metrics.
func (s *Server) NATS() *bus.NATS { return s.nats }

// Handler returns the server's HTTP handler, to drive it without the
// listener (before Run and after shutdown).
func (s *Server) Handler() http.Handler { return s.http.Handler }

// Sessions returns the number of live WebSocket sessions.
func (s *Server) Sessions() int { return s.ws.Sessions() }

// MetricsAddr returns the bound address of the --metrics-addr listener,
// or nil without one.
func (s *Server) MetricsAddr() net.Addr {
	if s.metSrv == nil {
		return nil
	}
	return s.metAddr
}
