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
	"strings"
	"sync"
	"syscall"
	"time"

	"seen/client"
)

// defaultMaxGroupMembers is seen's default --max-group-members.
const defaultMaxGroupMembers = 100_000

// maxSocketsPerProc is how many connections one process of this
// benchmark (a load worker or a seen node) is given at most: the machine
// allows 20,000 open files per process.
const maxSocketsPerProc = 15_000

type receiptsConfig struct {
	members, messages, senders, ackBatch int
	duration, dialTimeout, coalesce      time.Duration
	target, adminToken, postgres, nats   string
	ceiling, floor, burst, halfRate      bool
	jsonOut                              bool
	loadProcs, nodes                     int
	scale                                []int
	rate                                 float64
	serverFlags                          stringList
}

type stringList []string

func (s *stringList) String() string     { return fmt.Sprint(*s) }
func (s *stringList) Set(v string) error { *s = append(*s, v); return nil }

// intList is a comma-separated list of node counts.
type intList []int

func (l *intList) String() string { return fmt.Sprint(*l) }
func (l *intList) Set(v string) error {
	*l = nil
	for _, f := range strings.Split(v, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(f))
		if err != nil || n < 1 || n > 16 {
			return fmt.Errorf("%q is not a node count 1-16", f)
		}
		*l = append(*l, n)
	}
	return nil
}

