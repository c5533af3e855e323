package bus

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/nats-io/nats.go"

	"seen/internal/chat"
)

// NATS is the bus of a cluster. Every event is delivered to this node's
// subscribers directly, as by Local, and published on NATS core subject
// "seen.<topic>" for the other nodes; events arriving from NATS that this
// node published are ignored. So a node that loses NATS keeps serving its
// own clients, and a lost NATS message costs latency only: the store is
// the truth and devices catch up with sync.
//
// Each topic with local subscribers has one NATS subscription, however
// many sessions on this node are interested in it.
type NATS struct {
	nc    *nats.Conn
	node  string // this process
	name  string // this node's configured name
	local *Local
	log   *slog.Logger

	mu   sync.Mutex
	subs map[string]*natsSub

	dropped    atomic.Int64 // events that could not be decoded or published
	onRestore  func()
	onPeerLost func(node string)

	peersMu  sync.Mutex
	peers    map[string]Peer // by node, from presence heartbeats
	presence *nats.Subscription
	stopBeat chan struct{}
	beatDone chan struct{}

	closed chan struct{} // closed when the connection is closed for good

	changeMu sync.Mutex
	change   chan struct{} // closed and replaced by changed
}

// Peer is a node of the cluster as its last presence heartbeat told.
type Peer struct {
	Node     string    `json:"node"` // the process: unique per run
	Name     string    `json:"name"` // the node's --node-id
	Sessions int       `json:"sessions"`
	Seen     time.Time `json:"-"`
}

type natsSub struct {
	sub  *nats.Subscription
	refs int
}

// envelope is what crosses NATS.
type envelope struct {
	Node  string     `json:"node"`
	Event chat.Event `json:"event"`
}

// NATSOptions configure DialNATS.
type NATSOptions struct {
	// Node names this process, uniquely (two processes started with the
	// same --node-id must still tell their events apart): events it
	// published are not delivered to it twice.
	Node string
	// Name is the node's configured name, shown in presence.
	Name string
	// OnReconnect is called after the connection to NATS comes back, so
	// that sessions can resync what they may have missed.
	OnReconnect func()
	// OnPeerLost is called when a node stops sending presence heartbeats
	// (it died or lost NATS): pushes it was still holding back are gone,
	// so sessions should resync from the store.
	OnPeerLost func(node string)
}

// DialNATS connects to the NATS server at url. It retries forever in the
// background once connected; the first connection must succeed.
func DialNATS(url string, opts NATSOptions, log *slog.Logger) (*NATS, error) {
	if opts.Name == "" {
		opts.Name = opts.Node
	}
	b := &NATS{node: opts.Node, name: opts.Name, local: NewLocal(), log: log, subs: make(map[string]*natsSub), onRestore: opts.OnReconnect,
		onPeerLost: opts.OnPeerLost, closed: make(chan struct{}), change: make(chan struct{})}
	nc, err := nats.Connect(url,
		nats.Name("seen "+opts.Node),
		nats.MaxReconnects(-1),
		nats.ReconnectWait(250*time.Millisecond),
		nats.ReconnectBufSize(8<<20),
		nats.DisconnectErrHandler(func(_ *nats.Conn, err error) {
			log.Warn("nats disconnected", "node_id", opts.Node, "err", err)
			b.changed()
		}),
		nats.ReconnectHandler(func(nc *nats.Conn) {
			log.Info("nats reconnected", "node_id", opts.Node)
			// The client resent the subscriptions: make sure the server
			// has them before sessions resync, or an event published
			// meanwhile by another node could be missed by both paths.
			// Bounded: a server that does not answer delays the resync
			// (and the client's other callbacks) by 2s at most.
			if err := nc.FlushTimeout(2 * time.Second); err != nil {
				log.Warn("nats flush after reconnect", "node_id", opts.Node, "err", err)
			}
			if b.onRestore != nil {
				b.onRestore()
			}
			b.changed()
		}),
		nats.ClosedHandler(func(_ *nats.Conn) {
			close(b.closed)
			b.changed()
		}),
		nats.ErrorHandler(func(_ *nats.Conn, sub *nats.Subscription, err error) {
			// A slow consumer: NATS dropped events for this node. They cost
			// latency only; count them.
			if sub != nil {
				if n, derr := sub.Dropped(); derr == nil && n > 0 {
					b.dropped.Add(int64(n))
				}
			}
			log.Warn("nats error", "node_id", opts.Node, "err", err)
		}),
	)
	if err != nil {
		return nil, fmt.Errorf("connect to nats %s: %w", url, err)
	}
	b.nc = nc
	return b, nil
}

func subject(topic string) string { return "seen." + topic }

// Publish delivers ev to this node's subscribers and to the other nodes.
func (b *NATS) Publish(ctx context.Context, topic string, ev chat.Event) error {
	_ = b.local.Publish(ctx, topic, ev)
	data, err := json.Marshal(envelope{Node: b.node, Event: ev})
	if err != nil {
		b.dropped.Add(1)
		return fmt.Errorf("encode event: %w", err)
	}
	if err := b.nc.Publish(subject(topic), data); err != nil {
		b.dropped.Add(1)
		return fmt.Errorf("publish %s: %w", topic, err)
	}
	return nil
}

