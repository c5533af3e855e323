package msync_test

import (
	"context"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/coder/websocket"
	"google.golang.org/protobuf/proto"

	"seen/internal/msync/pb"
)

// wait bounds every wait of a test for a frame: a failure, not a timing
// assertion.
const wait = 10 * time.Second

// mclient is a small msync client that behaves as the vendor SDK does
// (../shared/reference/easemob-wire.md section 3): after PROVISION it
// sends UNREAD and the STATISTIC meta, it pulls every queue an UNREAD
// answer lists and every queue a NOTICE names, pulls a queue once more
// after an answer with metas, and follows nextKey. Every meta it
// receives outside the answers to its uploads goes to metas; a meta id
// seen twice, or a meta without from (agora-chat throws), fails the test.
type mclient struct {
	t      *testing.T
	c      *websocket.Conn
	appKey string
	user   string
	res    string

	prov     chan *pb.Provision
	answers  chan *pb.CommSyncDL // answers to uploaded metas
	metas    chan *pb.Meta
	unreads  chan *pb.CommUnreadDL
	done     chan struct{} // closed when the connection ends
	closeErr error

	mu      sync.Mutex
	seen    map[uint64]bool
	pulling bool
}

// dialM connects and provisions; it fails the test unless the answer is
// OK (see provisionM for refusals).
func dialM(t *testing.T, url, appKey, user, token, res string) *mclient {
	t.Helper()
	c, p := provisionM(t, url, appKey, user, token, res)
	if p.GetStatus() == nil || p.GetStatus().GetErrorCode() != pb.Status_OK {
		t.Fatalf("provision %s: status %v, want OK", user, p.GetStatus())
	}
	c.send(pb.MSync_UNREAD, &pb.CommUnreadUL{})
	c.upload(&pb.Meta{Id: proto.Uint64(uint64(time.Now().UnixMilli())), Ns: pb.Meta_STATISTIC.Enum()}, false)
	select {
	case <-c.unreads:
	case <-time.After(wait):
		t.Fatalf("%s: no UNREAD answer", user)
	}
	return c
}

// provisionM connects and sends PROVISION, returning the answer.
func provisionM(t *testing.T, url, appKey, user, token, res string) (*mclient, *pb.Provision) {
	t.Helper()
	return provisionFrom(t, "", url, appKey, user, token, res)
}

// provisionFrom is provisionM from the client address addr (the
// X-Test-Addr header; "": none).
func provisionFrom(t *testing.T, addr, url, appKey, user, token, res string) (*mclient, *pb.Provision) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), wait)
	defer cancel()
	var opts *websocket.DialOptions
	if addr != "" {
		opts = &websocket.DialOptions{HTTPHeader: http.Header{"X-Test-Addr": {addr}}}
	}
	ws, _, err := websocket.Dial(ctx, url, opts)
	if err != nil {
		t.Fatalf("dial %s: %v", url, err)
	}
	c := &mclient{
		t: t, c: ws, appKey: appKey, user: user, res: res,
		prov: make(chan *pb.Provision, 1), answers: make(chan *pb.CommSyncDL, 16),
		metas: make(chan *pb.Meta, 256), unreads: make(chan *pb.CommUnreadDL, 16),
		done: make(chan struct{}), seen: make(map[uint64]bool),
	}
	go c.readLoop()
	t.Cleanup(func() { c.close() })
	auth, _ := proto.Marshal(&pb.Provision{
		OsType: pb.Provision_OS_OTHER.Enum(), Version: proto.String("4.21.1"), Resource: proto.String(res),
		AuthToken: proto.String(`{"token":"$t$` + token + `"}`), ActionVersion: proto.String("v5.2"),
	})
	c.write(&pb.MSync{
		Version: pb.MSync_MSYNC_V1.Enum(), Command: pb.MSync_PROVISION.Enum(), Auth: proto.String("$t$" + token),
		Guid:    &pb.JID{AppKey: proto.String(appKey), Name: proto.String(user), Domain: proto.String("easemob.com"), ClientResource: proto.String(res)},
		Payload: auth,
	})
	select {
	case p := <-c.prov:
		return c, p
	case <-c.done:
		t.Fatalf("provision %s: connection ended: %v", user, c.closeErr)
	case <-time.After(wait):
		t.Fatalf("provision %s: no answer", user)
	}
	return nil, nil
}

func (c *mclient) close() { _ = c.c.Close(websocket.StatusNormalClosure, "") }

// write sends one frame.
func (c *mclient) write(f *pb.MSync) {
	b, err := proto.Marshal(f)
	if err != nil {
		c.t.Errorf("encode: %v", err)
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), wait)
	defer cancel()
	_ = c.c.Write(ctx, websocket.MessageBinary, b) // a failure shows as the connection ending
}

