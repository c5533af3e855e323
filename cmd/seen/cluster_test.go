package main_test

// The process test of a cluster: three `seen serve` processes over one
// PostgreSQL schema and the NATS server at SEEN_TEST_NATS_URL, driven
// through the Go client; one is killed with SIGKILL mid-traffic. What was
// acknowledged must all be there, and every count exact.

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"regexp"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"seen/client"
	"seen/internal/sqlstore/sqltest"
)

const (
	envNATS    = "SEEN_TEST_NATS_URL"
	adminToken = "process-test-admin-token"
)

// buildSeen builds the seen binary into a temporary directory.
func buildSeen(t *testing.T) string {
	t.Helper()
	gobin, err := exec.LookPath("go")
	if err != nil {
		t.Skip("no go command on PATH to build seen: process test skipped")
	}
	bin := t.TempDir() + "/seen"
	out, err := exec.Command(gobin, "build", "-o", bin, ".").CombinedOutput()
	if err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}

// syncBuffer collects a process's log.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// proc is a running `seen serve`.
type proc struct {
	name   string
	url    string
	cmd    *exec.Cmd
	log    syncBuffer
	exited chan struct{} // closed when the process has ended
	dead   atomic.Bool   // killed on purpose
}

func (p *proc) wsURL() string { return "ws" + strings.TrimPrefix(p.url, "http") + "/ws" }

var servingLine = regexp.MustCompile(`seen is serving at (\S+)`)

// startSeen starts a node and waits until it prints its URL. At the end
// of the test a node still running is stopped with SIGTERM and must exit
// cleanly.
func startSeen(t *testing.T, bin, name, dsn, natsURL string) *proc {
	t.Helper()
	return startProc(t, bin, name, "--postgres", dsn, "--nats", natsURL)
}

// startProc starts a node with args after the flags every test node has.
func startProc(t *testing.T, bin, name string, args ...string) *proc {
	t.Helper()
	p := &proc{name: name, exited: make(chan struct{})}
	p.cmd = exec.Command(bin, append([]string{"serve", "--addr", "127.0.0.1:0",
		"--node-id", name, "--admin-token", adminToken, "--metrics-token", adminToken, "--password-cost", "4", "--shutdown-timeout", "5s"}, args...)...)
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "SEEN_") { // the flags are the whole configuration
			p.cmd.Env = append(p.cmd.Env, kv)
		}
	}
	p.cmd.Stderr = &p.log
	stdout, err := p.cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := p.cmd.Start(); err != nil {
		t.Fatalf("start %s: %v", name, err)
	}
	urls := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			if m := servingLine.FindStringSubmatch(sc.Text()); m != nil {
				select {
				case urls <- m[1]:
				default:
				}
			}
		}
		io.Copy(io.Discard, stdout)
	}()
	go func() {
		p.cmd.Wait()
		close(p.exited)
	}()
	t.Cleanup(func() {
		select {
		case <-p.exited:
		default:
			p.cmd.Process.Signal(syscall.SIGTERM)
			select {
			case <-p.exited:
				if !p.cmd.ProcessState.Success() {
					t.Errorf("%s: exit after SIGTERM = %v, want 0\n%s", name, p.cmd.ProcessState, p.log.String())
				}
			case <-time.After(15 * time.Second):
				p.cmd.Process.Kill()
				<-p.exited
				t.Errorf("%s: still running 15s after SIGTERM\n%s", name, p.log.String())
			}
		}
		if t.Failed() {
			t.Logf("log of %s:\n%s", name, p.log.String())
		}
	})
	select {
	case p.url = <-urls:
	case <-p.exited:
		t.Fatalf("%s exited at start: %v\n%s", name, p.cmd.ProcessState, p.log.String())
	case <-time.After(30 * time.Second):
		t.Fatalf("%s did not start within 30s\n%s", name, p.log.String())
	}
	return p
}

// kill ends the process with SIGKILL and waits for it.
func (p *proc) kill(t *testing.T) {
	t.Helper()
	p.dead.Store(true)
	if err := p.cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatalf("kill %s: %v", p.name, err)
	}
	<-p.exited
}

