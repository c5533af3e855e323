package webhook

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
	"unicode/utf8"

	"seen/internal/chat"
)

// Store is the part of the store (sqlstore.Store) a Deliverer uses.
type Store interface {
	Write(ctx context.Context, fn func(chat.Tx) error) error
	// ClaimOutboxFor leases to owner, until now+lease, up to limit due
	// rows of each of targets, and no row of another target.
	ClaimOutboxFor(ctx context.Context, owner string, targets []string, now time.Time, lease time.Duration, limit int) ([]chat.OutboxEvent, error)
	// PendingOutbox counts the rows not failed per target.
	PendingOutbox(ctx context.Context) (map[string]int, error)
}

// Deliverer delivers the outbox from one node. It claims due rows in
// rounds: a round claims a bounded number of rows of each of its targets
// (never those of a target it does not have: another node may), groups
// them per target into POSTs (many events each in the seen format, one in
// Easemob's), sends them with at most Concurrency in flight per target,
// and records the outcomes in one transaction: delivered rows deleted,
// failed ones rescheduled or marked failed, those not sent in time
// released.
type Deliverer struct {
	cfg     Config
	store   Store
	log     *slog.Logger
	client  *http.Client
	targets map[string]bool

	wake     chan struct{}
	stop     chan struct{} // closed by Close: finish the round, claim no more
	stopOnce sync.Once
	done     chan struct{} // closed when the loop has returned
	// abort cancels the requests in flight, when Close's deadline passes.
	abortCtx context.Context
	abort    context.CancelFunc
	started  bool

	delivered, retried, failed atomic.Int64 // events, as recorded
}

// Stats are a Deliverer's counts of events since it started, as recorded
// in the outbox.
type Stats struct {
	Delivered int64 // deleted after a 2xx
	Retried   int64 // rescheduled after a failed attempt
	Failed    int64 // marked failed: attempts exhausted, or undeliverable
}

// Stats returns the counts so far.
func (d *Deliverer) Stats() Stats {
	return Stats{Delivered: d.delivered.Load(), Retried: d.retried.Load(), Failed: d.failed.Load()}
}

