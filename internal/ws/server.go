// Package ws is seen's WebSocket endpoint: it upgrades connections,
// authenticates them, decodes requests (internal/protocol), calls
// chat.Service, and routes live events from chat.Bus to the sessions that
// should see them.
//
// A Server owns the sessions (session.go: two goroutines each, a bounded
// send queue) and one Hub (hub.go: one bus subscription per topic per node,
// fanned out to the local sessions). A session reads and writes through a
// small transport interface (transport.go), implemented over
// internal/wsconn (shared with internal/msync), so that the library can
// change and session logic is tested over a fake. dispatch.go decodes each request once and
// maps ops to service calls; push.go frames bus events as pushes. Domain
// values are converted to wire values by internal/wire only, shared with
// the REST API; the receipt rule "counts never go backwards" is
// chat.HighWater.
package ws

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"log/slog"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"seen/internal/admit"
	"seen/internal/chat"
	"seen/internal/hub"
	"seen/internal/protocol"
	"seen/internal/wsconn"
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
	// SendQueueBytes bounds the bytes of the frames a session holds that
	// the socket has not taken yet (queued or being written); over it the
	// session is closed with 4009. A reply larger than this alone is
	// replaced by a too_large error reply. Default 9 MiB: MaxInflight
	// replies of the largest page (1 MiB by default) and a push of the
	// largest frame fit, so a client that reads is never closed for its
	// own pipelined requests (Validate requires this).
	SendQueueBytes int
	// MaxMessageBytes and MaxPageBytes are the service's limits
	// (chat.Config) that the connection limits must hold: a frame must fit
	// the largest message, and the send queue MaxInflight pages of replies
	// and a frame. Only Validate reads them; internal/server copies them
	// from its chat.Config. Defaults: chat.DefaultConfig's.
	MaxMessageBytes int
	MaxPageBytes    int
	// RatePerSec and RateBurst are the per-connection request rate limit
	// (a token bucket). Default 50/s with a burst of 100.
	RatePerSec float64
	RateBurst  int
	// UserRatePerSec and UserRateBurst are a second token bucket per user,
	// shared by all the user's connections on this node, so that opening
	// more connections does not buy more requests. Default 100/s with a
	// burst of 200.
	UserRatePerSec float64
	UserRateBurst  int
	// MaxConnsPerAddr caps the concurrent connections from one client
	// address (ClientAddr); more are refused with HTTP 429 before the
	// upgrade. Default 256.
	MaxConnsPerAddr int
	// MaxUnauthConns caps the connections that have not authenticated yet,
	// in total (HTTP 503 when full) and MaxUnauthPerAddr per client address
	// (HTTP 429). Defaults 1024 and 32. These three caps make the server's
	// admission (Server.Admission), which counts the connections of every
	// transport sharing it (internal/msync's too).
	MaxUnauthConns   int
	MaxUnauthPerAddr int
	// ClientAddr returns the client address of a request, the key of the
	// per-address caps. Nil: the host of the TCP peer (r.RemoteAddr) as
	// limit.AddrKey names it (an IPv6 peer by its /64), so behind a
	// reverse proxy every client shares the proxy's address.
	ClientAddr func(r *http.Request) string
	// AuthTimeout is how long a connection may take to send auth. Default 10s.
	AuthTimeout time.Duration
	// PingInterval is how often the server pings and how long it waits for
	// the pong. Default 20s.
	PingInterval time.Duration
	// WriteTimeout bounds one write: of everything queued, written as one
	// batch. Default 10s.
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
	DefaultSendQueueBytes     = 9 << 20
	DefaultRatePerSec         = 50
	DefaultRateBurst          = 100
	DefaultUserRatePerSec     = 100
	DefaultUserRateBurst      = 200
	DefaultMaxConnsPerAddr    = admit.DefaultMaxConnsPerAddr
	DefaultMaxUnauthConns     = admit.DefaultMaxUnauthConns
	DefaultMaxUnauthPerAddr   = admit.DefaultMaxUnauthPerAddr
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
	orDefault(&c.SendQueueBytes, DefaultSendQueueBytes)
	orDefault(&c.MaxMessageBytes, chat.DefaultConfig().MaxMessageBytes)
	orDefault(&c.MaxPageBytes, chat.DefaultConfig().MaxPageBytes)
	orDefault(&c.RatePerSec, DefaultRatePerSec)
	orDefault(&c.RateBurst, DefaultRateBurst)
	orDefault(&c.UserRatePerSec, DefaultUserRatePerSec)
	orDefault(&c.UserRateBurst, DefaultUserRateBurst)
	orDefault(&c.MaxConnsPerAddr, DefaultMaxConnsPerAddr)
	orDefault(&c.MaxUnauthConns, DefaultMaxUnauthConns)
	orDefault(&c.MaxUnauthPerAddr, DefaultMaxUnauthPerAddr)
	orDefault(&c.AuthTimeout, DefaultAuthTimeout)
	orDefault(&c.PingInterval, DefaultPingInterval)
	orDefault(&c.WriteTimeout, DefaultWriteTimeout)
	orDefault(&c.TokenCheckInterval, DefaultTokenCheckInterval)
	return c
}

