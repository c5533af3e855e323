package bench

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"seen/client"
)

type receiptsConfig struct {
	members, messages, senders, ackBatch int
	duration                             time.Duration
	target, adminToken, postgres         string
	ceiling                              bool
	serverFlags                          stringList
}

type stringList []string

func (s *stringList) String() string     { return fmt.Sprint(*s) }
func (s *stringList) Set(v string) error { *s = append(*s, v); return nil }

func receiptsFlags(stderr io.Writer) (*flag.FlagSet, *receiptsConfig) {
	c := &receiptsConfig{}
	fs := flag.NewFlagSet("seen bench receipts", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.IntVar(&c.members, "members", 1000, "group members, each on its own WebSocket, each acking every message")
	fs.IntVar(&c.messages, "messages", 10, "receipt-requesting messages to send")
	fs.IntVar(&c.senders, "senders", 1, "senders (the owner and admins), messages go round-robin")
	fs.IntVar(&c.ackBatch, "ack-batch", 1, "most messages one member acknowledges per frame (1-100)")
	fs.DurationVar(&c.duration, "duration", 5*time.Minute, "give up waiting for the final counts after this long")
	fs.StringVar(&c.target, "target", "", "URL of a running seen server (default: start one as a child process)")
	fs.StringVar(&c.adminToken, "admin-token", os.Getenv("SEEN_ADMIN_TOKEN"), "admin token of --target")
	fs.StringVar(&c.postgres, "postgres", "", "PostgreSQL URL for the server it starts and for --ceiling (default: SQLite)")
	fs.BoolVar(&c.ceiling, "ceiling", false, "also write the same acks straight into a fresh store and compare")
	fs.Var(&c.serverFlags, "server-flag", "extra flag for the server it starts (repeatable), e.g. --server-flag=--coalesce-interval=50ms")
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: seen bench receipts [flags]\n\nBuilds a group, connects every member over a real WebSocket, sends receipt-requesting\nmessages, has every member ack each one as it arrives, and reports throughput, the\nlatency from ack to the sender's push, pushes received, and the server's CPU and memory.\nThe load and the server run on the same machine.\n\nflags:")
		fs.PrintDefaults()
	}
	return fs, c
}

func runReceipts(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs, c := receiptsFlags(stderr)
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0 // the flags were printed
		}
		return 2
	}
	switch {
	case c.members < 1 || c.members > 1_000_000:
		fmt.Fprintln(stderr, "seen bench receipts: --members must be 1..1000000")
		return 2
	case c.messages < 1 || c.messages > 10_000:
		fmt.Fprintln(stderr, "seen bench receipts: --messages must be 1..10000")
		return 2
	case c.senders < 1 || c.senders > c.messages:
		fmt.Fprintln(stderr, "seen bench receipts: --senders must be 1..--messages")
		return 2
	case c.ackBatch < 1 || c.ackBatch > 100:
		fmt.Fprintln(stderr, "seen bench receipts: --ack-batch must be 1..100")
		return 2
	case c.target != "" && c.adminToken == "":
		fmt.Fprintln(stderr, "seen bench receipts: --target needs --admin-token (or SEEN_ADMIN_TOKEN)")
		return 2
	}
	r, err := benchReceipts(ctx, c, stderr)
	if err != nil {
		fmt.Fprintf(stderr, "seen bench receipts: %v\n", err)
		return 1
	}
	r.print(stdout)
	if !r.countsOK {
		return 1
	}
	return 0
}

// ackRecord is one counted ack: when it was sent and the count it made.
type ackRecord struct {
	msg   string
	count int
	sent  time.Time
}

// pushRecord is one read-count push the sender received.
type pushRecord struct {
	count int
	at    time.Time
}

type receiptsResult struct {
	cfg            *receiptsConfig
	setup, elapsed time.Duration
	acks           int
	latencies      []time.Duration
	missing        int
	pushes         int
	countsOK       bool
	countErrs      []string
	serverCPU      time.Duration
	phaseCPU       time.Duration // server CPU during the ack phase only
	loadCPU        time.Duration // this process's CPU during the ack phase
	serverRSS      int64
	serverKnown    bool
	ceilingRate    float64
	ceilingErr     error
	storeKind      string
}

