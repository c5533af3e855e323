package ws

import "seen/internal/protocol"

// Resync tells every session of this server to run its sync and stats
// loops: events may have been missed (the cluster bus came back after an
// outage, or another node died holding back pushes). The store has them
// all.
func (s *Server) Resync(reason string) {
	frame, err := encodePush(protocol.PushResync, protocol.Resync{Reason: reason})
	if err != nil {
		s.log.Error("encode resync", "err", err)
		return
	}
	s.mu.Lock()
	live := make([]*session, 0, len(s.sessions))
	for sess := range s.sessions {
		live = append(live, sess)
	}
	s.mu.Unlock()
	for _, sess := range live {
		if sess.authed.Load() {
			sess.send(outFrame{b: frame, kind: "push." + protocol.PushResync})
		}
	}
}