// send sends a frame of cmd with payload p.
func (c *mclient) send(cmd pb.MSync_Command, p proto.Message) {
	b, err := proto.Marshal(p)
	if err != nil {
		c.t.Errorf("encode: %v", err)
		return
	}
	c.write(&pb.MSync{Version: pb.MSync_MSYNC_V1.Enum(), Command: cmd.Enum(), Payload: b})
}

// upload sends a meta and, with answer, waits for its answer.
func (c *mclient) upload(m *pb.Meta, answer bool) *pb.CommSyncDL {
	c.t.Helper()
	c.send(pb.MSync_SYNC, &pb.CommSyncUL{Meta: m})
	if !answer {
		return nil
	}
	for {
		select {
		case a := <-c.answers:
			if a.GetMetaId() == m.GetId() {
				return a
			}
			c.t.Errorf("answer to meta %d, want %d", a.GetMetaId(), m.GetId())
		case <-c.done:
			select { // an answer read before the close frame comes first
			case a := <-c.answers:
				if a.GetMetaId() == m.GetId() {
					return a
				}
			default:
			}
			c.t.Fatalf("%s: connection ended waiting for an answer: %v", c.user, c.closeErr)
		case <-time.After(wait):
			c.t.Fatalf("%s: no answer to meta %d", c.user, m.GetId())
		}
	}
}

// pull pulls a queue, from key when not 0.
func (c *mclient) pull(q *pb.JID, key uint64) {
	ul := &pb.CommSyncUL{Queue: q}
	if key != 0 {
		ul.Key = proto.Uint64(key)
	}
	c.send(pb.MSync_SYNC, ul)
}

// readLoop reads frames and acts on them as the SDK does.
func (c *mclient) readLoop() {
	defer close(c.done)
	for {
		_, b, err := c.c.Read(context.Background())
		if err != nil {
			c.closeErr = err
			return
		}
		var f pb.MSync
		if err := proto.Unmarshal(b, &f); err != nil {
			c.t.Errorf("%s: malformed frame: %v", c.user, err)
			return
		}
		c.handle(&f)
	}
}

func (c *mclient) handle(f *pb.MSync) {
	switch f.GetCommand() {
	case pb.MSync_PROVISION:
		var p pb.Provision
		c.decode(f, &p)
		c.prov <- &p
	case pb.MSync_UNREAD:
		var u pb.CommUnreadDL
		c.decode(f, &u)
		if u.Status == nil {
			c.t.Errorf("%s: UNREAD answer without status", c.user)
		}
		for _, q := range u.GetUnread() {
			c.mu.Lock()
			c.pulling = true
			c.mu.Unlock()
			c.pull(q.GetQueue(), 0)
		}
		c.unreads <- &u
	case pb.MSync_NOTICE:
		var n pb.CommNotice
		c.decode(f, &n)
		c.mu.Lock()
		start := !c.pulling
		c.pulling = true
		c.mu.Unlock()
		if start {
			c.pull(n.GetQueue(), 0)
		}
	case pb.MSync_SYNC:
		var dl pb.CommSyncDL
		c.decode(f, &dl)
		if dl.Status == nil {
			c.t.Errorf("%s: SYNC answer without status", c.user)
		}
		if dl.GetMetaId() != 0 {
			c.answers <- &dl
			return
		}
		c.pulled(&dl)
	}
}

// pulled handles a pull's answer (or a push): the metas, then the next
// pull as the SDK makes it.
func (c *mclient) pulled(dl *pb.CommSyncDL) {
	if dl.Queue == nil {
		c.t.Errorf("%s: SYNC answer without queue", c.user)
	}
	for _, m := range dl.GetMetas() {
		if m.GetFrom().GetName() == "" {
			// agora-chat reads Meta.from.name unguarded: the meta is lost.
			c.t.Errorf("%s: meta %d (ns %s) without from", c.user, m.GetId(), m.GetNs())
		}
		c.mu.Lock()
		dup := c.seen[m.GetId()]
		c.seen[m.GetId()] = true
		c.mu.Unlock()
		if dup {
			c.t.Errorf("%s: meta %d received twice", c.user, m.GetId())
			continue
		}
		c.metas <- m
	}
	c.mu.Lock()
	pulling := c.pulling
	c.mu.Unlock()
	switch {
	case !dl.GetIsLast():
		c.pull(dl.GetQueue(), dl.GetNextKey())
	case len(dl.GetMetas()) > 0 && pulling:
		c.pull(dl.GetQueue(), 0) // once more, as the SDK does while it pulls
	default:
		c.mu.Lock()
		c.pulling = false
		c.mu.Unlock()
	}
}

