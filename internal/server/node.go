package server

import (
	"context"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"seen/internal/chat"
)

// nodeLease holds this node's id-generator slot (chat.Tx.ClaimNode): ids
// are unique across nodes only while no two live nodes share a slot, so
// the node claims one at start and renews its lease every third of the
// lease until it stops.
type nodeLease struct {
	store chat.Store
	name  string
	lease time.Duration
	log   *slog.Logger
	slot  int
	lost  func() // called once if the slot went to another process

	done     chan struct{}
	wg       sync.WaitGroup
	stopOnce sync.Once
}

func claimNode(ctx context.Context, st chat.Store, name string, lease time.Duration, log *slog.Logger, lost func()) (*nodeLease, error) {
	n := &nodeLease{store: st, name: name, lease: lease, log: log, lost: lost, done: make(chan struct{})}
	slot, err := n.claim(ctx)
	if err != nil {
		return nil, fmt.Errorf("claim node slot for %q: %w", name, err)
	}
	n.slot = slot
	n.wg.Add(1)
	go n.renew()
	return n, nil
}

func (n *nodeLease) claim(ctx context.Context) (int, error) {
	var slot int
	err := n.store.Write(ctx, func(tx chat.Tx) error {
		var err error
		slot, err = tx.ClaimNode(ctx, n.name, time.Now(), n.lease, chat.MaxNodeSlots)
		return err
	})
	return slot, err
}

// renew keeps the lease until stop.
func (n *nodeLease) renew() {
	defer n.wg.Done()
	t := time.NewTicker(n.lease / 3)
	defer t.Stop()
	for {
		select {
		case <-n.done:
			return
		case <-t.C:
		}
		ctx, cancel := context.WithTimeout(context.Background(), n.lease/3)
		slot, err := n.claim(ctx)
		cancel()
		switch {
		case err != nil:
			n.log.Warn("renew node slot", "node_id", n.name, "slot", n.slot, "err", err)
		case slot != n.slot:
			// The lease lapsed (the node stalled for longer than the lease)
			// and another process took the slot: ids could collide. The
			// node stops rather than issue them.
			n.log.Error("node slot lost; stopping", "node_id", n.name, "slot", n.slot, "new_slot", slot)
			if n.lost != nil {
				n.lost()
			}
			return
		}
	}
}

// stop ends the renewals. The lease then lapses on its own.
func (n *nodeLease) stop() {
	n.stopOnce.Do(func() {
		close(n.done)
		n.wg.Wait()
	})
}
