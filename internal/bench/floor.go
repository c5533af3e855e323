package bench

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"seen/internal/wsconn"
)

// The floor: `seen bench floor-server`, a bare WebSocket server on seen's
// transport (internal/wsconn) that the same load runs against. It reads
// every frame and writes the same replies and pushes seen would, from
// canned bytes: it finds the request id, op and message ids by a byte
// scan, with no JSON decoding, no rules and no store. Like seen it fans a
// message out to every member, and pushes each message's count to the
// sender(s) at most once per --coalesce interval. A frame costs it what the
// transport costs, which is what seen's own CPU per ack is measured
// against.

const (
	floorGroup       = "1"      // the only group
	floorSenderToken = "sender" // the token of a sender; any other is a member
	floorMsgBase     = 100_000_000_000_000_000
	floorMaxFrame    = 1 << 20
	floorMaxMsgs     = 1 << 20
	floorWriteWait   = 10 * time.Second
)

func runFloorServer(ctx context.Context, args []string, stderr io.Writer) int {
	fs := flag.NewFlagSet("seen bench floor-server", flag.ContinueOnError)
	fs.SetOutput(stderr)
	addr := fs.String("addr", "127.0.0.1:0", "address to listen on")
	coalesce := fs.Duration("coalesce", 100*time.Millisecond, "least time between two count pushes of one message")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if *coalesce < 0 || *coalesce > 10*time.Second {
		fmt.Fprintln(stderr, "seen bench floor-server: --coalesce must be 0-10s")
		return 2
	}
	l, err := net.Listen("tcp", *addr)
	if err != nil {
		fmt.Fprintln(stderr, "seen bench floor-server:", err)
		return 1
	}
	f := newFloor(*coalesce)
	srv := &http.Server{Handler: f, ReadHeaderTimeout: 10 * time.Second}
	go func() {
		<-ctx.Done()
		srv.Close()
		f.closeAll()
	}()
	if err := srv.Serve(l); err != nil && !errors.Is(err, http.ErrServerClosed) {
		fmt.Fprintln(stderr, "seen bench floor-server:", err)
		return 1
	}
	return 0
}

type floor struct {
	coalesce time.Duration

	mu      sync.RWMutex
	members []*floorConn
	senders []*floorConn
	msgs    []*floorMsg
	conns   map[*floorConn]struct{}
}

// floorMsg is one message's count and its coalesced pushes.
type floorMsg struct {
	id    string
	count atomic.Int64

	mu        sync.Mutex
	lastPush  time.Time
	scheduled bool
	pushed    int64
}

func newFloor(coalesce time.Duration) *floor {
	return &floor{coalesce: coalesce, conns: map[*floorConn]struct{}{}}
}

func (f *floor) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	switch r.URL.Path {
	case "/healthz":
		w.WriteHeader(http.StatusOK)
	case "/ws":
		c, err := wsconn.Upgrade(w, r, nil)
		if err != nil {
			return
		}
		fc := &floorConn{c: c}
		f.mu.Lock()
		f.conns[fc] = struct{}{}
		f.mu.Unlock()
		go f.serve(fc)
	default:
		http.NotFound(w, r)
	}
}

func (f *floor) closeAll() {
	f.mu.Lock()
	defer f.mu.Unlock()
	for c := range f.conns {
		c.c.CloseNow()
	}
}

// floorConn is one connection; writes are batched as seen's session
// batches them: whoever queues onto an idle connection writes everything
// queued, in one WriteMessages, until the queue is empty.
type floorConn struct {
	c *wsconn.Conn

	mu       sync.Mutex
	queue    [][]byte
	spare    [][]byte
	flushing bool
	dead     bool
}

