// Package admit bounds the connections a client can hold on a node's
// WebSocket endpoints: per client address, and, of those that have not
// authenticated yet, in total and per address. One Admission serves
// every endpoint of a node (internal/ws at /ws and internal/msync at
// /websocket), so the caps count a client's connections on both
// together.
//
// A connection is admitted before the upgrade (Admit), holds a Slot
// while it lives, gives back its unauthenticated place when it
// authenticates (Slot.Authenticated) and everything when it ends
// (Slot.Release).
package admit

import (
	"net"
	"net/http"
	"sync"

	"seen/internal/limit"
)

// Config holds the caps. Zero values take the defaults.
type Config struct {
	// MaxConnsPerAddr caps the concurrent connections from one client
	// address; more are refused with 429. Default 256.
	MaxConnsPerAddr int
	// MaxUnauthConns caps the connections that have not authenticated
	// yet, in total (503 when full), and MaxUnauthPerAddr per client
	// address (429). Defaults 1024 and 32.
	MaxUnauthConns   int
	MaxUnauthPerAddr int
	// ClientAddr returns the client address of a request, the key of the
	// per-address caps. Nil: RemoteAddr.
	ClientAddr func(r *http.Request) string
}

// Defaults.
const (
	DefaultMaxConnsPerAddr  = 256
	DefaultMaxUnauthConns   = 1024
	DefaultMaxUnauthPerAddr = 32
)

// Refusal reasons, the body of the HTTP error.
const (
	ReasonUnauthFull     = "too many connections waiting to authenticate; retry later"
	ReasonAddrFull       = "too many connections from this address"
	ReasonAddrUnauthFull = "too many unauthenticated connections from this address"
)

// RemoteAddr is the default client address: the host of the TCP peer
// (r.RemoteAddr) as limit.AddrKey names it (an IPv6 peer by its /64).
// Behind a reverse proxy every client shares the proxy's address.
func RemoteAddr(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return limit.AddrKey(host)
}

// Admission counts the connections of a node. It is safe for concurrent
// use.
type Admission struct {
	cfg Config

	mu     sync.Mutex
	addrs  map[string]*addrConns // only addresses with a connection
	unauth int                   // unauthenticated connections in total
}

// addrConns counts one client address's connections.
type addrConns struct {
	conns, unauth int
}

// New returns an Admission with cfg's caps.
func New(cfg Config) *Admission {
	orDefault(&cfg.MaxConnsPerAddr, DefaultMaxConnsPerAddr)
	orDefault(&cfg.MaxUnauthConns, DefaultMaxUnauthConns)
	orDefault(&cfg.MaxUnauthPerAddr, DefaultMaxUnauthPerAddr)
	if cfg.ClientAddr == nil {
		cfg.ClientAddr = RemoteAddr
	}
	return &Admission{cfg: cfg, addrs: make(map[string]*addrConns)}
}

func orDefault(v *int, def int) {
	if *v <= 0 {
		*v = def
	}
}

// ClientAddr returns the client address of r (Config.ClientAddr).
func (a *Admission) ClientAddr(r *http.Request) string { return a.cfg.ClientAddr(r) }

// Admit counts a new connection from addr, as unauthenticated, and
// returns its slot; or returns a nil slot with the HTTP status and
// reason that refuse it: 503 when too many connections in total have not
// authenticated yet, 429 when addr is over one of its caps.
func (a *Admission) Admit(addr string) (slot *Slot, status int, reason string) {
	a.mu.Lock()
	defer a.mu.Unlock()
	c := a.addrs[addr]
	if c == nil {
		c = &addrConns{}
	}
	switch {
	case a.unauth >= a.cfg.MaxUnauthConns:
		return nil, http.StatusServiceUnavailable, ReasonUnauthFull
	case c.conns >= a.cfg.MaxConnsPerAddr:
		return nil, http.StatusTooManyRequests, ReasonAddrFull
	case c.unauth >= a.cfg.MaxUnauthPerAddr:
		return nil, http.StatusTooManyRequests, ReasonAddrUnauthFull
	}
	c.conns++
	c.unauth++
	a.unauth++
	a.addrs[addr] = c
	return &Slot{a: a, addr: addr, unauth: true, held: true}, 0, ""
}

// Refuse writes the refusal of Admit to w, with Retry-After: 1.
func Refuse(w http.ResponseWriter, status int, reason string) {
	w.Header().Set("Retry-After", "1")
	http.Error(w, reason, status)
}

// Slot is one admitted connection. Its methods are safe for concurrent
// use and may be called more than once: only the first call of each
// counts.
type Slot struct {
	a    *Admission
	addr string
	// unauth is true while the slot holds an unauthenticated place,
	// held while it holds its address's place (a.mu).
	unauth, held bool
}

// Addr returns the client address the slot was admitted from.
func (s *Slot) Addr() string { return s.addr }

// Authenticated gives back the slot's unauthenticated place; the
// connection still counts for its address.
func (s *Slot) Authenticated() {
	s.a.mu.Lock()
	defer s.a.mu.Unlock()
	if !s.unauth {
		return
	}
	s.unauth = false
	s.a.addrs[s.addr].unauth--
	s.a.unauth--
}

// Release gives back everything the slot holds: the connection has
// ended (or was never upgraded).
func (s *Slot) Release() {
	s.a.mu.Lock()
	defer s.a.mu.Unlock()
	if !s.held {
		return
	}
	s.held = false
	c := s.a.addrs[s.addr]
	if s.unauth {
		s.unauth = false
		c.unauth--
		s.a.unauth--
	}
	c.conns--
	if c.conns == 0 {
		delete(s.a.addrs, s.addr)
	}
}