func receiptsFlags(stderr io.Writer) (*flag.FlagSet, *receiptsConfig) {
	c := &receiptsConfig{}
	fs := flag.NewFlagSet("seen bench receipts", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.IntVar(&c.members, "members", 1000, "group members, each on its own WebSocket, each acking every message")
	fs.IntVar(&c.messages, "messages", 10, "receipt-requesting messages to send (per phase)")
	fs.IntVar(&c.senders, "senders", 1, "senders (the owner and admins), messages go round-robin")
	fs.IntVar(&c.ackBatch, "ack-batch", 1, "most messages one member acknowledges per frame (1-100)")
	fs.DurationVar(&c.duration, "duration", 5*time.Minute, "give up waiting for a phase's final counts after this long")
	fs.DurationVar(&c.dialTimeout, "dial-timeout", 10*time.Second, "bound of every dial, WebSocket authentication and login")
	fs.DurationVar(&c.coalesce, "coalesce", 100*time.Millisecond, "the servers' least time between two read-count pushes of a message (seen's --coalesce-interval)")
	fs.StringVar(&c.target, "target", "", "URL of a running seen server (default: start one as a child process)")
	fs.StringVar(&c.adminToken, "admin-token", os.Getenv("SEEN_ADMIN_TOKEN"), "admin token of --target")
	fs.StringVar(&c.postgres, "postgres", "", "PostgreSQL URL: the servers get a fresh schema in it (default: SQLite; with --nodes or --scale: postgres://127.0.0.1:5432/test)")
	fs.StringVar(&c.nats, "nats", "nats://127.0.0.1:4222", "NATS URL of the cluster (--nodes, --scale)")
	fs.IntVar(&c.nodes, "nodes", 1, "seen nodes of a cluster over PostgreSQL and NATS; members are spread round-robin (1: a single node, no NATS)")
	fs.Var((*intList)(&c.scale), "scale", "node counts to run the same load on in turn, e.g. 1,3,6, with throughput ratios to the first")
	fs.IntVar(&c.loadProcs, "load-procs", 0, "run the members in this many child processes, each dialing from its own 127.0.0.x (0: in this process)")
	fs.BoolVar(&c.ceiling, "ceiling", false, "also write the same acks straight into a fresh store and compare")
	fs.BoolVar(&c.floor, "floor", false, "then run the same load against a bare WebSocket server on the same transport (no decoding, rules or store) and compare")
	fs.BoolVar(&c.burst, "burst", false, "every member acks the same message at once: one message at a time, held until every member has it")
	fs.Float64Var(&c.rate, "rate", 0, "pace the acks at this many per second over all members (0: as fast as they come)")
	fs.BoolVar(&c.halfRate, "half-rate", false, "run unpaced to find the maximum ack rate, then again at half of it (latency at half load)")
	fs.BoolVar(&c.jsonOut, "json", false, "print the results as JSON instead of a table")
	fs.Var(&c.serverFlags, "server-flag", "extra flag for the seen servers it starts (repeatable), e.g. --server-flag=--rate=1000")
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: seen bench receipts [flags]\n\nBuilds a group, connects every member over a real WebSocket, sends receipt-requesting\nmessages, has every member ack each one as it arrives, and reports throughput, the\nlatency from ack to the sender's push, pushes received, the servers' CPU and memory\n(and PostgreSQL's), and checks the final counts against the server's.\nThe load and the servers run on the same machine.\n\nflags:")
		fs.PrintDefaults()
	}
	return fs, c
}

func (c *receiptsConfig) validate() error {
	switch {
	case c.members < 1 || c.members > 1_000_000:
		return errors.New("--members must be 1..1000000")
	case c.messages < 1 || c.messages > 10_000:
		return errors.New("--messages must be 1..10000")
	case c.senders < 1 || c.senders > c.messages:
		return errors.New("--senders must be 1..--messages")
	case c.ackBatch < 1 || c.ackBatch > 100:
		return errors.New("--ack-batch must be 1..100")
	case c.dialTimeout <= 0 || c.dialTimeout > 10*time.Minute:
		return errors.New("--dial-timeout must be in (0, 10m]")
	case c.coalesce < 0 || c.coalesce > 10*time.Second:
		return errors.New("--coalesce must be 0-10s")
	case c.duration <= 0:
		return errors.New("--duration must be positive")
	case c.target != "" && c.adminToken == "":
		return errors.New("--target needs --admin-token (or SEEN_ADMIN_TOKEN)")
	case c.target != "" && (c.nodes > 1 || len(c.scale) > 0 || c.floor):
		return errors.New("--target runs against one given server: no --nodes, --scale or --floor")
	case c.nodes < 1 || c.nodes > 16:
		return errors.New("--nodes must be 1-16")
	case c.loadProcs < 0 || c.loadProcs > 200:
		return errors.New("--load-procs must be 0-200")
	case c.rate < 0 || c.rate > 10_000_000:
		return errors.New("--rate must be 0-10000000 acks/s")
	case c.halfRate && (c.rate > 0 || c.burst):
		return errors.New("--half-rate finds its own rate: not with --rate or --burst")
	case c.burst && c.ackBatch > 1:
		return errors.New("--burst acks one message at a time: not with --ack-batch")
	}
	procs := max(1, c.loadProcs)
	if per := (c.members + procs - 1) / procs; per > maxSocketsPerProc {
		return fmt.Errorf("%d members in %d load process(es) is %d sockets in one; the limit here is %d: raise --load-procs to at least %d",
			c.members, procs, per, maxSocketsPerProc, (c.members+maxSocketsPerProc-1)/maxSocketsPerProc)
	}
	for _, n := range append([]int{c.nodes}, c.scale...) {
		if per := (c.members+n-1)/n + c.senders; c.target == "" && per > maxSocketsPerProc+4000 {
			return fmt.Errorf("%d members on %d node(s) is %d sockets on one node, over the open-file limit: use more --nodes", c.members, n, per)
		}
	}
	return nil
}

func (c *receiptsConfig) cluster() bool { return c.nodes > 1 || len(c.scale) > 0 }

func (c *receiptsConfig) storeKind() string {
	if c.postgres != "" || c.cluster() {
		return "postgres"
	}
	return "sqlite"
}

func runReceipts(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs, c := receiptsFlags(stderr)
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0 // the flags were printed
		}
		return 2
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "seen bench receipts: unexpected argument %q\n", fs.Arg(0))
		return 2
	}
	if err := c.validate(); err != nil {
		fmt.Fprintf(stderr, "seen bench receipts: %v\n", err)
		return 2
	}
	if c.cluster() && c.postgres == "" {
		c.postgres = "postgres://127.0.0.1:5432/test?sslmode=disable"
	}
	if c.target != "" && c.members+c.senders > defaultMaxGroupMembers {
		fmt.Fprintf(stderr, "note: the group has %d members with the senders; --target must run with --max-group-members of at least that (the default is %d)\n",
			c.members+c.senders, defaultMaxGroupMembers)
	}
	rep := &report{cfg: c}
	var runs []runSpec
	switch {
	case len(c.scale) > 0:
		for _, n := range c.scale {
			runs = append(runs, runSpec{kind: "seen", nodes: n})
		}
	default:
		runs = append(runs, runSpec{kind: "seen", nodes: c.nodes})
		if c.floor {
			runs = append(runs, runSpec{kind: "floor", nodes: 1})
		}
	}
	prog := newProgress(stderr)
	defer prog.stop()
	failed := false
	for _, rs := range runs {
		res, err := benchRun(ctx, c, rs, prog)
		if err != nil {
			fmt.Fprintf(stderr, "seen bench receipts: %s: %v\n", rs.label(c), err)
			return 1
		}
		rep.runs = append(rep.runs, res)
		if !res.countsOK {
			failed = true
		}
	}
	if c.ceiling {
		prog.set(func() string { return "measuring the storage ceiling..." })
		rep.ceilingRate, rep.ceilingErr = storeCeiling(ctx, c.postgres, c.members, c.messages)
	}
	prog.stop()
	if c.jsonOut {
		rep.printJSON(stdout)
	} else {
		rep.print(stdout)
	}
	if failed {
		fmt.Fprintln(stderr, "seen bench receipts: the counts do not reconcile with the server's")
		return 1
	}
	return 0
}

