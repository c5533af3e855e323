package chat

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

type testReq struct {
	n     int
	dones *atomic.Int64 // counts the answers
}

func (r testReq) done(error) { r.dones.Add(1) }

// TestBatcher: batches of at most max, in order; a full queue (4*max
// waiting while a batch commits) holds a submitter until ctx ends or room
// comes; close commits everything queued and refuses what comes after.
func TestBatcher(t *testing.T) {
	const max = 3
	gate := make(chan struct{})
	var mu sync.Mutex
	var got [][]int
	b := newBatcher(max, func(rs []testReq) {
		<-gate
		mu.Lock()
		defer mu.Unlock()
		var ns []int
		for _, r := range rs {
			ns = append(ns, r.n)
			r.done(nil)
		}
		got = append(got, ns)
	})
	ctx := context.Background()
	var dones atomic.Int64
	req := func(n int) testReq { return testReq{n, &dones} }
	if err := b.submit(ctx, req(0)); err != nil {
		t.Fatal(err)
	}
	// Wait until the committer holds request 0, then fill the queue.
	deadline := time.Now().Add(10 * time.Second)
	for {
		b.mu.Lock()
		n := len(b.queue)
		b.mu.Unlock()
		if n == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the committer never took the first request")
		}
		time.Sleep(time.Millisecond)
	}
	for i := 1; i <= 4*max; i++ {
		if err := b.submit(ctx, req(i)); err != nil {
			t.Fatalf("submit %d: %v", i, err)
		}
	}
	short, cancel := context.WithTimeout(ctx, 50*time.Millisecond)
	defer cancel()
	if err := b.submit(short, req(-1)); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("submit to a full queue = %v, want the context's deadline", err)
	}
	waited := make(chan error, 1)
	go func() { waited <- b.submit(ctx, req(4*max+1)) }()
	time.Sleep(20 * time.Millisecond)
	close(gate) // room comes
	if err := <-waited; err != nil {
		t.Fatalf("submit once room came = %v", err)
	}
	b.close()
	if err := b.submit(ctx, req(99)); ErrorCode(err) != CodeUnavailable {
		t.Fatalf("submit after close = %v, want unavailable", err)
	}
	want := 0
	for _, batch := range got {
		if len(batch) == 0 || len(batch) > max {
			t.Fatalf("batch %v: want 1 to %d requests", batch, max)
		}
		for _, n := range batch {
			if n != want {
				t.Fatalf("batches %v: want the requests in order, 0 to %d", got, 4*max+1)
			}
			want++
		}
	}
	if want != 4*max+2 || dones.Load() != int64(want) {
		t.Fatalf("batches %v: %d requests committed and %d answered, want %d", got, want, dones.Load(), 4*max+2)
	}
}
