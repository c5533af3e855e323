package hub

import (
	"context"
	"fmt"
	"slices"

	"seen/internal/chat"
)

// Groups lists the groups a user belongs to, a page at a time.
// *chat.Service implements it.
type Groups interface {
	MyGroups(ctx context.Context, actor chat.Actor, cursor string, limit int) (chat.GroupPage, error)
}

// groupPage is how many groups Follow asks for at a time.
const groupPage = 500

// Follow subscribes sub to actor's user topic, then to the topic of each
// of actor's groups, and from then on keeps sub on the topics of the
// groups actor is in: a group actor creates or is added to is subscribed
// to, one actor leaves or is removed from, or that is destroyed, is
// unsubscribed from. The user topic comes first, so that a group joined
// meanwhile is announced there (GroupOpInvited) and not missed. Follow
// returns once every subscription is live; on an error sub may be in
// some of the topics, and the session should close (and Unregister).
//
// The subscription changes that follow a group event are made after the
// event was delivered to sub, on the publisher's goroutine; one that
// fails is logged. A subscriber that adds a group topic itself (the
// creator of a group, before replying) calls Add.
func (h *Hub) Follow(ctx context.Context, sub Subscriber, actor chat.Actor, groups Groups) error {
	h.mu.Lock()
	if sub.Closing() {
		h.mu.Unlock()
		return nil
	}
	h.memberLocked(sub).actor = actor
	h.mu.Unlock()

	if err := h.Add(chat.UserTopic(actor.User), sub); err != nil {
		return fmt.Errorf("subscribe user %d: %w", actor.User, err)
	}
	cursor := ""
	for {
		p, err := groups.MyGroups(ctx, actor, cursor, groupPage)
		if err != nil {
			return fmt.Errorf("list groups of user %d: %w", actor.User, err)
		}
		for _, g := range p.Groups {
			if err := h.Add(chat.GroupTopic(g.ID), sub); err != nil {
				return fmt.Errorf("subscribe group %d: %w", g.ID, err)
			}
		}
		if p.Next == "" {
			return nil
		}
		cursor = p.Next
	}
}

// change is one subscription change a group event implies.
type change struct {
	sub   Subscriber
	actor chat.Actor
	add   bool
}

// follow applies the subscription changes that group event g implies
// for the subscribers it was delivered to. It runs after the fan-out,
// without any lock held while subscribing.
func (h *Hub) follow(g *chat.GroupEvent, subs []Subscriber) {
	var changes []change
	h.mu.Lock()
	for _, s := range subs {
		m := h.members[s]
		if m == nil || m.actor.User == 0 {
			continue // gone, or follows nobody's groups
		}
		if add, ok := membershipChange(g, m.actor.User); ok {
			changes = append(changes, change{sub: s, actor: m.actor, add: add})
		}
	}
	h.mu.Unlock()
	topic := chat.GroupTopic(g.Group)
	for _, c := range changes {
		if !c.add {
			h.Remove(topic, c.sub)
			continue
		}
		if err := h.Add(topic, c.sub); err != nil {
			h.log.Error("subscribe group", "session_id", c.actor.Conn, "user_id", int64(c.actor.User), "group_id", int64(g.Group), "err", err)
		}
	}
}

// membershipChange says whether group event g makes user join the
// group's topic (add) or leave it; ok is false when it changes nothing
// for user.
func membershipChange(g *chat.GroupEvent, user chat.UserID) (add, ok bool) {
	switch g.Op {
	case chat.GroupOpDestroy:
		return false, true
	case chat.GroupOpCreate, chat.GroupOpInvited:
		return true, slices.Contains(g.UserIDs, user)
	case chat.GroupOpRemoved, chat.GroupOpMemberGone:
		return false, slices.Contains(g.UserIDs, user)
	}
	return false, false
}
