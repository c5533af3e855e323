package chat

import (
	"encoding/json"
	"time"
)

// User is an account.
type User struct {
	ID           UserID
	Name         string // normalized: lower case
	PasswordHash []byte
	CreatedAt    time.Time
	// ReceiptsOff: the user does not send read receipts (Settings).
	ReceiptsOff bool
	// ReceiptsSince is the message sequence head when the user last
	// turned receipts on (0: never turned off), as JoinSeq is the head at
	// a join: a message with Seq > ReceiptsSince was sent while the
	// user's receipts were on, without a break (eligibleReader).
	ReceiptsSince int64
}

// Token is a stored access token. Only the SHA-256 of the secret is kept.
type Token struct {
	Hash      []byte
	UserID    UserID
	CreatedAt time.Time
	ExpiresAt time.Time
}

// Device is the server-side state of one device of a user.
type Device struct {
	UserID UserID
	ID     DeviceID
	// MsgSeq is the message-stream position the device has confirmed: it
	// has everything with Seq <= MsgSeq.
	MsgSeq int64
	// StatSeq is the receipt-statistics position the device has confirmed.
	StatSeq  int64
	LastSeen time.Time
}

// Role is a member's role in a group.
type Role string

// The roles, from most to least powerful.
const (
	RoleOwner  Role = "owner"
	RoleAdmin  Role = "admin"
	RoleMember Role = "member"
)

// Group is a group conversation.
type Group struct {
	ID          GroupID
	Name        string
	Description string
	Public      bool
	Owner       UserID
	OwnerName   string // filled by the service
	MaxMembers  int
	Members     int // current member count, owner included
	CreatedAt   time.Time
	// Ext is app-defined JSON (the vendors' "custom" group field).
	Ext json.RawMessage
	// Policy is the effective receipt policy (the group's own settings,
	// the server's defaults for what it leaves unset), filled by the
	// service (effectivePolicy).
	Policy ReceiptPolicy
	// OwnPolicy is the policy as stored: a nil field is left to the
	// server's default.
	OwnPolicy PolicyUpdate
}

// Member is a current membership.
type Member struct {
	Group    GroupID
	User     UserID
	Name     string // filled by the store when listing
	Role     Role
	JoinedAt time.Time
	// JoinSeq is the message sequence head when the member joined: a group
	// message with Seq > JoinSeq was sent while the user was a member. It
	// is what "was X a member when M was sent?" is answered from.
	JoinSeq int64
	// ReceiptsOff is the user's setting (User.ReceiptsOff), filled by the
	// store wherever members are read, with User.ReceiptsSince.
	ReceiptsOff   bool
	ReceiptsSince int64
	// Reminded and RemindedAt are, in an unread list, how often and when
	// last the member was reminded of the message.
	Reminded   int
	RemindedAt time.Time
}

// MemberEvent is one entry of the membership history of a group.
type MemberEvent struct {
	Group GroupID
	User  UserID
	Actor UserID // 0 for the administrator
	Kind  string // "join", "leave", "remove", "role:admin", "role:member", "role:owner", "destroy"
	At    time.Time
	Seq   int64 // message sequence head at the time
}

// ChatType is the kind of conversation.
type ChatType string

// The chat types, named as on the wire.
const (
	SingleChat ChatType = "singleChat"
	GroupChat  ChatType = "groupChat"
)

// MsgType is the kind of message content.
type MsgType string

// The message types. Text and custom messages are content. Read, delivery
// and channel are single-chat receipts: they are stored in the message
// stream, so that sync brings them to every device of the peer that
// missed them, but they are not content: history, the conversation list,
// unread counts and conversation heads leave them out (docs/receipts.md).
const (
	TypeText   MsgType = "txt"
	TypeCustom MsgType = "custom"

	TypeRead     MsgType = "read"     // the acknowledging user read AckMsg
	TypeDelivery MsgType = "delivery" // AckMsg arrived on a device of the acknowledging user
	TypeChannel  MsgType = "channel"  // the acknowledging user read the whole conversation
	// TypeRemind is a reminder of group message AckMsg to the member To,
	// from From (see Service.Remind). Stored and synced like a receipt.
	TypeRemind MsgType = "remind"
)