// New returns a Deliverer of the outbox of store; Start starts it.
func New(cfg Config, store Store, log *slog.Logger) (*Deliverer, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if cfg.Owner == "" {
		return nil, errors.New("webhook: an owner (the node's instance name) is required")
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	tr := http.DefaultTransport.(*http.Transport).Clone()
	// Concurrency bounds each target (send); several may share a host.
	tr.MaxConnsPerHost = cfg.Concurrency * len(cfg.Targets)
	tr.MaxIdleConnsPerHost = cfg.Concurrency * len(cfg.Targets)
	tr.ResponseHeaderTimeout = cfg.Timeout
	d := &Deliverer{
		cfg: cfg, store: store, log: log,
		client: &http.Client{
			Transport: tr,
			Timeout:   cfg.Timeout,
			// A redirect is an answer, not a success: the target is
			// misconfigured, and a signed body is not replayed elsewhere.
			CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
		},
		targets: make(map[string]bool, len(cfg.Targets)),
		wake:    make(chan struct{}, 1),
		stop:    make(chan struct{}),
		done:    make(chan struct{}),
	}
	for _, t := range cfg.Targets {
		d.targets[t] = true
	}
	d.abortCtx, d.abort = context.WithCancel(context.Background())
	return d, nil
}

// Start starts the delivery loop. Call it once.
func (d *Deliverer) Start() {
	d.started = true
	go d.run()
}

// Wake makes the loop check the outbox now rather than at its next poll.
// It never blocks.
func (d *Deliverer) Wake() {
	select {
	case d.wake <- struct{}{}:
	default:
	}
}

// Close stops claiming and waits for the round in flight: requests already
// sent finish (each within Timeout) and are recorded, rows not yet sent are
// released at once for another node or the next start. When ctx ends
// first, the requests still in flight are cancelled and their rows
// released.
func (d *Deliverer) Close(ctx context.Context) error {
	d.stopOnce.Do(func() { close(d.stop) })
	if !d.started {
		return nil
	}
	defer d.client.CloseIdleConnections()
	select {
	case <-d.done:
		return nil
	case <-ctx.Done():
		d.abort()
		<-d.done
		return fmt.Errorf("close webhook deliverer: %w", ctx.Err())
	}
}

func (d *Deliverer) stopping() bool {
	select {
	case <-d.stop:
		return true
	default:
		return false
	}
}

// minGap is the least time between two rounds that did not fill their
// claim: commits that wake the loop in quick succession share one round,
// and so their POSTs.
const minGap = 20 * time.Millisecond

func (d *Deliverer) run() {
	defer close(d.done)
	defer d.abort()
	d.logStranded()
	t := time.NewTimer(0)
	defer t.Stop()
	for {
		select {
		case <-d.stop:
			return
		case <-d.wake:
			// Let the commits of the same moment join the round.
			select {
			case <-d.stop:
				return
			case <-time.After(minGap):
			}
		case <-t.C:
		}
		for !d.stopping() {
			full, err := d.round()
			if err != nil {
				d.log.Warn("webhook round failed", "err", err)
				break
			}
			if !full {
				break
			}
		}
		t.Reset(d.cfg.Poll)
	}
}

// logStranded warns of the rows pending for targets this node does not
// have: another node may deliver them (a rolling deploy that adds a
// target), or none will, and they wait until the URL is configured again.
func (d *Deliverer) logStranded() {
	ctx, cancel := context.WithTimeout(d.abortCtx, max(d.cfg.Timeout, 10*time.Second))
	defer cancel()
	counts, err := d.store.PendingOutbox(ctx)
	if err != nil {
		d.log.Warn("webhook pending rows not counted", "err", err)
		return
	}
	for target, n := range counts {
		if !d.targets[target] {
			d.log.Warn("webhook rows pending for a target not configured on this node", "target", target, "events", n)
		}
	}
}

// claimLimit is how many rows one round claims per target: what the
// round can send to it at once.
func (d *Deliverer) claimLimit() int {
	per := d.cfg.Batch
	if d.cfg.Format == FormatSeen {
		per *= d.cfg.Concurrency
	}
	return min(per, max(1, 20_000/max(1, len(d.cfg.Targets))))
}

// batch is one POST: its rows and body.
type batch struct {
	target string
	rows   []chat.OutboxEvent
	body   []byte
}

// outcome collects what a round did with its rows.
type outcome struct {
	mu        sync.Mutex
	delivered []int64
	released  []int64
	failed    []failure
}

// failure is a failed attempt of rows with the same attempt count.
type failure struct {
	ids      []int64
	attempts int // including this one
	err      string
	final    bool // no attempts left, or no attempt can ever succeed
}

// round runs one claim and reports whether it was full for a target
// (more of its rows may be due).
func (d *Deliverer) round() (full bool, err error) {
	ctx, cancel := context.WithTimeout(context.Background(), max(d.cfg.Timeout, 10*time.Second))
	defer cancel()
	now := time.Now()
	lease, limit := d.cfg.lease(), d.claimLimit()
	rows, err := d.store.ClaimOutboxFor(ctx, d.cfg.Owner, d.cfg.Targets, now, lease, limit)
	if err != nil {
		return false, fmt.Errorf("claim: %w", err)
	}
	if len(rows) == 0 {
		return false, nil
	}
	// A request starts only while it ends, Timeout later, before the lease
	// does, less a margin for clocks: the lease never lapses while its rows
	// may be in flight, so no other node sends them meanwhile.
	margin := min(5*time.Second, (lease-d.cfg.Timeout)/2)
	cutoff := now.Add(lease - d.cfg.Timeout - margin)

	out := &outcome{}
	batches := d.batches(rows, out)
	claimed := map[string]int{}
	for _, r := range rows {
		claimed[r.Target]++
		full = full || claimed[r.Target] == limit
	}
	perTarget := map[string][]batch{}
	var order []string
	for _, b := range batches {
		if perTarget[b.target] == nil {
			order = append(order, b.target)
		}
		perTarget[b.target] = append(perTarget[b.target], b)
	}
	var wg sync.WaitGroup
	for _, target := range order {
		queue := make(chan batch, len(perTarget[target]))
		for _, b := range perTarget[target] {
			queue <- b
		}
		close(queue)
		down := &targetDown{}
		for range min(d.cfg.Concurrency, len(perTarget[target])) {
			wg.Go(func() {
				for b := range queue {
					d.send(b, cutoff, down, out)
				}
			})
		}
	}
	wg.Wait()
	if err := d.record(out); err != nil {
		return false, err
	}
	d.log.Debug("webhook round", "claimed", len(rows), "delivered", len(out.delivered), "released", len(out.released), "failed_attempts", len(out.failed))
	return full, nil
}

// batches renders rows into POSTs per target, in id order. Rows that can
// never be delivered (their payload is malformed) are failed at once in
// out. The claim returns only rows of this node's targets; were another
// one among them, it is released, not failed: a node that has its target
// may deliver it.
func (d *Deliverer) batches(rows []chat.OutboxEvent, out *outcome) []batch {
	var bs []batch
	cur := map[string]int{} // target -> index in bs of its open batch
	var pending map[string][][]byte
	pendingBytes := map[string]int{}
	flush := func(target string) {
		i, ok := cur[target]
		if !ok {
			return
		}
		bs[i].body = seenBody(pending[target])
		delete(cur, target)
		pending[target], pendingBytes[target] = nil, 0
	}
	pending = map[string][][]byte{}
	for _, r := range rows {
		if !d.targets[r.Target] {
			out.release([]int64{r.ID})
			continue
		}
		if d.cfg.Format == FormatEasemob {
			body, err := easemobEvent(r, d.cfg.Secret, d.cfg.AppKey, d.cfg.Host)
			if err != nil {
				out.fail([]int64{r.ID}, r.Attempts+1, err.Error(), true)
				continue
			}
			bs = append(bs, batch{target: r.Target, rows: []chat.OutboxEvent{r}, body: body})
			continue
		}
		ev, err := seenEvent(r)
		if err != nil {
			out.fail([]int64{r.ID}, r.Attempts+1, err.Error(), true)
			continue
		}
		i, open := cur[r.Target]
		if open && (len(bs[i].rows) >= d.cfg.Batch || pendingBytes[r.Target]+len(ev)+16 > d.cfg.MaxBodyBytes) {
			flush(r.Target)
			open = false
		}
		if !open {
			bs = append(bs, batch{target: r.Target})
			i = len(bs) - 1
			cur[r.Target] = i
		}
		bs[i].rows = append(bs[i].rows, r)
		pending[r.Target] = append(pending[r.Target], ev)
		pendingBytes[r.Target] += len(ev) + 1
	}
	for t := range cur {
		flush(t)
	}
	return bs
}

// targetDown is the first failure of a target in a round: once one POST
// to a target failed, the rest of its batches in the round are not sent
// and share that failed attempt, so that a target that hangs costs a
// round one timeout, not one per batch, and holds no other target back.
type targetDown struct {
	mu  sync.Mutex
	err string
}

func (t *targetDown) get() string {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.err
}

func (t *targetDown) set(err string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.err == "" {
		t.err = err
	}
}

// send POSTs b, unless the lease leaves no time or the Deliverer is
// closing (the rows are released) or the target already failed in this
// round, and records the outcome.
func (d *Deliverer) send(b batch, cutoff time.Time, down *targetDown, out *outcome) {
	ids := make([]int64, len(b.rows))
	for i, r := range b.rows {
		ids[i] = r.ID
	}
	if d.stopping() || time.Now().After(cutoff) {
		out.release(ids)
		return
	}
	if prev := down.get(); prev != "" {
		d.failAttempt(b, "not sent: an earlier request of the round failed: "+prev, out)
		return
	}
	err := d.post(b.target, b.body)
	switch {
	case err == nil:
		out.deliver(ids)
	case d.abortCtx.Err() != nil:
		// Cancelled by Close: not the target's fault.
		out.release(ids)
	default:
		d.log.Info("webhook delivery failed", "target", b.target, "events", len(ids), "err", err)
		down.set(err.Error())
		d.failAttempt(b, err.Error(), out)
	}
}

// failAttempt records a failed attempt of b's rows, which may have had
// different attempts before.
func (d *Deliverer) failAttempt(b batch, err string, out *outcome) {
	byAttempts := map[int][]int64{}
	for _, r := range b.rows {
		byAttempts[r.Attempts+1] = append(byAttempts[r.Attempts+1], r.ID)
	}
	for n, ids := range byAttempts {
		out.fail(ids, n, err, n >= d.cfg.MaxAttempts)
	}
}

// post sends one signed body to target; nil on a 2xx answer.
func (d *Deliverer) post(target string, body []byte) error {
	ctx, cancel := context.WithTimeout(d.abortCtx, d.cfg.Timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, target, bytes.NewReader(body))
	if err != nil {
		return err
	}
	ts := strconv.FormatInt(time.Now().Unix(), 10)
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "seen-webhook/1")
	req.Header.Set(HeaderTimestamp, ts)
	req.Header.Set(HeaderSignature, Sign(d.cfg.Secret, ts, body))
	resp, err := d.client.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	head, _ := io.ReadAll(io.LimitReader(resp.Body, 256))
	// Drain a little more so that the connection can be reused, no more:
	// a receiver's reply is not ours to store.
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	if resp.StatusCode/100 == 2 {
		return nil
	}
	return fmt.Errorf("HTTP %d: %s", resp.StatusCode, printable(head))
}

