package chat_test

import (
	"testing"

	"seen/internal/chat"
)

func TestHighWater(t *testing.T) {
	type step struct {
		msg   chat.MsgID
		count int
		want  bool
	}
	tests := []struct {
		name  string
		max   int
		steps []step
	}{
		{"first count is pushed", 4, []step{{1, 0, true}}},
		{"higher is pushed", 4, []step{{1, 1, true}, {1, 2, true}, {1, 5, true}}},
		{"equal is not", 4, []step{{1, 3, true}, {1, 3, false}}},
		{"lower is not", 4, []step{{1, 3, true}, {1, 2, false}, {1, 0, false}, {1, 4, true}}},
		{"messages are apart", 4, []step{{1, 3, true}, {2, 1, true}, {1, 2, false}, {2, 2, true}}},
		{"the oldest is forgotten first", 2, []step{
			{1, 5, true}, {2, 5, true}, {3, 5, true}, // 1 is forgotten
			{2, 4, false}, {3, 4, false}, // 2 and 3 are remembered
			{1, 4, true}, // 1 is new again; 2 is forgotten
			{3, 4, false}, {2, 1, true},
		}},
		{"raising does not refresh", 2, []step{
			{1, 1, true}, {2, 1, true}, {1, 2, true}, {3, 1, true}, // 1 is still the oldest
			{2, 1, false}, {1, 1, true},
		}},
		{"one message", 1, []step{{1, 2, true}, {1, 1, false}, {2, 1, true}, {1, 1, true}}},
		{"zero remembers one", 0, []step{{1, 2, true}, {1, 1, false}, {2, 1, true}, {1, 1, true}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := chat.NewHighWater(tt.max)
			for i, s := range tt.steps {
				if got := h.Raise(s.msg, s.count); got != s.want {
					t.Errorf("step %d: Raise(%d, %d) = %v, want %v", i, s.msg, s.count, got, s.want)
				}
			}
		})
	}
}

// TestHighWaterBounded checks that a HighWater remembers exactly the
// last max messages however many it sees.
func TestHighWaterBounded(t *testing.T) {
	h := chat.NewHighWater(8)
	for id := chat.MsgID(1); id <= 1000; id++ {
		h.Raise(id, 1)
	}
	for id := chat.MsgID(993); id <= 1000; id++ {
		if h.Raise(id, 1) {
			t.Errorf("Raise(%d, 1) again = true, want false (one of the last 8)", id)
		}
	}
	if !h.Raise(992, 1) {
		t.Errorf("Raise(992, 1) again = false, want true (forgotten)")
	}
}
