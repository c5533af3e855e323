package chat

// HighWater enforces the receipt rule "counts never go backwards" for one
// device: pushes of a message's read count can overtake each other
// between publishers (and nodes), so a transport pushes a count only when
// it is higher than every count it pushed for that message before.
//
// It remembers the last max messages (the oldest is forgotten first), so
// what it holds is bounded. It is not safe for concurrent use: the
// transport's session guards it.
type HighWater struct {
	max    int
	counts map[MsgID]int
	ring   []MsgID
	next   int
}

// NewHighWater returns a HighWater that remembers n messages (at least 1).
func NewHighWater(n int) *HighWater {
	return &HighWater{max: max(n, 1), counts: make(map[MsgID]int)}
}

// Raise records count for id and reports whether it is higher than any
// count recorded for id before (true for the first one): whether it may
// be pushed.
func (h *HighWater) Raise(id MsgID, count int) bool {
	if c, ok := h.counts[id]; ok {
		if count <= c {
			return false
		}
		h.counts[id] = count
		return true
	}
	if len(h.ring) < h.max {
		h.ring = append(h.ring, id)
	} else {
		delete(h.counts, h.ring[h.next])
		h.ring[h.next] = id
		h.next = (h.next + 1) % h.max
	}
	h.counts[id] = count
	return true
}
