package chat

import (
	"context"
	"sync"
)

// A batcher is group commit: callers queue requests, and one goroutine
// takes everything queued (up to max) and commits it in one transaction,
// so the cost of a commit (an fsync) is shared by the whole batch. While a
// batch commits, the next one fills up.
type batcher[R interface{ done(error) }] struct {
	max    int
	commit func([]R)
	queue  chan R
	mu     sync.RWMutex // guards closed against sends on a closed queue
	closed bool
	wg     sync.WaitGroup
}

func newBatcher[R interface{ done(error) }](max int, commit func([]R)) *batcher[R] {
	b := &batcher[R]{max: max, commit: commit, queue: make(chan R, 4*max)}
	b.wg.Add(1)
	go b.run()
	return b
}

// submit queues r. It returns false when the batcher is closed.
func (b *batcher[R]) submit(ctx context.Context, r R) error {
	b.mu.RLock()
	defer b.mu.RUnlock()
	if b.closed {
		return Errorf(CodeUnavailable, "the server is shutting down")
	}
	select {
	case b.queue <- r:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

func (b *batcher[R]) run() {
	defer b.wg.Done()
	batch := make([]R, 0, b.max)
	for r := range b.queue {
		batch = append(batch[:0], r)
	fill:
		for len(batch) < b.max {
			select {
			case r, ok := <-b.queue:
				if !ok {
					break fill
				}
				batch = append(batch, r)
			default:
				break fill
			}
		}
		b.commit(batch)
		clear(batch)
	}
}

// close stops taking requests and waits until every queued one is
// committed.
func (b *batcher[R]) close() {
	b.mu.Lock()
	b.closed = true
	close(b.queue)
	b.mu.Unlock()
	b.wg.Wait()
}

// result is the reply slot of one request.
type result struct {
	ch chan error
}

func newResult() result { return result{ch: make(chan error, 1)} }

func (r result) done(err error) { r.ch <- err }

// wait returns the request's outcome. If ctx ends first the request may
// still commit: every write the batchers do is idempotent, so the client
// retries.
func (r result) wait(ctx context.Context) error {
	select {
	case err := <-r.ch:
		return err
	case <-ctx.Done():
		return ctx.Err()
	}
}
