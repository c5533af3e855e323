package webhook

import (
	"context"
	"crypto/md5"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"seen/internal/chat"
	"seen/internal/sqlstore"
	"seen/internal/sqlstore/sqltest"
)

const secret = "0123456789abcdef-secret"

func openSQLite(t *testing.T) *sqlstore.Store {
	t.Helper()
	s, err := sqlstore.Open(context.Background(), "sqlite:"+filepath.Join(t.TempDir(), "seen.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// openPostgres opens n stores (as n nodes would) on one fresh schema.
func openPostgres(t *testing.T, n int) []*sqlstore.Store {
	t.Helper()
	base := os.Getenv(sqltest.EnvPostgres)
	if base == "" {
		t.Skip(sqltest.EnvPostgres + " is not set")
	}
	dsn := sqltest.PostgresDSN(t, base)
	var ss []*sqlstore.Store
	for range n {
		s, err := sqlstore.Open(context.Background(), dsn)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { s.Close() })
		ss = append(ss, s)
	}
	return ss
}

// insert writes n read events for target and returns their payloads'
// message ids (100, 101, ...).
func insert(t *testing.T, s *sqlstore.Store, target string, n int) {
	t.Helper()
	evs := make([]chat.OutboxEvent, n)
	now := time.Now()
	for i := range evs {
		p, _ := json.Marshal(chat.WebhookEvent{Kind: chat.WebhookRead, Group: 7, Msg: chat.MsgID(100 + i), Sender: "boss", SenderID: 1,
			Reader: fmt.Sprint("u", i), ReaderID: chat.UserID(10 + i), Count: i + 1, Eligible: n, At: now.UnixMilli()})
		evs[i] = chat.OutboxEvent{Target: target, Kind: chat.WebhookRead, Payload: p, CreatedAt: now}
	}
	if err := s.Write(context.Background(), func(tx chat.Tx) error { return tx.InsertOutbox(context.Background(), evs) }); err != nil {
		t.Fatal(err)
	}
}

// receiver is a webhook target. It checks every POST's signature and
// counts the events it accepted; mode decides each answer.
type receiver struct {
	*httptest.Server
	t *testing.T

	mu       sync.Mutex
	mode     func(n int) int // status for the n-th POST (from 0); 0: hang until the client gives up
	posts    int
	sizes    []int            // events per accepted POST
	got      map[string]int   // event id -> times accepted
	bodies   [][]byte         // accepted bodies
	headers  []http.Header    // accepted headers
	accepted chan struct{}    // one token per accepted event
	events   []map[string]any // accepted events (seen format)
}

func newReceiver(t *testing.T, mode func(n int) int) *receiver {
	r := &receiver{t: t, mode: mode, got: map[string]int{}, accepted: make(chan struct{}, 100_000)}
	r.Server = httptest.NewServer(http.HandlerFunc(r.serve))
	t.Cleanup(r.Close)
	return r
}

func (r *receiver) serve(w http.ResponseWriter, req *http.Request) {
	body, err := io.ReadAll(req.Body)
	if err != nil {
		return
	}
	ts := req.Header.Get(HeaderTimestamp)
	if !Verify(secret, ts, body, req.Header.Get(HeaderSignature)) {
		r.t.Errorf("POST with a bad signature %q", req.Header.Get(HeaderSignature))
		w.WriteHeader(http.StatusUnauthorized)
		return
	}
	sec, _ := strconv.ParseInt(ts, 10, 64)
	if d := time.Since(time.Unix(sec, 0)); d < -time.Minute || d > time.Minute {
		r.t.Errorf("timestamp %s is %v off", ts, d)
	}
	r.mu.Lock()
	n := r.posts
	r.posts++
	status := r.mode(n)
	r.mu.Unlock()
	if status == 0 {
		<-req.Context().Done() // the deliverer's timeout
		return
	}
	if status/100 != 2 {
		http.Error(w, "not now", status)
		return
	}
	var ids []string
	var evs []map[string]any
	if strings.HasPrefix(string(body), `{"events":`) {
		var b struct{ Events []map[string]any }
		if err := json.Unmarshal(body, &b); err != nil {
			r.t.Errorf("body %s: %v", body, err)
		}
		for _, e := range b.Events {
			ids = append(ids, e["id"].(string))
		}
		evs = b.Events
	} else {
		var cb map[string]any
		if err := json.Unmarshal(body, &cb); err != nil {
			r.t.Errorf("body %s: %v", body, err)
		}
		ids = append(ids, cb["msg_id"].(string))
	}
	r.mu.Lock()
	r.sizes = append(r.sizes, len(ids))
	r.bodies = append(r.bodies, body)
	r.headers = append(r.headers, req.Header.Clone())
	r.events = append(r.events, evs...)
	for _, id := range ids {
		r.got[id]++
	}
	r.mu.Unlock()
	w.WriteHeader(status)
	for range ids {
		r.accepted <- struct{}{}
	}
}

// wait waits until n events were accepted.
func (r *receiver) wait(t *testing.T, n int, within time.Duration) {
	t.Helper()
	deadline := time.After(within)
	for i := range n {
		select {
		case <-r.accepted:
		case <-deadline:
			t.Fatalf("%d of %d events accepted within %v", i, n, within)
		}
	}
}

// waitPosts waits until the receiver got at least n POSTs, accepted or not.
func (r *receiver) waitPosts(t *testing.T, n int, within time.Duration) {
	t.Helper()
	waitFor(t, within, func() (bool, string) {
		r.mu.Lock()
		defer r.mu.Unlock()
		return r.posts >= n, fmt.Sprintf("%d of %d POSTs", r.posts, n)
	})
}

// postCount is how many POSTs the receiver got, accepted or not.
func (r *receiver) postCount() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.posts
}

// wantEachOnce checks that the receiver accepted n distinct events, each
// once.
func (r *receiver) wantEachOnce(t *testing.T, n int) {
	t.Helper()
	r.mu.Lock()
	defer r.mu.Unlock()
	if len(r.got) != n {
		t.Errorf("%s: %d distinct events, want %d", r.URL, len(r.got), n)
	}
	for id, k := range r.got {
		if k != 1 {
			t.Errorf("%s: event %s delivered %d times, want once", r.URL, id, k)
		}
	}
}

// waitFor polls done until it reports true, and fails the test with what
// it last reported once within has passed. For states with no event to
// wait on (rows in the store, a Deliverer's counts).
func waitFor(t *testing.T, within time.Duration, done func() (ok bool, state string)) {
	t.Helper()
	deadline := time.Now().Add(within)
	for {
		ok, state := done()
		if ok {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("within %v: %s", within, state)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// failedRows lists the failed rows of the outbox.
func failedRows(t *testing.T, s *sqlstore.Store) []chat.OutboxEvent {
	t.Helper()
	var evs []chat.OutboxEvent
	err := s.Read(context.Background(), func(tx chat.Tx) error {
		var err error
		evs, err = tx.FailedOutbox(context.Background(), 0, 100_000)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return evs
}

func always(status int) func(int) int { return func(int) int { return status } }

func testConfig(targets ...string) Config {
	c := DefaultConfig()
	c.Targets, c.Secret, c.Owner = targets, secret, "test-node"
	// A generous timeout: a loaded machine with -race is slow; tests of
	// the timeout set their own.
	c.Timeout, c.Poll = 5*time.Second, 20*time.Millisecond
	c.BackoffMin, c.BackoffMax = 10*time.Millisecond, 40*time.Millisecond
	return c
}

func start(t *testing.T, cfg Config, s Store) *Deliverer {
	t.Helper()
	d, err := New(cfg, s, nil)
	if err != nil {
		t.Fatal(err)
	}
	d.Start()
	t.Cleanup(func() {
		if err := d.Close(context.Background()); err != nil {
			t.Error(err)
		}
	})
	return d
}

// pending claims (and so leases, at a time far ahead) every row left.
func pending(t *testing.T, s *sqlstore.Store) []chat.OutboxEvent {
	t.Helper()
	var evs []chat.OutboxEvent
	err := s.Write(context.Background(), func(tx chat.Tx) error {
		var err error
		evs, err = tx.ClaimOutbox(context.Background(), "inspector", time.Now().Add(1000*time.Hour), time.Hour, 100_000)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return evs
}

func TestSign(t *testing.T) {
	body := []byte(`{"events":[]}`)
	// Computed with Python's hmac module.
	want := "v1=3ffe8fa549a8cc210586c77c404ce1fd79db1372c85551ff148f191f58e002d7"
	if got := Sign(secret, "1700000000", body); got != want {
		t.Errorf("Sign() = %s, want %s", got, want)
	}
	for _, tc := range []struct {
		name, secret, ts, body, sig string
	}{
		{"body", secret, "1700000000", `{"events":[1]}`, want},
		{"timestamp", secret, "1700000001", string(body), want},
		{"secret", "another-secret-0123", "1700000000", string(body), want},
		{"scheme", secret, "1700000000", string(body), strings.TrimPrefix(want, "v1=")},
	} {
		if Verify(tc.secret, tc.ts, []byte(tc.body), tc.sig) {
			t.Errorf("Verify(changed %s) = true, want false", tc.name)
		}
	}
	if !Verify(secret, "1700000000", body, want) {
		t.Error("Verify(the signed body) = false, want true")
	}
}

// TestBatches: many events per POST, at most Batch each, each event once,
// signed, and the outbox empty afterwards.
func TestBatches(t *testing.T) {
	s := openSQLite(t)
	r := newReceiver(t, always(http.StatusNoContent))
	insert(t, s, r.URL+"/hook", 1200)
	cfg := testConfig(r.URL + "/hook")
	cfg.Batch = 500
	d := start(t, cfg, s)
	r.wait(t, 1200, 10*time.Second)
	if err := d.Close(context.Background()); err != nil {
		t.Fatal(err)
	}
	r.wantEachOnce(t, 1200)
	r.mu.Lock()
	defer r.mu.Unlock()
	if len(r.sizes) != 3 {
		t.Errorf("%d POSTs of sizes %v, want 3 (1200 events, 500 a batch)", len(r.sizes), r.sizes)
	}
	for _, n := range r.sizes {
		if n > 500 {
			t.Errorf("a POST of %d events, want at most 500", n)
		}
	}
	var e map[string]any
	for _, ev := range r.events {
		if ev["reader"] == "u0" {
			e = ev
		}
	}
	if e["kind"] != "read" || e["group"] == nil || e["readerId"] == nil || e["id"] == "" {
		t.Errorf("event of u0 = %v, want its read with an id", e)
	}
	if h := r.headers[0]; h.Get("Content-Type") != "application/json" || h.Get(HeaderTimestamp) == "" {
		t.Errorf("headers = %v, want JSON and a timestamp", h)
	}
	if left := pending(t, s); len(left) != 0 {
		t.Errorf("%d rows left in the outbox, want 0", len(left))
	}
}

// TestBodyLimit: a batch is cut before MaxBodyBytes.
func TestBodyLimit(t *testing.T) {
	s := openSQLite(t)
	r := newReceiver(t, always(http.StatusOK))
	insert(t, s, r.URL, 200)
	cfg := testConfig(r.URL)
	cfg.MaxBodyBytes = 8 << 10
	start(t, cfg, s)
	r.wait(t, 200, 10*time.Second)
	r.mu.Lock()
	defer r.mu.Unlock()
	if len(r.bodies) < 3 {
		t.Errorf("%d POSTs, want several of at most 8 KiB", len(r.bodies))
	}
	for _, b := range r.bodies {
		if len(b) > 8<<10 {
			t.Errorf("a body of %d bytes, want at most %d", len(b), 8<<10)
		}
	}
}

// TestFailTimeoutRecover: the receiver answers 500, then hangs past the
// timeout, then recovers: every event arrives, none is lost or failed.
func TestFailTimeoutRecover(t *testing.T) {
	s := openSQLite(t)
	r := newReceiver(t, func(n int) int {
		switch n {
		case 0, 1:
			return http.StatusInternalServerError
		case 2, 3:
			return 0 // hang
		}
		return http.StatusOK
	})
	insert(t, s, r.URL, 50)
	cfg := testConfig(r.URL)
	cfg.Timeout = 300 * time.Millisecond
	start(t, cfg, s)
	r.wait(t, 50, 20*time.Second)
	posts := r.postCount()
	if posts < 5 {
		t.Errorf("%d POSTs, want the 4 that failed and then success", posts)
	}
	if failed := failedRows(t, s); len(failed) != 0 {
		t.Errorf("%d rows failed, want none (4 attempts of 20)", len(failed))
	}
}

// TestMaxAttempts: a receiver that always fails gets MaxAttempts attempts;
// the rows are then failed, listed, and retried by the administrator once
// the receiver recovers.
func TestMaxAttempts(t *testing.T) {
	s := openSQLite(t)
	var mu sync.Mutex
	status := http.StatusServiceUnavailable
	r := newReceiver(t, func(int) int { mu.Lock(); defer mu.Unlock(); return status })
	insert(t, s, r.URL, 10)
	cfg := testConfig(r.URL)
	cfg.MaxAttempts = 3
	start(t, cfg, s)
	var failed []chat.OutboxEvent
	waitFor(t, 10*time.Second, func() (bool, string) {
		failed = failedRows(t, s)
		return len(failed) >= 10, fmt.Sprintf("%d rows failed, want 10", len(failed))
	})
	for _, f := range failed {
		if f.Attempts != 3 || !strings.HasPrefix(f.LastError, "HTTP 503") {
			t.Fatalf("failed row = %+v, want 3 attempts and the HTTP 503", f)
		}
	}
	posts := r.postCount()
	if posts != 3 {
		t.Errorf("%d POSTs, want 3 (one batch, 3 attempts)", posts)
	}
	mu.Lock()
	status = http.StatusOK
	mu.Unlock()
	err := s.Write(context.Background(), func(tx chat.Tx) error {
		_, err := tx.RetryOutbox(context.Background(), nil, time.Now())
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	r.wait(t, 10, 10*time.Second)
}

// TestTwoDeliverers: two nodes over one PostgreSQL deliver every row
// exactly once.
func TestTwoDeliverers(t *testing.T) {
	ss := openPostgres(t, 2)
	s1, s2 := ss[0], ss[1]
	r := newReceiver(t, always(http.StatusOK))
	const n = 3000
	insert(t, s1, r.URL, n)
	cfg := testConfig(r.URL)
	cfg.Batch = 50
	cfg.Owner = "node-a"
	a := start(t, cfg, s1)
	cfg.Owner = "node-b"
	b := start(t, cfg, s2)
	r.wait(t, n, 30*time.Second)
	for _, d := range []*Deliverer{a, b} {
		if err := d.Close(context.Background()); err != nil {
			t.Fatal(err)
		}
	}
	r.wantEachOnce(t, n)
	if left := pending(t, s1); len(left) != 0 {
		t.Errorf("%d rows left, want 0", len(left))
	}
}

// TestCloseReleases: Close with a deadline while a request hangs cancels
// it and gives the rows back without counting an attempt.
func TestCloseReleases(t *testing.T) {
	s := openSQLite(t)
	r := newReceiver(t, always(0))
	insert(t, s, r.URL, 5)
	cfg := testConfig(r.URL)
	cfg.Timeout = 5 * time.Second
	d, err := New(cfg, s, nil)
	if err != nil {
		t.Fatal(err)
	}
	d.Start()
	r.waitPosts(t, 1, 5*time.Second)
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	if err := d.Close(ctx); err == nil {
		t.Error("Close(past its deadline) = nil, want the deadline's error")
	}
	left := pending(t, s)
	if len(left) != 5 {
		t.Fatalf("%d rows due after Close, want the 5 released", len(left))
	}
	for _, e := range left {
		if e.Attempts != 0 {
			t.Errorf("row %d has %d attempts, want 0 (released, not failed)", e.ID, e.Attempts)
		}
	}
}

// TestUnknownTarget: a row for a URL this node does not have is left
// alone, due and with no attempt, for a node that has it; it is counted at
// start for the operator.
func TestUnknownTarget(t *testing.T) {
	s := openSQLite(t)
	r := newReceiver(t, always(http.StatusOK))
	insert(t, s, "http://removed.example/hook", 2)
	insert(t, s, r.URL, 1)
	d := start(t, testConfig(r.URL), s)
	r.wait(t, 1, 5*time.Second)
	// Close waits for the round that delivered r's row to be recorded: the
	// claim of that round had every due row.
	if err := d.Close(context.Background()); err != nil {
		t.Fatal(err)
	}
	if failed := failedRows(t, s); len(failed) != 0 {
		t.Errorf("%d rows failed (%q), want none: the target may be another node's", len(failed), failed[0].LastError)
	}
	left := pending(t, s)
	if len(left) != 2 {
		t.Fatalf("%d rows left, want the 2 of the other target", len(left))
	}
	for _, e := range left {
		if e.Target != "http://removed.example/hook" || e.Attempts != 0 || e.LastError != "" {
			t.Errorf("row %d left: %s, %d attempts, error %q; want the other target's, untouched", e.ID, e.Target, e.Attempts, e.LastError)
		}
	}
	if st := d.Stats(); st != (Stats{Delivered: 1}) {
		t.Errorf("stats = %+v, want 1 delivered, nothing failed or retried", st)
	}
}

// TestRollingTargets: a rolling deploy that adds a target. A node still
// on the old configuration (one target) and a node on the new one (two)
// share the outbox: the old node never touches the new target's rows, the
// new one delivers them, and every event arrives exactly once.
func TestRollingTargets(t *testing.T) {
	t.Run("sqlite", func(t *testing.T) {
		s := openSQLite(t)
		testRollingTargets(t, s, s)
	})
	t.Run("postgres", func(t *testing.T) {
		ss := openPostgres(t, 2)
		testRollingTargets(t, ss[0], ss[1])
	})
}

func testRollingTargets(t *testing.T, oldStore, newStore *sqlstore.Store) {
	kept := newReceiver(t, always(http.StatusOK))
	added := newReceiver(t, always(http.StatusOK))
	const n = 300
	// The new target's rows first: they are due before the others.
	insert(t, newStore, added.URL, n)
	insert(t, newStore, kept.URL, n)
	oldCfg := testConfig(kept.URL)
	oldCfg.Owner, oldCfg.Batch = "node-old", 20

	// The old node alone first: it delivers its target's rows, and so had
	// the chance to claim the new target's, which were due before them.
	old := start(t, oldCfg, oldStore)
	kept.wait(t, n, 20*time.Second)
	if err := old.Close(context.Background()); err != nil {
		t.Fatal(err)
	}
	if failed := failedRows(t, oldStore); len(failed) != 0 {
		t.Fatalf("%d rows failed by the old node, first of %s (%q); want none", len(failed), failed[0].Target, failed[0].LastError)
	}
	counts, err := oldStore.PendingOutbox(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if counts[added.URL] != n || len(counts) != 1 {
		t.Fatalf("pending rows by target = %v, want the %d of the new target", counts, n)
	}

	// Both nodes at once, with the events of a second wave for both.
	old = start(t, oldCfg, oldStore)
	newCfg := testConfig(kept.URL, added.URL)
	newCfg.Owner, newCfg.Batch = "node-new", 20
	nw := start(t, newCfg, newStore)
	insert(t, oldStore, kept.URL, n)
	insert(t, newStore, added.URL, n)
	old.Wake()
	nw.Wake()
	kept.wait(t, n, 20*time.Second)
	added.wait(t, 2*n, 20*time.Second)
	for _, d := range []*Deliverer{old, nw} {
		if err := d.Close(context.Background()); err != nil {
			t.Fatal(err)
		}
	}
	kept.wantEachOnce(t, 2*n)
	added.wantEachOnce(t, 2*n)
	if st := old.Stats(); st.Failed != 0 || st.Retried != 0 {
		t.Errorf("old node's stats = %+v, want nothing failed or retried", st)
	}
	if st := nw.Stats(); st.Failed != 0 || st.Retried != 0 || st.Delivered < 2*n {
		t.Errorf("new node's stats = %+v, want at least the new target's %d delivered, nothing failed", st, 2*n)
	}
	if left := pending(t, oldStore); len(left) != 0 {
		t.Errorf("%d rows left, want 0", len(left))
	}
}

func TestEasemobFormat(t *testing.T) {
	s := openSQLite(t)
	r := newReceiver(t, always(http.StatusOK))
	p, _ := json.Marshal(chat.WebhookEvent{Kind: chat.WebhookRead, Group: 77, Msg: 1234, Sender: "boss", SenderID: 1, Reader: "ann", ReaderID: 2, Count: 1, Eligible: 3, At: 1700000000123})
	q, _ := json.Marshal(chat.WebhookEvent{Kind: chat.WebhookThreshold, Group: 77, Msg: 1234, Sender: "boss", SenderID: 1, Count: 3, Eligible: 3, Threshold: 100, At: 1700000000456})
	err := s.Write(context.Background(), func(tx chat.Tx) error {
		return tx.InsertOutbox(context.Background(), []chat.OutboxEvent{
			{Target: r.URL, Kind: chat.WebhookRead, Payload: p, CreatedAt: time.Now()},
			{Target: r.URL, Kind: chat.WebhookThreshold, Payload: q, CreatedAt: time.Now()},
		})
	})
	if err != nil {
		t.Fatal(err)
	}
	cfg := testConfig(r.URL)
	cfg.Format, cfg.AppKey, cfg.Host = FormatEasemob, "org#app", "node-1"
	start(t, cfg, s)
	r.wait(t, 2, 5*time.Second)
	r.mu.Lock()
	defer r.mu.Unlock()
	if len(r.bodies) != 2 {
		t.Fatalf("%d POSTs, want 2: one event each", len(r.bodies))
	}
	var cbs []map[string]any
	for _, b := range r.bodies {
		var cb map[string]any
		json.Unmarshal(b, &cb)
		cbs = append(cbs, cb)
	}
	if cbs[0]["chat_type"] != "read_ack" {
		cbs[0], cbs[1] = cbs[1], cbs[0]
	}
	read := cbs[0]
	id := read["msg_id"].(string)
	want := map[string]any{
		"callId": "org#app_" + id, "eventType": "chat", "chat_type": "read_ack", "content_type": "chat:ack:read",
		"host": "node-1", "appkey": "org#app", "from": "ann", "to": "77", "msg_id": id, "timestamp": float64(1700000000123),
		"channel_channel": "org#app_77@conference.easemob.com", "channel_user": "org#app_ann@easemob.com", "writed_channel": false,
	}
	for k, v := range want {
		if read[k] != v {
			t.Errorf("read_ack %s = %v, want %v", k, read[k], v)
		}
	}
	sum := md5.Sum([]byte("org#app_" + id + secret + "1700000000123"))
	if read["security"] != hex.EncodeToString(sum[:]) {
		t.Errorf("security = %v, want MD5(callId+secret+timestamp)", read["security"])
	}
	pl := read["payload"].(map[string]any)
	if pl["ack_message_id"] != "1234" || pl["type"] != "read_ack" || pl["msg_config"].(map[string]any)["allow_group_ack"] != true {
		t.Errorf("read_ack payload = %v", pl)
	}
	th := cbs[1]
	if th["chat_type"] != "seen_threshold" || th["payload"].(map[string]any)["seen"].(map[string]any)["threshold"] != float64(100) {
		t.Errorf("threshold callback = %v, want chat_type seen_threshold with the threshold under payload.seen", th)
	}
}

func TestSeenEvent(t *testing.T) {
	for _, tc := range []struct{ payload, want string }{
		{`{"kind":"read"}`, `{"id":"9","kind":"read"}`},
		{` {} `, `{"id":"9"}`},
		{`[1]`, ""},
		{`{"kind":`, ""},
		{``, ""},
	} {
		got, err := seenEvent(chat.OutboxEvent{ID: 9, Payload: json.RawMessage(tc.payload)})
		if string(got) != tc.want || (err != nil) != (tc.want == "") {
			t.Errorf("seenEvent(%q) = %s, %v, want %s", tc.payload, got, err, tc.want)
		}
	}
}

func TestConfigValidate(t *testing.T) {
	ok := testConfig("https://hooks.example.com/seen")
	if err := ok.Validate(); err != nil {
		t.Fatalf("Validate(good) = %v", err)
	}
	for _, tc := range []struct {
		name string
		edit func(*Config)
		want string
	}{
		{"no secret", func(c *Config) { c.Secret = "" }, "webhook-secret"},
		{"short secret", func(c *Config) { c.Secret = "short" }, "webhook-secret"},
		{"ftp", func(c *Config) { c.Targets = []string{"ftp://x.example"} }, "webhook-url"},
		{"no host", func(c *Config) { c.Targets = []string{"http:///x"} }, "webhook-url"},
		{"credentials", func(c *Config) { c.Targets = []string{"https://u:p@x.example"} }, "webhook-url"},
		{"format", func(c *Config) { c.Format = "tencent" }, "webhook-format"},
		{"timeout", func(c *Config) { c.Timeout = 0 }, "webhook-timeout"},
		{"attempts", func(c *Config) { c.MaxAttempts = 0 }, "webhook-max-attempts"},
		{"batch", func(c *Config) { c.Batch = 0 }, "webhook-batch"},
		{"concurrency", func(c *Config) { c.Concurrency = 0 }, "webhook-concurrency"},
		{"lease", func(c *Config) { c.Lease = c.Timeout }, "lease"},
	} {
		c := ok
		tc.edit(&c)
		if err := c.Validate(); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("Validate(%s) = %v, want an error naming %s", tc.name, err, tc.want)
		}
	}
	none := DefaultConfig() // no targets: no secret needed
	if err := none.Validate(); err != nil {
		t.Errorf("Validate(defaults) = %v", err)
	}
}

func TestParseThresholds(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want string
	}{
		{"50,90,100", "[50 90 100]"},
		{" 100 ", "[100]"},
		{"", "[]"},
		{"0", "error"},
		{"101", "error"},
		{"90,50", "error"},
		{"50,50", "error"},
		{"5o", "error"},
		{"50%", "error"},
	} {
		got, err := ParseThresholds(tc.in)
		s := fmt.Sprint(got)
		if err != nil {
			s = "error"
		}
		if s != tc.want {
			t.Errorf("ParseThresholds(%q) = %s (%v), want %s", tc.in, s, err, tc.want)
		}
	}
}

// TestTwoTargets: each target gets its own rows, and one that fails does
// not hold the other's back.
func TestTwoTargets(t *testing.T) {
	s := openSQLite(t)
	good := newReceiver(t, always(http.StatusOK))
	bad := newReceiver(t, always(http.StatusBadGateway))
	insert(t, s, good.URL, 30)
	insert(t, s, bad.URL, 30)
	start(t, testConfig(good.URL, bad.URL), s)
	good.wait(t, 30, 10*time.Second)
	// The good target's rows come first in id order, so its 30 events can
	// all be accepted before the failing target got its first POST.
	bad.waitPosts(t, 1, 10*time.Second)
	good.mu.Lock()
	n := len(good.got)
	good.mu.Unlock()
	if n != 30 {
		t.Errorf("the good target got %d events, want 30", n)
	}
	bad.mu.Lock()
	defer bad.mu.Unlock()
	if bad.posts == 0 || len(bad.got) != 0 {
		t.Errorf("the failing target: %d POSTs, %d accepted; want attempts and nothing accepted", bad.posts, len(bad.got))
	}
}

// TestHangingTarget: once a POST to a target times out, the rest of its
// batches in the round are not sent but share the failed attempt: a
// hanging target costs a round one timeout, not one per batch.
func TestHangingTarget(t *testing.T) {
	s := openSQLite(t)
	r := newReceiver(t, always(0))
	insert(t, s, r.URL, 50)
	cfg := testConfig(r.URL)
	cfg.Timeout, cfg.Batch, cfg.Concurrency = 300*time.Millisecond, 5, 2
	cfg.BackoffMin, cfg.BackoffMax = time.Hour, time.Hour // one round only
	d, err := New(cfg, s, nil)
	if err != nil {
		t.Fatal(err)
	}
	d.Start()
	// The first round claims 10 of the 50 rows (5 a batch, 2 at once).
	retried := func(n int64) func() (bool, string) {
		return func() (bool, string) {
			st := d.Stats()
			return st.Retried >= n, fmt.Sprintf("stats %+v, want %d rows retried", st, n)
		}
	}
	waitFor(t, 10*time.Second, retried(10))
	start := time.Now()
	waitFor(t, 10*time.Second, retried(50))
	took := time.Since(start)
	if err := d.Close(context.Background()); err != nil {
		t.Fatal(err)
	}
	posts := r.postCount()
	// 5 rounds of 10 rows, each at most Concurrency POSTs, all hanging.
	if posts > 10 {
		t.Errorf("%d POSTs, want at most 2 a round (10): a failed target's other batches are not sent", posts)
	}
	for _, e := range pending(t, s) {
		if e.Attempts != 1 || e.LastError == "" {
			t.Errorf("row %d: %d attempts, error %q; want 1 failed attempt", e.ID, e.Attempts, e.LastError)
		}
	}
	t.Logf("4 more rounds against a hanging target took %v (timeout %v)", took, cfg.Timeout)
}
