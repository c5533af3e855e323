package msync

import (
	"testing"
	"time"

	"seen/internal/chat"
)

// stoppedClock is a clock that never moves: every id falls in one
// millisecond.
type stoppedClock struct{ t time.Time }

func (c stoppedClock) Now() time.Time { return c.t }

func (c stoppedClock) AfterFunc(time.Duration, func()) chat.Timer { panic("not used") }

// TestFreshIDs: the push ids of two nodes started at the same moment
// never meet, and never equal an id of chat's (a message's).
func TestFreshIDs(t *testing.T) {
	clock := stoppedClock{time.Now()}
	msgs := chat.NewIDGen(1, clock)
	a := &Server{ids: chat.NewIDGen(1, clock)}
	b := &Server{ids: chat.NewIDGen(2, clock)}
	seen := map[uint64]string{}
	for range 1000 {
		for name, id := range map[string]uint64{"node a": a.freshID(), "node b": b.freshID(), "a message": uint64(msgs.Next())} {
			if other, dup := seen[id]; dup {
				t.Fatalf("%s's id %d is also %s's", name, id, other)
			}
			seen[id] = name
		}
	}
}
