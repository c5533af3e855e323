// Package limit is a keyed rate limiter with bounded memory: one token
// bucket per key (an account, an address), for the abuse limits of the
// REST API (login failures, registrations).
//
// A bucket holds up to N tokens and regains N per Window, continuously.
// A bucket that has refilled completely is the same as no bucket, so the
// map only holds keys that spent something recently; when it reaches
// MaxKeys it drops the full buckets, and if that frees nothing, an
// arbitrary one (that key starts afresh: the limiter fails open for one
// key rather than refusing everyone).
package limit

import (
	"math"
	"sync"
	"time"
)

// DefaultMaxKeys bounds a limiter's map when Config.MaxKeys is 0.
const DefaultMaxKeys = 100_000

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

// Check reports whether key has a token left, without spending it, and
// otherwise how long until it has one.
func (l *Limiter) Check(key string) (ok bool, retryAfter time.Duration) {
	if !l.Enabled() {
		return true, 0
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	b, found := l.buckets[key]
	if !found {
		return true, 0
	}
	t := l.level(b, l.cfg.Now())
	if t >= 1 {
		return true, 0
	}
	return false, time.Duration((1 - t) * float64(l.per))
}

// Spend takes one token from key (down to zero).
func (l *Limiter) Spend(key string) {
	if !l.Enabled() {
		return
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	now := l.cfg.Now()
	b, found := l.buckets[key]
	t := float64(l.cfg.N)
	if found {
		t = l.level(b, now)
	} else if len(l.buckets) >= l.cfg.MaxKeys {
		l.evict(now)
	}
	l.buckets[key] = bucket{tokens: math.Max(t-1, 0), at: now}
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
		l.evict(now)
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
// every call), then, if the map is still full, an arbitrary key.
func (l *Limiter) evict(now time.Time) {
	if now.Sub(l.lastSweep) >= l.per {
		l.lastSweep = now
		for k, b := range l.buckets {
			if l.level(b, now) >= float64(l.cfg.N) {
				delete(l.buckets, k)
			}
		}
	}
	for k := range l.buckets {
		if len(l.buckets) < l.cfg.MaxKeys {
			break
		}
		delete(l.buckets, k)
	}
}

// Len returns the number of keys tracked.
func (l *Limiter) Len() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.buckets)
}