// runSpec is one server setup the load runs against.
type runSpec struct {
	kind  string // "seen" or "floor"
	nodes int
}

func (r runSpec) label(c *receiptsConfig) string {
	switch {
	case r.kind == "floor":
		return "floor"
	case c.target != "":
		return "seen (--target)"
	case c.cluster():
		return fmt.Sprintf("seen, %d node(s)", r.nodes)
	}
	return "seen"
}

// runResult is what one benchRun measured.
type runResult struct {
	spec       runSpec
	label      string
	setup      time.Duration
	phases     []*phaseResult
	countsOK   bool
	countErrs  []string
	measured   bool // the servers are children: CPU and memory known
	usersSetup time.Duration
}

// phaseResult is one ack phase: its messages sent, every member acking.
type phaseResult struct {
	name        string
	mode        loadMode
	msgs        []string
	acks        int
	elapsed     time.Duration
	latencies   []time.Duration
	missing     int
	pushes      int
	maxPushRate int             // most pushes of one message in any second
	converge    []time.Duration // per message: first ack sent -> the sender sees the final count
	serverCPU   time.Duration
	pgCPU       time.Duration
	pgProcs     int
	loadCPU     time.Duration
	serverPeak  int64 // peak RSS over the phase, summed over the nodes
	loadPeak    int64
	loadErrors  int64
	firstErr    string
	waitErr     string // why the phase ended before every final count
}

func (p *phaseResult) rate() float64 { return float64(p.acks) / p.elapsed.Seconds() }

func perAck(d time.Duration, acks int) float64 {
	if acks == 0 {
		return 0
	}
	return float64(d.Microseconds()) / float64(acks)
}

// bench is the state of one run.
type bench struct {
	c     *receiptsConfig
	spec  runSpec
	prog  *progress
	procs []*serverProc
	bases []string
	admin string
	group string

	senders  []*client.Conn
	loaders  []loader
	cleanups []func()

	mu      sync.Mutex
	pushes  map[string][]pushRecord // per message, in arrival order
	finalAt map[string]time.Time
	notify  chan struct{}
	counted map[string]int
}

// pushRecord is one read-count push the sender received.
type pushRecord struct {
	count int
	at    time.Time
}

func benchRun(ctx context.Context, c *receiptsConfig, rs runSpec, prog *progress) (res *runResult, err error) {
	b := &bench{c: c, spec: rs, prog: prog, pushes: map[string][]pushRecord{}, finalAt: map[string]time.Time{},
		notify: make(chan struct{}, 1), counted: map[string]int{}}
	res = &runResult{spec: rs, label: rs.label(c), countsOK: true}
	t0 := time.Now()
	defer b.close()
	if err := b.startServers(ctx); err != nil {
		return nil, err
	}
	res.measured = len(b.procs) > 0
	tokens, senderTokens, err := b.accounts(ctx)
	if err != nil {
		return nil, err
	}
	res.usersSetup = time.Since(t0)
	if err := b.connect(ctx, tokens, senderTokens); err != nil {
		return nil, err
	}
	res.setup = time.Since(t0)

	switch {
	case c.halfRate:
		full, err := b.phase(ctx, "unpaced", loadMode{})
		if err != nil {
			return nil, err
		}
		half := full.rate() / 2
		res.phases = append(res.phases, full)
		p, err := b.phase(ctx, fmt.Sprintf("at %.0f acks/s (half)", half), loadMode{Rate: half})
		if err != nil {
			return nil, err
		}
		res.phases = append(res.phases, p)
	case c.burst:
		p, err := b.phase(ctx, "burst", loadMode{Burst: true})
		if err != nil {
			return nil, err
		}
		res.phases = append(res.phases, p)
	case c.rate > 0:
		p, err := b.phase(ctx, fmt.Sprintf("at %.0f acks/s", c.rate), loadMode{Rate: c.rate})
		if err != nil {
			return nil, err
		}
		res.phases = append(res.phases, p)
	default:
		p, err := b.phase(ctx, "unpaced", loadMode{})
		if err != nil {
			return nil, err
		}
		res.phases = append(res.phases, p)
	}
	res.countErrs = b.reconcile(ctx, res.phases)
	res.countsOK = len(res.countErrs) == 0
	return res, nil
}

