package server_test

// Cluster tests: three server.New nodes in one process sharing one
// PostgreSQL schema and one NATS server (embedded, on a port of its own,
// so that a test can stop it and start it again). They run when
// SEEN_TEST_POSTGRES_URL is set; cmd/seen/cluster_test.go does the same
// with separate processes and a SIGKILL.

import (
	"context"
	"fmt"
	"net"
	"os"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	natsserver "github.com/nats-io/nats-server/v2/server"

	"seen/client"
	"seen/internal/sqlstore/sqltest"
)

// startNATS runs an embedded NATS server on 127.0.0.1:port (-1: any free
// port) until stopNATS or the end of the test.
func startNATS(t *testing.T, port int) *natsserver.Server {
	t.Helper()
	ns, err := natsserver.NewServer(&natsserver.Options{Host: "127.0.0.1", Port: port, NoLog: true, NoSigs: true})
	if err != nil {
		t.Fatalf("nats server: %v", err)
	}
	go ns.Start()
	if !ns.ReadyForConnections(10 * time.Second) {
		t.Fatal("nats server not ready after 10s")
	}
	t.Cleanup(func() { stopNATS(ns) })
	return ns
}

func stopNATS(ns *natsserver.Server) {
	ns.Shutdown()
	ns.WaitForShutdown()
}

// node is one running node of a test cluster.
type node struct {
	*running
	name string
}

func (n *node) wsURL() string { return "ws" + strings.TrimPrefix(n.url, "http") + "/ws" }

// cluster is three nodes over one PostgreSQL schema and an embedded NATS.
type cluster struct {
	t     *testing.T
	nats  *natsserver.Server
	nodes []*node
}

// newCluster starts NATS and three nodes named n0, n1 and n2, or skips
// the test without PostgreSQL.
func newCluster(t *testing.T) *cluster {
	t.Helper()
	base := os.Getenv(sqltest.EnvPostgres)
	if base == "" {
		t.Skip(sqltest.EnvPostgres + " is not set: cluster tests (PostgreSQL + embedded NATS) skipped")
	}
	leakCheck(t)
	dsn := sqltest.PostgresDSN(t, base)
	c := &cluster{t: t, nats: startNATS(t, -1)}
	for i := range 3 {
		cfg := testConfig(t)
		cfg.Postgres = dsn
		cfg.NATS = c.nats.ClientURL()
		cfg.NodeID = fmt.Sprintf("n%d", i)
		c.nodes = append(c.nodes, &node{running: start(t, cfg), name: cfg.NodeID})
	}
	return c
}

// user registers name (on node 0) and logs in on node i, so that the
// token of one node is used on the others.
func (c *cluster) user(name string, i int) string {
	c.t.Helper()
	ctx := ctxT(c.t)
	if err := client.Register(ctx, c.nodes[0].url, name, "password"); err != nil {
		c.t.Fatalf("Register(%s) = %v", name, err)
	}
	tok, err := client.Login(ctx, c.nodes[i].url, name, "password")
	if err != nil {
		c.t.Fatalf("Login(%s) on %s = %v", name, c.nodes[i].name, err)
	}
	return tok
}

// dial connects a device to node i and records its pushes.
func (c *cluster) dial(i int, token, device string) *recorder {
	c.t.Helper()
	n := c.nodes[i]
	conn, err := client.Dial(ctxT(c.t), n.wsURL(), token, device, client.WithHTTPClient(n.client))
	if err != nil {
		c.t.Fatalf("Dial(%s) on %s = %v", device, n.name, err)
	}
	r := newRecorder(conn, n.name)
	c.t.Cleanup(r.close)
	return r
}

// recorder keeps every push of a connection, so that a test can wait for
// a push without consuming the others.
type recorder struct {
	*client.Conn
	node string

	mu      sync.Mutex
	pushes  []client.Push
	changed chan struct{} // closed and replaced on every push and at the end
	ended   bool
	done    chan struct{}
}

