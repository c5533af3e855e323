package bench

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"seen/internal/protocol"
)

// loadSpec is what one load worker runs: its members' connections, each
// acking every receipt-requesting message it receives.
type loadSpec struct {
	URLs        []string      `json:"urls"`   // WebSocket URL of each member's node
	Tokens      []string      `json:"tokens"` // access token of each member
	Group       string        `json:"group"`
	Local       string        `json:"local,omitempty"` // source IP of every dial; empty: any
	AckBatch    int           `json:"ackBatch"`
	DialTimeout time.Duration `json:"dialTimeout"`
}

// loadMode is how members ack from now on: at once, paced at Rate acks
// per second (over the worker), or (Burst) only on goAck.
type loadMode struct {
	Rate  float64 `json:"rate"`
	Burst bool    `json:"burst"`
}

// loadStats are a worker's running counters.
type loadStats struct {
	Connected int64  `json:"connected"` // members authenticated
	Received  int64  `json:"received"`  // receipt-requesting messages received
	Sent      int64  `json:"sent"`      // acks sent
	Counted   int64  `json:"counted"`   // acks the server's reply says counted
	Replied   int64  `json:"replied"`   // acks whose reply arrived, counted or not
	Errors    int64  `json:"errors"`    // failed connections, error replies, uncounted acks
	FirstErr  string `json:"firstErr,omitempty"`
}

// ackRecord is one counted ack: the message, the count the reply gave it,
// and when it was sent (Unix nanoseconds: workers are other processes).
type ackRecord struct {
	Msg   string `json:"m"`
	Count int    `json:"c"`
	Sent  int64  `json:"t"`
}

// worker runs the members of one loadSpec.
type worker struct {
	spec  loadSpec
	local net.Addr
	dials chan struct{} // bounds concurrent dials

	connected, received, sent, counted, replied, errs atomic.Int64
	firstErr                                          atomic.Value // string

	mu      sync.Mutex
	mode    loadMode
	burstGo chan struct{} // closed by goAck; replaced by setMode
	next    time.Time     // pacing: the next free ack slot
	records []ackRecord
	conns   []frameConn
	stopped bool

	wg sync.WaitGroup
}

func newWorker(spec loadSpec) (*worker, error) {
	w := &worker{spec: spec, dials: make(chan struct{}, 64), burstGo: make(chan struct{})}
	if spec.Local != "" {
		ip := net.ParseIP(spec.Local)
		if ip == nil {
			return nil, fmt.Errorf("bad source address %q", spec.Local)
		}
		w.local = &net.TCPAddr{IP: ip}
	}
	if len(spec.URLs) != len(spec.Tokens) {
		return nil, errors.New("load spec: one URL per token")
	}
	return w, nil
}

// start dials every member in the background.
func (w *worker) start() {
	for i := range w.spec.Tokens {
		w.wg.Add(1)
		go w.member(i)
	}
}

func (w *worker) stats() loadStats {
	s := loadStats{Connected: w.connected.Load(), Received: w.received.Load(), Sent: w.sent.Load(),
		Counted: w.counted.Load(), Replied: w.replied.Load(), Errors: w.errs.Load()}
	s.FirstErr, _ = w.firstErr.Load().(string)
	return s
}

func (w *worker) fail(err error) {
	w.mu.Lock()
	stopped := w.stopped
	w.mu.Unlock()
	if stopped {
		return
	}
	w.errs.Add(1)
	w.firstErr.CompareAndSwap(nil, err.Error())
}

func (w *worker) setMode(m loadMode) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.mode = m
	w.burstGo = make(chan struct{})
	w.next = time.Time{}
}

// goAck releases the members holding a message in burst mode.
func (w *worker) goAck() {
	w.mu.Lock()
	defer w.mu.Unlock()
	select {
	case <-w.burstGo:
	default:
		close(w.burstGo)
	}
}

// collect returns the acks counted since the last collect.
func (w *worker) collect() []ackRecord {
	w.mu.Lock()
	defer w.mu.Unlock()
	r := w.records
	w.records = nil
	return r
}

