package msync

import (
	"fmt"
	"slices"

	"seen/internal/chat"
	"seen/internal/msync/pb"
)

// subscribe subscribes the session to its user's topic and to the topic
// of each of the user's groups. It runs on the read loop during
// PROVISION, before the answer is queued.
func (s *session) subscribe() error {
	if err := s.follow(chat.UserTopic(s.actor.User)); err != nil {
		return err
	}
	cursor := ""
	for {
		p, err := s.srv.svc.MyGroups(s.ctx, s.actor, cursor, 100)
		if err != nil {
			return fmt.Errorf("list groups: %w", err)
		}
		for _, g := range p.Groups {
			if err := s.follow(chat.GroupTopic(g.ID)); err != nil {
				return err
			}
		}
		if p.Next == "" {
			return nil
		}
		cursor = p.Next
	}
}

// follow subscribes the session to a topic, once.
func (s *session) follow(topic string) error {
	s.mu.Lock()
	_, done := s.subs[topic]
	s.mu.Unlock()
	if done || s.isClosing() {
		return nil
	}
	cancel, err := s.srv.fan.Subscribe(topic, s.deliver)
	if err != nil {
		return fmt.Errorf("subscribe %s: %w", topic, err)
	}
	s.mu.Lock()
	_, dup := s.subs[topic]
	if !dup && s.subs != nil {
		s.subs[topic] = cancel
		cancel = nil
	}
	s.mu.Unlock()
	if cancel != nil {
		cancel() // a concurrent follow won, or the session is gone
	}
	return nil
}

// unfollow cancels the session's subscription to a topic.
func (s *session) unfollow(topic string) {
	s.mu.Lock()
	cancel := s.subs[topic]
	delete(s.subs, topic)
	s.mu.Unlock()
	if cancel != nil {
		cancel()
	}
}

// unsubscribeAll cancels every subscription; none is made afterwards.
func (s *session) unsubscribeAll() {
	s.mu.Lock()
	subs := s.subs
	s.subs = nil
	s.mu.Unlock()
	for _, cancel := range subs {
		cancel()
	}
}

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
	raised := s.marks.Raise(p.Msg, p.Count)
	s.mu.Unlock()
	if !raised {
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
		meta, err := statsMeta(s.srv.freshID(), s.srv.now(), &pb.StatisticsBody{Operation: &op})
		if err == nil {
			s.pushMetas(meta)
		}
	}
	s.close(closeTokenRevoked, "token revoked", true)
}

// groupChanged follows the user into the groups it joins and out of
// those it leaves, on a helper goroutine (subscribing calls the bus).
func (s *session) groupChanged(g *chat.GroupEvent) {
	mine := slices.Contains(g.UserIDs, s.actor.User)
	topic := chat.GroupTopic(g.Group)
	switch {
	case g.Op == chat.GroupOpDestroy,
		mine && (g.Op == chat.GroupOpRemoved || g.Op == chat.GroupOpMemberGone):
		s.spawn(func() { s.unfollow(topic) })
	case mine && (g.Op == chat.GroupOpCreate || g.Op == chat.GroupOpInvited):
		s.spawn(func() {
			if err := s.follow(topic); err != nil {
				s.log.Error("msync follow group", "group_id", g.Group, "err", err)
				s.close(closeInternal, "subscription failed", false)
			}
			s.notice() // what was sent before the subscription was made
		})
	}
}

// spawn runs f on a helper goroutine, unless the session's teardown has
// begun (unsubscribeAll): then the teardown may be waiting for them.
func (s *session) spawn(f func()) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.subs != nil {
		s.helpers.Go(f)
	}
}

// idSet is a bounded set of message ids: the oldest is forgotten first.
type idSet struct {
	ids  map[chat.MsgID]bool
	ring []chat.MsgID
	next int
}

func newIDSet(n int) *idSet { return &idSet{ids: make(map[chat.MsgID]bool), ring: make([]chat.MsgID, 0, n)} }

func (s *idSet) add(id chat.MsgID) {
	if s.ids[id] {
		return
	}
	if len(s.ring) < cap(s.ring) {
		s.ring = append(s.ring, id)
	} else {
		delete(s.ids, s.ring[s.next])
		s.ring[s.next] = id
		s.next = (s.next + 1) % len(s.ring)
	}
	s.ids[id] = true
}

func (s *idSet) has(id chat.MsgID) bool { return s.ids[id] }