func (c *floorConn) send(frames ...[]byte) {
	c.mu.Lock()
	if c.dead {
		c.mu.Unlock()
		return
	}
	c.queue = append(c.queue, frames...)
	if c.flushing {
		c.mu.Unlock()
		return
	}
	c.flushing = true
	for len(c.queue) > 0 {
		q := c.queue
		c.queue = c.spare[:0]
		c.mu.Unlock()
		_, err := c.c.WriteMessages(floorWriteWait, false, q...)
		clear(q)
		c.mu.Lock()
		c.spare = q
		if err != nil {
			c.dead = true
			c.queue = nil
			c.c.CloseNow()
		}
	}
	c.flushing = false
	c.mu.Unlock()
}

func (f *floor) serve(c *floorConn) {
	defer func() {
		c.c.CloseNow()
		f.mu.Lock()
		delete(f.conns, c)
		f.mu.Unlock()
	}()
	var reply []byte
	for {
		binary, b, err := c.c.ReadMessage(floorMaxFrame)
		if err != nil {
			return
		}
		if binary {
			continue
		}
		id := scanString(b, `"id":"`)
		reply = append(reply[:0], `{"id":"`...)
		reply = append(reply, id...)
		reply = append(reply, `","ok":true,"data":`...)
		switch string(scanString(b, `"op":"`)) {
		case "auth":
			sender := string(scanString(b, `"token":"`)) == floorSenderToken
			f.mu.Lock()
			if sender {
				f.senders = append(f.senders, c)
			} else {
				f.members = append(f.members, c)
			}
			f.mu.Unlock()
			reply = append(reply, `{"user":"member","device":"bench","serverTime":`...)
			reply = strconv.AppendInt(reply, time.Now().UnixMilli(), 10)
			reply = append(reply, `,"version":1,"heartbeatMs":20000}}`...)
			c.send(bytes.Clone(reply))
		case "msg.send":
			f.sendMsg(c, b, reply)
		case "receipt.ack":
			f.ack(c, b, reply)
		case "receipt.counts":
			reply = append(reply, `{"counts":{`...)
			for k, mid := range scanAll(b, `"msgId`) {
				if k > 0 {
					reply = append(reply, ',')
				}
				reply = append(reply, '"')
				reply = append(reply, mid...)
				reply = append(reply, `":`...)
				var n int64
				if m := f.msg(mid); m != nil {
					n = m.count.Load()
				}
				reply = strconv.AppendInt(reply, n, 10)
			}
			reply = append(reply, `}}}`...)
			c.send(bytes.Clone(reply))
		default:
			reply = append(reply, `{}}`...)
			c.send(bytes.Clone(reply))
		}
	}
}

// sendMsg stores nothing: it numbers the message, replies, and fans the
// push, framed once, out to every member.
func (f *floor) sendMsg(c *floorConn, b, reply []byte) {
	f.mu.Lock()
	if len(f.msgs) >= floorMaxMsgs {
		f.mu.Unlock()
		c.send([]byte(`{"id":"` + string(scanString(b, `"id":"`)) + `","ok":false,"error":{"code":110,"name":"bad_request","message":"too many messages"}}`))
		return
	}
	seq := len(f.msgs) + 1
	m := &floorMsg{id: strconv.Itoa(floorMsgBase + seq)}
	f.msgs = append(f.msgs, m)
	members := f.members
	f.mu.Unlock()
	now := strconv.FormatInt(time.Now().UnixMilli(), 10)
	local := scanString(b, `"localId":"`)
	reply = append(reply, `{"localId":"`...)
	reply = append(reply, local...)
	reply = append(reply, `","id":"`+m.id+`","time":`+now+`,"seq":`+strconv.Itoa(seq)+`}}`...)
	c.send(bytes.Clone(reply))
	var push []byte
	push = append(push, `{"push":"msg","data":{"id":"`+m.id+`","localId":"`...)
	push = append(push, local...)
	push = append(push, `","seq":`+strconv.Itoa(seq)+`,"type":"txt","chatType":"groupChat","from":"sender","to":"`+floorGroup+`","msg":"`...)
	push = append(push, scanString(b, `"msg":"`)...)
	push = append(push, `","msgConfig":{"allowGroupAck":true},"time":`+now+`}}`...)
	for _, mc := range members {
		mc.send(push)
	}
}