// Validate reports the first invalid setting, named as its flag. Zero is
// not valid here: DefaultConfig fills every field, and a flag set to 0 is
// a mistake, not "no limit".
func (c Config) Validate() error {
	switch {
	case c.MaxFrameBytes < 1024:
		return fmt.Errorf("max-frame-bytes %d is under 1024", c.MaxFrameBytes)
	case c.SendQueue < 1:
		return fmt.Errorf("send-queue %d is under 1", c.SendQueue)
	case c.RatePerSec <= 0:
		return fmt.Errorf("rate %v must be positive", c.RatePerSec)
	case c.RateBurst < 1:
		return fmt.Errorf("rate-burst %d is under 1", c.RateBurst)
	case c.AuthTimeout <= 0:
		return fmt.Errorf("auth-timeout must be positive")
	case c.PingInterval <= 0:
		return fmt.Errorf("ping-interval must be positive")
	case c.WriteTimeout <= 0:
		return fmt.Errorf("write-timeout must be positive")
	case c.TokenCheckInterval <= 0:
		return fmt.Errorf("token-check-interval must be positive")
	case c.SendQueueBytes < 64<<10:
		return fmt.Errorf("send-queue-bytes %d is under 65536", c.SendQueueBytes)
	case c.SendQueueBytes < c.MaxFrameBytes:
		return fmt.Errorf("send-queue-bytes %d is under max-frame-bytes %d: a message that size could not be pushed", c.SendQueueBytes, c.MaxFrameBytes)
	case c.UserRatePerSec <= 0:
		return fmt.Errorf("user-rate %v must be positive", c.UserRatePerSec)
	case c.UserRateBurst < 1:
		return fmt.Errorf("user-rate-burst %d is under 1", c.UserRateBurst)
	case c.MaxConnsPerAddr < 1:
		return fmt.Errorf("max-conns-per-addr %d is under 1", c.MaxConnsPerAddr)
	case c.MaxUnauthConns < 1:
		return fmt.Errorf("max-unauth-conns %d is under 1", c.MaxUnauthConns)
	case c.MaxUnauthPerAddr < 1:
		return fmt.Errorf("max-unauth-per-addr %d is under 1", c.MaxUnauthPerAddr)
	case c.MaxUnauthPerAddr > c.MaxConnsPerAddr:
		return fmt.Errorf("max-unauth-per-addr %d is over max-conns-per-addr %d", c.MaxUnauthPerAddr, c.MaxConnsPerAddr)
	case c.MaxFrameBytes < c.MaxMessageBytes:
		return fmt.Errorf("max-frame-bytes %d is under max-message-bytes %d: no message that size could be sent", c.MaxFrameBytes, c.MaxMessageBytes)
	case int64(c.SendQueueBytes) < c.sendQueueNeed():
		// Room for a full page from every request in flight and a push
		// besides, so a client that reads is never closed as a slow
		// consumer for its own pipelined requests.
		return fmt.Errorf("send-queue-bytes %d is under %d × max-page-bytes %d + max-frame-bytes %d = %d: the replies of %d pipelined requests could close a client that reads",
			c.SendQueueBytes, MaxInflight, c.MaxPageBytes, c.MaxFrameBytes, c.sendQueueNeed(), MaxInflight)
	}
	return nil
}