// startServers starts the seen nodes (on a fresh store) or the floor.
func (b *bench) startServers(ctx context.Context) error {
	c := b.c
	if c.target != "" {
		b.bases, b.admin = []string{strings.TrimRight(c.target, "/")}, c.adminToken
		return nil
	}
	admin := "bench-" + strconv.FormatInt(time.Now().UnixNano(), 36)
	b.admin = admin
	if b.spec.kind == "floor" {
		port, err := freePort()
		if err != nil {
			return err
		}
		b.prog.set(func() string { return "starting the floor server (child process)..." })
		p, err := startProc(ctx, port, admin, []string{"bench", "floor-server", "--addr", fmt.Sprintf("127.0.0.1:%d", port),
			"--coalesce", c.coalesce.String()}, os.Stderr)
		if err != nil {
			return err
		}
		b.procs, b.bases = []*serverProc{p}, []string{p.base}
		return nil
	}
	dsn := ""
	if c.postgres != "" {
		var drop func()
		var err error
		dsn, drop, err = freshStore(ctx, c.postgres)
		if err != nil {
			return fmt.Errorf("fresh PostgreSQL schema: %w", err)
		}
		b.cleanups = append(b.cleanups, drop)
	}
	extra := append([]string{"--max-group-members", strconv.Itoa(c.members + c.senders),
		"--coalesce-interval", c.coalesce.String()}, c.serverFlags...)
	for k := range b.spec.nodes {
		dir, err := os.MkdirTemp("", "seen-bench-")
		if err != nil {
			return err
		}
		b.cleanups = append(b.cleanups, func() { os.RemoveAll(dir) })
		n := seenNode{dataDir: dir, postgres: dsn, admin: admin, extra: extra}
		if c.cluster() {
			n.nats, n.nodeID = c.nats, fmt.Sprintf("bench-n%d", k+1)
		}
		b.prog.set(func() string { return fmt.Sprintf("starting seen node %d/%d (child process)...", k+1, b.spec.nodes) })
		p, err := startServer(ctx, n, os.Stderr)
		if err != nil {
			return fmt.Errorf("node %d: %w", k+1, err)
		}
		b.procs = append(b.procs, p)
		b.bases = append(b.bases, p.base)
	}
	return nil
}