// admin calls the admin REST API of p.
func (p *proc) admin(t *testing.T, method, path string, body, out any) {
	t.Helper()
	b, _ := json.Marshal(body)
	req, err := http.NewRequest(method, p.url+path, bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+adminToken)
	req.Header.Set("Content-Type", "application/json")
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	defer res.Body.Close()
	raw, _ := io.ReadAll(res.Body)
	if res.StatusCode/100 != 2 {
		t.Fatalf("%s %s = %s: %s", method, path, res.Status, raw)
	}
	if out != nil {
		if err := json.Unmarshal(raw, out); err != nil {
			t.Fatalf("%s %s: decode %s: %v", method, path, raw, err)
		}
	}
}

var nodeInfo = regexp.MustCompile(`(?m)^seen_node_info\{node_id="([^"]*)",slot="([0-9]+)"\} 1$`)

// slot returns p's id slot from its /metrics.
func (p *proc) slot(t *testing.T) string {
	t.Helper()
	req, _ := http.NewRequest("GET", p.url+"/metrics", nil)
	req.Header.Set("Authorization", "Bearer "+adminToken)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("%s: GET /metrics: %v", p.name, err)
	}
	defer res.Body.Close()
	body, _ := io.ReadAll(res.Body)
	m := nodeInfo.FindStringSubmatch(string(body))
	if m == nil || m[1] != p.name {
		t.Fatalf("%s: no seen_node_info of its own in /metrics (%v)", p.name, m)
	}
	return m[2]
}

// ledger is what the clients were told, under one lock.
type ledger struct {
	mu      sync.Mutex
	sent    map[string]client.SendReply // by local id: sends whose reply came
	acked   map[string]map[string]bool  // reader -> msg id -> an ok reply came
	counted map[string]map[string]int   // reader -> msg id -> replies with counted: true
}

func (l *ledger) recordAck(reader string, r client.AckResult) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.acked[reader] == nil {
		l.acked[reader], l.counted[reader] = map[string]bool{}, map[string]int{}
	}
	l.acked[reader][r.MsgID] = true
	if r.Counted {
		l.counted[reader][r.MsgID]++
	}
}

func (l *ledger) hasAcked(reader, msg string) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.acked[reader][msg]
}

// cluster is the three processes; the killed one is skipped by dial.
type procCluster struct {
	t     *testing.T
	procs []*proc
}

// dial connects user's device to the first live node from i on.
func (c *procCluster) dial(ctx context.Context, i int, token, device string) (*client.Conn, *proc, error) {
	var errs []error
	for k := range len(c.procs) {
		p := c.procs[(i+k)%len(c.procs)]
		if p.dead.Load() {
			continue
		}
		conn, err := client.Dial(ctx, p.wsURL(), token, device)
		if err == nil {
			return conn, p, nil
		}
		errs = append(errs, err)
	}
	return nil, nil, fmt.Errorf("no node took %s: %w", device, errors.Join(errs...))
}

// isConnErr reports whether err means the connection is gone (its node
// died), as opposed to a refusal by the server.
func isConnErr(err error) bool {
	var e *client.Error
	return err != nil && !errors.As(err, &e)
}