// sendQueueNeed is the least send queue in bytes: a full page for each of
// MaxInflight requests plus one frame.
func (c Config) sendQueueNeed() int64 {
	return int64(MaxInflight)*int64(c.MaxPageBytes) + int64(c.MaxFrameBytes)
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
	hub     *hub.Hub
	nextID  atomic.Uint64
	// idPrefix makes session ids unique across nodes and restarts: a
	// session id is the connection id (chat.Actor.Conn) that events
	// carry across the bus so that only the sending session is skipped.
	idPrefix string

	mu       sync.Mutex
	sessions map[*session]struct{}
	closed   bool
	wg       sync.WaitGroup // one per live session
	// adm counts the connections per client address and those not
	// authenticated yet; Admission shares it with the node's other
	// transport.
	adm *admit.Admission

	// ended, when set (tests, before the first connection), is called
	// when a session has ended and given its slots back.
	ended func()
	// flusherOnly, when set (tests, before the first connection), makes
	// every write wait for the flusher's goroutine (no hub.Flusher.Try),
	// so that a test holding that goroutine holds every frame.
	flusherOnly bool
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
	var p [4]byte
	rand.Read(p[:])
	s := &Server{
		svc: svc, bus: bus, cfg: cfg.withDefaults(), log: log, metrics: m,
		idPrefix: hex.EncodeToString(p[:]),
		sessions: make(map[*session]struct{}),
		adm: admit.New(admit.Config{
			MaxConnsPerAddr: cfg.MaxConnsPerAddr, MaxUnauthConns: cfg.MaxUnauthConns, MaxUnauthPerAddr: cfg.MaxUnauthPerAddr,
			ClientAddr: cfg.ClientAddr,
		}),
	}
	// The hub coalesces the read-count pushes that reach this node from
	// every node at the service's interval (hub.CoalesceReceipts).
	var opts []hub.Option
	if svc != nil {
		opts = append(opts, hub.CoalesceReceipts(svc.Config().CoalesceInterval))
	}
	s.hub = hub.New(bus, log, opts...)
	return s
}

// Hub returns the server's hub, for another transport's sessions to
// share: one bus subscription per topic per node, and one request budget
// per user, whichever protocol the user's sessions speak.
func (s *Server) Hub() *hub.Hub { return s.hub }

// Admission returns the server's connection admission, for another
// transport's connections to share: the per-address and unauthenticated
// caps count the connections of both endpoints together.
func (s *Server) Admission() *admit.Admission { return s.adm }

// ServeHTTP upgrades the connection and starts its session on a goroutine
// of its own: the handler returns, so that nothing of net/http's
// per-request state stays referenced while the connection lives.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	addr := s.adm.ClientAddr(r)
	slot, status, msg := s.admit(addr)
	if slot == nil {
		// Debug: under attack this is one line per connection attempt.
		s.log.Debug("ws refused", "remote", addr, "status", status, "reason", msg)
		admit.Refuse(w, status, msg)
		return
	}
	conn, err := wsconn.Upgrade(w, r, s.cfg.AllowedOrigins)
	if err != nil {
		// Upgrade has written the HTTP error.
		s.log.Debug("ws accept", "err", err, "remote", r.RemoteAddr)
		slot.Release()
		return
	}
	go s.serve(slot, wsConn{conn})
}

// serve runs a session over conn, admitted in slot, until it ends, and
// then releases the slot.
func (s *Server) serve(slot *admit.Slot, conn transport) {
	sess := newSession(s, conn)
	sess.slot = slot
	defer func() {
		slot.Release()
		if s.ended != nil {
			s.ended()
		}
	}()
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

// admit counts a new connection from addr, as unauthenticated, in the
// node's Admission, or returns the HTTP status and reason that refuse it:
// 503 while shutting down, else as admit.Admission.Admit.
func (s *Server) admit(addr string) (*admit.Slot, int, string) {
	s.mu.Lock()
	closed := s.closed
	s.mu.Unlock()
	if closed {
		return nil, http.StatusServiceUnavailable, "server shutting down"
	}
	return s.adm.Admit(addr)
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