// printable keeps the valid, printable part of a reply for an error.
func printable(b []byte) string {
	s := strings.ToValidUTF8(string(b), "?")
	s = strings.Map(func(r rune) rune {
		if r < 0x20 || r == utf8.RuneError {
			return ' '
		}
		return r
	}, s)
	return strings.TrimSpace(s)
}

// maxLastError bounds the error stored with a row.
const maxLastError = 500

func (o *outcome) deliver(ids []int64) {
	o.mu.Lock()
	o.delivered = append(o.delivered, ids...)
	o.mu.Unlock()
}

func (o *outcome) release(ids []int64) {
	o.mu.Lock()
	o.released = append(o.released, ids...)
	o.mu.Unlock()
}

func (o *outcome) fail(ids []int64, attempts int, err string, final bool) {
	if len(err) > maxLastError {
		err = strings.ToValidUTF8(err[:maxLastError], "")
	}
	o.mu.Lock()
	o.failed = append(o.failed, failure{ids: ids, attempts: attempts, err: err, final: final})
	o.mu.Unlock()
}

// backoff is the wait after a row's attempts-th failed attempt.
func (d *Deliverer) backoff(attempts int) time.Duration {
	b := d.cfg.BackoffMin
	for i := 1; i < attempts && b < d.cfg.BackoffMax; i++ {
		b *= 2
	}
	b = min(b, d.cfg.BackoffMax)
	return b/2 + rand.N(b/2+1)
}

