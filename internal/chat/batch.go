package chat

import (
	"context"
	"math/bits"
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
	// queued, when set, is called once a request is queued, under mu: a
	// test's way to know that a batch holds every request it sent.
	queued func()
}

func newBatcher[R interface{ done(error) }](max int, commit func([]R)) *batcher[R] {
	b := &batcher[R]{max: max, commit: commit, queue: make(chan R, 4*max)}
	b.wg.Add(1)
	go b.run()
	return b
}

// submit queues r. It fails when the batcher is closed or ctx ends first.
func (b *batcher[R]) submit(ctx context.Context, r R) error {
	b.mu.RLock()
	defer b.mu.RUnlock()
	if b.closed {
		return Errorf(CodeUnavailable, "the server is shutting down")
	}
	select {
	case b.queue <- r:
		if b.queued != nil {
			b.queued()
		}
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

// commitIsolated commits a batch so that it never fails for one member's
// sake. The happy path is one call of commit (one transaction, one fsync).
// If that fails and the store still commits an empty transaction (probe:
// the store itself is fine, so something in the batch made it fail), the
// batch is split in halves and each is committed the same way, down to
// single requests: a request whose transaction fails on its own gets the
// error, and every other one commits. One culprit among n costs about
// log2(n) more failing transactions (and as many committing ones), on the
// failure path only. Halves commit in order, so requests keep their order.
// commit answers the requests of a batch it committed; fail answers one
// that failed.
//
// The probe proves less than it seems: a store that refuses every real
// write (a read-only standby, a full disk, a lock timeout) may still
// commit an empty transaction, and splitting then fails 2n-1 times. So the
// failing commits of one isolation are bounded (isolationBudget): past it,
// more than one culprit is unlikely to be the cause, and every request not
// yet committed gets the last error.
func commitIsolated[R any](batch []R, commit func([]R) error, fail func(R, error), probe func() error) {
	err := commit(batch)
	if err == nil {
		return
	}
	if len(batch) == 1 || probe() != nil {
		failAll(batch, fail, err)
		return
	}
	is := isolation[R]{commit: commit, fail: fail, failures: 1, budget: isolationBudget(len(batch)), err: err}
	is.bisect(batch)
}

// isolationBudget is how many failing commits the isolation of a batch of
// n may cost, the first included: 2*ceil(log2(n))+2, room for two culprits
// found exactly (one costs 1+ceil(log2(n))).
func isolationBudget(n int) int { return 2*bits.Len(uint(n-1)) + 2 }

// An isolation is the state of one commitIsolated past its first failure.
type isolation[R any] struct {
	commit   func([]R) error
	fail     func(R, error)
	failures int   // failing commits so far
	budget   int   // failing commits allowed
	err      error // the last failure
}

// bisect commits each half of a batch that failed, splitting again the
// halves that fail, until the failures reach the budget: then the
// requests not committed get the last error without another try.
func (is *isolation[R]) bisect(batch []R) {
	mid := len(batch) / 2
	for _, half := range [][]R{batch[:mid], batch[mid:]} {
		if is.failures >= is.budget {
			failAll(half, is.fail, is.err)
			continue
		}
		err := is.commit(half)
		if err == nil {
			continue
		}
		is.failures++
		is.err = err
		if len(half) == 1 {
			is.fail(half[0], err)
			continue
		}
		is.bisect(half)
	}
}

func failAll[R any](batch []R, fail func(R, error), err error) {
	for _, r := range batch {
		fail(r, err)
	}
}

// probe commits an empty write: whether the store takes writes at all.
func (s *Service) probe(ctx context.Context) error {
	return s.write(ctx, "probe", func(Tx) error { return nil })
}
