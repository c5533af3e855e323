// Package bus implements chat.Bus: Local delivers events inside one
// process (the single-node default), NATS carries them between nodes.
package bus

import (
	"context"
	"sync"

	"seen/internal/chat"
)

// Local is an in-process bus. Publish calls every subscriber of the topic
// synchronously, in publish order per publisher; subscribers must not
// block (sessions copy into their bounded queue and drop themselves when
// it is full).
type Local struct {
	mu     sync.RWMutex
	topics map[string]map[*sub]struct{}
}

type sub struct{ fn func(chat.Event) }

// NewLocal returns an empty in-process bus.
func NewLocal() *Local { return &Local{topics: make(map[string]map[*sub]struct{})} }

// Publish delivers ev to the current subscribers of topic.
func (b *Local) Publish(_ context.Context, topic string, ev chat.Event) error {
	b.mu.RLock()
	subs := make([]*sub, 0, len(b.topics[topic]))
	for s := range b.topics[topic] {
		subs = append(subs, s)
	}
	b.mu.RUnlock()
	for _, s := range subs {
		s.fn(ev)
	}
	return nil
}

// Subscribe calls fn for each event on topic until cancel is called.
func (b *Local) Subscribe(topic string, fn func(chat.Event)) (func(), error) {
	s := &sub{fn: fn}
	b.mu.Lock()
	m := b.topics[topic]
	if m == nil {
		m = make(map[*sub]struct{})
		b.topics[topic] = m
	}
	m[s] = struct{}{}
	b.mu.Unlock()
	var once sync.Once
	return func() {
		once.Do(func() {
			b.mu.Lock()
			delete(b.topics[topic], s)
			if len(b.topics[topic]) == 0 {
				delete(b.topics, topic)
			}
			b.mu.Unlock()
		})
	}, nil
}

// Topics returns the number of topics with subscribers (for metrics and
// leak tests).
func (b *Local) Topics() int {
	b.mu.RLock()
	defer b.mu.RUnlock()
	return len(b.topics)
}