func benchReceipts(ctx context.Context, c *receiptsConfig, log io.Writer) (*receiptsResult, error) {
	res := &receiptsResult{cfg: c, storeKind: "sqlite"}
	if c.postgres != "" {
		res.storeKind = "postgres"
	}
	t0 := time.Now()
	base, admin := c.target, c.adminToken
	var proc *serverProc
	if base == "" {
		dir, err := os.MkdirTemp("", "seen-bench-")
		if err != nil {
			return nil, err
		}
		defer os.RemoveAll(dir)
		fmt.Fprintln(log, "starting a seen server (child process)...")
		proc, err = startServer(ctx, dir, c.postgres, c.serverFlags, log)
		if err != nil {
			return nil, err
		}
		defer proc.stop()
		base, admin = proc.base, proc.admin
	}
	hc := &http.Client{Timeout: 60 * time.Second, Transport: &http.Transport{MaxIdleConnsPerHost: 64}}
	adm := api{base: base, token: admin, hc: hc}

	// Accounts.
	run := strconv.FormatInt(time.Now().UnixNano()/1e6%1e9, 36)
	senders := make([]string, c.senders)
	for i := range senders {
		senders[i] = fmt.Sprintf("b%ss%d", run, i)
	}
	members := make([]string, c.members)
	for i := range members {
		members[i] = fmt.Sprintf("b%sm%d", run, i)
	}
	all := append(slices.Clone(senders), members...)
	const password = "bench-password"
	for start := 0; start < len(all); start += 1000 {
		var batch []map[string]string
		for _, n := range all[start:min(len(all), start+1000)] {
			batch = append(batch, map[string]string{"username": n, "password": password})
		}
		if err := adm.do(ctx, "POST", "/api/v1/admin/users", batch, nil); err != nil {
			return nil, fmt.Errorf("create users: %w", err)
		}
		progress(log, "users", min(len(all), start+1000), len(all))
	}
	tokens := make([]string, len(all))
	if err := parallel(ctx, len(all), 16, func(i int) error {
		var err error
		tokens[i], err = client.Login(ctx, base, all[i], password)
		return err
	}, func(n int) { progress(log, "logins", n, len(all)) }); err != nil {
		return nil, fmt.Errorf("login: %w", err)
	}

	// The group.
	var g struct {
		GroupID string `json:"groupId"`
	}
	first := append(slices.Clone(senders[1:]), members[:min(len(members), 1000-len(senders))]...)
	err := adm.do(ctx, "POST", "/api/v1/admin/groups", map[string]any{"owner": senders[0], "name": "bench " + run, "members": first}, &g)
	if err != nil {
		return nil, fmt.Errorf("create group: %w", err)
	}
	for start := len(first) - (len(senders) - 1); start < len(members); start += 1000 {
		batch := members[start:min(len(members), start+1000)]
		if err := adm.do(ctx, "POST", "/api/v1/admin/groups/"+g.GroupID+"/members", map[string]any{"users": batch}, nil); err != nil {
			return nil, fmt.Errorf("add members: %w", err)
		}
		progress(log, "members", start+len(batch), len(members))
	}

	// Connections, one per user.
	ws := wsURL(base)
	conns := make([]*client.Conn, len(all))
	defer func() {
		for _, cn := range conns {
			if cn != nil {
				cn.Close()
			}
		}
	}()
	if err := parallel(ctx, len(all), 32, func(i int) error {
		var err error
		conns[i], err = client.Dial(ctx, ws, tokens[i], "bench", client.WithPushBuffer(4096))
		return err
	}, func(n int) { progress(log, "connections", n, len(all)) }); err != nil {
		return nil, fmt.Errorf("connect: %w", err)
	}
	for _, s := range senders[1:] {
		if err := conns[0].SetAdmin(ctx, g.GroupID, s); err != nil {
			return nil, fmt.Errorf("set admin: %w", err)
		}
	}
	res.setup = time.Since(t0)

	// Senders record the read-count pushes; members ack what arrives.
	var (
		mu      sync.Mutex
		pushes  = map[string][]pushRecord{}
		records []ackRecord
		final   = make(chan struct{})
		doneN   atomic.Int64
		acked   atomic.Int64
		wg      sync.WaitGroup
	)
	want := c.members
	finalSeen := map[string]bool{}
	for i := range senders {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for p := range conns[i].Pushes() {
				if p.Push != client.PushReceipt {
					continue
				}
				r, err := client.DecodePush[client.Receipt](p)
				if err != nil {
					continue
				}
				now := time.Now()
				mu.Lock()
				pushes[r.Mid] = append(pushes[r.Mid], pushRecord{r.Count, now})
				if r.Count == want && !finalSeen[r.Mid] {
					finalSeen[r.Mid] = true
					if doneN.Add(1) == int64(c.messages) {
						close(final)
					}
				}
				mu.Unlock()
			}
		}()
	}
	ackCtx, cancelAcks := context.WithCancel(ctx)
	defer cancelAcks()
	var ackErr atomic.Value
	for i := len(senders); i < len(all); i++ {
		cn := conns[i]
		wg.Add(1)
		go func() {
			defer wg.Done()
			for p := range cn.Pushes() {
				if p.Push != client.PushMsg {
					continue
				}
				batch := []client.Message{}
				if m, err := client.DecodePush[client.Message](p); err == nil && m.MsgConfig != nil && m.MsgConfig.AllowGroupAck {
					batch = append(batch, m)
				}
			drain:
				for len(batch) < c.ackBatch {
					select {
					case p, ok := <-cn.Pushes():
						if !ok {
							break drain
						}
						if m, err := client.DecodePush[client.Message](p); err == nil && p.Push == client.PushMsg && m.MsgConfig != nil && m.MsgConfig.AllowGroupAck {
							batch = append(batch, m)
						}
					default:
						break drain
					}
				}
				if len(batch) == 0 {
					continue
				}
				items := make([]client.AckItem, len(batch))
				for k, m := range batch {
					items[k] = client.AckItem{MsgID: m.ID}
				}
				sent := time.Now()
				rs, err := cn.Ack(ackCtx, g.GroupID, items...)
				if err != nil {
					if ackCtx.Err() == nil {
						ackErr.Store(err)
					}
					continue
				}
				mu.Lock()
				for _, r := range rs {
					if r.Counted {
						records = append(records, ackRecord{r.MsgID, r.Count, sent})
					}
				}
				mu.Unlock()
				acked.Add(int64(len(rs)))
			}
		}()
	}

	// Send, then wait for every final count.
	fmt.Fprintf(log, "sending %d messages to %d members...\n", c.messages, c.members)
	var cpuBefore time.Duration
	if proc != nil {
		cpuBefore, _, _ = proc.usage()
	}
	loadBefore := selfCPU()
	start := time.Now()
	msgIDs := make([]string, c.messages)
	for k := range c.messages {
		r, err := conns[k%c.senders].Send(ctx, client.Send{
			LocalID: conns[k%c.senders].NewLocalID(), Type: "txt", ChatType: client.GroupChat, To: g.GroupID,
			Msg: fmt.Sprintf("notice %d", k), MsgConfig: &client.MsgConfig{AllowGroupAck: true},
		})
		if err != nil {
			return nil, fmt.Errorf("send: %w", err)
		}
		msgIDs[k] = r.ID
	}
	total := int64(c.members * c.messages)
	tick := time.NewTicker(time.Second)
	defer tick.Stop()
	timeout := time.After(c.duration)
