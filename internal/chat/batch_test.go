package chat

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"
)

type testReq struct{ n int }

func (testReq) done(error) {}

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
		}
		got = append(got, ns)
	})
	ctx := context.Background()
	if err := b.submit(ctx, testReq{0}); err != nil {
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
		if err := b.submit(ctx, testReq{i}); err != nil {
			t.Fatalf("submit %d: %v", i, err)
		}
	}
	short, cancel := context.WithTimeout(ctx, 50*time.Millisecond)
	defer cancel()
	if err := b.submit(short, testReq{-1}); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("submit to a full queue = %v, want the context's deadline", err)
	}
	waited := make(chan error, 1)
	go func() { waited <- b.submit(ctx, testReq{4*max + 1}) }()
	time.Sleep(20 * time.Millisecond)
	close(gate) // room comes
	if err := <-waited; err != nil {
		t.Fatalf("submit once room came = %v", err)
	}
	b.close()
	if err := b.submit(ctx, testReq{99}); ErrorCode(err) != CodeUnavailable {
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
	if want != 4*max+2 {
		t.Fatalf("batches %v: %d requests committed, want %d", got, want, 4*max+2)
	}
}