func (c *mclient) decode(f *pb.MSync, m proto.Message) {
	if err := proto.Unmarshal(f.GetPayload(), m); err != nil {
		c.t.Errorf("%s: decode %s: %v", c.user, f.GetCommand(), err)
	}
}

// next returns the next meta received, failing the test after wait.
func (c *mclient) next() *pb.Meta {
	c.t.Helper()
	select {
	case m := <-c.metas:
		return m
	case <-c.done:
		select { // a meta read before the close frame comes first
		case m := <-c.metas:
			return m
		default:
		}
		c.t.Fatalf("%s: connection ended waiting for a meta: %v", c.user, c.closeErr)
	case <-time.After(wait):
		c.t.Fatalf("%s: no meta", c.user)
	}
	return nil
}

// nextBody returns the next CHAT meta and its body, skipping nothing.
func (c *mclient) nextBody() (*pb.Meta, *pb.MessageBody) {
	c.t.Helper()
	m := c.next()
	if m.GetNs() != pb.Meta_CHAT {
		c.t.Fatalf("%s: meta ns %s, want CHAT", c.user, m.GetNs())
	}
	var b pb.MessageBody
	if err := proto.Unmarshal(m.GetPayload(), &b); err != nil {
		c.t.Fatalf("%s: decode body: %v", c.user, err)
	}
	return m, &b
}

// idle waits until the server has nothing more for the client: an
// UNREAD answer that lists no queue means that everything was pulled
// and confirmed (the server lists the queue while anything past the
// device's confirmed position is there), and the answers to the pulls
// sent before it have arrived. It is how a test shows that something
// was not received.
func (c *mclient) idle() {
	c.t.Helper()
	for range 50 {
		c.send(pb.MSync_UNREAD, &pb.CommUnreadUL{})
		select {
		case u := <-c.unreads:
			if len(u.GetUnread()) == 0 {
				return
			}
		case <-c.done:
			c.t.Fatalf("%s: connection ended: %v", c.user, c.closeErr)
		case <-time.After(wait):
			c.t.Fatalf("%s: no UNREAD answer", c.user)
		}
	}
	c.t.Fatalf("%s: the server still lists the queue after 50 pull cycles", c.user)
}

// localID is a fresh local message id, as the SDK's getUniqueId makes.
var localSeq struct {
	sync.Mutex
	n uint64
}

func localID() uint64 {
	localSeq.Lock()
	defer localSeq.Unlock()
	localSeq.n++
	return uint64(time.Now().UnixMilli())*1000 + localSeq.n%1000
}

// text returns the meta of a text message to a user or a group.
func (c *mclient) text(to string, group, allowGroupAck bool, text string) *pb.Meta {
	typ, domain := pb.MessageBody_CHAT, "easemob.com"
	if group {
		typ, domain = pb.MessageBody_GROUPCHAT, "conference.easemob.com"
	}
	body := &pb.MessageBody{
		Type: typ.Enum(), From: &pb.JID{Name: proto.String(c.user)}, To: &pb.JID{Name: proto.String(to)},
		Contents: []*pb.MessageBody_Content{{Type: pb.MessageBody_Content_TEXT.Enum(), Text: proto.String(text)}},
	}
	if allowGroupAck {
		body.MsgConfig = &pb.MessageBody_MessageConfig{AllowGroupAck: proto.Bool(true)}
	}
	return c.meta(to, domain, body)
}

// readAck returns the meta of a read ack of mid, in a group or to a user.
func (c *mclient) readAck(to string, group bool, mid uint64, ackContent string) *pb.Meta {
	domain := "easemob.com"
	body := &pb.MessageBody{
		Type: pb.MessageBody_READ_ACK.Enum(), From: &pb.JID{Name: proto.String(c.user)},
		To: &pb.JID{Name: proto.String(to)}, AckMessageId: proto.Uint64(mid),
	}
	if group {
		domain = "conference.easemob.com"
		body.MsgConfig = &pb.MessageBody_MessageConfig{AllowGroupAck: proto.Bool(true)}
		body.AckContent = proto.String(ackContent)
	}
	return c.meta(to, domain, body)
}

func (c *mclient) meta(to, domain string, body *pb.MessageBody) *pb.Meta {
	b, err := proto.Marshal(body)
	if err != nil {
		c.t.Fatalf("encode body: %v", err)
	}
	return &pb.Meta{
		Id: proto.Uint64(localID()), To: &pb.JID{AppKey: proto.String(c.appKey), Name: proto.String(to), Domain: proto.String(domain)},
		Ns: pb.Meta_CHAT.Enum(), Payload: b,
	}
}