// Subscribe calls fn for every event on topic, from any node.
func (b *NATS) Subscribe(topic string, fn func(chat.Event)) (func(), error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	s := b.subs[topic]
	if s == nil {
		sub, err := b.nc.Subscribe(subject(topic), func(m *nats.Msg) { b.deliver(topic, m.Data) })
		if err != nil {
			return nil, fmt.Errorf("subscribe %s: %w", topic, err)
		}
		// Live pushes only: a slow node drops rather than stalls NATS.
		_ = sub.SetPendingLimits(1<<16, 64<<20)
		s = &natsSub{sub: sub}
		b.subs[topic] = s
		// Make sure the server knows the subscription before returning, so
		// that what is published after Subscribe returns is delivered.
		if b.nc.IsConnected() {
			_ = b.nc.FlushTimeout(2 * time.Second)
		}
	}
	s.refs++
	cancelLocal, _ := b.local.Subscribe(topic, fn)
	var once sync.Once
	return func() {
		once.Do(func() {
			cancelLocal()
			b.mu.Lock()
			defer b.mu.Unlock()
			if s.refs--; s.refs == 0 {
				_ = s.sub.Unsubscribe()
				delete(b.subs, topic)
			}
		})
	}, nil
}

func (b *NATS) deliver(topic string, data []byte) {
	var env envelope
	if err := json.Unmarshal(data, &env); err != nil {
		b.dropped.Add(1)
		b.log.Warn("bad nats event", "topic", topic, "err", err)
		return
	}
	if env.Node == b.node {
		return // delivered locally when published
	}
	_ = b.local.Publish(context.Background(), topic, env.Event)
}

const presenceSubject = "seen.presence"

// StartPresence publishes this node's session count every interval and
// records the heartbeats of the other nodes, so that every node can show
// the cluster in its metrics. Call it once.
func (b *NATS) StartPresence(every time.Duration, sessions func() int) error {
	b.peersMu.Lock()
	b.peers = make(map[string]Peer)
	b.peersMu.Unlock()
	sub, err := b.nc.Subscribe(presenceSubject, func(m *nats.Msg) {
		var p Peer
		if json.Unmarshal(m.Data, &p) != nil || p.Node == "" {
			return
		}
		if p.Name == "" {
			p.Name = p.Node
		}
		p.Seen = time.Now()
		b.peersMu.Lock()
		b.peers[p.Node] = p
		b.peersMu.Unlock()
		b.changed()
	})
	if err != nil {
		return fmt.Errorf("subscribe presence: %w", err)
	}
	b.presence = sub
	b.stopBeat, b.beatDone = make(chan struct{}), make(chan struct{})
	beat := func() {
		for _, lost := range b.expirePeers(3 * every) {
			b.log.Warn("cluster node gone", "node_id", b.node, "peer", lost)
			if b.onPeerLost != nil {
				b.onPeerLost(lost)
			}
		}
		p := Peer{Node: b.node, Name: b.name, Sessions: sessions()}
		data, _ := json.Marshal(p)
		p.Seen = time.Now()
		b.peersMu.Lock()
		b.peers[b.node] = p // this node is present even while NATS is down
		b.peersMu.Unlock()
		b.changed()
		_ = b.nc.Publish(presenceSubject, data)
	}
	go func() {
		defer close(b.beatDone)
		t := time.NewTicker(every)
		defer t.Stop()
		beat()
		for {
			select {
			case <-b.stopBeat:
				return
			case <-t.C:
				beat()
			}
		}
	}()
	return nil
}

// expirePeers forgets the other nodes not heard from within maxAge and
// returns their names.
func (b *NATS) expirePeers(maxAge time.Duration) []string {
	b.peersMu.Lock()
	defer b.peersMu.Unlock()
	var lost []string
	for name, p := range b.peers {
		if name != b.node && time.Since(p.Seen) > maxAge {
			delete(b.peers, name)
			lost = append(lost, name)
		}
	}
	return lost
}

// Peers returns the nodes heard from within maxAge, this one included,
// sorted by name.
func (b *NATS) Peers(maxAge time.Duration) []Peer {
	b.peersMu.Lock()
	defer b.peersMu.Unlock()
	out := make([]Peer, 0, len(b.peers))
	for name, p := range b.peers {
		if time.Since(p.Seen) > maxAge {
			delete(b.peers, name)
			continue
		}
		out = append(out, p)
	}
	slices.SortFunc(out, func(a, c Peer) int { return strings.Compare(a.Node, c.Node) })
	return out
}

// Changed returns a channel that is closed at the next change of what
// Connected and Peers report: the connection dropped, came back or was
// closed, or a presence heartbeat was heard or sent (a node lost is
// noticed at a heartbeat). Take the channel, check the state, then wait
// on the channel: so a test or a tool waits for a cluster state without
// polling.
func (b *NATS) Changed() <-chan struct{} {
	b.changeMu.Lock()
	defer b.changeMu.Unlock()
	return b.change
}

// changed wakes everyone waiting on Changed.
func (b *NATS) changed() {
	b.changeMu.Lock()
	defer b.changeMu.Unlock()
	close(b.change)
	b.change = make(chan struct{})
}

// Connected reports whether the NATS connection is up.
func (b *NATS) Connected() bool { return b.nc.IsConnected() }

// Dropped returns how many events could not be encoded, published or
// decoded.
func (b *NATS) Dropped() int64 { return b.dropped.Load() }

// closeWait bounds how long Close waits for the drain of the connection.
const closeWait = 5 * time.Second

// Close stops the presence heartbeat, flushes and closes the NATS
// connection, and waits until it is closed (Drain alone returns before
// the connection's goroutines end).
func (b *NATS) Close() error {
	if b.stopBeat != nil {
		close(b.stopBeat)
		<-b.beatDone
	}
	err := b.nc.Drain()
	if err != nil {
		// Not connected (reconnecting): nothing can be flushed.
		b.nc.Close()
	}
	select {
	case <-b.closed:
	case <-time.After(closeWait):
		b.nc.Close()
		<-b.closed
	}
	return err
}