// record writes a round's outcome in one transaction. It runs even while
// closing (with its own deadline): a delivery not recorded is sent again.
func (d *Deliverer) record(o *outcome) error {
	if len(o.delivered) == 0 && len(o.released) == 0 && len(o.failed) == 0 {
		return nil
	}
	ctx, cancel := context.WithTimeout(context.Background(), max(d.cfg.Timeout, 5*time.Second))
	defer cancel()
	now := time.Now()
	err := d.store.Write(ctx, func(tx chat.Tx) error {
		if len(o.delivered) > 0 {
			if err := tx.DeleteOutbox(ctx, d.cfg.Owner, o.delivered); err != nil {
				return err
			}
		}
		if len(o.released) > 0 {
			if err := tx.ReleaseOutbox(ctx, d.cfg.Owner, o.released, now); err != nil {
				return err
			}
		}
		for _, f := range o.failed {
			if err := tx.RescheduleOutbox(ctx, d.cfg.Owner, f.ids, now.Add(d.backoff(f.attempts)), f.err, f.final || f.attempts >= d.cfg.MaxAttempts); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		// The rows stay leased until the lease ends, then are claimed
		// again: delivered ones are sent twice, nothing is lost.
		return fmt.Errorf("record %d delivered, %d released, %d failed: %w", len(o.delivered), len(o.released), len(o.failed), err)
	}
	d.delivered.Add(int64(len(o.delivered)))
	for _, f := range o.failed {
		if f.final || f.attempts >= d.cfg.MaxAttempts {
			d.failed.Add(int64(len(f.ids)))
			d.log.Warn("webhook delivery failed for good", "events", len(f.ids), "attempts", f.attempts, "err", f.err)
		} else {
			d.retried.Add(int64(len(f.ids)))
		}
	}
	return nil
}

// WakeOnCommit returns store with its Write wrapped so that a committed
// transaction that inserted outbox rows wakes d: events go out at once
// rather than at the next poll. Other nodes' commits are found by polling.
func WakeOnCommit(store chat.Store, d *Deliverer) chat.Store {
	return wakeStore{Store: store, d: d}
}

type wakeStore struct {
	chat.Store
	d *Deliverer
}

func (w wakeStore) Write(ctx context.Context, fn func(chat.Tx) error) error {
	inserted := false
	err := w.Store.Write(ctx, func(tx chat.Tx) error { return fn(wakeTx{Tx: tx, inserted: &inserted}) })
	if err == nil && inserted {
		w.d.Wake()
	}
	return err
}

// wakeTx notes that outbox rows were inserted.
type wakeTx struct {
	chat.Tx
	inserted *bool
}

func (t wakeTx) InsertOutbox(ctx context.Context, evs []chat.OutboxEvent) error {
	err := t.Tx.InsertOutbox(ctx, evs)
	if err == nil && len(evs) > 0 {
		*t.inserted = true
	}
	return err
}
