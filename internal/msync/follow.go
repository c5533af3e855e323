package msync

import (
	"slices"
	"sync"

	"seen/internal/chat"
	"seen/internal/hub"
	"seen/internal/msync/pb"
)

// subscribe puts the session on its user's and groups' topics; the hub
// keeps it on its groups' topics from then on. It runs on the read loop
// during PROVISION, before the answer is queued.
func (s *session) subscribe() error {
	return s.srv.hub.Follow(s.ctx, s, s.actor, s.srv.svc)
}

// codec is the msync transport's hub.Codec. Its frames carry no bytes:
// what a session writes depends on the session (its queue's name, its
// high-water marks, fresh meta ids), so Deliver builds it.
type codec struct{}

// Encode keeps the events a session acts on.
func (codec) Encode(ev chat.Event) (hub.Frame, bool, error) {
	switch ev.Kind {
	case chat.EventMessage, chat.EventPeerRead, chat.EventDelivered, chat.EventChannel,
		chat.EventReceipt, chat.EventRevoked, chat.EventGroup:
		return hub.Frame{Kind: "msync." + string(ev.Kind)}, true, nil
	}
	return hub.Frame{}, false, nil
}

// Codec is the session's hub.Codec.
func (s *session) Codec() hub.Codec { return codec{} }

// Closing reports whether the session is going away (hub.Subscriber).
func (s *session) Closing() bool { return s.isClosing() }

// Deliver is the hub's hand-over of an event (hub.Subscriber).
func (s *session) Deliver(ev chat.Event, _ hub.Frame) { s.deliver(ev) }

// deliver is the bus handler of the session's topics: it runs on the
// publisher's goroutine and must not block.
func (s *session) deliver(ev chat.Event) {
	if s.isClosing() {
		return
	}
	me := s.actor
	switch ev.Kind {
	case chat.EventMessage:
		if m := ev.Message; m.From == me.User && m.OriginConn == me.Conn {
			return // answered to this connection
		}
		if ev.Message.Type == chat.TypeRemind {
			return // the vendor protocol has no reminder: nothing to pull (see vendorSkips)
		}
		s.notice()
	case chat.EventPeerRead, chat.EventDelivered, chat.EventChannel:
		if ev.Peer.FromID != me.User { // stored in the stream: pulled
			s.notice()
		}
	case chat.EventReceipt:
		s.pushCount(ev.Receipt)
	case chat.EventRevoked:
		s.revoked(ev.Revoked)
	case chat.EventGroup:
		s.groupChanged(ev.Group)
	}
}

// pushCount pushes a live read count to the sender, when it is higher
// than any count pushed for that message before.
func (s *session) pushCount(p *chat.ReceiptPush) {
	if p.Sender != s.actor.User {
		return
	}
	s.mu.Lock()
	if !s.live {
		if len(s.held) < receiptMarks { // past it, the statistics stream has them
			s.held = append(s.held, p)
		}
		s.mu.Unlock()
		return
	}
	// Raised, encoded and queued under s.mu, as a pull's counts are
	// (answerCounts): the SDK never sees a count go backwards.
	defer s.mu.Unlock()
	if !s.marks.Raise(p.Msg, p.Count) {
		return
	}
	meta, err := readAckMeta(s.srv.cfg.AppKey, s.srv.freshID(), p)
	if err != nil {
		s.log.Error("msync read count not pushed", "msg_id", p.Msg, "err", err)
		return
	}
	s.pushMetas(meta)
}

// goLive starts the live read counts, pushing those held that the
// statistics did not carry.
func (s *session) goLive() {
	s.mu.Lock()
	if s.live {
		s.mu.Unlock()
		return
	}
	s.live = true
	held := s.held
	s.held = nil
	s.mu.Unlock()
	for _, p := range held {
		s.pushCount(p)
	}
}

// pushMetas pushes metas outside any pull: a SYNC answer with no metaId
// and isLast, which the SDK handles as pulled metas.
func (s *session) pushMetas(metas ...*pb.Meta) {
	s.send(s.frame(pb.MSync_SYNC, &pb.CommSyncDL{Status: ok(), Queue: s.queue, Metas: metas, IsLast: ptr(true)}))
}

func ptr[T any](v T) *T { return &v }

// revoked closes the session when its token was revoked. When every
// token of the user was (a password change), the SDK is told first with
// the kick statistic, which it reports as onError.
func (s *session) revoked(r *chat.RevokedEvent) {
	if r.TokenHash != nil && !slices.Equal(r.TokenHash, s.tokenHash) {
		return
	}
	if r.TokenHash == nil {
		op := pb.StatisticsBody_USER_KICKED_BY_CHANGE_PASSWORD
		meta, err := statsMeta(s.srv.freshID(), s.srv.now(), s.queue, &pb.StatisticsBody{Operation: &op})
		if err == nil {
			s.pushMetas(meta)
		}
	}
	s.close(closeTokenRevoked, "token revoked", true)
}

// groupChanged announces the queue when the user joins a group: what
// was sent to it before the hub subscribed the session is in the
// stream. The hub makes the subscription changes.
func (s *session) groupChanged(g *chat.GroupEvent) {
	if slices.Contains(g.UserIDs, s.actor.User) && (g.Op == chat.GroupOpCreate || g.Op == chat.GroupOpInvited) {
		s.notice()
	}
}

// spawn runs f on a helper goroutine, unless the session's teardown has
// begun: then the teardown may be waiting for them.
func (s *session) spawn(f func()) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.torn {
		s.helpers.Go(f)
	}
}

// idSet is a bounded set of message ids: the oldest is forgotten first.
// It is safe for concurrent use: the sessions of one device share it.
type idSet struct {
	mu   sync.Mutex
	ids  map[chat.MsgID]bool
	ring []chat.MsgID // grown as ids come, up to max: a device that sends nothing holds no room
	max  int
	next int
}

func newIDSet(n int) *idSet {
	return &idSet{ids: make(map[chat.MsgID]bool), max: max(n, 1)}
}

func (s *idSet) add(id chat.MsgID) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.ids[id] {
		return
	}
	if len(s.ring) < s.max {
		s.ring = append(s.ring, id)
	} else {
		delete(s.ids, s.ring[s.next])
		s.ring[s.next] = id
		s.next = (s.next + 1) % len(s.ring)
	}
	s.ids[id] = true
}

func (s *idSet) has(id chat.MsgID) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.ids[id]
}
