// Package chattest has test doubles of chat's dependencies that several
// packages' tests share.
package chattest

import (
	"slices"
	"sync"
	"time"

	"seen/internal/chat"
)

// Clock is a settable chat.Clock. Its timers fire only when Add moves the
// time past them, in the goroutine that calls Add, in order of their
// time: a test decides when an interval ends.
type Clock struct {
	mu     sync.Mutex
	now    time.Time
	timers []*timer
}

// timer is a call of Clock.AfterFunc.
type timer struct {
	c    *Clock
	when time.Time
	f    func()
}

// NewClock returns a Clock at start.
func NewClock(start time.Time) *Clock { return &Clock{now: start} }

// Now returns the clock's time.
func (c *Clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

// AfterFunc sets a timer that calls f once Add has moved the time d on.
func (c *Clock) AfterFunc(d time.Duration, f func()) chat.Timer {
	c.mu.Lock()
	defer c.mu.Unlock()
	t := &timer{c: c, when: c.now.Add(d), f: f}
	c.timers = append(c.timers, t)
	return t
}

// Stop removes the timer if it has not fired.
func (t *timer) Stop() bool {
	t.c.mu.Lock()
	defer t.c.mu.Unlock()
	i := slices.Index(t.c.timers, t)
	if i < 0 {
		return false
	}
	t.c.timers = slices.Delete(t.c.timers, i, i+1)
	return true
}

// Add moves the time forward by d, firing each timer that falls due on
// the way at its own time (a timer a firing one sets fires too, if it
// falls due before the end).
func (c *Clock) Add(d time.Duration) {
	c.mu.Lock()
	end := c.now.Add(d)
	for {
		next := -1
		for i, t := range c.timers {
			if !t.when.After(end) && (next < 0 || t.when.Before(c.timers[next].when)) {
				next = i
			}
		}
		if next < 0 {
			break
		}
		t := c.timers[next]
		c.timers = slices.Delete(c.timers, next, next+1)
		c.now = t.when
		c.mu.Unlock()
		t.f()
		c.mu.Lock()
	}
	c.now = end
	c.mu.Unlock()
}

// Set moves the time to now without firing anything: a timer running
// late.
func (c *Clock) Set(now time.Time) {
	c.mu.Lock()
	c.now = now
	c.mu.Unlock()
}

// Pending returns how many timers have not fired.
func (c *Clock) Pending() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.timers)
}
