package chat_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"seen/internal/chat"
)

// faultStore is the real store with faults injected into the Tx write
// primitives of the two batchers: InsertMessages fails when it sees a
// message whose text is "poison", InsertReads when it sees an ack whose
// content is "poison", as a storage error the service cannot foresee
// would; and each blocks on its gate when it sees "gate", so that a test
// holds the batcher inside one commit while it queues the next batch.
//
// With down set, every write fails, as when the database is unreachable;
// with readOnly set, every message and read insert fails but an empty
// transaction commits, as on a read-only standby or a full disk; writes
// counts the write transactions tried, groupReads the group lookups in
// them.
type faultStore struct {
	chat.Store
	msgGate, ackGate   *gate
	down, readOnly     atomic.Bool
	writes, groupReads atomic.Int64

	mu        sync.Mutex
	deadlines []time.Time // of each write's context (zero: none), since the last takeDeadlines
}

// takeDeadlines returns the deadlines of the writes since the last call.
func (f *faultStore) takeDeadlines() []time.Time {
	f.mu.Lock()
	defer f.mu.Unlock()
	d := f.deadlines
	f.deadlines = nil
	return d
}

type gate struct {
	entered chan struct{}
	release chan struct{}
}

func newGate() *gate { return &gate{entered: make(chan struct{}, 1), release: make(chan struct{})} }

func (g *gate) pass() {
	select {
	case g.entered <- struct{}{}:
	default:
	}
	<-g.release
}

// wait returns once a commit is held at the gate.
func (g *gate) wait(t *testing.T, done chan error) {
	t.Helper()
	select {
	case <-g.entered:
	case err := <-done:
		t.Fatalf("the gate request ended (%v) without reaching the gate", err)
	case <-time.After(20 * time.Second):
		t.Fatal("no commit reached the gate")
	}
}

var errInjected = errors.New("injected fault")

func (f *faultStore) Write(ctx context.Context, fn func(chat.Tx) error) error {
	f.writes.Add(1)
	d, _ := ctx.Deadline()
	f.mu.Lock()
	f.deadlines = append(f.deadlines, d)
	f.mu.Unlock()
	if f.down.Load() {
		return errInjected
	}
	return f.Store.Write(ctx, func(tx chat.Tx) error { return fn(faultTx{tx, f}) })
}

type faultTx struct {
	chat.Tx
	f *faultStore
}

func (t faultTx) Group(ctx context.Context, id chat.GroupID) (chat.Group, error) {
	t.f.groupReads.Add(1)
	return t.Tx.Group(ctx, id)
}

func (t faultTx) InsertMessages(ctx context.Context, ms []*chat.Message) error {
	if t.f.readOnly.Load() {
		return errInjected
	}
	for _, m := range ms {
		switch m.Text {
		case "gate":
			t.f.msgGate.pass()
		case "poison":
			return errInjected
		case "stall":
			<-ctx.Done() // a lock that is never granted
			return ctx.Err()
		}
	}
	return t.Tx.InsertMessages(ctx, ms)
}

func (t faultTx) InsertReads(ctx context.Context, rs []chat.Read) ([]bool, error) {
	if t.f.readOnly.Load() {
		return nil, errInjected
	}
	for _, r := range rs {
		switch r.Content {
		case "gate":
			t.f.ackGate.pass()
		case "poison":
			return nil, errInjected
		}
	}
	return t.Tx.InsertReads(ctx, rs)
}

// batchSizes records the batch sizes the service reports.
type batchSizes struct {
	chat.NopMetrics
	mu  sync.Mutex
	max map[string]int
}

func (b *batchSizes) BatchSize(op string, n int) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.max[op] = max(b.max[op], n)
}

func (b *batchSizes) largest(op string) int {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.max[op]
}

