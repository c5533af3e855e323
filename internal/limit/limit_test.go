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
	for range 3 { // a refused event spends nothing
		if ok, retry := l.Allow("a"); ok || retry != 30*time.Second {
			t.Fatalf("after 30s Allow = %v, %v; want refused, 30s", ok, retry)
		}
	}
	c.advance(30 * time.Second)
	if ok, _ := l.Allow("a"); !ok {
		t.Fatalf("after a minute: refused, want one event regained")
	}
	if ok, _ := l.Allow("a"); ok {
		t.Fatalf("only one event should have been regained")
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
// go first, busy ones not at all.
func TestBoundedKeys(t *testing.T) {
	c := &clock{t: time.Unix(1000, 0)}
	l := New(Config{N: 2, Window: time.Minute, MaxKeys: 10, Now: c.now})
	for i := range 10 {
		l.Allow(fmt.Sprint("old", i))
	}
	c.advance(time.Hour) // every bucket refills: all evictable
	l.Allow("busy")
	l.Allow("busy")
	for i := range 9 {
		if ok, _ := l.Allow(fmt.Sprint("new", i)); !ok {
			t.Fatalf("new key %d refused while full buckets could go", i)
		}
	}
	if n := l.Len(); n > 10 {
		t.Fatalf("Len = %d, over MaxKeys 10", n)
	}
	if ok, _ := l.Allow("busy"); ok {
		t.Fatalf("the busy key was evicted while full buckets could go")
	}
	for i := range 1000 {
		l.Allow(fmt.Sprint("flood", i))
	}
	if n := l.Len(); n > 10 {
		t.Fatalf("Len = %d after a flood of keys, over MaxKeys 10", n)
	}
}

// TestEvictKeepsSpent: flooding a full map with new keys never drops a
// spent bucket (which would reset its key's budget): nearly full ones go,
// and when every bucket is spent, the new key is refused.
func TestEvictKeepsSpent(t *testing.T) {
	c := &clock{t: time.Unix(1000, 0)}
	l := New(Config{N: 3, Window: 3 * time.Minute, MaxKeys: 4, Now: c.now})
	for range 3 {
		l.Allow("victim")
	}
	// Junk keys that spend one token each (nearly full: droppable) take
	// the other places in turn; the victim's spent bucket stays.
	for i := range 200 {
		if ok, _ := l.Allow(fmt.Sprint("junk", i)); !ok {
			t.Fatalf("junk key %d refused while nearly full buckets could go", i)
		}
		if ok, _ := l.Allow("victim"); ok {
			t.Fatalf("after junk key %d the victim's spent bucket was reset", i)
		}
	}
	if n := l.Len(); n != 4 {
		t.Fatalf("Len = %d, want MaxKeys 4", n)
	}
	// Now spend the junk keys too: every bucket is spent, so a new key is
	// refused rather than any of them dropped.
	for i := 197; i < 200; i++ {
		for range 3 {
			l.Allow(fmt.Sprint("junk", i))
		}
	}
	ok, retry := l.Allow("newcomer")
	if ok || retry != 2*time.Minute {
		t.Fatalf("new key with every bucket spent: Allow = %v, %v; want refused, retry 2m (until one is droppable)", ok, retry)
	}
	if ok, _ := l.Allow("victim"); ok {
		t.Fatal("the victim's spent bucket was reset")
	}
	c.advance(2 * time.Minute) // the buckets are at 2 of 3: droppable
	if ok, _ := l.Allow("newcomer"); !ok {
		t.Fatal("new key refused once the buckets were nearly full again")
	}
}

// TestAddrKey: IPv6 addresses count by /64, IPv4-mapped ones as IPv4.
func TestAddrKey(t *testing.T) {
	for _, tc := range []struct{ host, want string }{
		{"1.2.3.4", "1.2.3.4"},
		{"::ffff:1.2.3.4", "1.2.3.4"},
		{"2001:db8:1:2::1", "2001:db8:1:2::/64"},
		{"2001:db8:1:2:ffff:ffff:ffff:ffff", "2001:db8:1:2::/64"},
		{"2001:db8:1:3::1", "2001:db8:1:3::/64"},
		{"fe80::1%eth0", "fe80::/64"},
		{"::1", "::/64"},
		{"not-an-ip", "not-an-ip"},
	} {
		if got := AddrKey(tc.host); got != tc.want {
			t.Errorf("AddrKey(%q) = %q, want %q", tc.host, got, tc.want)
		}
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
