package limit

import (
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

type clock struct{ t time.Time }

func (c *clock) now() time.Time          { return c.t }
func (c *clock) advance(d time.Duration) { c.t = c.t.Add(d) }

func TestAllow(t *testing.T) {
	c := &clock{t: time.Unix(1000, 0)}
	l := New(Config{N: 3, Window: 3 * time.Minute, Now: c.now})
	for i := range 3 {
		if ok, _ := l.Allow("a"); !ok {
			t.Fatalf("event %d refused, want the first 3 allowed", i+1)
		}
	}
	ok, retry := l.Allow("a")
	if ok || retry != time.Minute {
		t.Fatalf("4th event = %v, retry %v; want refused, retry 1m", ok, retry)
	}
	if ok, _ := l.Allow("b"); !ok {
		t.Fatalf("another key refused")
	}
	c.advance(30 * time.Second)
	if ok, retry := l.Check("a"); ok || retry != 30*time.Second {
		t.Fatalf("after 30s Check = %v, %v; want refused, 30s", ok, retry)
	}
	c.advance(30 * time.Second)
	if ok, _ := l.Allow("a"); !ok {
		t.Fatalf("after a minute: refused, want one event regained")
	}
	if ok, _ := l.Allow("a"); ok {
		t.Fatalf("only one event should have been regained")
	}
}

func TestSpendAndCheck(t *testing.T) {
	c := &clock{t: time.Unix(1000, 0)}
	l := New(Config{N: 2, Window: time.Minute, Now: c.now})
	for range 5 { // spending goes down to zero, not below
		l.Spend("x")
	}
	if ok, retry := l.Check("x"); ok || retry != 30*time.Second {
		t.Fatalf("Check = %v, %v; want refused, 30s", ok, retry)
	}
	c.advance(30 * time.Second)
	if ok, _ := l.Check("x"); !ok {
		t.Fatalf("Check after 30s refused")
	}
}

func TestOff(t *testing.T) {
	l := New(Config{N: 0, Window: time.Minute})
	for range 100 {
		if ok, _ := l.Allow("a"); !ok {
			t.Fatal("a limiter with N 0 refused")
		}
	}
	if l.Len() != 0 {
		t.Fatalf("a limiter with N 0 tracks %d keys", l.Len())
	}
}

// TestBoundedKeys: the map never holds more than MaxKeys; full buckets
// go first, busy ones only when nothing else can.
func TestBoundedKeys(t *testing.T) {
	c := &clock{t: time.Unix(1000, 0)}
	l := New(Config{N: 2, Window: time.Minute, MaxKeys: 10, Now: c.now})
	for i := range 10 {
		l.Spend(fmt.Sprint("old", i))
	}
	l.Spend("busy")
	l.Spend("busy")
	if n := l.Len(); n > 10 {
		t.Fatalf("Len = %d, over MaxKeys 10", n)
	}
	c.advance(time.Hour) // every bucket refills: all evictable
	l.Spend("busy")
	l.Spend("busy")
	for i := range 9 {
		l.Spend(fmt.Sprint("new", i))
	}
	if n := l.Len(); n > 10 {
		t.Fatalf("Len = %d, over MaxKeys 10", n)
	}
	if ok, _ := l.Check("busy"); ok {
		t.Fatalf("the busy key was evicted while full buckets could go")
	}
	for i := range 1000 {
		l.Allow(fmt.Sprint("flood", i))
	}
	if n := l.Len(); n > 10 {
		t.Fatalf("Len = %d after a flood of keys, over MaxKeys 10", n)
	}
}

// TestAllowConcurrent: concurrent callers never take more than N.
func TestAllowConcurrent(t *testing.T) {
	c := &clock{t: time.Unix(1000, 0)}
	l := New(Config{N: 7, Window: time.Hour, Now: c.now})
	var ok atomic.Int32
	var wg sync.WaitGroup
	for range 50 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if allowed, _ := l.Allow("k"); allowed {
				ok.Add(1)
			}
		}()
	}
	wg.Wait()
	if ok.Load() != 7 {
		t.Fatalf("%d of 50 concurrent events allowed, want 7", ok.Load())
	}
}

func TestRefund(t *testing.T) {
	c := &clock{t: time.Unix(1000, 0)}
	l := New(Config{N: 2, Window: time.Hour, Now: c.now})
	l.Allow("k")
	l.Allow("k")
	l.Refund("k")
	if ok, _ := l.Allow("k"); !ok {
		t.Fatal("a refunded token could not be used")
	}
	l.Refund("k")
	l.Refund("k")
	l.Refund("k") // never above N
	if l.Len() != 0 {
		t.Fatalf("a full bucket is still tracked")
	}
	for range 2 {
		if ok, _ := l.Allow("k"); !ok {
			t.Fatal("refunds should have restored the whole budget")
		}
	}
	if ok, _ := l.Allow("k"); ok {
		t.Fatal("refunds went over N")
	}
}