// stop closes every connection and waits for the members to end.
func (w *worker) stop() {
	w.mu.Lock()
	w.stopped = true
	conns := w.conns
	w.conns = nil
	select {
	case <-w.burstGo:
	default:
		close(w.burstGo)
	}
	w.mu.Unlock()
	for _, c := range conns {
		c.CloseNow()
	}
	w.wg.Wait()
}

// wait returns when an ack may go out under the current mode, or false
// if the worker stopped.
func (w *worker) wait() bool {
	w.mu.Lock()
	m, gate, stopped := w.mode, w.burstGo, w.stopped
	var slot time.Time
	if m.Rate > 0 && !m.Burst {
		slot = time.Now()
		if w.next.After(slot) {
			slot = w.next
		}
		w.next = slot.Add(time.Duration(float64(time.Second) / m.Rate))
	}
	w.mu.Unlock()
	if stopped {
		return false
	}
	if m.Burst {
		<-gate
	}
	if d := time.Until(slot); d > 0 {
		time.Sleep(d)
	}
	return true
}

// member is one member's connection: dial and authenticate within the
// dial timeout, then ack every receipt-requesting message.
func (w *worker) member(i int) {
	defer w.wg.Done()
	w.dials <- struct{}{}
	c, err := w.connect(i)
	<-w.dials
	if err != nil {
		w.fail(fmt.Errorf("member %d: %w", i, err))
		return
	}
	w.mu.Lock()
	if w.stopped {
		w.mu.Unlock()
		c.CloseNow()
		return
	}
	w.conns = append(w.conns, c)
	w.mu.Unlock()
	w.connected.Add(1)

	type inflight struct {
		sent int64
		n    int
	}
	var (
		pending = map[string]inflight{}
		queue   []string // ack batching: messages waiting for the ack in flight
		nextID  int
		frame   []byte
		fast    []fastAckResult // the storage of the last reply's results
	)
	send := func(msgs []string) bool {
		nextID++
		id := strconv.Itoa(nextID)
		frame = append(frame[:0], `{"id":"`...)
		frame = append(frame, id...)
		frame = append(frame, `","op":"receipt.ack","data":{"groupId":"`...)
		frame = append(frame, w.spec.Group...)
		frame = append(frame, `","items":[`...)
		for k, m := range msgs {
			if k > 0 {
				frame = append(frame, ',')
			}
			frame = append(frame, `{"msgId":"`...)
			frame = append(frame, m...)
			frame = append(frame, `"}`...)
		}
		frame = append(frame, `]}}`...)
		now := time.Now().UnixNano()
		pending[id] = inflight{now, len(msgs)}
		if _, err := c.WriteMessages(10*time.Second, false, frame); err != nil {
			w.fail(fmt.Errorf("member %d: write ack: %w", i, err))
			return false
		}
		w.sent.Add(int64(len(msgs)))
		return true
	}
	for {
		_, b, err := c.ReadMessage(1 << 20)
		if err != nil {
			w.fail(fmt.Errorf("member %d: read: %w", i, err))
			return
		}
		f, ok := readLoadFrame(b, w.spec.Group, fast[:0])
		if !ok {
			continue
		}
		if f.msgID != "" {
			w.received.Add(1)
			if w.spec.AckBatch > 1 && len(pending) > 0 {
				queue = append(queue, f.msgID)
				continue
			}
			if !w.wait() || !send([]string{f.msgID}) {
				return
			}
			continue
		}
		fast = f.results
		fl, ok := pending[f.replyID]
		if !ok {
			continue
		}
		delete(pending, f.replyID)
		w.replied.Add(int64(fl.n))
		switch {
		case f.refused:
			w.fail(fmt.Errorf("member %d: ack refused: %v", i, f.refusal))
			w.errs.Add(int64(fl.n) - 1)
		case f.bad != nil:
			w.fail(fmt.Errorf("member %d: ack reply: %w", i, f.bad))
		}
		var recs []ackRecord
		for _, res := range f.results {
			if res.counted {
				recs = append(recs, ackRecord{res.msgID, res.count, fl.sent})
			} else {
				w.fail(fmt.Errorf("member %d: ack of %s not counted: %v", i, res.msgID, res.err))
			}
		}
		if len(recs) > 0 {
			w.mu.Lock()
			w.records = append(w.records, recs...)
			w.mu.Unlock()
			w.counted.Add(int64(len(recs)))
		}
		if len(queue) > 0 && len(pending) == 0 {
			n := min(len(queue), w.spec.AckBatch)
			batch := queue[:n]
			if !w.wait() || !send(batch) {
				return
			}
			queue = append(queue[:0], queue[n:]...)
		}
	}
}