// accounts creates the users and the group and logs every user in; the
// floor needs none of that.
func (b *bench) accounts(ctx context.Context) (members, senders []string, err error) {
	c := b.c
	if b.spec.kind == "floor" {
		b.group = floorGroup
		members = make([]string, c.members)
		for i := range members {
			members[i] = "member"
		}
		senders = make([]string, c.senders)
		for i := range senders {
			senders[i] = floorSenderToken
		}
		return members, senders, nil
	}
	hc := &http.Client{Timeout: c.dialTimeout + 50*time.Second, Transport: &http.Transport{MaxIdleConnsPerHost: 64}}
	adm := api{base: b.bases[0], token: b.admin, hc: hc}
	run := strconv.FormatInt(time.Now().UnixNano()/1e6%1e9, 36)
	names := make([]string, c.senders+c.members)
	for i := range names {
		if i < c.senders {
			names[i] = fmt.Sprintf("b%ss%d", run, i)
		} else {
			names[i] = fmt.Sprintf("b%sm%d", run, i-c.senders)
		}
	}
	const password = "bench-password"
	const batch = 1000    // the most one admin call takes
	const userBatch = 250 // users per creation call: finer progress, same speed
	var created counter
	b.prog.set(func() string { return fmt.Sprintf("users %d/%d", created.load(), len(names)) })
	if err := parallel(ctx, (len(names)+userBatch-1)/userBatch, 4, func(k int) error {
		part := names[k*userBatch : min(len(names), (k+1)*userBatch)]
		body := make([]map[string]string, len(part))
		for i, n := range part {
			body[i] = map[string]string{"username": n, "password": password}
		}
		if err := adm.do(ctx, "POST", "/api/v1/admin/users", body, nil); err != nil {
			return err
		}
		created.add(len(part))
		return nil
	}); err != nil {
		return nil, nil, fmt.Errorf("create users: %w", err)
	}
	tokens := make([]string, len(names))
	lc := &http.Client{Timeout: c.dialTimeout, Transport: &http.Transport{MaxIdleConnsPerHost: 64}}
	var logged counter
	b.prog.set(func() string { return fmt.Sprintf("logins %d/%d", logged.load(), len(names)) })
	if err := parallel(ctx, len(names), 16, func(i int) error {
		var r struct {
			AccessToken string `json:"access_token"`
		}
		// Each user logs in at its own node: the token is stored, any node accepts it.
		a := api{base: b.bases[i%len(b.bases)], hc: lc}
		if err := a.do(ctx, "POST", "/api/v1/token", map[string]string{"username": names[i], "password": password}, &r); err != nil {
			return err
		}
		if r.AccessToken == "" {
			return errors.New("login: no access_token in the reply")
		}
		tokens[i] = r.AccessToken
		logged.add(1)
		return nil
	}); err != nil {
		return nil, nil, fmt.Errorf("login: %w", err)
	}

	var g struct {
		GroupID string `json:"groupId"`
	}
	memberNames := names[c.senders:]
	first := append(slices.Clone(names[1:c.senders]), memberNames[:min(len(memberNames), batch-c.senders)]...)
	if err := adm.do(ctx, "POST", "/api/v1/admin/groups", map[string]any{"owner": names[0], "name": "bench " + run, "members": first}, &g); err != nil {
		return nil, nil, fmt.Errorf("create group: %w", err)
	}
	b.group = g.GroupID
	var added counter
	added.add(len(first) + 1)
	b.prog.set(func() string { return fmt.Sprintf("group members %d/%d", added.load(), len(names)) })
	for start := len(first) - (c.senders - 1); start < len(memberNames); start += batch {
		part := memberNames[start:min(len(memberNames), start+batch)]
		if err := adm.do(ctx, "POST", "/api/v1/admin/groups/"+g.GroupID+"/members", map[string]any{"users": part}, nil); err != nil {
			return nil, nil, fmt.Errorf("add members: %w", err)
		}
		added.add(len(part))
	}
	return tokens[c.senders:], tokens[:c.senders], nil
}

// connect connects the senders (in this process, to the first node) and
// the members (in the loaders, round-robin over the nodes).
func (b *bench) connect(ctx context.Context, tokens, senderTokens []string) error {
	c := b.c
	b.prog.set(func() string { return fmt.Sprintf("sender connections %d/%d", len(b.senders), c.senders) })
	for _, t := range senderTokens {
		dctx, cancel := context.WithTimeout(ctx, c.dialTimeout)
		cn, err := client.Dial(dctx, wsURL(b.bases[0]), t, "bench-sender", client.WithPushBuffer(1<<16))
		cancel()
		if err != nil {
			return fmt.Errorf("connect a sender: %w", err)
		}
		b.senders = append(b.senders, cn)
		go b.recordPushes(cn)
	}
	for _, s := range b.senders[1:] {
		if err := b.senders[0].SetAdmin(ctx, b.group, s.User()); err != nil {
			return fmt.Errorf("set admin: %w", err)
		}
	}
	procs := max(1, c.loadProcs)
	urls := make([]string, len(b.bases))
	for k, base := range b.bases {
		urls[k] = wsURL(base)
	}
	for k := range procs {
		spec := loadSpec{Group: b.group, AckBatch: c.ackBatch, DialTimeout: c.dialTimeout}
		for i := k; i < c.members; i += procs {
			spec.URLs = append(spec.URLs, urls[i%len(urls)])
			spec.Tokens = append(spec.Tokens, tokens[i])
		}
		if c.loadProcs == 0 {
			w, err := newWorker(spec)
			if err != nil {
				return err
			}
			w.start()
			b.loaders = append(b.loaders, localLoader{w})
			continue
		}
		spec.Local = fmt.Sprintf("127.0.0.%d", 2+k%250)
		l, err := startChildLoader(spec, os.Stderr)
		if err != nil {
			return err
		}
		b.loaders = append(b.loaders, l)
	}
	b.prog.set(func() string {
		s := b.loadStats()
		return fmt.Sprintf("connections %d/%d", s.Connected, c.members)
	})
	for {
		s := b.loadStats()
		if s.Errors > 0 {
			return fmt.Errorf("connect members: %d failed, first: %s", s.Errors, s.FirstErr)
		}
		if s.Connected == int64(c.members) {
			return nil
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(20 * time.Millisecond):
		}
	}
}