// withFaults wraps the store in a faultStore and records batch sizes.
func withFaults(f *faultStore, m *batchSizes) option {
	return func(_ *chat.Config, d *chat.Deps) {
		f.Store, f.msgGate, f.ackGate = d.Store, newGate(), newGate()
		m.max = make(map[string]int)
		d.Store, d.Metrics = f, m
	}
}

// waitEvents waits until n values have arrived on a and b together (b
// may be nil), or fails after a deadline.
func waitEvents(t *testing.T, what string, n int, a, b <-chan struct{}) {
	t.Helper()
	deadline := time.After(20 * time.Second)
	for range n {
		select {
		case <-a:
		case <-b:
		case <-deadline:
			t.Fatalf("timed out waiting until %s", what)
		}
	}
}

// batchEnv is a group of an owner, n readers and the one who holds the
// gates, and a receipt-requesting message of the owner, on a store with
// faults.
type batchEnv struct {
	*env
	faults  *faultStore
	sizes   *batchSizes
	owner   chat.Actor
	readers []chat.Actor
	gater   chat.Actor
	g       chat.GroupID
	msg     chat.Message
}

func newBatchEnv(t *testing.T, newEnv func(t testing.TB, opts ...option) *env, n int, opts ...option) *batchEnv {
	b := &batchEnv{faults: &faultStore{}, sizes: &batchSizes{}}
	opts = append([]option{withFastHash(), withFaults(b.faults, b.sizes), withConfig(func(c *chat.Config) { c.GroupAckSenders = "all" })}, opts...)
	b.env = newEnv(t, opts...)
	names := []string{"owner", "gater"}
	for i := range n {
		names = append(names, fmt.Sprintf("r%03d", i))
	}
	us := b.users(t, names...)
	b.owner, b.gater, b.readers = us[0], us[1], us[2:]
	b.g = b.group(t, b.owner, us[1:]...)
	b.msg = b.sendGroup(t, b.owner, b.g, true)
	return b
}

// holdSends sends the gate message and returns once its commit is held.
func (b *batchEnv) holdSends(t *testing.T) (done chan error) {
	done = make(chan error, 1)
	go func() {
		_, err := b.svc.Send(context.Background(), b.gater, groupText(b.g, "gate"))
		done <- err
	}()
	b.faults.msgGate.wait(t, done)
	return done
}

// holdAcks acks with the gate content and returns once its commit is held.
func (b *batchEnv) holdAcks(t *testing.T) (done chan error) {
	done = make(chan error, 1)
	go func() {
		_, err := b.svc.Ack(context.Background(), b.gater, b.g, []chat.AckItem{{Msg: b.msg.ID, Content: "gate"}})
		done <- err
	}()
	b.faults.ackGate.wait(t, done)
	return done
}

func groupText(g chat.GroupID, text string) chat.Outgoing {
	return chat.Outgoing{LocalID: nextLocal(), Type: chat.TypeText, ChatType: chat.GroupChat, To: g.String(), Text: text}
}

func (b *batchEnv) history(t *testing.T) []string {
	t.Helper()
	h, err := b.svc.History(context.Background(), b.owner, chat.HistoryQuery{ChatType: chat.GroupChat, With: b.g.String(), Limit: 100})
	if err != nil {
		t.Fatalf("History = %v", err)
	}
	var texts []string
	for _, m := range h.Messages {
		texts = append(texts, m.Text)
	}
	return texts
}

func (b *batchEnv) readerNames(t *testing.T) map[string]string {
	t.Helper()
	p, err := b.svc.Readers(context.Background(), b.owner, b.g, b.msg.ID, chat.OldestFirst, "", 500)
	if err != nil {
		t.Fatalf("Readers = %v", err)
	}
	got := make(map[string]string)
	for _, r := range p.Readers {
		got[r.Name] = r.Content
	}
	return got
}