func (f *floor) msg(id []byte) *floorMsg {
	n, err := strconv.Atoi(string(id))
	if err != nil {
		return nil
	}
	f.mu.RLock()
	defer f.mu.RUnlock()
	if k := n - floorMsgBase - 1; k >= 0 && k < len(f.msgs) {
		return f.msgs[k]
	}
	return nil
}

// ack counts every message id of the frame and replies with the counts.
func (f *floor) ack(c *floorConn, b, reply []byte) {
	reply = append(reply, `{"results":[`...)
	for k, mid := range scanAll(b, `"msgId`) {
		if k > 0 {
			reply = append(reply, ',')
		}
		reply = append(reply, `{"msgId":"`...)
		reply = append(reply, mid...)
		m := f.msg(mid)
		if m == nil {
			reply = append(reply, `","ok":false,"counted":false,"error":{"code":4,"name":"not_found","message":"no such message"}}`...)
			continue
		}
		n := m.count.Add(1)
		reply = append(reply, `","ok":true,"counted":true,"count":`...)
		reply = strconv.AppendInt(reply, n, 10)
		reply = append(reply, '}')
		f.changed(m)
	}
	reply = append(reply, `]}}`...)
	c.send(bytes.Clone(reply))
}

// changed pushes m's count to the senders now if the last push is an
// interval ago, else once when the interval is up.
func (f *floor) changed(m *floorMsg) {
	m.mu.Lock()
	if m.scheduled {
		m.mu.Unlock()
		return
	}
	wait := f.coalesce - time.Since(m.lastPush)
	if wait > 0 {
		m.scheduled = true
		m.mu.Unlock()
		time.AfterFunc(wait, func() { f.pushCount(m) })
		return
	}
	m.mu.Unlock()
	f.pushCount(m)
}

func (f *floor) pushCount(m *floorMsg) {
	m.mu.Lock()
	m.scheduled = false
	n := m.count.Load()
	if n == m.pushed {
		m.mu.Unlock()
		return
	}
	m.pushed, m.lastPush = n, time.Now()
	m.mu.Unlock()
	push := []byte(`{"push":"receipt","data":{"mid":"` + m.id + `","groupId":"` + floorGroup + `","count":` +
		strconv.FormatInt(n, 10) + `,"from":"member","timestamp":` + strconv.FormatInt(time.Now().UnixMilli(), 10) + `}}`)
	f.mu.RLock()
	senders := f.senders
	f.mu.RUnlock()
	for _, s := range senders {
		s.send(push)
	}
}

// scanString returns the characters of the first JSON string after key
// (which ends with the opening quote), or nil. Escapes are not decoded:
// the ids the load sends have none.
func scanString(b []byte, key string) []byte {
	i := bytes.Index(b, []byte(key))
	if i < 0 {
		return nil
	}
	b = b[i+len(key):]
	if j := bytes.IndexByte(b, '"'); j >= 0 {
		return b[:j]
	}
	return nil
}

// scanAll returns the string after every occurrence of key: for "msgId",
// both {"msgId":"1"} items and a "msgIds":["1","2"] list.
func scanAll(b []byte, key string) [][]byte {
	var out [][]byte
	for {
		i := bytes.Index(b, []byte(key))
		if i < 0 {
			return out
		}
		b = b[i+len(key):]
		switch {
		case bytes.HasPrefix(b, []byte(`":"`)):
			b = b[3:]
			j := bytes.IndexByte(b, '"')
			if j < 0 {
				return out
			}
			out = append(out, b[:j])
			b = b[j:]
		case bytes.HasPrefix(b, []byte(`s":[`)):
			b = b[4:]
			end := bytes.IndexByte(b, ']')
			if end < 0 {
				return out
			}
			for _, f := range bytes.Split(b[:end], []byte{','}) {
				if f = bytes.Trim(bytes.TrimSpace(f), `"`); len(f) > 0 {
					out = append(out, f)
				}
			}
			b = b[end:]
		}
	}
}