func (b *bench) loadStats() loadStats {
	var t loadStats
	for _, l := range b.loaders {
		s := l.stats()
		t.Connected += s.Connected
		t.Received += s.Received
		t.Sent += s.Sent
		t.Counted += s.Counted
		t.Replied += s.Replied
		t.Errors += s.Errors
		if t.FirstErr == "" {
			t.FirstErr = s.FirstErr
		}
	}
	return t
}

// recordPushes records the read-count pushes a sender receives.
func (b *bench) recordPushes(cn *client.Conn) {
	for p := range cn.Pushes() {
		if p.Push != client.PushReceipt {
			continue
		}
		r, err := client.DecodePush[client.Receipt](p)
		if err != nil {
			continue
		}
		now := time.Now()
		b.mu.Lock()
		b.pushes[r.Mid] = append(b.pushes[r.Mid], pushRecord{r.Count, now})
		if r.Count == b.c.members {
			if _, ok := b.finalAt[r.Mid]; !ok {
				b.finalAt[r.Mid] = now
				select {
				case b.notify <- struct{}{}:
				default:
				}
			}
		}
		b.mu.Unlock()
	}
}

// phase sends --messages messages and waits until the sender has seen
// every one's final count, measuring the servers and the load meanwhile.
func (b *bench) phase(ctx context.Context, name string, mode loadMode) (*phaseResult, error) {
	c := b.c
	p := &phaseResult{name: name, mode: mode}
	for _, l := range b.loaders {
		m := mode
		m.Rate /= float64(len(b.loaders))
		l.setMode(m)
	}
	// What is measured: the servers, PostgreSQL and the load, from here.
	var serverPIDs, loadPIDs []int
	for _, s := range b.procs {
		serverPIDs = append(serverPIDs, s.pid())
	}
	for _, l := range b.loaders {
		if l.pid() != 0 {
			loadPIDs = append(loadPIDs, l.pid())
		}
	}
	if len(loadPIDs) == 0 {
		loadPIDs = []int{os.Getpid()}
	}
	sumCPU := func(pids []int) time.Duration {
		var t time.Duration
		for _, pid := range pids {
			cpu, _ := procCPU(pid)
			t += cpu
		}
		return t
	}
	for _, pid := range append(slices.Clone(serverPIDs), loadPIDs...) {
		_ = resetPeak(pid)
	}
	serverMem, loadMem := sampleMem(serverPIDs, 100*time.Millisecond), sampleMem(loadPIDs, 100*time.Millisecond)
	serverBefore, loadBefore, selfBefore := sumCPU(serverPIDs), sumCPU(loadPIDs), selfCPU()
	pgBefore, _ := postgresCPU()
	base := b.loadStats()

	start := time.Now()
	b.prog.set(func() string {
		s := b.loadStats()
		n := s.Counted - base.Counted
		b.mu.Lock()
		final := 0
		for _, m := range p.msgs {
			if _, ok := b.finalAt[m]; ok {
				final++
			}
		}
		b.mu.Unlock()
		return fmt.Sprintf("%s: acks %d/%d (%.0f/s), received %d, final counts %d/%d", name, n, c.members*c.messages,
			float64(n)/time.Since(start).Seconds(), s.Received-base.Received, final, c.messages)
	})
	deadline := time.Now().Add(c.duration)
	for k := range c.messages {
		if mode.Burst && k > 0 {
			for _, l := range b.loaders {
				l.setMode(mode) // a fresh gate for this message
			}
		}
		cn := b.senders[k%len(b.senders)]
		r, err := cn.Send(ctx, client.Send{LocalID: cn.NewLocalID(), Type: "txt", ChatType: client.GroupChat, To: b.group,
			Msg: fmt.Sprintf("notice %d", k), MsgConfig: &client.MsgConfig{AllowGroupAck: true}})
		if err != nil {
			return nil, fmt.Errorf("send: %w", err)
		}
		b.mu.Lock()
		p.msgs = append(p.msgs, r.ID)
		b.mu.Unlock()
		if !mode.Burst {
			continue
		}
		// Hold the acks until every member has the message, then release all.
		want := base.Received + int64(c.members*(k+1))
		if err := b.waitFor(ctx, deadline, func() bool { return b.loadStats().Received >= want }); err != nil {
			return nil, fmt.Errorf("members receiving message %d: %w", k+1, err)
		}
		for _, l := range b.loaders {
			l.goAck()
		}
		if err := b.waitFor(ctx, deadline, func() bool { return b.final(r.ID) }); err != nil {
			return nil, fmt.Errorf("final count of message %d: %w", k+1, err)
		}
	}
	err := b.waitFor(ctx, deadline, func() bool {
		for _, m := range p.msgs {
			if !b.final(m) {
				return false
			}
		}
		return true
	})
	p.elapsed = time.Since(start)
	p.serverCPU = sumCPU(serverPIDs) - serverBefore
	if len(b.loaders) > 0 && b.loaders[0].pid() != 0 {
		p.loadCPU = sumCPU(loadPIDs) - loadBefore + selfCPU() - selfBefore
	} else {
		p.loadCPU = selfCPU() - selfBefore
	}
	if c.storeKind() == "postgres" {
		pg, n := postgresCPU()
		p.pgCPU, p.pgProcs = pg-pgBefore, n
	}
	p.serverPeak, p.loadPeak = peakOf(serverPIDs, serverMem.end()), peakOf(loadPIDs, loadMem.end())
	if err != nil {
		// Not fatal: the table shows what was measured, the counts do not
		// reconcile, and the exit code says so.
		s := b.loadStats()
		p.waitErr = fmt.Sprintf("waiting for the final counts: %v (acks counted %d, load errors %d)", err, s.Counted-base.Counted, s.Errors-base.Errors)
		fmt.Fprintf(os.Stderr, "%s: %s\n", name, p.waitErr)
	}
	// The final push can overtake the last replies: wait for every reply.
	if err := b.waitFor(ctx, time.Now().Add(c.dialTimeout+10*time.Second), func() bool {
		if p.waitErr != "" {
			return true // the phase failed already; take what came
		}
		s := b.loadStats()
		return s.Replied >= s.Sent
	}); err != nil {
		// Not fatal: the counts will not reconcile, and the table says why.
		s := b.loadStats()
		fmt.Fprintf(os.Stderr, "%s: %d of %d ack replies never came: %v\n", name, s.Sent-s.Replied, s.Sent-base.Sent, err)
	}
	s := b.loadStats()
	p.loadErrors, p.firstErr = s.Errors-base.Errors, s.FirstErr

	var records []ackRecord
	for _, l := range b.loaders {
		r, err := l.collect(ctx)
		if err != nil {
			return nil, err
		}
		records = append(records, r...)
	}
	b.analyse(p, records)
	return p, nil
}