func newRecorder(c *client.Conn, node string) *recorder {
	r := &recorder{Conn: c, node: node, changed: make(chan struct{}), done: make(chan struct{})}
	go func() {
		defer close(r.done)
		for p := range c.Pushes() {
			r.mu.Lock()
			r.pushes = append(r.pushes, p)
			close(r.changed)
			r.changed = make(chan struct{})
			r.mu.Unlock()
		}
		r.mu.Lock()
		r.ended = true
		close(r.changed)
		r.changed = make(chan struct{})
		r.mu.Unlock()
	}()
	return r
}

func (r *recorder) close() {
	r.Conn.Close()
	<-r.done
}

func (r *recorder) String() string { return r.User() + "/" + r.Device() + "@" + r.node }

// wait returns the first recorded push named name for which match is
// true, waiting up to 10 seconds for it.
func (r *recorder) wait(t *testing.T, what, name string, match func(client.Push) bool) client.Push {
	t.Helper()
	deadline := time.After(10 * time.Second)
	for {
		r.mu.Lock()
		for _, p := range r.pushes {
			if p.Push == name && match(p) {
				r.mu.Unlock()
				return p
			}
		}
		ended, changed := r.ended, r.changed
		r.mu.Unlock()
		if ended {
			t.Fatalf("%s: connection ended waiting for %s: %v", r, what, r.Err())
		}
		select {
		case <-changed:
		case <-deadline:
			t.Fatalf("%s: no %s within 10s", r, what)
		}
	}
}

// waitMsg waits for the message push of message id.
func (r *recorder) waitMsg(t *testing.T, id string) client.Message {
	t.Helper()
	p := r.wait(t, "message "+id, client.PushMsg, func(p client.Push) bool {
		m, err := client.DecodePush[client.Message](p)
		return err == nil && m.ID == id
	})
	m, _ := client.DecodePush[client.Message](p)
	return m
}

// waitCount waits for a receipt push of message mid with count want.
func (r *recorder) waitCount(t *testing.T, mid string, want int) {
	t.Helper()
	r.wait(t, fmt.Sprintf("receipt push of %s with count %d", mid, want), client.PushReceipt, func(p client.Push) bool {
		rc, err := client.DecodePush[client.Receipt](p)
		return err == nil && rc.Mid == mid && rc.Count == want
	})
}

// counts returns the counts of the receipt pushes of mid, in order.
func (r *recorder) counts(mid string) []int {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []int
	for _, p := range r.pushes {
		if p.Push != client.PushReceipt {
			continue
		}
		if rc, err := client.DecodePush[client.Receipt](p); err == nil && rc.Mid == mid {
			out = append(out, rc.Count)
		}
	}
	return out
}

// checkRising fails unless the receipt pushes of mid on r rose strictly
// and ended at final.
func checkRising(t *testing.T, r *recorder, mid string, final int) {
	t.Helper()
	cs := r.counts(mid)
	for i := 1; i < len(cs); i++ {
		if cs[i] <= cs[i-1] {
			t.Errorf("%s: receipt pushes of %s = %v, want strictly rising", r, mid, cs)
			break
		}
	}
	if len(cs) == 0 || cs[len(cs)-1] != final {
		t.Errorf("%s: receipt pushes of %s = %v, want the last to be %d", r, mid, cs, final)
	}
}

// receiptState is what one node answers about a message's readers.
type receiptState struct {
	Count   int
	Readers []string // name:ackContent, sorted
	Total   int
	Unread  []string
	UTotal  int
}

// receiptStateOf asks c about message mid through the counts, readers and
// unread ops, all pages.
func receiptStateOf(t *testing.T, c *recorder, gid, mid string) receiptState {
	t.Helper()
	ctx := ctxT(t)
	var s receiptState
	counts, err := c.ReadCounts(ctx, gid, mid)
	if err != nil {
		t.Fatalf("%s: ReadCounts = %v", c, err)
	}
	s.Count = counts[mid]
	for cursor := ""; ; {
		p, err := c.Readers(ctx, gid, mid, cursor, 2)
		if err != nil {
			t.Fatalf("%s: Readers = %v", c, err)
		}
		s.Total = p.Total
		for _, u := range p.Users {
			s.Readers = append(s.Readers, u.Username+":"+u.AckContent)
		}
		if p.IsLast || p.Cursor == "" {
			break
		}
		cursor = p.Cursor
	}
	for cursor := ""; ; {
		p, err := c.Unread(ctx, gid, mid, cursor, 2)
		if err != nil {
			t.Fatalf("%s: Unread = %v", c, err)
		}
		s.UTotal = p.Total
		s.Unread = append(s.Unread, p.Users...)
		if p.IsLast || p.Cursor == "" {
			break
		}
		cursor = p.Cursor
	}
	slices.Sort(s.Readers)
	slices.Sort(s.Unread)
	return s
}

