package server

import "seen/internal/bus"

// NATS returns the node's NATS bus (nil on a single node), so that
// cluster tests wait for its Changed instead of polling /metrics.
func (s *Server) NATS() *bus.NATS { return s.nats }