// ReceiptTypes are the message types that are receipts, not content.
var ReceiptTypes = []MsgType{TypeRead, TypeDelivery, TypeChannel, TypeRemind}

// IsReceipt reports whether t is a receipt type.
func (t MsgType) IsReceipt() bool {
	return t == TypeRead || t == TypeDelivery || t == TypeChannel || t == TypeRemind
}

// Message is a stored chat message.
type Message struct {
	ID       MsgID
	Seq      int64  // commit-ordered position in the message stream
	Conv     string // conversation key, see ConvKey
	LocalID  string // the sender's client id, for idempotent sends
	Type     MsgType
	ChatType ChatType
	From     UserID
	To       UserID  // single chat: the peer
	Group    GroupID // group chat: the group
	Text     string
	// CustomEvent and CustomExts are the payload of a custom message.
	CustomEvent string
	CustomExts  json.RawMessage
	Ext         json.RawMessage // app-defined JSON object on every message
	// AllowGroupAck asks the group's members for read receipts.
	AllowGroupAck bool
	// AckMsg is, on a read or delivery receipt, the message acknowledged;
	// 0 on everything else.
	AckMsg MsgID
	SentAt time.Time
	// OriginDevice is the device that sent it. Not stored.
	OriginDevice DeviceID
	// OriginConn is the connection that sent it (Actor.Conn); live pushes
	// skip that connection alone. Not stored.
	OriginConn string

	// Filled for presentation by the service.
	FromName, ToName string
	// ReadCount is the number of distinct readers; set in the sender's own
	// history for receipt-requesting messages, -1 otherwise.
	ReadCount int
	// PeerRead and PeerDelivered are, on a single-chat message in its
	// sender's own history, whether the peer has read it (a read receipt
	// or a channel ack covering it) and whether it reached the peer (a
	// delivery receipt, or read). See fillPeerState.
	PeerRead, PeerDelivered bool
}

// GroupConv returns the conversation key of a group: "g<id>".
func GroupConv(g GroupID) string { return "g" + g.String() }

// SingleConv returns the conversation key of the single chat between a and
// b, the same whichever side asks: "s<low>_<high>".
func SingleConv(a, b UserID) string {
	if a > b {
		a, b = b, a
	}
	return "s" + a.String() + "_" + b.String()
}

// Conversation is a row of a user's conversation list.
type Conversation struct {
	Conv     string
	ChatType ChatType
	Peer     UserID  // single chat
	Group    GroupID // group chat
	Last     *Message
	LastSeq  int64
	ReadSeq  int64 // the user's read position
	Unread   int
	PeerName string
}

// Read is one reader's acknowledgement of a group message.
type Read struct {
	Msg     MsgID
	User    UserID
	Name    string // filled by the store when listing
	At      time.Time
	Content string
}

// ReceiptCount is the receipt state of one receipt-requesting message.
type ReceiptCount struct {
	Msg         MsgID
	Group       GroupID
	Sender      UserID
	Count       int
	LastReader  UserID
	LastName    string // filled by the store when listing
	LastAt      time.Time
	LastContent string
	// StatSeq is the commit-ordered position of the latest change, used by
	// the statistics stream of the sender's devices.
	StatSeq int64
	// Eligible is the number of eligible readers when the message was sent
	// (members then, but the sender and members with receipts off): the
	// base of the thresholds and of ReadAnalytics.
	Eligible int
	// Reached50At, Reached90At and ReachedAllAt are when Count first
	// reached 50%, 90% and 100% of Eligible (zero: not yet).
	Reached50At, Reached90At, ReachedAllAt time.Time
	// Reminds and RemindAt are how often and when last the message was
	// reminded.
	Reminds  int
	RemindAt time.Time
}
