package chat

import (
	"sync"
	"time"
)

// A coalescer turns a burst of read-count changes into at most one push per
// message per interval. The first change of a quiet message is pushed at
// once; changes within the interval after a push are folded into one
// pending push (the highest count wins) that fires when the interval ends.
// So the last push of a burst always carries the final count, and the
// pushes a sender receives per message are bounded by the burst's length
// divided by the interval, whatever the group size.
type coalescer struct {
	interval time.Duration
	clock    Clock
	send     func(ReceiptPush)

	mu      sync.Mutex
	state   map[MsgID]*coalesceState
	closed  bool
	pending sync.WaitGroup // timers in flight
}

type coalesceState struct {
	next  *ReceiptPush // waiting for the interval to end
	timer Timer        // set while the interval after a push runs
}

func newCoalescer(interval time.Duration, clock Clock, send func(ReceiptPush)) *coalescer {
	return &coalescer{interval: interval, clock: clock, send: send, state: make(map[MsgID]*coalesceState)}
}

// update records a new count of p.Msg.
func (c *coalescer) update(p ReceiptPush) {
	c.mu.Lock()
	if c.closed || c.interval == 0 {
		c.mu.Unlock()
		c.send(p)
		return
	}
	st := c.state[p.Msg]
	if st == nil {
		// Quiet message: push now, and open an interval.
		st = &coalesceState{}
		c.state[p.Msg] = st
		c.arm(p.Msg, st)
		c.mu.Unlock()
		c.send(p)
		return
	}
	if st.next == nil || p.Count > st.next.Count {
		st.next = &p
	}
	c.mu.Unlock()
}

// arm starts the interval of msg. Called with c.mu held.
func (c *coalescer) arm(msg MsgID, st *coalesceState) {
	c.pending.Add(1)
	st.timer = c.clock.AfterFunc(c.interval, func() { c.fire(msg) })
}

// fire ends the interval of msg: it sends what is pending and opens a new
// interval, or forgets the message when nothing is.
func (c *coalescer) fire(msg MsgID) {
	defer c.pending.Done()
	c.mu.Lock()
	st := c.state[msg]
	if st == nil {
		c.mu.Unlock()
		return
	}
	next := st.next
	st.next = nil
	if next == nil || c.closed {
		delete(c.state, msg)
	} else {
		c.arm(msg, st)
	}
	c.mu.Unlock()
	if next != nil {
		c.send(*next)
	}
}

// close sends every pending push now and stops coalescing.
func (c *coalescer) close() {
	c.mu.Lock()
	c.closed = true
	var flush []ReceiptPush
	for msg, st := range c.state {
		if st.timer.Stop() {
			c.pending.Done()
		}
		if st.next != nil {
			flush = append(flush, *st.next)
		}
		delete(c.state, msg)
	}
	c.mu.Unlock()
	for _, p := range flush {
		c.send(p)
	}
	c.pending.Wait()
}