// ack acknowledges mid as c's user and checks the result.
func ack(t *testing.T, c *recorder, gid, mid string, wantCounted bool) client.AckResult {
	t.Helper()
	rs, err := c.Ack(ctxT(t), gid, client.AckItem{MsgID: mid, AckContent: "by " + c.User()})
	if err != nil || len(rs) != 1 {
		t.Fatalf("%s: Ack(%s) = %+v, %v", c, mid, rs, err)
	}
	if !rs[0].OK || rs[0].Counted != wantCounted {
		t.Errorf("%s: Ack(%s) = %+v, want ok and counted %v", c, mid, rs[0], wantCounted)
	}
	return rs[0]
}

// ackAll makes every reader acknowledge mid at once and checks that each
// counted with a count in (from, from+len(readers)]: the count after the
// batch its ack was committed in, so readers may share one.
func ackAll(t *testing.T, readers []*recorder, gid, mid string, from int) {
	t.Helper()
	results := make([]client.AckResult, len(readers))
	var wg sync.WaitGroup
	for i, r := range readers {
		wg.Go(func() { results[i] = ack(t, r, gid, mid, true) })
	}
	wg.Wait()
	for i, res := range results {
		if res.Count <= from || res.Count > from+len(readers) {
			t.Errorf("%s: ack count %d, want a count in (%d, %d]", readers[i], res.Count, from, from+len(readers))
		}
	}
}

// statsAll runs the receipt.stats loop from ack and returns the latest
// entry per message and the position to confirm.
func statsAll(t *testing.T, c *recorder, ack int64) (map[string]client.Receipt, int64) {
	t.Helper()
	out := map[string]client.Receipt{}
	for {
		r, err := c.Stats(ctxT(t), ack, 1) // one per page: exercise paging
		if err != nil {
			t.Fatalf("%s: Stats(%d) = %v", c, ack, err)
		}
		for _, e := range r.Entries {
			out[e.Mid] = e
		}
		ack = r.Next
		if !r.More {
			return out, ack
		}
	}
}

// syncRec is syncAll for a recorder.
func syncRec(t *testing.T, c *recorder, ack int64) ([]client.Message, int64) {
	t.Helper()
	return syncAll(t, c.Conn, ack)
}

func sendAck(t *testing.T, c *recorder, gid, text string) client.SendReply {
	t.Helper()
	r, err := c.Send(ctxT(t), client.Send{LocalID: c.NewLocalID(), Type: "txt", ChatType: client.GroupChat, To: gid, Msg: text,
		MsgConfig: &client.MsgConfig{AllowGroupAck: true}})
	if err != nil {
		t.Fatalf("%s: Send(%q) = %v", c, text, err)
	}
	return r
}

func sendText(t *testing.T, c *recorder, chatType, to, text string) client.SendReply {
	t.Helper()
	r, err := c.SendText(ctxT(t), chatType, to, text)
	if err != nil {
		t.Fatalf("%s: SendText(%q) = %v", c, text, err)
	}
	return r
}

// waitGroupEvent waits for a group push of op about gid naming user.
func waitGroupEvent(t *testing.T, r *recorder, gid, op, user string) {
	t.Helper()
	r.wait(t, fmt.Sprintf("group %s %s %s", gid, op, user), client.PushGroup, func(p client.Push) bool {
		e, err := client.DecodePush[client.GroupEvent](p)
		return err == nil && e.GroupID == gid && e.Op == op && slices.Contains(e.Users, user)
	})
}

