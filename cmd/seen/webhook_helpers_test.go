package main_test

// The setup the webhook kill tests share: a target that records signed
// POSTs and hangs them until told to answer, the nodes' flags that point at
// it, a group of notices acked by every reader, and the wait for the events
// the target must receive.

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"seen/client"
	"seen/internal/webhook"
)

const hookSecret = "process-test-webhook-secret"

// hookReceiver records the events of signed POSTs; until up is set it
// hangs every request (the node's timeout ends it).
type hookReceiver struct {
	t     *testing.T
	up    atomic.Bool
	posts atomic.Int32

	mu    sync.Mutex
	reads map[string]int // "msg/reader" -> times received
	thres map[string]int // "msg/threshold" -> times received
}

func (h *hookReceiver) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(r.Body)
	if err != nil {
		return
	}
	h.posts.Add(1)
	if !webhook.Verify(hookSecret, r.Header.Get(webhook.HeaderTimestamp), body, r.Header.Get(webhook.HeaderSignature)) {
		h.t.Errorf("POST with a bad signature")
		w.WriteHeader(http.StatusUnauthorized)
		return
	}
	if !h.up.Load() {
		<-r.Context().Done()
		return
	}
	var b struct {
		Events []struct {
			ID        string `json:"id"`
			Kind      string `json:"kind"`
			Msg       string `json:"msg"`
			Reader    string `json:"reader"`
			Threshold int    `json:"threshold"`
		} `json:"events"`
	}
	if err := json.Unmarshal(body, &b); err != nil {
		h.t.Errorf("decode a body of %d bytes: %v", len(body), err)
		w.WriteHeader(http.StatusBadRequest)
		return
	}
	h.mu.Lock()
	for _, e := range b.Events {
		switch e.Kind {
		case "read":
			h.reads[e.Msg+"/"+e.Reader]++
		case "threshold":
			h.thres[e.Msg+"/"+strconv.Itoa(e.Threshold)]++
		}
	}
	h.mu.Unlock()
	w.WriteHeader(http.StatusNoContent)
}

// hookScene is one webhook kill test: the seen binary, the target (it
// hangs until h.up is set), the flags of every node, and, once the
// notices are sent and acked, what the target must receive.
type hookScene struct {
	t    *testing.T
	bin  string
	h    *hookReceiver
	recv *httptest.Server
	args []string // the flags of every node the scene starts

	readers []string
	g       client.Group
	msgs    []string        // the ids of the notices
	want    map[string]bool // "msg/reader" of every ack counted
}

// newHookScene builds seen and starts the target. Every node gets store
// (its storage flags) and then the webhook flags: the target, its secret,
// a 500ms timeout and at most batch events a POST. The caller closes
// s.recv.
func newHookScene(t *testing.T, batch int, store ...string) *hookScene {
	t.Helper()
	s := &hookScene{t: t, bin: buildSeen(t)}
	s.h = &hookReceiver{t: t, reads: map[string]int{}, thres: map[string]int{}}
	s.recv = httptest.NewServer(s.h)
	s.args = slices.Concat(store, []string{"--webhook-url", s.recv.URL + "/hook", "--webhook-secret", hookSecret,
		"--webhook-timeout", "500ms", "--webhook-batch", strconv.Itoa(batch)})
	return s
}

// start starts the node name with the scene's flags; the same name on the
// same storage is a restart.
func (s *hookScene) start(name string) *proc {
	s.t.Helper()
	return startProc(s.t, s.bin, name, s.args...)
}