// TestBatchFailsOnlyTheCulprit queues one request whose transaction fails
// (an injected storage fault) in one batch with good ones, for sends and
// for acks: the culprit gets internal and stores nothing; every other
// request of the batch commits.
func TestBatchFailsOnlyTheCulprit(t *testing.T) {
	onStores(t, func(t *testing.T, newEnv func(t testing.TB, opts ...option) *env) {
		const n = 40
		const poisoned = 17
		b := newBatchEnv(t, newEnv, n)
		ctx := context.Background()

		t.Run("send", func(t *testing.T) {
			gateDone := b.holdSends(t)
			queued, _ := b.svc.WatchQueues()
			errs := make([]error, n)
			var wg sync.WaitGroup
			for i := range n {
				text := fmt.Sprintf("good %d", i)
				if i == poisoned {
					text = "poison"
				}
				wg.Add(1)
				go func() {
					defer wg.Done()
					_, errs[i] = b.svc.Send(ctx, b.readers[i], groupText(b.g, text))
				}()
			}
			waitEvents(t, "every send is queued", n, queued, nil)
			close(b.faults.msgGate.release)
			wg.Wait()
			if err := <-gateDone; err != nil {
				t.Fatalf("gate send = %v", err)
			}
			if got := b.sizes.largest("send"); got != n {
				t.Errorf("largest send batch = %d, want %d (all in one)", got, n)
			}
			var want []string
			for i, err := range errs {
				if i == poisoned {
					wantCode(t, "poisoned send", err, chat.CodeInternal)
					continue
				}
				if err != nil {
					t.Errorf("send %d = %v, want success", i, err)
				}
				want = append(want, fmt.Sprintf("good %d", i))
			}
			got := b.history(t)
			for _, s := range got {
				if s == "poison" {
					t.Errorf("the poisoned message was stored")
				}
			}
			if diff := cmp.Diff(len(want)+2, len(got)); diff != "" { // + "hi" and "gate"
				t.Errorf("history holds %d messages, want %d: %v", len(got), len(want)+2, got)
			}
			stored := make(map[string]bool)
			for _, s := range got {
				stored[s] = true
			}
			for _, s := range want {
				if !stored[s] {
					t.Errorf("history lacks %q", s)
				}
			}
		})

		t.Run("ack", func(t *testing.T) {
			gateDone := b.holdAcks(t)
			_, queued := b.svc.WatchQueues()
			results := make([][]chat.AckResult, n)
			errs := make([]error, n)
			var wg sync.WaitGroup
			for i := range n {
				content := fmt.Sprintf("ok %d", i)
				if i == poisoned {
					content = "poison"
				}
				wg.Add(1)
				go func() {
					defer wg.Done()
					results[i], errs[i] = b.svc.Ack(ctx, b.readers[i], b.g, []chat.AckItem{{Msg: b.msg.ID, Content: content}})
				}()
			}
			waitEvents(t, "every ack is queued", n, queued, nil)
			close(b.faults.ackGate.release)
			wg.Wait()
			if err := <-gateDone; err != nil {
				t.Fatalf("gate ack = %v", err)
			}
			if got := b.sizes.largest("ack"); got != n {
				t.Errorf("largest ack batch = %d, want %d (all in one)", got, n)
			}
			want := map[string]string{b.gater.Name: "gate"}
			for i, err := range errs {
				if i == poisoned {
					wantCode(t, "poisoned ack", err, chat.CodeInternal)
					continue
				}
				if err != nil || results[i][0].Err != nil || !results[i][0].Counted {
					t.Errorf("ack %d = %+v, %v, want counted", i, results[i], err)
				}
				want[b.readers[i].Name] = fmt.Sprintf("ok %d", i)
			}
			if diff := cmp.Diff(want, b.readerNames(t)); diff != "" {
				t.Errorf("readers (-want +got):\n%s", diff)
			}
		})
	})
}