// TestClusterReceipts is the whole receipts flow with the sender's two
// devices, the readers and the queries on different nodes.
func TestClusterReceipts(t *testing.T) {
	c := newCluster(t)
	ctx := ctxT(t)
	const A, B, C = 0, 1, 2

	aliceTok := c.user("alice", A)
	readerNode := map[string]int{"r1": A, "r2": A, "r3": B, "r4": B, "r5": C, "r6": C}
	names := []string{"r1", "r2", "r3", "r4", "r5", "r6"}
	toks := map[string]string{}
	for _, n := range names {
		toks[n] = c.user(n, readerNode[n])
	}
	toks["dave"] = c.user("dave", B)

	a1 := c.dial(A, aliceTok, "a1")
	g, err := a1.CreateGroup(ctx, client.GroupCreate{Name: "team", Members: names})
	if err != nil {
		t.Fatalf("CreateGroup = %v", err)
	}
	gid := g.GroupID
	// Dialled after the group exists: a session is subscribed to its
	// groups before its auth reply.
	a2 := c.dial(C, aliceTok, "a2")
	aq := c.dial(B, aliceTok, "aq") // alice's third device, for queries on B
	queriers := []*recorder{a1, aq, a2}
	readers := map[string]*recorder{}
	var all []*recorder
	for _, n := range names {
		readers[n] = c.dial(readerNode[n], toks[n], n)
		all = append(all, readers[n])
	}
	pick := func(ns ...string) []*recorder {
		var out []*recorder
		for _, n := range ns {
			out = append(out, readers[n])
		}
		return out
	}
	// a2 starts its statistics and sync streams now, so that it has
	// positions to come back to.
	_, statPos := statsAll(t, a2, 0)
	_, syncPos := syncRec(t, a2, 0)

	// The message reaches every reader and alice's other devices, on
	// every node.
	m1 := sendAck(t, a1, gid, "read me")
	for _, r := range append(slices.Clone(all), a2, aq) {
		m := r.waitMsg(t, m1.ID)
		if m.From != "alice" || m.MsgConfig == nil || !m.MsgConfig.AllowGroupAck {
			t.Errorf("%s got %+v, want alice's receipt-requesting message", r, m)
		}
	}

	// One reader per node acks at once; both sender devices see the count
	// rise to 3 live.
	ackAll(t, pick("r1", "r3", "r5"), gid, m1.ID, 0)
	for _, s := range queriers {
		s.waitCount(t, m1.ID, 3)
	}
	// The same reader on another device and node: success, not counted.
	r1b := c.dial(B, toks["r1"], "r1b")
	ack(t, r1b, gid, m1.ID, false)
	r1b.close()

	want := receiptState{
		Count: 3, Total: 3, Readers: []string{"r1:by r1", "r3:by r3", "r5:by r5"},
		UTotal: 3, Unread: []string{"r2", "r4", "r6"},
	}
	for _, q := range queriers {
		if diff := cmp.Diff(want, receiptStateOf(t, q, gid, m1.ID)); diff != "" {
			t.Errorf("receipts of m1 asked on %s (-want +got):\n%s", q.node, diff)
		}
	}

	// a2 confirms what it has and goes offline.
	stats, statPos := statsAll(t, a2, statPos)
	if e := stats[m1.ID]; e.Count != 3 {
		t.Errorf("a2's stats before going offline: %+v, want m1 with count 3", stats)
	}
	got, syncPos := syncRec(t, a2, syncPos)
	if len(got) != 1 || got[0].ID != m1.ID {
		t.Errorf("a2's sync before going offline = %q, want m1", texts(got))
	}
	if _, err := a2.Stats(ctx, statPos, 0); err != nil {
		t.Fatal(err)
	}
	if _, err := a2.Sync(ctx, syncPos, 0); err != nil {
		t.Fatal(err)
	}
	a2.close()

	// Meanwhile: a second message, a plain one from r4 on B, and every
	// outstanding ack, from all nodes at once.
	m2 := sendAck(t, a1, gid, "read me too")
	plain := sendText(t, readers["r4"], client.GroupChat, gid, "plain from r4")
	for _, r := range all {
		r.waitMsg(t, m2.ID)
	}
	var wg sync.WaitGroup
	wg.Go(func() { ackAll(t, pick("r2", "r4", "r6"), gid, m1.ID, 3) })
	wg.Go(func() { ackAll(t, all, gid, m2.ID, 0) })
	wg.Wait()
	for _, s := range []*recorder{a1, aq} {
		s.waitCount(t, m1.ID, 6)
		s.waitCount(t, m2.ID, 6)
		checkRising(t, s, m1.ID, 6)
		checkRising(t, s, m2.ID, 6)
	}
	checkRising(t, a2, m1.ID, 3)

	// a2 comes back on another node: its statistics bring both counts,
	// final, and its sync exactly what it missed.
	a2 = c.dial(B, aliceTok, "a2")
	stats, _ = statsAll(t, a2, statPos)
	if len(stats) != 2 || stats[m1.ID].Count != 6 || stats[m2.ID].Count != 6 {
		t.Errorf("a2's stats after reconnecting to %s = %+v, want m1 and m2 with count 6", a2.node, stats)
	}
	got, _ = syncRec(t, a2, syncPos)
	if len(got) != 2 || got[0].ID != m2.ID || got[1].ID != plain.ID {
		t.Errorf("a2's sync after reconnecting = %q, want m2 then r4's message", texts(got))
	} else if got[0].ReadCount == nil || *got[0].ReadCount != 6 {
		t.Errorf("a2's sync: m2 readCount = %v, want 6", got[0].ReadCount)
	}

	// Every node tells the same final state.
	all6 := make([]string, len(names))
	for i, n := range names {
		all6[i] = n + ":by " + n
	}
	for _, mid := range []string{m1.ID, m2.ID} {
		want := receiptState{Count: 6, Total: 6, Readers: all6}
		for _, q := range []*recorder{a1, aq, a2} {
			if diff := cmp.Diff(want, receiptStateOf(t, q, gid, mid), cmpNil); diff != "" {
				t.Errorf("receipts of %s asked on %s (-want +got):\n%s", mid, q.node, diff)
			}
		}
	}

	// Group events: dave, online on two nodes, is added on A; the members
	// everywhere hear of it, dave's devices too, and dave gets the next
	// message live on both.
	d1, d2 := c.dial(B, toks["dave"], "d1"), c.dial(C, toks["dave"], "d2")
	if added, err := a1.AddMembers(ctx, gid, "dave"); err != nil || !cmp.Equal(added, []string{"dave"}) {
		t.Fatalf("AddMembers(dave) = %v, %v", added, err)
	}
	hello := sendText(t, a1, client.GroupChat, gid, "welcome dave")
	for _, r := range append(slices.Clone(all), a2, aq) {
		waitGroupEvent(t, r, gid, "memberPresence", "dave")
	}
	for _, d := range []*recorder{d1, d2} {
		waitGroupEvent(t, d, gid, "directJoined", "dave")
		d.waitMsg(t, hello.ID)
	}
}