func TestClusterProcessesSIGKILL(t *testing.T) {
	pg, natsURL := os.Getenv(sqltest.EnvPostgres), os.Getenv(envNATS)
	if pg == "" || natsURL == "" {
		t.Skipf("%s and %s must both be set (make test sets them when PostgreSQL and NATS answer on 127.0.0.1): process cluster test skipped", sqltest.EnvPostgres, envNATS)
	}
	if testing.Short() {
		t.Skip("process cluster test skipped in -short mode")
	}
	bin := buildSeen(t)
	dsn := sqltest.PostgresDSN(t, pg)
	c := &procCluster{t: t}
	for i := range 3 {
		c.procs = append(c.procs, startSeen(t, bin, fmt.Sprintf("n%d", i+1), dsn, natsURL))
	}
	t.Cleanup(http.DefaultClient.CloseIdleConnections)
	slots := map[string]string{}
	for _, p := range c.procs {
		s := p.slot(t)
		if other, dup := slots[s]; dup {
			t.Errorf("%s and %s share id slot %s", other, p.name, s)
		}
		slots[s] = p.name
	}
	victim := c.procs[1]

	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Second)
	defer cancel()

	// Users and the group, through the admin API.
	const nReaders, perSender, killAfter = 9, 30, 30
	readers := make([]string, nReaders)
	users := []map[string]string{{"username": "alice", "password": "password"}}
	for i := range readers {
		readers[i] = fmt.Sprintf("r%d", i)
		users = append(users, map[string]string{"username": readers[i], "password": "password"})
	}
	c.procs[0].admin(t, "POST", "/api/v1/admin/users", users, nil)
	var g client.Group
	c.procs[2].admin(t, "POST", "/api/v1/admin/groups", map[string]any{"owner": "alice", "name": "team", "members": readers}, &g)
	login := func(name string, i int) string { // on node i, or the next live one
		var errs []error
		for k := range len(c.procs) {
			p := c.procs[(i+k)%len(c.procs)]
			if p.dead.Load() {
				continue
			}
			tok, err := client.Login(ctx, p.url, name, "password")
			if err == nil {
				return tok
			}
			errs = append(errs, err)
		}
		t.Fatalf("Login(%s) = %v", name, errors.Join(errs...))
		return ""
	}

	l := &ledger{sent: map[string]client.SendReply{}, acked: map[string]map[string]bool{}, counted: map[string]map[string]int{}}
	var (
		wg       sync.WaitGroup
		sentN    atomic.Int32
		killNow  = make(chan struct{})
		killOnce sync.Once
		stopLive = make(chan struct{}) // the readers' live phase ends
		resends  atomic.Int32          // sends retried on another node
		moves    atomic.Int32          // readers reconnected to another node
	)
	errorf := func(format string, args ...any) { t.Errorf(format, args...) }

	// watchReceipts checks the monotonic rule on one connection of alice.
	watchReceipts := func(conn *client.Conn, where string) {
		last := map[string]int{}
		for p := range conn.Pushes() {
			if p.Push != client.PushReceipt {
				continue
			}
			r, err := client.DecodePush[client.Receipt](p)
			if err != nil {
				errorf("%s: bad receipt push: %v", where, err)
				continue
			}
			if r.Count <= last[r.Mid] {
				errorf("%s: receipt push of %s went from %d to %d", where, r.Mid, last[r.Mid], r.Count)
			}
			last[r.Mid] = r.Count
		}
	}

	// Alice sends from one device on each node; a device whose node dies
	// reconnects elsewhere and resends what was unanswered, with the same
	// local id.
	aliceTok := login("alice", 0)
	for i := range 3 {
		dev := fmt.Sprintf("a%d", i+1)
		wg.Go(func() {
			conn, p, err := c.dial(ctx, i, aliceTok, dev)
			if err != nil {
				errorf("%v", err)
				return
			}
			go watchReceipts(conn, dev+"@"+p.name)
			defer func() { conn.Close() }()
			// Paced, so that the kill falls in the middle of every sender's
			// traffic.
			pace := time.NewTicker(10 * time.Millisecond)
			defer pace.Stop()
			for k := range perSender {
				<-pace.C
				send := client.Send{LocalID: fmt.Sprintf("%s-%d", dev, k), Type: "txt", ChatType: client.GroupChat,
					To: g.GroupID, Msg: fmt.Sprintf("%s %d", dev, k), MsgConfig: &client.MsgConfig{AllowGroupAck: true}}
				for {
					sctx, scancel := context.WithTimeout(ctx, 5*time.Second)
					r, err := conn.Send(sctx, send)
					scancel()
					if err == nil {
						l.mu.Lock()
						if prev, dup := l.sent[send.LocalID]; dup && prev.ID != r.ID {
							errorf("%s resent as %s, first %s", send.LocalID, r.ID, prev.ID)
						}
						l.sent[send.LocalID] = r
						l.mu.Unlock()
						if sentN.Add(1) == killAfter {
							killOnce.Do(func() { close(killNow) })
						}
						break
					}
					if !isConnErr(err) || ctx.Err() != nil {
						errorf("%s on %s: Send(%s) = %v", dev, p.name, send.LocalID, err)
						return
					}
					conn.Close()
					resends.Add(1)
					if conn, p, err = c.dial(ctx, i, aliceTok, dev); err != nil {
						errorf("%v", err)
						return
					}
					go watchReceipts(conn, dev+"@"+p.name)
				}
			}
		})
	}

	// Each reader acks every receipt-requesting message pushed to it; when
	// its node dies it reconnects to another and catches up with sync.
	readerConns := make([]*client.Conn, nReaders)
	readerProcs := make([]*proc, nReaders)
	var readersWG sync.WaitGroup
	ackOne := func(conn *client.Conn, reader string, items ...client.AckItem) error {
		actx, acancel := context.WithTimeout(ctx, 5*time.Second)
		defer acancel()
		rs, err := conn.Ack(actx, g.GroupID, items...)
		if err != nil {
			return err
		}
		for k, r := range rs {
			if !r.OK {
				errorf("%s: ack of %s refused: %+v", reader, items[k].MsgID, r.Error)
				continue
			}
			l.recordAck(reader, r)
		}
		return nil
	}
	// catchUp syncs from the start and acks what has no ok reply yet.
	catchUp := func(conn *client.Conn, reader string) error {
		var todo []client.AckItem
		for pos := int64(0); ; {
			r, err := conn.Sync(ctx, pos, 100)
			if err != nil {
				return err
			}
			for _, m := range r.Messages {
				if m.MsgConfig != nil && m.MsgConfig.AllowGroupAck && !l.hasAcked(reader, m.ID) {
					todo = append(todo, client.AckItem{MsgID: m.ID, AckContent: reader})
				}
			}
			pos = r.Next
			if !r.More {
				break
			}
		}
		for len(todo) > 0 {
			n := min(len(todo), 100)
			if err := ackOne(conn, reader, todo[:n]...); err != nil {
				return err
			}
			todo = todo[n:]
		}
		return nil
	}
	for i, reader := range readers {
		tok := login(reader, i)
		conn, p, err := c.dial(ctx, i, tok, "phone")
		if err != nil {
			t.Fatal(err)
		}
		readerConns[i], readerProcs[i] = conn, p
		readersWG.Go(func() {
			reconnect := func() bool {
				readerConns[i].Close()
				moves.Add(1)
				for ctx.Err() == nil {
					conn, p, err := c.dial(ctx, i, tok, "phone")
					if err != nil {
						errorf("%s: %v", reader, err)
						return false
					}
					readerConns[i], readerProcs[i] = conn, p
					if err := catchUp(conn, reader); err == nil {
						return true
					} else if !isConnErr(err) {
						errorf("%s on %s: catch up: %v", reader, p.name, err)
						return false
					}
				}
				return false
			}
			for {
				select {
				case <-stopLive:
					return
				case push, ok := <-readerConns[i].Pushes():
					if !ok {
						if !reconnect() {
							return
						}
						continue
					}
					if push.Push != client.PushMsg {
						continue
					}
					m, err := client.DecodePush[client.Message](push)
					if err != nil || m.MsgConfig == nil || !m.MsgConfig.AllowGroupAck {
						continue
					}
					if err := ackOne(readerConns[i], reader, client.AckItem{MsgID: m.ID, AckContent: reader}); isConnErr(err) {
						if !reconnect() {
							return
						}
					} else if err != nil {
						errorf("%s on %s: Ack(%s) = %v", reader, readerProcs[i].name, m.ID, err)
					}
				}
			}
		})
	}

	// SIGKILL the second node once a third of the messages are in.
	select {
	case <-killNow:
	case <-ctx.Done():
		t.Fatalf("only %d sends acknowledged before the deadline", sentN.Load())
	}
	victim.kill(t)
	if st, ok := victim.cmd.ProcessState.Sys().(syscall.WaitStatus); !ok || st.Signal() != syscall.SIGKILL {
		t.Errorf("%s ended with %v, want killed by SIGKILL", victim.name, victim.cmd.ProcessState)
	}
	wg.Wait()
	close(stopLive)
	readersWG.Wait()
	if t.Failed() {
		t.FailNow()
	}

	// Every reader catches up once more, wherever it is connected now.
	for i, reader := range readers {
		for {
			err := catchUp(readerConns[i], reader)
			if err == nil {
				break
			}
			if !isConnErr(err) {
				t.Fatalf("%s: final catch up: %v", reader, err)
			}
			readerConns[i].Close()
			conn, p, err := c.dial(ctx, i, login(reader, i), "phone")
			if err != nil {
				t.Fatal(err)
			}
			readerConns[i], readerProcs[i] = conn, p
		}
		if readerProcs[i] == victim {
			t.Errorf("%s is still on the killed node", reader)
		}
	}
	defer func() {
		for _, conn := range readerConns {
			conn.Close()
		}
	}()

	// Verify through alice on each surviving node.
	var checkers []*client.Conn
	for _, i := range []int{0, 2} {
		conn, p, err := c.dial(ctx, i, aliceTok, fmt.Sprintf("check%d", i))
		if err != nil || p == victim {
			t.Fatalf("dial a checker on node %d: %v", i, err)
		}
		defer conn.Close()
		checkers = append(checkers, conn)
	}
	if len(l.sent) != 3*perSender {
		t.Fatalf("%d sends acknowledged, want %d", len(l.sent), 3*perSender)
	}
	ackedIDs := map[string]string{} // msg id -> local id
	for local, r := range l.sent {
		ackedIDs[r.ID] = local
	}
	if len(ackedIDs) != len(l.sent) {
		t.Errorf("%d acknowledged sends have %d distinct ids", len(l.sent), len(ackedIDs))
	}

	// History holds every acknowledged message, once.
	for _, chk := range checkers {
		var got []client.Message
		for cursor := ""; ; {
			h, err := chk.History(ctx, client.History{ChatType: client.GroupChat, To: g.GroupID, Cursor: cursor, Limit: 50})
			if err != nil {
				t.Fatalf("History = %v", err)
			}
			got = append(got, h.Messages...)
			if h.IsLast || h.Cursor == "" {
				break
			}
			cursor = h.Cursor
		}
		seen := map[string]bool{}
		for _, m := range got {
			if seen[m.ID] || seen["local:"+m.LocalID] {
				t.Errorf("history has %s (local id %s) twice", m.ID, m.LocalID)
			}
			seen[m.ID], seen["local:"+m.LocalID] = true, true
			if _, ok := ackedIDs[m.ID]; !ok {
				t.Errorf("history has %s (local id %s), which no acknowledged send named", m.ID, m.LocalID)
			}
		}
		for id, local := range ackedIDs {
			if !seen[id] {
				t.Errorf("acknowledged message %s (local id %s) is not in history", id, local)
			}
		}
	}

	// Every reader's ack was acknowledged at last; none counted twice;
	// every count is exactly the number of readers, on every node, and
	// the reader lists agree.
	ids := make([]string, 0, len(ackedIDs))
	for id := range ackedIDs {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	for _, reader := range readers {
		for _, id := range ids {
			if !l.acked[reader][id] {
				t.Errorf("%s's ack of %s never acknowledged", reader, id)
			}
			if n := l.counted[reader][id]; n > 1 {
				t.Errorf("%s's ack of %s counted %d times", reader, id, n)
			}
		}
	}
	lost := 0 // acks that counted although no reply said so (the reply died with the node)
	for _, reader := range readers {
		for _, id := range ids {
			if l.counted[reader][id] == 0 {
				lost++
			}
		}
	}
	t.Logf("%s killed after %d acknowledged sends; %d sends retried on another node, %d reader reconnects, %d acks counted whose reply was lost",
		victim.name, killAfter, resends.Load(), moves.Load(), lost)
	for k, chk := range checkers {
		for start := 0; start < len(ids); start += 100 {
			batch := ids[start:min(start+100, len(ids))]
			counts, err := chk.ReadCounts(ctx, g.GroupID, batch...)
			if err != nil {
				t.Fatalf("ReadCounts = %v", err)
			}
			for _, id := range batch {
				if counts[id] != nReaders {
					t.Errorf("checker %d: count of %s (local id %s) = %d, want %d", k, id, ackedIDs[id], counts[id], nReaders)
				}
			}
		}
	}
	for n, id := range ids {
		chk := checkers[n%len(checkers)]
		rd, err := chk.Readers(ctx, g.GroupID, id, "", 500)
		if err != nil {
			t.Fatalf("Readers(%s) = %v", id, err)
		}
		un, err := chk.Unread(ctx, g.GroupID, id, "", 500)
		if err != nil {
			t.Fatalf("Unread(%s) = %v", id, err)
		}
		var names []string
		for _, u := range rd.Users {
			names = append(names, u.Username)
		}
		slices.Sort(names)
		if rd.Total != nReaders || !slices.Equal(names, readers) || un.Total != 0 || len(un.Users) != 0 {
			t.Errorf("%s: readers %d %v, unread %d %v; want all %d readers, none unread", id, rd.Total, names, un.Total, un.Users, nReaders)
		}
	}
}