// TestBatchCommitsHaveADeadline: the transactions of the message and ack
// batches run with a deadline of CommitTimeout from their start, whatever
// the callers' contexts.
func TestBatchCommitsHaveADeadline(t *testing.T) {
	const timeout = 7 * time.Second
	f, m := &faultStore{}, &batchSizes{}
	e := newEnv(t, withFaults(f, m), withConfig(func(c *chat.Config) { c.GroupAckSenders = "all"; c.CommitTimeout = timeout }))
	u := e.users(t, "owner", "reader")
	g := e.group(t, u[0], u[1])
	check := func(what string, before time.Time, want int) {
		t.Helper()
		after := time.Now()
		ds := f.takeDeadlines()
		if len(ds) != want {
			t.Fatalf("%s: %d write transactions, want %d", what, len(ds), want)
		}
		for _, d := range ds {
			if d.IsZero() || d.Before(before.Add(timeout)) || d.After(after.Add(timeout)) {
				t.Errorf("%s: write deadline %v, want %v from the commit (between %v and %v)", what, d, timeout, before.Add(timeout), after.Add(timeout))
			}
		}
	}
	f.takeDeadlines()
	before := time.Now()
	msg := e.sendGroup(t, u[0], g, true)
	check("send", before, 1)
	before = time.Now()
	if r := ack(t, e, u[1], g, msg.ID, ""); r.Err != nil || !r.Counted {
		t.Fatalf("Ack = %+v, want counted", r)
	}
	check("ack", before, 1)
}

// TestBatchTimeoutFailsFast: a batch whose commit outlives CommitTimeout
// fails as a whole, without a split: the deadline is the batch's, not
// each commit's, so the probe and the isolation it would start have no
// time left (a slow store is nobody's fault, and bisecting it would hold
// the batcher for 2·log2(n) more timeouts).
func TestBatchTimeoutFailsFast(t *testing.T) {
	onStores(t, func(t *testing.T, newEnv func(t testing.TB, opts ...option) *env) {
		const n = 16
		b := newBatchEnv(t, newEnv, n, withConfig(func(c *chat.Config) { c.CommitTimeout = time.Second }))
		gateDone := b.holdSends(t)
		queued, _ := b.svc.WatchQueues()
		errs := make([]error, n)
		var wg sync.WaitGroup
		for i := range n {
			wg.Add(1)
			go func() {
				defer wg.Done()
				_, errs[i] = b.svc.Send(context.Background(), b.readers[i], groupText(b.g, "stall"))
			}()
		}
		waitEvents(t, "every send is queued", n, queued, nil)
		before := b.faults.writes.Load()
		close(b.faults.msgGate.release)
		wg.Wait()
		<-gateDone
		for i, err := range errs {
			wantCode(t, fmt.Sprintf("send %d past the commit timeout", i), err, chat.CodeInternal)
		}
		if got := b.faults.writes.Load() - before; got != 2 {
			t.Errorf("%d write transactions tried for a batch of %d past its deadline, want 2 (the batch and one probe)", got, n)
		}
	})
}

// TestBatchStoreDownFailsFast: when the store takes no writes at all, a
// failed batch is not split (that would be 2n-1 more failing
// transactions): one probe, and every request gets the error.
func TestBatchStoreDownFailsFast(t *testing.T) {
	onStores(t, func(t *testing.T, newEnv func(t testing.TB, opts ...option) *env) {
		const n = 16
		b := newBatchEnv(t, newEnv, n)
		gateDone := b.holdSends(t)
		queued, _ := b.svc.WatchQueues()
		errs := make([]error, n)
		var wg sync.WaitGroup
		for i := range n {
			wg.Add(1)
			go func() {
				defer wg.Done()
				_, errs[i] = b.svc.Send(context.Background(), b.readers[i], groupText(b.g, "x"))
			}()
		}
		waitEvents(t, "every send is queued", n, queued, nil)
		b.faults.down.Store(true)
		before := b.faults.writes.Load()
		close(b.faults.msgGate.release)
		wg.Wait()
		<-gateDone
		for i, err := range errs {
			wantCode(t, fmt.Sprintf("send %d with the store down", i), err, chat.CodeInternal)
		}
		if got := b.faults.writes.Load() - before; got != 2 {
			t.Errorf("%d write transactions tried for a batch of %d with the store down, want 2 (the batch and one probe)", got, n)
		}
	})
}