// cmpNil treats nil and empty slices alike.
var cmpNil = cmp.Transformer("nilToEmpty", func(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
})

var metricLine = regexp.MustCompile(`(?m)^([a-z_]+)(\{[^}]*\})? ([0-9.e+-]+)$`)

// metrics returns the samples of /metrics whose name starts with
// prefix, keyed by name{labels}.
func (n *node) metrics(t *testing.T, prefix string) map[string]float64 {
	t.Helper()
	st, body := n.get(t, "/metrics")
	if st != 200 {
		t.Fatalf("%s: GET /metrics = %d", n.name, st)
	}
	out := map[string]float64{}
	for _, m := range metricLine.FindAllStringSubmatch(body, -1) {
		if !strings.HasPrefix(m[1], prefix) {
			continue
		}
		v, err := strconv.ParseFloat(m[3], 64)
		if err != nil {
			t.Fatalf("%s: metric %s: %v", n.name, m[0], err)
		}
		out[m[1]+m[2]] = v
	}
	return out
}

// waitBus waits until cond holds on node n, checking it again at each
// change of the node's bus (its NATS connection, a presence heartbeat
// heard or sent). It returns false if cond still fails after timeout.
func (n *node) waitBus(timeout time.Duration, cond func() bool) bool {
	expired := time.After(timeout)
	for {
		changed := n.NATS().Changed()
		if cond() {
			return true
		}
		select {
		case <-changed:
		case <-expired:
			return false
		}
	}
}

