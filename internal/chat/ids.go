package chat

import (
	"sync"
	"time"
)

// The id layout: 41 bits of milliseconds since idEpoch, 10 bits of node
// slot, 12 bits of sequence within the millisecond. Ids are time-ordered,
// and unique across nodes as long as no two live nodes share a slot, which
// Tx.ClaimNode guarantees with a lease.
const (
	slotBits = 10
	seqBits  = 12
	// MaxNodeSlots is how many nodes may run at once.
	MaxNodeSlots = 1 << slotBits
)

var idEpoch = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC).UnixMilli()

// IDGen generates 64-bit ids. The zero value is not usable; use NewIDGen.
type IDGen struct {
	mu    sync.Mutex
	slot  int64
	last  int64 // ms since epoch of the last id
	seq   int64
	clock Clock
}

// NewIDGen returns a generator for node slot.
func NewIDGen(slot int, clock Clock) *IDGen {
	return &IDGen{slot: int64(slot) & (MaxNodeSlots - 1), clock: clock}
}

// Next returns a fresh id, greater than every id this generator returned
// before, even if the wall clock steps back.
func (g *IDGen) Next() int64 {
	g.mu.Lock()
	defer g.mu.Unlock()
	now := g.clock.Now().UnixMilli() - idEpoch
	if now < g.last {
		now = g.last // the clock stepped back: keep counting in the last millisecond
	}
	if now == g.last {
		g.seq++
		if g.seq >= 1<<seqBits {
			// 4096 ids in one millisecond: borrow the next one.
			now++
			g.seq = 0
		}
	} else {
		g.seq = 0
	}
	g.last = now
	return now<<(slotBits+seqBits) | g.slot<<seqBits | g.seq
}