// TestBatchReadOnlyStoreBounded: when the store commits an empty
// transaction (the probe) but refuses every real write, the isolation of a
// failed batch stops after a bounded number of failing transactions,
// 2*ceil(log2(n))+2, instead of splitting down to every request (2n-1),
// and every request gets the error.
func TestBatchReadOnlyStoreBounded(t *testing.T) {
	onStores(t, func(t *testing.T, newEnv func(t testing.TB, opts ...option) *env) {
		const (
			n     = 30
			bound = 2*5 + 2 + 1 // failing commits for ceil(log2(30)) = 5, and the probe
		)
		b := newBatchEnv(t, newEnv, n)
		ctx := context.Background()
		for _, op := range []string{"send", "ack"} {
			t.Run(op, func(t *testing.T) {
				b.faults.readOnly.Store(false)
				var gateDone chan error
				if op == "send" {
					gateDone = b.holdSends(t)
				} else {
					gateDone = b.holdAcks(t)
				}
				sends, acks := b.svc.WatchQueues()
				queued := sends
				if op == "ack" {
					queued = acks
				}
				errs := make([]error, n)
				var wg sync.WaitGroup
				for i := range n {
					wg.Add(1)
					go func() {
						defer wg.Done()
						if op == "send" {
							_, errs[i] = b.svc.Send(ctx, b.readers[i], groupText(b.g, "x"))
						} else {
							_, errs[i] = b.svc.Ack(ctx, b.readers[i], b.g, []chat.AckItem{{Msg: b.msg.ID}})
						}
					}()
				}
				waitEvents(t, "every request is queued", n, queued, nil)
				b.faults.readOnly.Store(true)
				before := b.faults.writes.Load()
				if op == "send" {
					close(b.faults.msgGate.release)
				} else {
					close(b.faults.ackGate.release)
				}
				wg.Wait()
				<-gateDone
				got := b.faults.writes.Load() - before
				b.faults.readOnly.Store(false)
				for i, err := range errs {
					wantCode(t, fmt.Sprintf("%s %d on a read-only store", op, i), err, chat.CodeInternal)
				}
				if got > bound {
					t.Errorf("%d write transactions tried for a batch of %d on a read-only store, want at most %d", got, n, bound)
				}
			})
		}
	})
}

// TestAckBatchOfMembersReadsNoGroup: a batch of acks by members does not
// look the group up (their memberships prove it exists), while an ack by
// a non-member still does, to answer not_member rather than
// group_not_found.
func TestAckBatchOfMembersReadsNoGroup(t *testing.T) {
	onStores(t, func(t *testing.T, newEnv func(t testing.TB, opts ...option) *env) {
		const n = 8
		b := newBatchEnv(t, newEnv, n)
		ctx := context.Background()
		outsider := b.users(t, "outsider")[0]
		before := b.faults.groupReads.Load()
		for i := range n {
			rs, err := b.svc.Ack(ctx, b.readers[i], b.g, []chat.AckItem{{Msg: b.msg.ID}, {Msg: b.msg.ID}})
			if err != nil || rs[0].Err != nil || !rs[0].Counted {
				t.Fatalf("Ack by member %d = %+v, %v; want counted", i, rs, err)
			}
		}
		if got := b.faults.groupReads.Load() - before; got != 0 {
			t.Errorf("%d group lookups for acks by members, want 0", got)
		}
		rs, err := b.svc.Ack(ctx, outsider, b.g, []chat.AckItem{{Msg: b.msg.ID}})
		if err != nil {
			t.Fatalf("Ack by outsider = %v", err)
		}
		wantCode(t, "ack by a non-member", rs[0].Err, chat.CodeNotMember)
		if got := b.faults.groupReads.Load() - before; got != 1 {
			t.Errorf("%d group lookups after an ack by a non-member, want 1", got)
		}
	})
}