// TestClusterNATSOutage stops NATS under three nodes: each keeps serving
// its own clients, and when NATS is back the sessions are told to resync,
// what was sent across nodes meanwhile is in their sync, and live
// cross-node traffic and the cluster metrics come back.
func TestClusterNATSOutage(t *testing.T) {
	c := newCluster(t)
	// Two users on each node.
	var conns [3][2]*recorder
	for i := range 3 {
		for j := range 2 {
			name := fmt.Sprintf("u%d%d", i, j)
			conns[i][j] = c.dial(i, c.user(name, i), "d")
		}
	}
	c.waitPresence(2)

	port := c.nats.Addr().(*net.TCPAddr).Port
	stopNATS(c.nats)
	for _, n := range c.nodes {
		if !n.waitBus(10*time.Second, func() bool {
			return n.metrics(t, "seen_nats_connected")["seen_nats_connected"] == 0
		}) {
			t.Fatalf("%s: seen_nats_connected not 0 within 10s of stopping NATS", n.name)
		}
	}

	// Without NATS each node still serves its own: a message between two
	// users of one node arrives live.
	for i := range 3 {
		from, to := conns[i][0], conns[i][1]
		sent := sendText(t, from, client.SingleChat, to.User(), "local while NATS is down")
		to.waitMsg(t, sent.ID)
	}
	// Across nodes the message is stored; its receiver will sync it.
	across := sendText(t, conns[0][0], client.SingleChat, conns[1][0].User(), "across while NATS is down")

	c.nats = startNATS(t, port)
	for i := range 3 {
		for j := range 2 {
			conns[i][j].wait(t, "resync push", "resync", func(client.Push) bool { return true })
		}
	}
	got, _ := syncRec(t, conns[1][0], 0)
	if !slices.ContainsFunc(got, func(m client.Message) bool { return m.ID == across.ID }) {
		t.Errorf("%s's sync after resync = %q, want the message sent across the outage", conns[1][0], texts(got))
	}
	// Live across nodes again, each way round.
	for i := range 3 {
		from, to := conns[i][1], conns[(i+1)%3][1]
		sent := sendText(t, from, client.SingleChat, to.User(), fmt.Sprintf("across %d after the outage", i))
		to.waitMsg(t, sent.ID)
	}
	for _, n := range c.nodes {
		if v := n.metrics(t, "seen_nats_connected")["seen_nats_connected"]; v != 1 {
			t.Errorf("%s: seen_nats_connected = %v after the outage, want 1", n.name, v)
		}
	}
	c.waitPresence(2)
}

// waitPresence waits until every node's /metrics shows every node with
// sessions connections, checking again at each heartbeat (they come
// every 5s: three of them at most).
func (c *cluster) waitPresence(sessions float64) {
	c.t.Helper()
	for _, n := range c.nodes {
		var got map[string]float64
		if !n.waitBus(15*time.Second, func() bool {
			got = n.metrics(c.t, "seen_cluster_node_connections")
			ok := len(got) == len(c.nodes)
			for _, peer := range c.nodes {
				ok = ok && got[`seen_cluster_node_connections{node_id="`+peer.name+`"}`] == sessions
			}
			return ok
		}) {
			c.t.Fatalf("%s: seen_cluster_node_connections = %v, want each of the %d nodes with %v", n.name, got, len(c.nodes), sessions)
		}
	}
}

var nodeInfo = regexp.MustCompile(`^seen_node_info\{node_id="([^"]*)",slot="([0-9]+)"\}$`)

