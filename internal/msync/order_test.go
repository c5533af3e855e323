package msync

import (
	"log/slog"
	"testing"
	"time"

	"seen/internal/chat"
	"seen/internal/msync/pb"
)

// lockClock is the clock of the push-id generator of TestCountsUnderLock:
// freshID runs while a count's meta is encoded, and it checks that the
// session's lock is held then.
type lockClock struct {
	t *testing.T
	s *session
}

func (c lockClock) Now() time.Time {
	if c.s.mu.TryLock() {
		c.s.mu.Unlock()
		c.t.Error("a read count was encoded outside the session's lock: a higher count may be queued before it")
	}
	return time.Now()
}

func (lockClock) AfterFunc(time.Duration, func()) chat.Timer { panic("not used") }

// TestCountsUnderLock: a live count push and a pull's counts are raised,
// encoded and queued under s.mu, so that a count queued later is never
// lower than one queued before it.
func TestCountsUnderLock(t *testing.T) {
	srv := &Server{cfg: Config{AppKey: "seen#demo"}.withDefaults(), log: slog.New(slog.DiscardHandler), now: time.Now}
	s := newSession(srv, nil, "m1")
	srv.ids = chat.NewIDGen(0, lockClock{t, s})
	s.actor = chat.Actor{User: 1, Name: "alice", Device: "webim_a"}
	s.queue = jid(srv.cfg.AppKey, "alice", userDomain)
	s.live = true

	s.pushCount(&chat.ReceiptPush{Msg: 10, Group: 2, Sender: 1, Count: 1, Reader: "bob", ReaderID: 3, At: time.Now().UnixMilli()})
	dl := &pb.CommSyncDL{Status: ok(), Queue: s.queue}
	pg := page{statsDone: true, more: true, counts: []chat.ReceiptCount{
		{Msg: 10, Group: 2, Sender: 1, Count: 2, LastName: "carol", LastReader: 4, LastAt: time.Now()},
	}}
	if !s.answerCounts(dl, &pg) {
		t.Fatal("answerCounts queued nothing")
	}
	if got := s.queueLen(); got != 2 {
		t.Errorf("%d frames queued, want the push and the pull's answer", got)
	}
}