// TestHostileInputFailsAlone sends the hostile strings of issue 9 (NUL,
// invalid UTF-8) in one batch with good sends and acks, on both stores:
// each bad one is refused with bad_request naming its field and stores
// nothing; every good one commits.
func TestHostileInputFailsAlone(t *testing.T) {
	bad := []struct {
		field string
		o     chat.Outgoing
	}{
		{"msg", chat.Outgoing{Type: chat.TypeText, Text: "a\x00b"}},
		{"msg", chat.Outgoing{Type: chat.TypeText, Text: "a\xffb"}},
		{"localId", chat.Outgoing{LocalID: "l\x00", Type: chat.TypeText, Text: "x"}},
		{"localId", chat.Outgoing{LocalID: "l\xc3", Type: chat.TypeText, Text: "x"}},
		{"customEvent", chat.Outgoing{Type: chat.TypeCustom, CustomEvent: "e\x00"}},
		{"customExts", chat.Outgoing{Type: chat.TypeCustom, CustomEvent: "e", CustomExts: json.RawMessage("{\"k\":\"\xff\"}")}},
		{"customExts", chat.Outgoing{Type: chat.TypeCustom, CustomEvent: "e", CustomExts: json.RawMessage(`{"k":"\u0000"}`)}},
		{"ext", chat.Outgoing{Type: chat.TypeText, Text: "x", Ext: json.RawMessage("{\"k\":\"\xfe\xff\"}")}},
		{"ext", chat.Outgoing{Type: chat.TypeText, Text: "x", Ext: json.RawMessage(`{"k\u0000":1}`)}},
	}
	badAcks := []string{"a\x00", "\xff", "ok\xed\xa0\x80"} // NUL, a stray byte, an encoded surrogate
	onStores(t, func(t *testing.T, newEnv func(t testing.TB, opts ...option) *env) {
		const n = 30
		b := newBatchEnv(t, newEnv, n)
		ctx := context.Background()

		t.Run("send", func(t *testing.T) {
			gateDone := b.holdSends(t)
			queued, _ := b.svc.WatchQueues()
			refused := make(chan struct{}, len(bad))
			var wg sync.WaitGroup
			goodErrs := make([]error, n)
			for i := range n {
				wg.Add(1)
				go func() {
					defer wg.Done()
					_, goodErrs[i] = b.svc.Send(ctx, b.readers[i], groupText(b.g, fmt.Sprintf("good %d", i)))
				}()
			}
			badErrs := make([]error, len(bad))
			for i, tc := range bad {
				o := tc.o
				if o.LocalID == "" {
					o.LocalID = nextLocal()
				}
				o.ChatType, o.To = chat.GroupChat, b.g.String()
				wg.Add(1)
				go func() {
					defer wg.Done()
					_, badErrs[i] = b.svc.Send(ctx, b.readers[i], o)
					refused <- struct{}{}
				}()
			}
			// Refused requests never reach the queue; without the rule
			// they would be queued with the good ones.
			waitEvents(t, "every send is queued or refused", n+len(bad), queued, refused)
			close(b.faults.msgGate.release)
			wg.Wait()
			if err := <-gateDone; err != nil {
				t.Fatalf("gate send = %v", err)
			}
			for i, err := range goodErrs {
				if err != nil {
					t.Errorf("good send %d = %v", i, err)
				}
			}
			for i, tc := range bad {
				wantField(t, fmt.Sprintf("bad send %d", i), badErrs[i], tc.field)
			}
			if got := len(b.history(t)); got != n+2 {
				t.Errorf("history holds %d messages, want %d", got, n+2)
			}
		})

		t.Run("ack", func(t *testing.T) {
			gateDone := b.holdAcks(t)
			_, queued := b.svc.WatchQueues()
			refused := make(chan struct{}, len(badAcks))
			var wg sync.WaitGroup
			goodErrs := make([]error, n-len(badAcks))
			for i := range goodErrs {
				wg.Add(1)
				go func() {
					defer wg.Done()
					rs, err := b.svc.Ack(ctx, b.readers[i], b.g, []chat.AckItem{{Msg: b.msg.ID, Content: "ok"}})
					if err == nil && !rs[0].Counted {
						err = fmt.Errorf("not counted: %+v", rs[0])
					}
					goodErrs[i] = err
				}()
			}
			badErrs := make([]error, len(badAcks))
			for i, content := range badAcks {
				wg.Add(1)
				go func() {
					defer wg.Done()
					_, badErrs[i] = b.svc.Ack(ctx, b.readers[len(goodErrs)+i], b.g, []chat.AckItem{{Msg: b.msg.ID, Content: content}})
					refused <- struct{}{}
				}()
			}
			waitEvents(t, "every ack is queued or refused", n, queued, refused)
			close(b.faults.ackGate.release)
			wg.Wait()
			if err := <-gateDone; err != nil {
				t.Fatalf("gate ack = %v", err)
			}
			for i, err := range goodErrs {
				if err != nil {
					t.Errorf("good ack %d = %v", i, err)
				}
			}
			for i := range badAcks {
				wantField(t, fmt.Sprintf("bad ack %d", i), badErrs[i], "ackContent")
			}
			if got := len(b.readerNames(t)); got != len(goodErrs)+1 { // + the gater
				t.Errorf("%d readers stored, want %d", got, len(goodErrs)+1)
			}
		})
	})
}