// TestClusterUniqueIDs sends concurrently on every node and checks that
// no two messages share an id, and that the nodes hold different slots.
func TestClusterUniqueIDs(t *testing.T) {
	c := newCluster(t)
	const perNode, perConn = 3, 60
	g := c.dial(0, c.user("owner", 0), "d")
	var senders []*recorder
	var names []string
	for i := range 3 {
		for j := range perNode {
			name := fmt.Sprintf("s%d%d", i, j)
			names = append(names, name)
			senders = append(senders, c.dial(i, c.user(name, i), "d"))
		}
	}
	grp, err := g.CreateGroup(ctxT(t), client.GroupCreate{Name: "ids", Members: names})
	if err != nil {
		t.Fatal(err)
	}
	ids := make([][]string, len(senders))
	var wg sync.WaitGroup
	for k, s := range senders {
		wg.Go(func() {
			ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
			defer cancel()
			for n := range perConn {
				// Half to the group, half to a single chat with the owner.
				chatType, to := client.GroupChat, grp.GroupID
				if n%2 == 1 {
					chatType, to = client.SingleChat, "owner"
				}
				r, err := s.SendText(ctx, chatType, to, fmt.Sprintf("%s %d", s.User(), n))
				if err != nil {
					t.Errorf("%s: send %d: %v", s, n, err)
					return
				}
				ids[k] = append(ids[k], r.ID)
			}
		})
	}
	wg.Wait()
	seen := map[string]string{}
	for k, list := range ids {
		for _, id := range list {
			if other, dup := seen[id]; dup {
				t.Errorf("id %s given to %s and %s", id, other, senders[k])
			}
			seen[id] = senders[k].String()
		}
	}
	if want := len(senders) * perConn; len(seen) != want && !t.Failed() {
		t.Errorf("%d distinct ids, want %d", len(seen), want)
	}

	slots := map[string]string{}
	for _, n := range c.nodes {
		var found bool
		for key := range n.metrics(t, "seen_node_info") {
			m := nodeInfo.FindStringSubmatch(key)
			if m == nil || m[1] != n.name {
				t.Errorf("%s: %s, want seen_node_info of %s", n.name, key, n.name)
				continue
			}
			found = true
			if other, dup := slots[m[2]]; dup {
				t.Errorf("nodes %s and %s share slot %s", other, n.name, m[2])
			}
			slots[m[2]] = n.name
		}
		if !found {
			t.Errorf("%s: no seen_node_info", n.name)
		}
	}
}

// TestClusterSameNodeID: two nodes started with the same --node-id (a
// misconfiguration, or a restart while the old lease still runs) take
// different id slots and still see each other's events.
func TestClusterSameNodeID(t *testing.T) {
	base := os.Getenv(sqltest.EnvPostgres)
	if base == "" {
		t.Skip(sqltest.EnvPostgres + " is not set: cluster tests (PostgreSQL + embedded NATS) skipped")
	}
	leakCheck(t)
	dsn := sqltest.PostgresDSN(t, base)
	c := &cluster{t: t, nats: startNATS(t, -1)}
	for range 2 {
		cfg := testConfig(t)
		cfg.Postgres, cfg.NATS, cfg.NodeID = dsn, c.nats.ClientURL(), "twin"
		c.nodes = append(c.nodes, &node{running: start(t, cfg), name: cfg.NodeID})
	}
	var slots []string
	for _, n := range c.nodes {
		for key := range n.metrics(t, "seen_node_info") {
			if m := nodeInfo.FindStringSubmatch(key); m != nil {
				slots = append(slots, m[2])
			}
		}
	}
	if len(slots) != 2 || slots[0] == slots[1] {
		t.Fatalf("slots of two nodes named twin = %v, want two different slots", slots)
	}
	// Events cross between them: neither takes the other's for its own echo.
	alice, bob := c.user("alice", 0), c.user("bob", 1)
	ra, rb := c.dial(0, alice, "a1"), c.dial(1, bob, "b1")
	sent := sendText(t, ra, client.SingleChat, "bob", "hello twin")
	rb.waitMsg(t, sent.ID)
}