wait:
	for {
		select {
		case <-final:
			break wait
		case <-tick.C:
			n := acked.Load()
			fmt.Fprintf(log, "acks %d/%d (%.0f/s), final counts %d/%d\n", n, total, float64(n)/time.Since(start).Seconds(), doneN.Load(), c.messages)
		case <-timeout:
			fmt.Fprintln(log, "gave up waiting for the final counts (--duration)")
			break wait
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
	res.elapsed = time.Since(start)
	res.loadCPU = selfCPU() - loadBefore
	if proc != nil {
		if cpu, _, err := proc.usage(); err == nil {
			res.phaseCPU = cpu - cpuBefore
		}
	}
	if err, ok := ackErr.Load().(error); ok && err != nil {
		fmt.Fprintf(log, "an ack failed: %v\n", err)
	}

	// Check the counts against the server.
	res.countsOK = true
	for k := 0; k < len(msgIDs); k += 100 {
		ids := msgIDs[k:min(len(msgIDs), k+100)]
		counts, err := conns[0].ReadCounts(ctx, g.GroupID, ids...)
		if err != nil {
			return nil, fmt.Errorf("read counts: %w", err)
		}
		for _, id := range ids {
			if counts[id] != want {
				res.countsOK = false
				res.countErrs = append(res.countErrs, fmt.Sprintf("%s: %d, want %d", id, counts[id], want))
			}
		}
	}
	if proc != nil {
		res.serverCPU, res.serverRSS, err = proc.usage()
		res.serverKnown = err == nil
	}
	cancelAcks()
	for _, cn := range conns {
		cn.Close()
	}
	wg.Wait()

	mu.Lock()
	res.acks = len(records)
	for _, ps := range pushes {
		res.pushes += len(ps)
	}
	for _, a := range records {
		ps := pushes[a.msg]
		i, _ := slices.BinarySearchFunc(ps, a.count, func(p pushRecord, c int) int { return p.count - c })
		if i == len(ps) {
			res.missing++
			continue
		}
		res.latencies = append(res.latencies, max(0, ps[i].at.Sub(a.sent)))
	}
	mu.Unlock()
	slices.Sort(res.latencies)

	if c.ceiling {
		fmt.Fprintln(log, "measuring the storage ceiling...")
		res.ceilingRate, res.ceilingErr = storeCeiling(ctx, c.postgres, c.members, c.messages)
	}
	return res, nil
}

func (r *receiptsResult) print(w io.Writer) {
	c := r.cfg
	rate := float64(r.acks) / r.elapsed.Seconds()
	fmt.Fprintf(w, "seen bench receipts: %d members x %d messages, %d sender(s), ack batch %d, %s store\n", c.members, c.messages, c.senders, c.ackBatch, r.storeKind)
	fmt.Fprintf(w, "(the load generator and the server share this machine)\n\n")
	row := func(k string, v any) { fmt.Fprintf(w, "  %-28s %v\n", k, v) }
	row("setup (users, group, conns)", r.setup.Round(time.Millisecond))
	row("acks counted", r.acks)
	row("ack phase", r.elapsed.Round(time.Millisecond))
	row("acks/s end to end", fmt.Sprintf("%.0f", rate))
	if len(r.latencies) > 0 {
		q := func(p float64) time.Duration {
			return r.latencies[min(len(r.latencies)-1, int(p*float64(len(r.latencies))))]
		}
		row("ack -> sender push p50", q(0.50).Round(time.Microsecond))
		row("ack -> sender push p99", q(0.99).Round(time.Microsecond))
		row("ack -> sender push max", r.latencies[len(r.latencies)-1].Round(time.Microsecond))
	}
	if r.missing > 0 {
		row("acks never reflected", r.missing)
	}
	row("pushes to the sender(s)", fmt.Sprintf("%d (%.1f per message)", r.pushes, float64(r.pushes)/float64(c.messages)))
	if r.countsOK {
		row("final counts", fmt.Sprintf("all %d = %d (exact)", c.messages, c.members))
	} else {
		row("final counts", fmt.Sprintf("WRONG: %v", r.countErrs))
	}
	if r.serverKnown {
		row("server CPU time (whole run)", r.serverCPU.Round(10*time.Millisecond))
		row("server CPU in the ack phase", fmt.Sprintf("%v (%.0f%% of one core)", r.phaseCPU.Round(10*time.Millisecond), 100*r.phaseCPU.Seconds()/r.elapsed.Seconds()))
		if r.phaseCPU > 0 {
			row("acks per server CPU-second", fmt.Sprintf("%.0f", float64(r.acks)/r.phaseCPU.Seconds()))
		}
		row("load generator CPU, ack phase", fmt.Sprintf("%v (%.0f%% of one core)", r.loadCPU.Round(10*time.Millisecond), 100*r.loadCPU.Seconds()/r.elapsed.Seconds()))
		row("server peak RSS", fmt.Sprintf("%.1f MiB", float64(r.serverRSS)/(1<<20)))
	} else {
		row("server CPU / memory", "not measured (--target)")
	}
	if c.ceiling {
		if r.ceilingErr != nil {
			row("storage ceiling", "failed: "+r.ceilingErr.Error())
		} else {
			row("storage ceiling (acks/s)", fmt.Sprintf("%.0f", r.ceilingRate))
			row("end to end / ceiling", fmt.Sprintf("%.1f%%", 100*rate/r.ceilingRate))
		}
	}
}

// parallel runs f(0..n-1) on workers goroutines, reporting progress, and
// returns the first error.
func parallel(ctx context.Context, n, workers int, f func(int) error, report func(int)) error {
	var next, done atomic.Int64
	var first atomic.Value
	var wg sync.WaitGroup
	stop := make(chan struct{})
	go func() {
		t := time.NewTicker(time.Second)
		defer t.Stop()
		for {
			select {
			case <-t.C:
				report(int(done.Load()))
			case <-stop:
				return
			}
		}
	}()
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := int(next.Add(1)) - 1
				if i >= n || ctx.Err() != nil || first.Load() != nil {
					return
				}
				if err := f(i); err != nil {
					first.CompareAndSwap(nil, err)
					return
				}
				done.Add(1)
			}
		}()
	}
	wg.Wait()
	close(stop)
	report(int(done.Load()))
	if err, ok := first.Load().(error); ok {
		return err
	}
	return ctx.Err()
}

// selfCPU returns this process's CPU time (user + system).
func selfCPU() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

func progress(w io.Writer, what string, n, total int) {
	fmt.Fprintf(w, "%s %d/%d\n", what, n, total)
}
