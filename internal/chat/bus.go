package chat

import "context"

// Bus carries live events between the service and the sessions that should
// see them, on one node (internal/bus.Local) or across nodes over NATS.
// It is best effort: the store is the source of truth, and a device that
// missed an event catches up with Sync and ReceiptStats.
//
// Events published to one topic by one publisher are delivered to each
// subscriber in publish order. A subscriber's handler must not block:
// sessions copy the event into their bounded queue.
type Bus interface {
	Publish(ctx context.Context, topic string, ev Event) error
	// Subscribe calls fn for every event published to topic until the
	// returned cancel function is called.
	Subscribe(topic string, fn func(Event)) (cancel func(), err error)
}

// UserTopic is the topic of everything for all devices of one user.
func UserTopic(u UserID) string { return "u." + u.String() }

// GroupTopic is the topic of everything for all members of one group.
func GroupTopic(g GroupID) string { return "g." + g.String() }

// EventKind says which field of an Event is set.
type EventKind string

// The event kinds.
const (
	EventMessage   EventKind = "msg"       // Message: a new message
	EventReceipt   EventKind = "receipt"   // Receipt: a group message's read count changed
	EventPeerRead  EventKind = "read"      // Peer: a single-chat read receipt
	EventDelivered EventKind = "delivery"  // Peer: a single-chat delivery receipt
	EventChannel   EventKind = "channel"   // Peer: the peer acknowledged the whole conversation
	EventConvRead  EventKind = "conv.read" // ConvRead: one of my devices acknowledged a conversation
	EventGroup     EventKind = "group"     // Group: a group changed
	EventRevoked   EventKind = "revoked"   // Revoked: access tokens of a user were revoked
)

// Event is one live event. Exactly the field named by Kind is set. It is
// JSON-encoded to cross nodes.
type Event struct {
	Kind     EventKind      `json:"kind"`
	Message  *Message       `json:"message,omitempty"`
	Receipt  *ReceiptPush   `json:"receipt,omitempty"`
	Peer     *PeerReceipt   `json:"peer,omitempty"`
	ConvRead *ConvReadEvent `json:"convRead,omitempty"`
	Group    *GroupEvent    `json:"group,omitempty"`
	Revoked  *RevokedEvent  `json:"revoked,omitempty"`
}

// RevokedEvent tells the sessions of a user that access tokens were
// revoked: one (logout) or all (password changed), so that they close at
// once instead of at their next token check.
type RevokedEvent struct {
	User UserID `json:"user"`
	// TokenHash is the SHA-256 of the revoked token; nil means every token.
	TokenHash []byte `json:"tokenHash,omitempty"`
}

// TokenHash returns the SHA-256 of an access token, as RevokedEvent
// carries it.
func TokenHash(token string) []byte { return hashToken(token) }

// ReceiptPush is the live read-count push to the sender of a message.
type ReceiptPush struct {
	Msg        MsgID   `json:"msg"`
	Group      GroupID `json:"group"`
	Sender     UserID  `json:"sender"`
	Count      int     `json:"count"`
	Eligible   int     `json:"eligible"` // eligible readers at send (ReceiptCount.Eligible)
	Reader     string  `json:"reader"`
	ReaderID   UserID  `json:"readerId"`
	AckContent string  `json:"ackContent"`
	At         int64   `json:"at"` // Unix ms
	StatSeq    int64   `json:"statSeq"`
}

// PeerReceipt is a single-chat read, delivery or channel receipt, pushed
// live once it is stored.
type PeerReceipt struct {
	// ID and Seq are the stored receipt's server id and stream position:
	// the same receipt reaches the peer's devices again through sync, and
	// clients drop the second copy by ID.
	ID     MsgID    `json:"id,omitempty"`
	Seq    int64    `json:"seq,omitempty"`
	Msg    MsgID    `json:"msg,omitempty"` // the message acknowledged; none for channel
	From   string   `json:"from"`          // who read / received
	FromID UserID   `json:"fromId"`
	To     string   `json:"to"` // the peer who is told
	ToID   UserID   `json:"toId"`
	At     int64    `json:"at"`
	Device DeviceID `json:"device,omitempty"` // the reader's device
	Conn   string   `json:"conn,omitempty"`   // the reader's connection (Actor.Conn), skipped on echo
}

// ConvReadEvent tells a user's other devices that a conversation was
// acknowledged up to Seq.
type ConvReadEvent struct {
	User     UserID   `json:"user"`
	ChatType ChatType `json:"chatType"`
	Peer     string   `json:"peer,omitempty"`  // single chat: the peer's name
	Group    GroupID  `json:"group,omitempty"` // group chat
	Seq      int64    `json:"seq"`
	Device   DeviceID `json:"device"`         // the device that acknowledged
	Conn     string   `json:"conn,omitempty"` // the connection that acknowledged, skipped
}

// GroupEvent tells members (and the affected user) that a group changed.
type GroupEvent struct {
	Group     GroupID  `json:"group"`
	Op        string   `json:"op"` // see the GroupOp constants
	Actor     string   `json:"actor"`
	Users     []string `json:"users,omitempty"`
	UserIDs   []UserID `json:"userIds,omitempty"`
	GroupName string   `json:"groupName,omitempty"`
	At        int64    `json:"at"`
}

// Group event operations, named like the vendors' onGroupEvent operations.
const (
	GroupOpCreate      = "create"
	GroupOpMemberAdded = "memberPresence" // users joined
	GroupOpMemberGone  = "memberAbsence"  // users left or were removed
	GroupOpRemoved     = "removeMember"   // told to the removed users themselves
	GroupOpSetAdmin    = "setAdmin"
	GroupOpRemoveAdmin = "removeAdmin"
	GroupOpChangeOwner = "changeOwner"
	GroupOpDestroy     = "destroy"
	GroupOpInvited     = "directJoined" // told to users who were added
	GroupOpInfoUpdated = "updateInfo"
)
