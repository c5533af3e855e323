package msync

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"seen/internal/admit"
	"seen/internal/chat"
	"seen/internal/hub"
	"seen/internal/wsconn"
)

// anyOrigin is the origin pattern of an empty Config.AllowedOrigins: any
// host (path.Match's * matches every host, which has no '/'). An Origin
// header that does not parse as a URL is refused all the same
// (wsconn.Upgrade).
var anyOrigin = []string{"*"}

// Server is the msync endpoint. Mount it at /websocket.
type Server struct {
	cfg  Config
	svc  *chat.Service
	hub  *hub.Hub
	log  *slog.Logger
	now  func() time.Time
	seq  atomic.Uint64 // session ids
	ids  *chat.IDGen   // fresh meta ids of pushes (freshID)
	wg   sync.WaitGroup
	mu   sync.Mutex
	live map[*session]struct{}
	// devices keeps each device's live session and sent ids (devices.go).
	devices *devices
	closed  bool
	// ended, when set (tests, before the first connection), is called
	// when an admitted connection has ended and given its slot back.
	ended func()
}

// New returns the endpoint over svc. Live events reach its sessions
// through h, the node's hub, shared with internal/ws.
func New(cfg Config, svc *chat.Service, h *hub.Hub, log *slog.Logger) (*Server, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if svc == nil || h == nil {
		return nil, fmt.Errorf("msync: a service and a hub are required")
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	s := &Server{cfg: cfg.withDefaults(), svc: svc, hub: h, log: log, now: time.Now, live: make(map[*session]struct{}), devices: newDevices()}
	if s.cfg.Admission == nil {
		s.cfg.Admission = admit.New(admit.Config{})
	}
	s.ids = chat.NewIDGen(s.cfg.NodeSlot, chat.SystemClock{})
	return s, nil
}

// pushIDBit is set in every fresh id: chat's ids are positive int64, so
// a fresh id never equals a message's id, which the SDK also keeps in
// the cache it drops repeats by.
const pushIDBit = 1 << 63

// freshID returns a meta id for pushes that the SDK must not drop as
// repeats: chat's id layout (time, node slot, sequence) with pushIDBit,
// unique across restarts and, with Config.NodeSlot, across nodes.
func (s *Server) freshID() uint64 { return uint64(s.ids.Next()) | pushIDBit }

// ServeHTTP upgrades the request and starts the session on its own
// goroutine, then returns: nothing of net/http's state for the
// connection (its buffers, the request) stays referenced by an idle
// session.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	origins := s.cfg.AllowedOrigins
	if len(origins) == 0 {
		origins = anyOrigin // see Config.AllowedOrigins
	}
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		http.Error(w, "shutting down", http.StatusServiceUnavailable)
		return
	}
	s.wg.Add(1)
	s.mu.Unlock()
	addr := s.cfg.Admission.ClientAddr(r)
	slot, status, reason := s.cfg.Admission.Admit(addr)
	if slot == nil {
		s.wg.Done()
		// Debug: under attack this is one line per connection attempt.
		s.log.Debug("msync refused", "remote", addr, "status", status, "reason", reason)
		admit.Refuse(w, status, reason)
		return
	}
	c, err := wsconn.Upgrade(w, r, origins)
	if err != nil {
		s.end(slot) // Upgrade has written the HTTP error
		return
	}
	sess := newSession(s, &wsConn{c: c, max: s.cfg.MaxFrameBytes}, "m"+strconv.FormatUint(s.seq.Add(1), 10))
	sess.slot = slot
	s.mu.Lock()
	s.live[sess] = struct{}{}
	closed := s.closed
	s.mu.Unlock()
	if closed {
		sess.close(1001, "server shutting down", false)
	}
	go func() {
		sess.run()
		s.mu.Lock()
		delete(s.live, sess)
		s.mu.Unlock()
		s.end(slot)
	}()
}

// end gives back an admitted connection's slot once it has ended.
func (s *Server) end(slot *admit.Slot) {
	slot.Release()
	if s.ended != nil {
		s.ended()
	}
	s.wg.Done()
}

// Close refuses new connections, closes every session (1001, going
// away) and waits for them. When ctx ends first, it drops the
// connections still open without a close handshake (CloseNow), waits
// for their sessions to end, and returns ctx's error.
func (s *Server) Close(ctx context.Context) error {
	s.mu.Lock()
	s.closed = true
	for sess := range s.live {
		sess.close(1001, "server shutting down", false)
	}
	s.mu.Unlock()
	done := make(chan struct{})
	go func() {
		s.wg.Wait()
		close(done)
	}()
	select {
	case <-done:
		return nil
	case <-ctx.Done():
	}
	s.mu.Lock()
	for sess := range s.live {
		_ = sess.conn.CloseNow()
	}
	s.mu.Unlock()
	<-done
	return fmt.Errorf("msync close: %w", ctx.Err())
}