// wantField fails unless err is bad_request naming field as the subject
// of its message.
func wantField(t *testing.T, what string, err error, field string) {
	t.Helper()
	msg := chat.ErrorMessage(err)
	if chat.ErrorCode(err) != chat.CodeBadRequest || !strings.Contains(msg, field+": ") {
		t.Errorf("%s = %v, want bad_request naming %s", what, err, field)
	}
}

// TestStoredStringsRefused covers every other stored string: the rule
// refuses NUL and invalid UTF-8, names the field, and stores nothing, on
// both stores.
func TestStoredStringsRefused(t *testing.T) {
	onStores(t, func(t *testing.T, newEnv func(t testing.TB, opts ...option) *env) {
		e := newEnv(t)
		ctx := context.Background()
		u := e.users(t, "alice", "bob")
		for _, tc := range []struct {
			field string
			sp    chat.GroupSpec
		}{
			{"name", chat.GroupSpec{Name: "team\x00"}},
			{"name", chat.GroupSpec{Name: "t\xffeam"}},
			{"description", chat.GroupSpec{Name: "team", Description: "d\x00"}},
			{"description", chat.GroupSpec{Name: "team", Description: "\xc0\xaf"}},
			{"ext", chat.GroupSpec{Name: "team", Ext: json.RawMessage("{\"a\":\"\xff\"}")}},
			{"ext", chat.GroupSpec{Name: "team", Ext: json.RawMessage(`{"a":"x\u0000"}`)}},
		} {
			_, err := e.svc.CreateGroup(ctx, u[0], tc.sp)
			wantField(t, fmt.Sprintf("CreateGroup(%+q)", []string{tc.sp.Name, tc.sp.Description, string(tc.sp.Ext)}), err, tc.field)
		}
		if p, err := e.svc.MyGroups(ctx, u[0], "", 0); err != nil || len(p.Groups) != 0 {
			t.Errorf("MyGroups = %d groups, %v; want none stored", len(p.Groups), err)
		}

		for _, pw := range []string{"secret\x00x", "secret\xff"} {
			_, err := e.svc.Register(ctx, chat.Credentials{Username: "carol", Password: pw})
			wantField(t, fmt.Sprintf("Register(password %q)", pw), err, "password")
			err = e.svc.ChangePassword(ctx, u[0], "password", pw)
			wantField(t, fmt.Sprintf("ChangePassword(%q)", pw), err, "password")
		}
		if _, err := e.svc.Login(ctx, chat.Credentials{Username: "carol", Password: "secret\x00x"}); chat.ErrorCode(err) != chat.CodeUnauthorized {
			t.Errorf("Login(carol) = %v, want unauthorized (not registered)", err)
		}
		_, err := e.svc.ListUsers(ctx, chat.AdminActor, "a\x00", 0)
		wantField(t, "ListUsers(after NUL)", err, "after")

		// A single chat, through the same rule as group messages.
		_, err = e.svc.Send(ctx, u[0], chat.Outgoing{LocalID: "s1", Type: chat.TypeText, ChatType: chat.SingleChat, To: "bob", Text: "\x00"})
		wantField(t, "single-chat Send(NUL)", err, "msg")
		h, err := e.svc.History(ctx, u[1], chat.HistoryQuery{ChatType: chat.SingleChat, With: "alice"})
		if err != nil || len(h.Messages) != 0 {
			t.Errorf("History = %d messages, %v; want none stored", len(h.Messages), err)
		}
	})
}

