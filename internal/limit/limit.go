// Package limit is a keyed rate limiter with bounded memory: one token
// bucket per key (an account, an address), for the abuse limits of the
// REST API (login failures, registrations).
//
// A bucket holds up to N tokens and regains N per Window, continuously.
// A bucket that has refilled completely is the same as no bucket, so the
// map only holds keys that spent something recently; when it reaches
// MaxKeys it drops the full buckets, and if that frees nothing, the
// fullest of a small sample, provided it is nearly full. It never drops a
// spent bucket, since that would hand its key a fresh budget (an attacker
// could flood the map with junk keys to reset a victim's): when every
// sampled bucket is spent, the new key is refused instead.
//
// AddrKey is the key of a client address for the per-address limits.
package limit

import (
	"math"
	"net/netip"
	"sync"
	"time"
)

// DefaultMaxKeys bounds a limiter's map when Config.MaxKeys is 0.
const DefaultMaxKeys = 100_000

// evictSample is how many buckets a full map looks at for one to drop.
const evictSample = 16

// AddrKey is the key of the client at host (an IP address) for the
// per-address limits: an IPv4 address (IPv4-mapped IPv6 ones unmapped),
// or the /64 prefix of an IPv6 one, since whoever has one IPv6 address
// usually has its whole /64 (2^64 addresses) and would otherwise have as
// many budgets. A host that is not an IP address is its own key.
func AddrKey(host string) string {
	a, err := netip.ParseAddr(host)
	if err != nil {
		return host
	}
	a = a.Unmap().WithZone("")
	if a.Is4() {
		return a.String()
	}
	return netip.PrefixFrom(a, 64).Masked().String()
}

// Config is one limit: N events per Window per key.
type Config struct {
	// N is the burst and the number of events regained per Window. 0
	// turns the limiter off: Allow always says yes.
	N int
	// Window is the time over which N events are regained.
	Window time.Duration
	// MaxKeys bounds the number of keys tracked (0: DefaultMaxKeys).
	MaxKeys int
	// Now is the clock (nil: time.Now); tests pass a fake one.
	Now func() time.Time
}

// Limiter is a set of token buckets by key. It is safe for concurrent use.
type Limiter struct {
	cfg       Config
	per       time.Duration // time to regain one token
	mu        sync.Mutex
	buckets   map[string]bucket
	lastSweep time.Time
}

type bucket struct {
	tokens float64
	at     time.Time // when tokens was computed
}

// New returns a limiter for cfg.
func New(cfg Config) *Limiter {
	if cfg.MaxKeys <= 0 {
		cfg.MaxKeys = DefaultMaxKeys
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	l := &Limiter{cfg: cfg, buckets: map[string]bucket{}}
	if cfg.N > 0 {
		l.per = cfg.Window / time.Duration(cfg.N)
	}
	return l
}

// Enabled reports whether the limiter limits anything.
func (l *Limiter) Enabled() bool { return l != nil && l.cfg.N > 0 && l.cfg.Window > 0 }

// level returns b's tokens at now.
func (l *Limiter) level(b bucket, now time.Time) float64 {
	t := b.tokens + float64(now.Sub(b.at))/float64(l.per)
	return math.Min(t, float64(l.cfg.N))
}

// Allow spends a token of key if it has one, and otherwise reports how
// long until it has.
func (l *Limiter) Allow(key string) (ok bool, retryAfter time.Duration) {
	if !l.Enabled() {
		return true, 0
	}
	// Check and Spend under one lock, so concurrent callers cannot both
	// take the last token.
	l.mu.Lock()
	defer l.mu.Unlock()
	now := l.cfg.Now()
	b, found := l.buckets[key]
	t := float64(l.cfg.N)
	if found {
		t = l.level(b, now)
	}
	if t < 1 {
		return false, time.Duration((1 - t) * float64(l.per))
	}
	if !found && len(l.buckets) >= l.cfg.MaxKeys {
		if wait, ok := l.evict(now); !ok {
			return false, wait
		}
	}
	l.buckets[key] = bucket{tokens: t - 1, at: now}
	return true, 0
}

// Refund gives back a token that Allow took, for an event that turned
// out not to count (a login that succeeded).
func (l *Limiter) Refund(key string) {
	if !l.Enabled() {
		return
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	b, found := l.buckets[key]
	if !found {
		return
	}
	now := l.cfg.Now()
	if t := l.level(b, now) + 1; t < float64(l.cfg.N) {
		l.buckets[key] = bucket{tokens: t, at: now}
	} else {
		delete(l.buckets, key) // full again: the same as no bucket
	}
}

// evict makes room for one key: it drops every full bucket (at most
// once per refill period, so a map full of busy keys is not swept on
// every call), then, if the map is still full, the fullest of a sample
// of evictSample buckets if it is nearly full (see droppable). Otherwise
// it drops nothing and returns false, with the time until the fullest
// sampled bucket is droppable: the new key is refused, since dropping a
// spent bucket would reset its key's budget.
func (l *Limiter) evict(now time.Time) (retryAfter time.Duration, ok bool) {
	if now.Sub(l.lastSweep) >= l.per {
		l.lastSweep = now
		for k, b := range l.buckets {
			if l.level(b, now) >= float64(l.cfg.N) {
				delete(l.buckets, k)
			}
		}
		if len(l.buckets) < l.cfg.MaxKeys {
			return 0, true
		}
	}
	best, bestLevel, n := "", -1.0, 0
	for k, b := range l.buckets { // map order is random: a random sample
		if t := l.level(b, now); t > bestLevel {
			best, bestLevel = k, t
		}
		if n++; n == evictSample {
			break
		}
	}
	if floor := l.droppable(); bestLevel < floor {
		return time.Duration((floor - bestLevel) * float64(l.per)), false
	}
	delete(l.buckets, best)
	return 0, true
}

// droppable is the level from which a bucket may be dropped to make room:
// within one token of full and at least half full, so that its key gains
// at most one event (half of one when N is 1) by starting afresh.
func (l *Limiter) droppable() float64 {
	n := float64(l.cfg.N)
	return math.Max(n-1, n/2)
}

// Len returns the number of keys tracked.
func (l *Limiter) Len() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.buckets)
}
