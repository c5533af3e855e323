// Package chat is seen's domain: users, groups, roles, messages and read
// receipts, and every rule about them. It defines the Store and Bus seams
// that the storage and transport packages implement, and Service, the use
// cases that the WebSocket and REST layers call. It imports only the
// standard library and does not log: it returns errors.
package chat

import (
	"strconv"
	"time"
)

// UserID identifies a user inside seen. On the wire users are named by
// their username; ids never leave the server.
type UserID int64

// GroupID identifies a group. It is 64-bit and sent as a decimal string.
type GroupID int64

// MsgID is a server message id: 64-bit, time-ordered, unique across nodes,
// sent as a decimal string because JavaScript numbers lose precision
// above 2^53.
type MsgID int64

// DeviceID names one device (browser, phone) of a user. Each device has its
// own sync and statistics positions. It is chosen by the client.
type DeviceID string

func (id GroupID) String() string { return strconv.FormatInt(int64(id), 10) }
func (id MsgID) String() string   { return strconv.FormatInt(int64(id), 10) }
func (id UserID) String() string  { return strconv.FormatInt(int64(id), 10) }

// ParseGroupID parses a group id as sent on the wire.
func ParseGroupID(s string) (GroupID, error) {
	n, err := parsePositive(s)
	if err != nil {
		return 0, Errorf(CodeBadRequest, "group id %q is not a positive decimal number", s)
	}
	return GroupID(n), nil
}

// ParseMsgID parses a server message id as sent on the wire.
func ParseMsgID(s string) (MsgID, error) {
	n, err := parsePositive(s)
	if err != nil {
		return 0, Errorf(CodeBadRequest, "message id %q is not a positive decimal number", s)
	}
	return MsgID(n), nil
}

func parsePositive(s string) (int64, error) {
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil || n <= 0 {
		return 0, strconv.ErrSyntax
	}
	return n, nil
}

// Actor is who performs an operation: a user on one device, or the server
// administrator (Admin, with no user) acting through the admin API.
type Actor struct {
	User   UserID
	Name   string
	Device DeviceID
	Admin  bool
	// Conn is an opaque id of the connection acting (a WebSocket
	// session), "" for REST. The events it causes carry it so that only
	// that connection skips their pushes: two tabs may share a device id.
	Conn string
}

// AdminActor is the actor of the admin REST API: it passes every
// permission check.
var AdminActor = Actor{Admin: true, Name: "admin"}

// Clock tells the time and runs timers: the service reads the time and
// waits (the coalescer's intervals) only through it. Tests inject a fake
// one.
type Clock interface {
	Now() time.Time
	// AfterFunc calls f in its own goroutine once d has passed, unless
	// the returned Timer is stopped first.
	AfterFunc(d time.Duration, f func()) Timer
}

// Timer is a call of Clock.AfterFunc that has not happened yet.
type Timer interface {
	// Stop cancels the call. It reports whether it did: false when the
	// call already ran, or was already stopped.
	Stop() bool
}

// SystemClock is the wall clock.
type SystemClock struct{}

// Now returns time.Now().
func (SystemClock) Now() time.Time { return time.Now() }

// AfterFunc is time.AfterFunc.
func (SystemClock) AfterFunc(d time.Duration, f func()) Timer { return time.AfterFunc(d, f) }

// ms converts a time to Unix milliseconds, the unit of every stored and
// wire timestamp.
func ms(t time.Time) int64 { return t.UnixMilli() }
