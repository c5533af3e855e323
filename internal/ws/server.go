// Package ws is seen's WebSocket endpoint: it upgrades connections,
// authenticates them, decodes requests (internal/protocol), calls
// chat.Service, and routes live events from chat.Bus to the sessions that
// should see them.
//
// A Server owns the sessions (session.go: two goroutines each, a bounded
// send queue) and one Hub (hub.go: one bus subscription per topic per node,
// fanned out to the local sessions). dispatch.go maps ops to service
// calls; push.go encodes bus events as push frames. Domain values are
// converted to wire values by internal/wire, shared with the REST API.
package ws

import (
	"context"
	"log/slog"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"github.com/coder/websocket"

	"seen/internal/chat"
	"seen/internal/protocol"
)

// Config holds the per-connection limits. Zero values take the defaults
// documented on each field (and in docs/protocol.md).
type Config struct {
	// AllowedOrigins are host patterns (path.Match syntax, e.g.
	// "*.example.com") of the browser origins allowed to connect besides
	// the server's own host. Empty: same origin only.
	AllowedOrigins []string
	// MaxFrameBytes is the largest request frame; larger ones close the
	// connection with 4000. Default 256 KiB.
	MaxFrameBytes int
	// SendQueue is how many outbound frames may wait for the socket; when
	// it overflows the session is closed with 4009. Default 256.
	SendQueue int
	// RatePerSec and RateBurst are the per-connection request rate limit
	// (a token bucket). Default 50/s with a burst of 100.
	RatePerSec float64
	RateBurst  int
	// AuthTimeout is how long a connection may take to send auth. Default 10s.
	AuthTimeout time.Duration
	// PingInterval is how often the server pings and how long it waits for
	// the pong. Default 20s.
	PingInterval time.Duration
	// WriteTimeout bounds one frame write. Default 10s.
	WriteTimeout time.Duration
	// TokenCheckInterval is how often a connected session's token is
	// checked again; a revoked or expired token closes it with 4002.
	// Default 5m.
	TokenCheckInterval time.Duration
}

// Defaults.
const (
	DefaultMaxFrameBytes      = 256 << 10
	DefaultSendQueue          = 256
	DefaultRatePerSec         = 50
	DefaultRateBurst          = 100
	DefaultAuthTimeout        = 10 * time.Second
	DefaultPingInterval       = 20 * time.Second
	DefaultWriteTimeout       = 10 * time.Second
	DefaultTokenCheckInterval = 5 * time.Minute
	// MaxInflight is how many requests of one session run at once; the
	// read loop stops reading while that many are in flight.
	MaxInflight = 8
	// floodFactor times the burst of refused requests in a row closes the
	// connection with 4008.
	floodFactor = 4
)

// DefaultConfig returns the defaults of every setting (no other origins
// allowed).
func DefaultConfig() Config { return Config{}.withDefaults() }

func (c Config) withDefaults() Config {
	orDefault(&c.MaxFrameBytes, DefaultMaxFrameBytes)
	orDefault(&c.SendQueue, DefaultSendQueue)
	orDefault(&c.RatePerSec, DefaultRatePerSec)
	orDefault(&c.RateBurst, DefaultRateBurst)
	orDefault(&c.AuthTimeout, DefaultAuthTimeout)
	orDefault(&c.PingInterval, DefaultPingInterval)
	orDefault(&c.WriteTimeout, DefaultWriteTimeout)
	orDefault(&c.TokenCheckInterval, DefaultTokenCheckInterval)
	return c
}

// orDefault sets *v to def unless it is positive: zero (and nonsense)
// takes the default.
func orDefault[T int | float64 | time.Duration](v *T, def T) {
	if *v <= 0 {
		*v = def
	}
}

// Metrics receives the endpoint's measurements. Every method must be
// cheap and safe for concurrent use. internal/server implements it with
// Prometheus; NopMetrics ignores everything.
type Metrics interface {
	// ConnOpened is called when a connection is upgraded.
	ConnOpened()
	// ConnClosed is called when a session has ended, with the close code
	// the server sent or received (1006 when the connection just dropped).
	ConnClosed(code int)
	// FrameIn counts a request frame by op ("" when it had no valid op).
	FrameIn(op string)
	// FrameOut counts a frame written: the op of a reply, or "push." and
	// the push name.
	FrameOut(kind string)
	// SlowConsumer counts a session closed because its queue overflowed.
	SlowConsumer()
	// ErrorReply counts an error reply by code name.
	ErrorReply(code string)
}

// NopMetrics ignores every measurement.
type NopMetrics struct{}

func (NopMetrics) ConnOpened()       {}
func (NopMetrics) ConnClosed(int)    {}
func (NopMetrics) FrameIn(string)    {}
func (NopMetrics) FrameOut(string)   {}
func (NopMetrics) SlowConsumer()     {}
func (NopMetrics) ErrorReply(string) {}

// Server is the WebSocket endpoint. Mount it at /ws.
type Server struct {
	svc     *chat.Service
	bus     chat.Bus
	cfg     Config
	log     *slog.Logger
	metrics Metrics
	hub     *hub
	nextID  atomic.Uint64

	mu       sync.Mutex
	sessions map[*session]struct{}
	closed   bool
	wg       sync.WaitGroup // one per live session
}

// New returns a Server that serves svc's use cases and routes bus's
// events. A nil logger discards logs; nil metrics are NopMetrics.
func New(svc *chat.Service, bus chat.Bus, cfg Config, log *slog.Logger, m Metrics) *Server {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	if m == nil {
		m = NopMetrics{}
	}
	s := &Server{
		svc: svc, bus: bus, cfg: cfg.withDefaults(), log: log, metrics: m,
		sessions: make(map[*session]struct{}),
	}
	s.hub = newHub(bus, log)
	return s
}

// ServeHTTP upgrades the connection and runs the session until it ends.
// The handler's goroutine is the session's read loop.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	closed := s.closed
	s.mu.Unlock()
	if closed {
		http.Error(w, "server shutting down", http.StatusServiceUnavailable)
		return
	}
	conn, err := websocket.Accept(w, r, &websocket.AcceptOptions{OriginPatterns: s.cfg.AllowedOrigins})
	if err != nil {
		// Accept has written the HTTP error.
		s.log.Debug("ws accept", "err", err, "remote", r.RemoteAddr)
		return
	}
	// The library's own limit would close with 1009; ours closes with
	// 4000 (session.readLoop), so the library reads without a limit.
	conn.SetReadLimit(-1)
	sess := newSession(s, conn)
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		conn.Close(protocol.CloseGoingAway, "server shutting down")
		return
	}
	s.sessions[sess] = struct{}{}
	s.wg.Add(1)
	s.mu.Unlock()
	defer s.wg.Done()
	s.metrics.ConnOpened()
	sess.run()
	s.mu.Lock()
	delete(s.sessions, sess)
	s.mu.Unlock()
}

// Sessions returns the number of live sessions.
func (s *Server) Sessions() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.sessions)
}

// Close refuses new connections, closes every session with 1001 and waits
// for their goroutines to end. When ctx ends first the remaining
// connections are dropped without a close handshake, and ctx's error is
// returned once they are gone.
func (s *Server) Close(ctx context.Context) error {
	s.mu.Lock()
	s.closed = true
	live := make([]*session, 0, len(s.sessions))
	for sess := range s.sessions {
		live = append(live, sess)
	}
	s.mu.Unlock()
	for _, sess := range live {
		sess.close(protocol.CloseGoingAway, "server shutting down", false)
	}
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
	for _, sess := range live {
		sess.conn.CloseNow()
	}
	<-done
	return ctx.Err()
}