func TestCheckRawJSON(t *testing.T) {
	for _, tc := range []struct {
		raw  string
		want string // "" ok, else the start of the message
	}{
		{`{"a":"b"}`, ""},
		{`{"a":"\\u0000"}`, ""},   // an escaped backslash, then the text u0000
		{`{"a":"\\\u0000"}`, "x"}, // an escaped backslash, then \u0000
		{`{"a":"\u0000"}`, "x"},
		{`{"a":"\u00001"}`, "x"},
		{`{"a":"\u0001"}`, ""},
		{`{"a":"\ud83d\ude00"}`, ""},
		{"{\"a\":\"\x00\"}", "x"},
		{"{\"a\":\"\xff\"}", "x: invalid UTF-8"},
		{`{"a":"é"}`, ""},
		{`\`, ""},
	} {
		err := chat.CheckRawJSON("x", []byte(tc.raw))
		switch {
		case tc.want == "" && err != nil:
			t.Errorf("checkRawJSON(%q) = %v, want nil", tc.raw, err)
		case tc.want != "" && (chat.ErrorCode(err) != chat.CodeBadRequest || !strings.HasPrefix(chat.ErrorMessage(err), tc.want)):
			t.Errorf("checkRawJSON(%q) = %v, want bad_request %q...", tc.raw, err, tc.want)
		}
	}
}

func TestCheckJSONText(t *testing.T) {
	for _, tc := range []struct {
		doc  string
		want string // "" ok, else the message
	}{
		{`{"msg":"hello","ext":{"a":[1,"é"]}}`, ""},
		{"{\"msg\":\"a\xffb\"}", "msg: invalid UTF-8"},
		{"{\"localId\":\"1\",\"msg\":\"\xc3\"}", "msg: invalid UTF-8"},
		{"{\"ext\":{\"color\":\"r\xffed\"},\"msg\":\"x\"}", "ext.color: invalid UTF-8"},
		{"{\"items\":[{\"msgId\":\"1\",\"ackContent\":\"\xfe\"}]}", "items.ackContent: invalid UTF-8"},
		{"{\"ext\":{\"k\xff\":1}}", "ext: invalid UTF-8 in a key"},
		{"\"\xff\"", "body: invalid UTF-8"},
		{"{\"a\":1}\xff", ""}, // not JSON after the value: the decoder's to refuse
	} {
		err := chat.CheckJSONText([]byte(tc.doc))
		got := ""
		if err != nil {
			got = chat.ErrorMessage(err)
			if chat.ErrorCode(err) != chat.CodeBadRequest {
				t.Errorf("CheckJSONText(%q) code = %v, want bad_request", tc.doc, chat.ErrorCode(err))
			}
		}
		if got != tc.want {
			t.Errorf("CheckJSONText(%q) = %q, want %q", tc.doc, got, tc.want)
		}
	}
}
