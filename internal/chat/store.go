package chat

import (
	"context"
	"time"
)

// Store is durable storage. Implementations (internal/sqlstore) hold no
// rules: they store and fetch, and every decision is made here in chat,
// inside the transaction, so that SQLite and PostgreSQL cannot disagree.
//
// Write runs fn in a read-write transaction and commits when fn returns
// nil. Writes are serialized per sequence counter (see Tx.NextSeq), so a
// transaction that took sequence numbers commits in their order. Read runs
// fn in a read-only transaction. Neither retries fn: a returned error
// rolls back and is returned as is.
type Store interface {
	Read(ctx context.Context, fn func(Tx) error) error
	Write(ctx context.Context, fn func(Tx) error) error
	Close() error
}

// Sequence counters. Each is a gap-free-in-commit-order counter: within a
// Write, NextSeq(ctx, c, n) returns the first of n fresh numbers and holds
// the counter until commit, so numbers become visible in increasing order
// and a reader that has seen number k has seen everything below k.
const (
	SeqMessages = "msg"  // Message.Seq and Member.JoinSeq
	SeqStats    = "stat" // ReceiptCount.StatSeq
)

// Tx is one transaction. Methods return ErrNotFound for a missing row and
// ErrConflict for a taken unique key; other errors are storage failures.
// Lists return empty (not nil error) when nothing matches.
type Tx interface {
	OutboxTx

	// NextSeq reserves n numbers of counter c and returns the first. Only
	// in Write. Call it late in the transaction: it holds the counter.
	NextSeq(ctx context.Context, c string, n int) (int64, error)
	// HeadSeq returns the last number handed out by counter c and
	// committed (or taken by this transaction).
	HeadSeq(ctx context.Context, c string) (int64, error)
	// ClaimNode takes the lowest free id-generator slot in [0, max) for
	// node name, or renews name's own; a slot is free when its lease has
	// expired. Returns the slot.
	ClaimNode(ctx context.Context, name string, now time.Time, lease time.Duration, max int) (int, error)

	// Users. Names are stored normalized (lower case) and unique.
	InsertUser(ctx context.Context, u *User) error // sets u.ID; ErrConflict if the name is taken
	UserByName(ctx context.Context, name string) (User, error)
	UsersByName(ctx context.Context, names []string) ([]User, error) // the ones that exist
	UsersByID(ctx context.Context, ids []UserID) ([]User, error)     // the ones that exist
	ListUsers(ctx context.Context, afterName string, limit int) ([]User, error)
	SetPassword(ctx context.Context, id UserID, hash []byte) error
	// SetReceiptsOff stores user id's privacy switch (User.ReceiptsOff)
	// and User.ReceiptsSince.
	SetReceiptsOff(ctx context.Context, id UserID, off bool, since int64) error

	// Tokens.
	InsertToken(ctx context.Context, t Token) error
	TokenByHash(ctx context.Context, hash []byte) (Token, error)
	DeleteToken(ctx context.Context, hash []byte) error
	DeleteUserTokens(ctx context.Context, id UserID) error

	// Devices. Device returns ErrNotFound for a device never seen.
	Device(ctx context.Context, u UserID, d DeviceID) (Device, error)
	UpsertDevice(ctx context.Context, d Device) error

	// MaxDeviceSeqs returns the highest MsgSeq and StatSeq over u's devices
	// (0, 0 when u has none).
	MaxDeviceSeqs(ctx context.Context, u UserID) (msgSeq, statSeq int64, err error)

	// Groups.
	// LockGroup locks the group's row until commit, so that concurrent
	// writes checking the same group (member limit, roles) serialize on
	// every engine. Only in Write. ErrNotFound if there is no such row.
	LockGroup(ctx context.Context, id GroupID) error
	// ShareGroup locks the group's row in share mode until commit: it
	// waits for, and makes wait, a LockGroup of the row, and no other
	// ShareGroup. Only in Write. ErrNotFound if there is no such row.
	ShareGroup(ctx context.Context, id GroupID) error
	// LockGroupsOf locks user u's row, so that a write making u a member
	// of a group commits before it (and that group is locked too) or
	// waits for it, then does LockGroup of every group u is a member of,
	// in id order (so that it cannot deadlock with another writer that
	// locks several groups in id order). Only in Write.
	LockGroupsOf(ctx context.Context, u UserID) error
	// ShareUsers takes, in id order, the lock of users' rows that the
	// foreign key of a new members row takes on its user (a key share,
	// which LockGroupsOf's lock of the user waits for), so that a join
	// takes it before the group's lock. Only in Write.
	ShareUsers(ctx context.Context, ids []UserID) error
	InsertGroup(ctx context.Context, g *Group) error      // g.ID is set by the caller
	Group(ctx context.Context, id GroupID) (Group, error) // ErrNotFound also when destroyed
	UpdateGroup(ctx context.Context, g Group) error       // name, description, public, max, owner, ext
	// SetGroupPolicy stores a group's own receipt policy (Group.OwnPolicy:
	// a nil field is stored as unset).
	SetGroupPolicy(ctx context.Context, id GroupID, p PolicyUpdate) error
	DeleteGroup(ctx context.Context, id GroupID) error // with its members and conversation rows
	// Members. InsertMember also creates the user's conversation row for
	// the group (since = m.JoinSeq) and bumps Group.Members; DeleteMember
	// removes both and decrements it.
	InsertMember(ctx context.Context, m Member) error // ErrConflict if already a member
	Member(ctx context.Context, g GroupID, u UserID) (Member, error)
	MembersByUser(ctx context.Context, g GroupID, users []UserID) ([]Member, error)
	DeleteMember(ctx context.Context, g GroupID, u UserID) error
	SetRole(ctx context.Context, g GroupID, u UserID, r Role) error
	// Members lists current members ordered by (JoinSeq, User), after the
	// given position, with Name filled.
	Members(ctx context.Context, g GroupID, afterJoinSeq int64, afterUser UserID, limit int) ([]Member, error)
	// Admins lists the owner and admins, with Name filled.
	Admins(ctx context.Context, g GroupID) ([]Member, error)
	// GroupsOf lists the groups u is a member of, by id, after the given id.
	GroupsOf(ctx context.Context, u UserID, after GroupID, limit int) ([]Group, error)
	InsertMemberEvent(ctx context.Context, e MemberEvent) error
	MemberEvents(ctx context.Context, g GroupID, u UserID) ([]MemberEvent, error)

	// Messages. Receipts (Type.IsReceipt) are stored as messages; the
	// queries below that list, count or head content leave them out.
	//
	// InsertMessages stores messages whose ID, Seq and Conv are set. For a
	// single chat it also creates the conversation rows of both sides if
	// missing (since = 0). It updates each conversation's last message to
	// its newest content message (never to a receipt).
	InsertMessages(ctx context.Context, ms []*Message) error
	// MessageByLocalID finds a message by its sender and client id.
	MessageByLocalID(ctx context.Context, from UserID, localID string) (Message, error)
	MessagesByID(ctx context.Context, ids []MsgID) ([]Message, error)
	// MessagesByLocalIDs finds the messages of one sender by client ids
	// (the ones that exist).
	MessagesByLocalIDs(ctx context.Context, from UserID, localIDs []string) ([]Message, error)
	// SyncMessages returns, ordered by Seq, the messages with Seq > after
	// in the conversations u has a row for and with Seq > that row's since:
	// content, and the receipts whose recipient (To) is u.
	SyncMessages(ctx context.Context, u UserID, after int64, limit int) ([]Message, error)
	// History returns content messages of one conversation with Seq <
	// before (newest first) when older is true, else with Seq > after
	// (oldest first).
	History(ctx context.Context, conv string, pivot int64, older bool, limit int) ([]Message, error)
	// Conversations lists u's conversation rows that have a message,
	// newest last message first, with LastSeq < beforeSeq (0: no bound),
	// Last and Unread (content messages from others with Seq > ReadSeq)
	// filled.
	Conversations(ctx context.Context, u UserID, beforeSeq int64, limit int) ([]Conversation, error)
	// Conversation returns one of u's conversation rows (ErrNotFound if none).
	Conversation(ctx context.Context, u UserID, conv string) (Conversation, error)
	// SetReadSeq raises u's read position in conv to seq (never lowers).
	SetReadSeq(ctx context.Context, u UserID, conv string, seq int64) error

	// Receipts.
	// InsertReceiptCount creates the zero count of a receipt-requesting
	// message, with its Eligible.
	InsertReceiptCount(ctx context.Context, c ReceiptCount) error
	// InsertReads stores reads, skipping any (Msg, User) already stored,
	// and reports for each whether it was new.
	InsertReads(ctx context.Context, rs []Read) ([]bool, error)
	// AddReceiptCounts adds delta to each message's count and records the
	// latest reader; it returns the new states. StatSeq is set by the
	// caller in each update.
	AddReceiptCounts(ctx context.Context, us []ReceiptUpdate) ([]ReceiptCount, error)
	ReceiptCounts(ctx context.Context, ids []MsgID) ([]ReceiptCount, error) // the ones that exist
	// Readers lists a message's reads by (At, User), ascending, or
	// descending when desc is set, strictly after the position after in
	// that order (nil: from the start), with Name filled.
	Readers(ctx context.Context, m MsgID, desc bool, after *ReadPos, limit int) ([]Read, error)
	// Unread lists the current members of g with JoinSeq < seq, other than
	// except and with receipts on since before seq (ReceiptsSince < seq), who have not read m, ordered by User,
	// after afterUser, with Name, Reminded and RemindedAt filled; and their
	// total.
	Unread(ctx context.Context, g GroupID, m MsgID, seq int64, except UserID, afterUser UserID, limit int) ([]Member, int, error)
	// UnreadList is Unread without the total.
	UnreadList(ctx context.Context, g GroupID, m MsgID, seq int64, except UserID, afterUser UserID, limit int) ([]Member, error)
	// UnreadAmong is Unread restricted to users, without paging or total.
	UnreadAmong(ctx context.Context, g GroupID, m MsgID, seq int64, except UserID, users []UserID) ([]Member, error)
	// UnreadTotal counts what Unread lists: the current members of g with
	// JoinSeq < seq, other than except and with receipts on since before
	// seq, who have not read m.
	UnreadTotal(ctx context.Context, g GroupID, m MsgID, seq int64, except UserID) (int, error)
	// SetReached sets, for each update, the milestones it carries (a zero
	// time sets nothing) that are not set yet.
	SetReached(ctx context.Context, us []ReachedUpdate) error
	// MarkReminded records a reminder of m at at: Reminds+1 and RemindAt
	// of its count, and, for each of users, times+1 and last_at of its
	// reminder row (created at 1).
	MarkReminded(ctx context.Context, m MsgID, users []UserID, at time.Time) error
	// ReadHistogram counts m's reads by how long after sentAt they came:
	// element i counts those in (bounds[i-1], bounds[i]], the last one
	// those after the last bound (len(bounds)+1 elements).
	ReadHistogram(ctx context.Context, m MsgID, sentAt time.Time, bounds []time.Duration) ([]int, error)
	// UnreadReceiptMsgs lists the receipt-requesting messages of group g with
	// Seq > since and Seq <= upto, not sent by u and not read by u, oldest
	// first; none while u has receipts off, and only those with Seq >
	// u's ReceiptsSince.
	UnreadReceiptMsgs(ctx context.Context, g GroupID, u UserID, since, upto int64, limit int) ([]Message, error)
	// StatsSince lists the receipt counts of messages sent by u with
	// StatSeq > after, by StatSeq, with LastName filled.
	StatsSince(ctx context.Context, u UserID, after int64, limit int) ([]ReceiptCount, error)
	// CountReceiptMsgsSince counts receipt-requesting messages sent by u
	// at or after t (for the optional per-day limit).
	CountReceiptMsgsSince(ctx context.Context, u UserID, t time.Time) (int, error)
}

// ReadPos is a position in a message's reads ordered by (At, User).
type ReadPos struct {
	At   time.Time
	User UserID
}

// ReachedUpdate sets milestones of one message (SetReached).
type ReachedUpdate struct {
	Msg               MsgID
	At50, At90, AtAll time.Time
}

// ReceiptUpdate is one message's change in AddReceiptCounts.
type ReceiptUpdate struct {
	Msg         MsgID
	Delta       int
	LastReader  UserID
	LastAt      time.Time
	LastContent string
	StatSeq     int64
}