// peakOf returns the summed VmHWM of pids (reset before the phase), or
// the sampled peak when that is larger or the HWM is unreadable.
func peakOf(pids []int, sampled int64) int64 {
	var hwm int64
	for _, pid := range pids {
		_, h, err := procMem(pid)
		if err != nil {
			return sampled
		}
		hwm += h
	}
	return max(hwm, sampled)
}

func (b *bench) final(msg string) bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	_, ok := b.finalAt[msg]
	return ok
}

// waitFor polls cond until it holds. It fails at the deadline, and when
// the load reports errors and no ack was counted for 10 s.
func (b *bench) waitFor(ctx context.Context, deadline time.Time, cond func() bool) error {
	lastCounted, lastChange := int64(-1), time.Now()
	for !cond() {
		s := b.loadStats()
		if s.Counted != lastCounted {
			lastCounted, lastChange = s.Counted, time.Now()
		}
		if s.Errors > 0 && time.Since(lastChange) > 10*time.Second {
			return fmt.Errorf("stalled after %d load error(s), first: %s", s.Errors, s.FirstErr)
		}
		if time.Now().After(deadline) {
			return errors.New("gave up (--duration)")
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-b.notify:
		case <-time.After(5 * time.Millisecond):
		}
	}
	return nil
}

// analyse matches every counted ack with the first push of its message
// that reflects it, and sums up the pushes.
func (b *bench) analyse(p *phaseResult, records []ackRecord) {
	b.mu.Lock()
	defer b.mu.Unlock()
	p.acks = len(records)
	firstAck := map[string]int64{}
	for _, a := range records {
		b.counted[a.Msg]++
		if t, ok := firstAck[a.Msg]; !ok || a.Sent < t {
			firstAck[a.Msg] = a.Sent
		}
	}
	for _, m := range p.msgs {
		ps := b.pushes[m]
		p.pushes += len(ps)
		// Most pushes in any one second.
		j := 0
		for i := range ps {
			for ps[i].at.Sub(ps[j].at) >= time.Second {
				j++
			}
			p.maxPushRate = max(p.maxPushRate, i-j+1)
		}
		if t, ok := firstAck[m]; ok && !b.finalAt[m].IsZero() { // zero: it never converged
			p.converge = append(p.converge, b.finalAt[m].Sub(time.Unix(0, t)))
		}
	}
	for _, a := range records {
		ps := b.pushes[a.Msg]
		i := slices.IndexFunc(ps, func(r pushRecord) bool { return r.count >= a.Count })
		if i < 0 {
			p.missing++
			continue
		}
		p.latencies = append(p.latencies, max(0, ps[i].at.Sub(time.Unix(0, a.Sent))))
	}
	slices.Sort(p.latencies)
	slices.Sort(p.converge)
}