// connect dials member i and authenticates, both within the dial timeout.
func (w *worker) connect(i int) (frameConn, error) {
	ctx, cancel := context.WithTimeout(context.Background(), w.spec.DialTimeout)
	defer cancel()
	c, err := dialWS(ctx, w.spec.URLs[i], w.local)
	if err != nil {
		return nil, fmt.Errorf("dial: %w", err)
	}
	var timedOut atomic.Bool
	t := time.AfterFunc(time.Until(deadlineOf(ctx)), func() { timedOut.Store(true); c.CloseNow() })
	defer t.Stop()
	auth, _ := json.Marshal(protocol.Request{ID: "0", Op: protocol.OpAuth,
		Data: mustJSON(protocol.Auth{Token: w.spec.Tokens[i], Device: "bench", Version: protocol.Version})})
	if _, err := c.WriteMessages(w.spec.DialTimeout, false, auth); err != nil {
		c.CloseNow()
		return nil, fmt.Errorf("auth: %w", err)
	}
	for {
		_, b, err := c.ReadMessage(1 << 20)
		if err != nil {
			c.CloseNow()
			if timedOut.Load() {
				return nil, fmt.Errorf("no auth reply within %v", w.spec.DialTimeout)
			}
			return nil, fmt.Errorf("auth: %w", err)
		}
		reply, _, err := protocol.DecodeServerFrame(b)
		if err != nil || reply == nil || reply.ID != "0" {
			continue
		}
		if !reply.OK {
			c.CloseNow()
			return nil, fmt.Errorf("auth refused: %v", reply.Error)
		}
		return c, nil
	}
}

func deadlineOf(ctx context.Context) time.Time {
	d, _ := ctx.Deadline()
	return d
}

func mustJSON(v any) json.RawMessage {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err)
	}
	return b
}

// A loader is a worker seen from the benchmark: in this process or a
// child process of this executable (`seen bench load-worker`).
type loader interface {
	stats() loadStats
	setMode(loadMode)
	goAck()
	collect(ctx context.Context) ([]ackRecord, error)
	pid() int // 0: this process
	stop()
}

type localLoader struct{ *worker }

func (l localLoader) collect(context.Context) ([]ackRecord, error) { return l.worker.collect(), nil }
func (localLoader) pid() int                                       { return 0 }

// workerMsg is a line between the benchmark and a child worker. To the
// child: Cmd "mode" (Mode), "go", "collect", "stop"; from it: Ev "stats"
// (Stats, at most once a second), "records" (Records, the answer to
// collect).
type workerMsg struct {
	Cmd     string      `json:"cmd,omitempty"`
	Mode    *loadMode   `json:"mode,omitempty"`
	Ev      string      `json:"ev,omitempty"`
	Stats   *loadStats  `json:"stats,omitempty"`
	Records []ackRecord `json:"records,omitempty"`
}

