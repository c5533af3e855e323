package main_test

// The process test of the webhook outbox: a `seen serve` on SQLite with a
// webhook target is killed with SIGKILL while the target hangs, after the
// acks were acknowledged; restarted on the same data, it delivers every
// event: none is lost.

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"seen/client"
	"seen/internal/sqlstore/sqltest"
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

func TestWebhookSIGKILL(t *testing.T) {
	if testing.Short() {
		t.Skip("process test skipped in -short mode")
	}
	bin := buildSeen(t)
	h := &hookReceiver{t: t, reads: map[string]int{}, thres: map[string]int{}}
	recv := httptest.NewServer(h)
	defer recv.Close()
	data := t.TempDir()
	args := []string{"--data", data, "--webhook-url", recv.URL + "/hook", "--webhook-secret", hookSecret,
		"--webhook-timeout", "500ms", "--webhook-batch", "25"}
	p := startProc(t, bin, "w1", args...)
	t.Cleanup(http.DefaultClient.CloseIdleConnections)

	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	const nReaders, nMsgs = 8, 12
	readers := make([]string, nReaders)
	users := []map[string]string{{"username": "alice", "password": "password"}}
	for i := range readers {
		readers[i] = fmt.Sprintf("r%d", i)
		users = append(users, map[string]string{"username": readers[i], "password": "password"})
	}
	p.admin(t, "POST", "/api/v1/admin/users", users, nil)
	var g client.Group
	p.admin(t, "POST", "/api/v1/admin/groups", map[string]any{"owner": "alice", "name": "notices", "members": readers}, &g)

	dial := func(name string) *client.Conn {
		tok, err := client.Login(ctx, p.url, name, "password")
		if err != nil {
			t.Fatalf("Login(%s) = %v", name, err)
		}
		conn, err := client.Dial(ctx, p.wsURL(), tok, "d1")
		if err != nil {
			t.Fatalf("Dial(%s) = %v", name, err)
		}
		return conn
	}
	alice := dial("alice")
	var msgs []string
	for k := range nMsgs {
		r, err := alice.Send(ctx, client.Send{LocalID: fmt.Sprint("n", k), Type: "txt", ChatType: client.GroupChat, To: g.GroupID,
			Msg: fmt.Sprint("notice ", k), MsgConfig: &client.MsgConfig{AllowGroupAck: true}})
		if err != nil {
			t.Fatalf("Send = %v", err)
		}
		msgs = append(msgs, r.ID)
	}
	alice.Close()
	// Every read the server acknowledged as counted must reach the target.
	want := map[string]bool{}
	for _, rd := range readers {
		conn := dial(rd)
		var items []client.AckItem
		for _, m := range msgs {
			items = append(items, client.AckItem{MsgID: m})
		}
		rs, err := conn.Ack(ctx, g.GroupID, items...)
		if err != nil {
			t.Fatalf("Ack(%s) = %v", rd, err)
		}
		for _, r := range rs {
			if !r.OK || !r.Counted {
				t.Fatalf("ack of %s by %s = %+v, want ok and counted", r.MsgID, rd, r)
			}
			want[r.MsgID+"/"+rd] = true
		}
		conn.Close()
	}
	// The target hangs: wait until the node is in the middle of a POST,
	// then kill it. Its rows are leased, rescheduled or never tried.
	for h.posts.Load() < 2 {
		if ctx.Err() != nil {
			t.Fatal("the node never POSTed")
		}
		time.Sleep(10 * time.Millisecond)
	}
	p.kill(t)

	h.up.Store(true)
	startProc(t, bin, "w1", args...)
	deadline := time.Now().Add(60 * time.Second) // the dead node's lease: 3 timeouts + 10s
	for {
		h.mu.Lock()
		missing := 0
		for k := range want {
			if h.reads[k] == 0 {
				missing++
			}
		}
		allRead := 0
		for _, m := range msgs {
			if h.thres[m+"/100"] > 0 {
				allRead++
			}
		}
		dups := 0
		for _, n := range h.reads {
			dups += n - 1
		}
		h.mu.Unlock()
		if missing == 0 && allRead == nMsgs {
			t.Logf("%d reads and %d read-by-all events delivered after SIGKILL; %d reads twice (sent before the kill, not recorded)", len(want), nMsgs, dups)
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("after the restart %d of %d acknowledged reads and %d of %d read-by-all events never arrived", missing, len(want), nMsgs-allRead, nMsgs)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// TestWebhookClusterSIGKILL: two nodes over one PostgreSQL deliver one
// outbox; one is killed while its requests hang. The survivor delivers
// every event, the dead node's leased rows once their lease ends.
func TestWebhookClusterSIGKILL(t *testing.T) {
	pg, natsURL := os.Getenv(sqltest.EnvPostgres), os.Getenv(envNATS)
	if pg == "" || natsURL == "" {
		t.Skipf("%s and %s must both be set: webhook cluster process test skipped", sqltest.EnvPostgres, envNATS)
	}
	if testing.Short() {
		t.Skip("process test skipped in -short mode")
	}
	bin := buildSeen(t)
	h := &hookReceiver{t: t, reads: map[string]int{}, thres: map[string]int{}}
	recv := httptest.NewServer(h)
	defer recv.Close()
	dsn := sqltest.PostgresDSN(t, pg)
	args := []string{"--postgres", dsn, "--nats", natsURL, "--webhook-url", recv.URL + "/hook", "--webhook-secret", hookSecret,
		"--webhook-timeout", "500ms", "--webhook-batch", "10"}
	n1 := startProc(t, bin, "n1", args...)
	startProc(t, bin, "n2", args...)
	t.Cleanup(http.DefaultClient.CloseIdleConnections)

	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	const nReaders, nMsgs = 6, 10
	readers := make([]string, nReaders)
	users := []map[string]string{{"username": "alice", "password": "password"}}
	for i := range readers {
		readers[i] = fmt.Sprintf("r%d", i)
		users = append(users, map[string]string{"username": readers[i], "password": "password"})
	}
	n1.admin(t, "POST", "/api/v1/admin/users", users, nil)
	var g client.Group
	n1.admin(t, "POST", "/api/v1/admin/groups", map[string]any{"owner": "alice", "name": "notices", "members": readers}, &g)
	dial := func(name string) *client.Conn {
		tok, err := client.Login(ctx, n1.url, name, "password")
		if err != nil {
			t.Fatalf("Login(%s) = %v", name, err)
		}
		conn, err := client.Dial(ctx, n1.wsURL(), tok, "d1")
		if err != nil {
			t.Fatalf("Dial(%s) = %v", name, err)
		}
		return conn
	}
	alice := dial("alice")
	var msgs []string
	for k := range nMsgs {
		r, err := alice.Send(ctx, client.Send{LocalID: fmt.Sprint("c", k), Type: "txt", ChatType: client.GroupChat, To: g.GroupID,
			Msg: fmt.Sprint("notice ", k), MsgConfig: &client.MsgConfig{AllowGroupAck: true}})
		if err != nil {
			t.Fatalf("Send = %v", err)
		}
		msgs = append(msgs, r.ID)
	}
	alice.Close()
	want := map[string]bool{}
	for _, rd := range readers {
		conn := dial(rd)
		var items []client.AckItem
		for _, m := range msgs {
			items = append(items, client.AckItem{MsgID: m})
		}
		rs, err := conn.Ack(ctx, g.GroupID, items...)
		if err != nil {
			t.Fatalf("Ack(%s) = %v", rd, err)
		}
		for _, r := range rs {
			if !r.OK || !r.Counted {
				t.Fatalf("ack of %s by %s = %+v, want ok and counted", r.MsgID, rd, r)
			}
			want[r.MsgID+"/"+rd] = true
		}
		conn.Close()
	}
	// n1 committed the acks: its commit woke its deliverer, whose requests
	// now hang. Kill it mid-request.
	for h.posts.Load() < 3 {
		if ctx.Err() != nil {
			t.Fatal("no node POSTed")
		}
		time.Sleep(10 * time.Millisecond)
	}
	n1.kill(t)
	h.up.Store(true)
	deadline := time.Now().Add(60 * time.Second)
	for {
		h.mu.Lock()
		missing := 0
		for k := range want {
			if h.reads[k] == 0 {
				missing++
			}
		}
		allRead := 0
		for _, m := range msgs {
			if h.thres[m+"/100"] > 0 {
				allRead++
			}
		}
		h.mu.Unlock()
		if missing == 0 && allRead == nMsgs {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("with n1 dead, %d of %d acknowledged reads and %d of %d read-by-all events never arrived", missing, len(want), nMsgs-allRead, nMsgs)
		}
		time.Sleep(50 * time.Millisecond)
	}
}