// sendNotices creates alice and nReaders readers r0, r1, ... on p, a group
// "notices" of alice's with the readers in it, and has alice send nMsgs
// notices that allow group acks, with the local ids localPrefix0,
// localPrefix1, ...
func (s *hookScene) sendNotices(ctx context.Context, p *proc, nReaders, nMsgs int, localPrefix string) {
	s.t.Helper()
	s.readers = make([]string, nReaders)
	users := []map[string]string{{"username": "alice", "password": "password"}}
	for i := range s.readers {
		s.readers[i] = fmt.Sprintf("r%d", i)
		users = append(users, map[string]string{"username": s.readers[i], "password": "password"})
	}
	p.admin(s.t, "POST", "/api/v1/admin/users", users, nil)
	p.admin(s.t, "POST", "/api/v1/admin/groups", map[string]any{"owner": "alice", "name": "notices", "members": s.readers}, &s.g)

	alice := s.dial(ctx, p, "alice")
	for k := range nMsgs {
		r, err := alice.Send(ctx, client.Send{LocalID: fmt.Sprint(localPrefix, k), Type: "txt", ChatType: client.GroupChat, To: s.g.GroupID,
			Msg: fmt.Sprint("notice ", k), MsgConfig: &client.MsgConfig{AllowGroupAck: true}})
		if err != nil {
			s.t.Fatalf("Send = %v", err)
		}
		s.msgs = append(s.msgs, r.ID)
	}
	alice.Close()
}

// ackAll has every reader ack every notice on p; each ack must be ok and
// counted, and each counted read goes into s.want.
func (s *hookScene) ackAll(ctx context.Context, p *proc) {
	s.t.Helper()
	s.want = map[string]bool{}
	for _, rd := range s.readers {
		conn := s.dial(ctx, p, rd)
		var items []client.AckItem
		for _, m := range s.msgs {
			items = append(items, client.AckItem{MsgID: m})
		}
		rs, err := conn.Ack(ctx, s.g.GroupID, items...)
		if err != nil {
			s.t.Fatalf("Ack(%s) = %v", rd, err)
		}
		for _, r := range rs {
			if !r.OK || !r.Counted {
				s.t.Fatalf("ack of %s by %s = %+v, want ok and counted", r.MsgID, rd, r)
			}
			s.want[r.MsgID+"/"+rd] = true
		}
		conn.Close()
	}
}

// dial logs name in on p and opens a connection as device d1.
func (s *hookScene) dial(ctx context.Context, p *proc, name string) *client.Conn {
	s.t.Helper()
	tok, err := client.Login(ctx, p.url, name, "password")
	if err != nil {
		s.t.Fatalf("Login(%s) = %v", name, err)
	}
	conn, err := client.Dial(ctx, p.wsURL(), tok, "d1")
	if err != nil {
		s.t.Fatalf("Dial(%s) = %v", name, err)
	}
	return conn
}

// waitPosts waits until the target has had at least n POSTs, so a node
// is in the middle of one while the target hangs; if ctx ends first the
// test fails with never.
func (s *hookScene) waitPosts(ctx context.Context, n int32, never string) {
	s.t.Helper()
	for s.h.posts.Load() < n {
		if ctx.Err() != nil {
			s.t.Fatal(never)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// waitDelivered waits until the target has every read in s.want and a
// read-by-all event (threshold 100) of every notice. If that takes longer
// than within, the test fails with what never arrived, the message led
// by when. It returns how many reads arrived more than once.
func (s *hookScene) waitDelivered(within time.Duration, when string) (dups int) {
	s.t.Helper()
	deadline := time.Now().Add(within)
	for {
		s.h.mu.Lock()
		missing := 0
		for k := range s.want {
			if s.h.reads[k] == 0 {
				missing++
			}
		}
		allRead := 0
		for _, m := range s.msgs {
			if s.h.thres[m+"/100"] > 0 {
				allRead++
			}
		}
		dups = 0
		for _, n := range s.h.reads {
			dups += n - 1
		}
		s.h.mu.Unlock()
		if missing == 0 && allRead == len(s.msgs) {
			return dups
		}
		if time.Now().After(deadline) {
			s.t.Fatalf("%s %d of %d acknowledged reads and %d of %d read-by-all events never arrived", when, missing, len(s.want), len(s.msgs)-allRead, len(s.msgs))
		}
		time.Sleep(50 * time.Millisecond)
	}
}