// runLoadWorker is `seen bench load-worker`: the first line of stdin is
// a loadSpec, the lines after it commands; it answers on stdout.
func runLoadWorker(stdin io.Reader, stdout, stderr io.Writer) int {
	in := bufio.NewReaderSize(stdin, 1<<20)
	line, err := in.ReadBytes('\n')
	if err != nil {
		fmt.Fprintln(stderr, "seen bench load-worker: no spec on stdin:", err)
		return 2
	}
	var spec loadSpec
	if err := json.Unmarshal(line, &spec); err != nil {
		fmt.Fprintln(stderr, "seen bench load-worker: bad spec:", err)
		return 2
	}
	w, err := newWorker(spec)
	if err != nil {
		fmt.Fprintln(stderr, "seen bench load-worker:", err)
		return 2
	}
	var outMu sync.Mutex
	enc := json.NewEncoder(stdout)
	emit := func(m workerMsg) {
		outMu.Lock()
		defer outMu.Unlock()
		enc.Encode(m)
	}
	w.start()
	done := make(chan struct{})
	go func() {
		t := time.NewTicker(time.Second)
		defer t.Stop()
		for {
			s := w.stats()
			emit(workerMsg{Ev: "stats", Stats: &s})
			select {
			case <-t.C:
			case <-done:
				return
			}
		}
	}()
	defer close(done)
	dec := json.NewDecoder(in)
	for {
		var m workerMsg
		if err := dec.Decode(&m); err != nil {
			w.stop() // the benchmark ended or died
			return 0
		}
		switch m.Cmd {
		case "mode":
			if m.Mode != nil {
				w.setMode(*m.Mode)
			}
		case "go":
			w.goAck()
		case "collect":
			s := w.stats()
			emit(workerMsg{Ev: "records", Records: w.collect(), Stats: &s})
		case "stop":
			w.stop()
			return 0
		}
	}
}

// childLoader is a worker in a child process.
type childLoader struct {
	cmd     *exec.Cmd
	in      *json.Encoder
	inMu    sync.Mutex
	last    atomic.Value // loadStats
	records chan []ackRecord
	exited  chan struct{}
}

func startChildLoader(spec loadSpec, log io.Writer) (*childLoader, error) {
	exe, err := executable()
	if err != nil {
		return nil, err
	}
	cmd := exec.Command(exe, "bench", "load-worker")
	cmd.Stderr = log
	stdin, err := cmd.StdinPipe()
	if err != nil {
		return nil, err
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start load worker: %w", err)
	}
	l := &childLoader{cmd: cmd, in: json.NewEncoder(stdin), records: make(chan []ackRecord, 1), exited: make(chan struct{})}
	l.last.Store(loadStats{})
	if err := l.in.Encode(spec); err != nil {
		cmd.Process.Kill()
		cmd.Wait()
		return nil, fmt.Errorf("load worker spec: %w", err)
	}
	go func() {
		defer close(l.exited)
		dec := json.NewDecoder(bufio.NewReaderSize(stdout, 1<<20))
		for {
			var m workerMsg
			if err := dec.Decode(&m); err != nil {
				s := l.last.Load().(loadStats)
				if s.FirstErr == "" {
					s.FirstErr = "load worker ended"
				}
				s.Errors++
				l.last.Store(s)
				close(l.records)
				cmd.Wait()
				return
			}
			if m.Stats != nil {
				l.last.Store(*m.Stats)
			}
			if m.Ev == "records" {
				l.records <- m.Records
			}
		}
	}()
	return l, nil
}

func (l *childLoader) send(m workerMsg) {
	l.inMu.Lock()
	defer l.inMu.Unlock()
	l.in.Encode(m)
}

func (l *childLoader) stats() loadStats   { return l.last.Load().(loadStats) }
func (l *childLoader) setMode(m loadMode) { l.send(workerMsg{Cmd: "mode", Mode: &m}) }
func (l *childLoader) goAck()             { l.send(workerMsg{Cmd: "go"}) }
func (l *childLoader) pid() int           { return l.cmd.Process.Pid }

func (l *childLoader) collect(ctx context.Context) ([]ackRecord, error) {
	l.send(workerMsg{Cmd: "collect"})
	select {
	case r, ok := <-l.records:
		if !ok {
			return nil, errors.New("load worker ended before it reported")
		}
		return r, nil
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

func (l *childLoader) stop() {
	l.send(workerMsg{Cmd: "stop"})
	select {
	case <-l.exited:
	case <-time.After(30 * time.Second):
		l.cmd.Process.Kill()
		<-l.exited
	}
}

// executable is the seen binary the benchmark starts children of
// (servers, the floor, load workers); tests point it at a built binary.
var executable = func() (string, error) {
	exe, err := os.Executable()
	if err != nil {
		return "", fmt.Errorf("find the seen executable: %w", err)
	}
	return exe, nil
}