// reconcile compares, for every message sent, the server's own count, the
// acks this benchmark counted, and the group's size; it returns the
// mismatches.
func (b *bench) reconcile(ctx context.Context, phases []*phaseResult) []string {
	var msgs []string
	for _, p := range phases {
		msgs = append(msgs, p.msgs...)
	}
	want := b.c.members
	var errs []string
	for k := 0; k < len(msgs); k += 100 {
		ids := msgs[k:min(len(msgs), k+100)]
		counts, err := b.senders[0].ReadCounts(ctx, b.group, ids...)
		if err != nil {
			return append(errs, fmt.Sprintf("read the server's counts: %v", err))
		}
		for _, id := range ids {
			b.mu.Lock()
			ours := b.counted[id]
			b.mu.Unlock()
			if counts[id] != want || ours != want {
				errs = append(errs, fmt.Sprintf("message %s: server %d, acks counted here %d, members %d", id, counts[id], ours, want))
			}
		}
	}
	return errs
}

func (b *bench) close() {
	for _, s := range b.senders {
		s.Close()
	}
	for _, l := range b.loaders {
		l.stop()
	}
	for _, p := range b.procs {
		p.stop()
	}
	for _, f := range slices.Backward(b.cleanups) {
		f()
	}
}

// parallel runs f(0..n-1) on workers goroutines and returns the first
// error.
func parallel(ctx context.Context, n, workers int, f func(int) error) error {
	var (
		mu    sync.Mutex
		next  int
		first error
		wg    sync.WaitGroup
	)
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				mu.Lock()
				i := next
				next++
				stop := i >= n || first != nil || ctx.Err() != nil
				mu.Unlock()
				if stop {
					return
				}
				if err := f(i); err != nil {
					mu.Lock()
					if first == nil {
						first = err
					}
					mu.Unlock()
					return
				}
			}
		}()
	}
	wg.Wait()
	if first != nil {
		return first
	}
	return ctx.Err()
}

// counter is a progress counter.
type counter struct {
	mu sync.Mutex
	n  int
}

func (c *counter) add(n int) { c.mu.Lock(); c.n += n; c.mu.Unlock() }
func (c *counter) load() int { c.mu.Lock(); defer c.mu.Unlock(); return c.n }

// selfCPU returns this process's CPU time (user + system).
func selfCPU() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// progress prints what the benchmark is doing, at most once a second,
// from its start to its end: a new step at once unless a line went out
// less than a second ago, and every second after.
type progress struct {
	w     io.Writer
	mu    sync.Mutex
	line  func() string
	last  time.Time
	quit  chan struct{}
	done  chan struct{}
	once  sync.Once
	start time.Time
}

func newProgress(w io.Writer) *progress {
	p := &progress{w: w, quit: make(chan struct{}), done: make(chan struct{}), start: time.Now(),
		line: func() string { return "starting..." }}
	go func() {
		defer close(p.done)
		t := time.NewTicker(100 * time.Millisecond)
		defer t.Stop()
		for {
			select {
			case <-t.C:
				p.print(false)
			case <-p.quit:
				return
			}
		}
	}()
	return p
}

// set replaces the line of the current step.
func (p *progress) set(line func() string) {
	p.mu.Lock()
	p.line = line
	p.mu.Unlock()
	p.print(false)
}

func (p *progress) print(force bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if !force && time.Since(p.last) < time.Second {
		return
	}
	p.last = time.Now()
	fmt.Fprintf(p.w, "[%5.1fs] %s\n", time.Since(p.start).Seconds(), p.line())
}

func (p *progress) stop() {
	p.once.Do(func() {
		close(p.quit)
		<-p.done
	})
}
