package hub

import (
	"sync"
	"time"

	"seen/internal/chat"
)

// Budget is one user's request budget on this node: a token bucket
// shared by all the user's sessions here, of either transport, so that
// 20 connections of one user get no more requests through than one. It
// lives while the user has a session on the node.
type Budget struct {
	refs int // guarded by Hub.mu

	mu sync.Mutex
	b  Bucket
}

// Allow takes a token from the user's bucket.
func (u *Budget) Allow(now time.Time) bool {
	u.mu.Lock()
	ok := u.b.Allow(now)
	u.mu.Unlock()
	return ok
}

// AddUser returns user's budget, creating it (full, with rate and burst)
// for the user's first session on the node; later sessions share it, and
// their rate and burst are ignored.
func (h *Hub) AddUser(user chat.UserID, rate float64, burst int) *Budget {
	h.mu.Lock()
	defer h.mu.Unlock()
	u := h.users[user]
	if u == nil {
		u = &Budget{b: NewBucket(rate, burst)}
		h.users[user] = u
	}
	u.refs++
	return u
}

// RemoveUser releases a session's hold on its user's budget, which AddUser
// returned; the budget is dropped with the user's last session.
func (h *Hub) RemoveUser(user chat.UserID, u *Budget) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if u.refs--; u.refs == 0 && h.users[user] == u {
		delete(h.users, user)
	}
}

// Bucket is a token bucket: rate tokens per second, at most burst. It
// starts full. It is not safe for concurrent use (Budget is).
type Bucket struct {
	rate, burst float64
	tokens      float64
	last        time.Time
}

// NewBucket returns a full bucket.
func NewBucket(rate float64, burst int) Bucket {
	return Bucket{rate: rate, burst: float64(burst)}
}

// Allow takes a token, refilled for the time since the last call; false
// when there is none.
func (b *Bucket) Allow(now time.Time) bool {
	if b.last.IsZero() {
		b.tokens = b.burst
	} else {
		b.tokens = min(b.burst, b.tokens+now.Sub(b.last).Seconds()*b.rate)
	}
	b.last = now
	if b.tokens >= 1 {
		b.tokens--
		return true
	}
	return false
}
