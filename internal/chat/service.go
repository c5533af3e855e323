package chat

import (
	"context"
	"fmt"
	"sync"
	"time"
)

// Config holds the limits and policies of the service. The zero value of
// a limit means "no limit" where documented.
type Config struct {
	// OpenRegistration lets anyone register; otherwise only the admin API
	// creates users.
	OpenRegistration bool
	// TokenTTL is how long an access token is valid.
	TokenTTL time.Duration
	// MaxGroupMembers caps every group (and is the default of a group's own
	// maximum).
	MaxGroupMembers int
	// MaxMessageBytes caps the text, custom payload and ext of a message,
	// together.
	MaxMessageBytes int
	// GroupAckSenders is who may ask for read receipts: "admins" (owner
	// and admins) or "all" (any member).
	GroupAckSenders string
	// ReceiptVisibility is the default of who may see a group message's
	// receipts: "sender", "admins" (the sender, owner and admins) or
	// "members". ReceiptLists is the default of whether reader and unread
	// lists are shown (else counts only).
	ReceiptVisibility string
	ReceiptLists      bool
	// RemindInterval is the least time between two reminders of one
	// message (0: no limit).
	RemindInterval time.Duration
	// WebhookTargets are the URLs that get webhook events (none: no
	// outbox rows are written). WebhookThresholds are the percentages of
	// a message's eligible readers that emit a threshold event.
	WebhookTargets    []string
	WebhookThresholds []int
	// ReceiptMaxAge refuses acks of messages older than this (0: no limit).
	ReceiptMaxAge time.Duration
	// ReceiptMaxGroupSize refuses receipt-requesting messages in groups
	// larger than this (0: no limit).
	ReceiptMaxGroupSize int
	// ReceiptDailyLimit caps the receipt-requesting messages one user may
	// send per 24 hours (0: no limit).
	ReceiptDailyLimit int
	// CoalesceInterval is the least time between two read-count pushes of
	// one message to its sender.
	CoalesceInterval time.Duration
	// BatchMax is the most acks or messages committed in one transaction.
	BatchMax int
	// CommitTimeout is the deadline of the commit of one batch of acks or
	// messages: its transaction, the retry after a conflict, and, when it
	// fails, the probe and the commits that isolate the culprit. Past it,
	// every request of the batch not committed yet fails with an internal
	// error (a timeout is nobody's fault: it is not bisected), rather
	// than holding its batcher.
	CommitTimeout time.Duration
	// MaxPageBytes is the byte budget of one page of sync, history, the
	// conversation list, readers, unread members and receipt statistics:
	// a page stops taking items once their estimated encoded size would
	// pass it (always taking at least one), and says there is more.
	MaxPageBytes int
}

// DefaultConfig returns the defaults documented in docs/operations.md.
func DefaultConfig() Config {
	return Config{
		OpenRegistration:  true,
		TokenTTL:          7 * 24 * time.Hour,
		MaxGroupMembers:   100_000,
		MaxMessageBytes:   64 << 10,
		GroupAckSenders:   "admins",
		ReceiptVisibility: "admins",
		ReceiptLists:      true,
		RemindInterval:    10 * time.Minute,
		WebhookThresholds: []int{50, 90, 100},
		CoalesceInterval:  100 * time.Millisecond,
		BatchMax:          1000,
		CommitTimeout:     30 * time.Second,
		MaxPageBytes:      1 << 20,
	}
}

// Validate reports the first invalid setting.
func (c Config) Validate() error {
	switch {
	case c.TokenTTL < time.Minute:
		return fmt.Errorf("token TTL %v is under a minute", c.TokenTTL)
	case c.MaxGroupMembers < 2:
		return fmt.Errorf("max group members %d is under 2", c.MaxGroupMembers)
	case c.MaxMessageBytes < 64:
		return fmt.Errorf("max message bytes %d is under 64", c.MaxMessageBytes)
	case c.GroupAckSenders != "admins" && c.GroupAckSenders != "all":
		return fmt.Errorf("group ack senders %q is not admins or all", c.GroupAckSenders)
	case c.ReceiptVisibility != VisibleSender && c.ReceiptVisibility != VisibleAdmins && c.ReceiptVisibility != VisibleMembers:
		return fmt.Errorf("receipt visibility %q is not sender, admins or members", c.ReceiptVisibility)
	case c.RemindInterval < 0:
		return fmt.Errorf("remind interval %v is negative (remind-interval)", c.RemindInterval)
	case !thresholdsValid(c.WebhookThresholds):
		return fmt.Errorf("webhook thresholds %v: each must be 1..100, ascending, without repeats", c.WebhookThresholds)
	case c.ReceiptMaxAge < 0 || c.ReceiptMaxGroupSize < 0 || c.ReceiptDailyLimit < 0:
		return fmt.Errorf("receipt limits must not be negative")
	case c.CoalesceInterval < 0 || c.CoalesceInterval > 10*time.Second:
		return fmt.Errorf("coalesce interval %v is outside 0..10s", c.CoalesceInterval)
	case c.BatchMax < 1 || c.BatchMax > 10_000:
		return fmt.Errorf("batch max %d is outside 1..10000", c.BatchMax)
	case c.CommitTimeout < time.Second || c.CommitTimeout > 10*time.Minute:
		return fmt.Errorf("commit timeout %v is outside 1s..10m", c.CommitTimeout)
	case c.MaxPageBytes < 4<<10 || c.MaxPageBytes > 256<<20:
		return fmt.Errorf("max page bytes %d is outside 4 KiB..256 MiB (max-page-bytes)", c.MaxPageBytes)
	}
	return nil
}

func thresholdsValid(ts []int) bool {
	for i, t := range ts {
		if t < 1 || t > 100 || (i > 0 && t <= ts[i-1]) {
			return false
		}
	}
	return true
}

// Passwords hashes and checks passwords (internal/auth implements it).
type Passwords interface {
	Hash(password string) ([]byte, error)
	Verify(hash []byte, password string) bool
}

// Metrics receives measurements from the service. Every method must be
// cheap and safe for concurrent use; NopMetrics ignores them.
type Metrics interface {
	StoreLatency(op string, d time.Duration)
	BatchSize(op string, n int)
	MessageSent(chat ChatType)
	AcksCounted(n int)
	PushesCoalesced(n int)
}

// NopMetrics ignores every measurement.
type NopMetrics struct{}

func (NopMetrics) StoreLatency(string, time.Duration) {}
func (NopMetrics) BatchSize(string, int)              {}
func (NopMetrics) MessageSent(ChatType)               {}
func (NopMetrics) AcksCounted(int)                    {}
func (NopMetrics) PushesCoalesced(int)                {}

// Service is seen's use cases. Its methods are safe for concurrent use.
// The actor is always an explicit parameter.
type Service struct {
	cfg     Config
	store   Store
	bus     Bus
	pw      Passwords
	clock   Clock
	ids     *IDGen
	metrics Metrics

	acks    *batcher[*ackReq]
	msgs    *batcher[*sendReq]
	pushes  *coalescer
	closeMu sync.Once
	dummy   dummyHash // Login's stand-in for an unknown user's hash
}

// Deps are the Service's collaborators. Clock and Metrics are optional.
type Deps struct {
	Store     Store
	Bus       Bus
	Passwords Passwords
	Clock     Clock
	Metrics   Metrics
	// NodeSlot is this node's id-generator slot (see Tx.ClaimNode).
	NodeSlot int
}

// NewService returns a running service. Call Close to stop it.
func NewService(cfg Config, d Deps) (*Service, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if d.Clock == nil {
		d.Clock = SystemClock{}
	}
	if d.Metrics == nil {
		d.Metrics = NopMetrics{}
	}
	s := &Service{
		cfg: cfg, store: d.Store, bus: d.Bus, pw: d.Passwords, clock: d.Clock,
		ids: NewIDGen(d.NodeSlot, d.Clock), metrics: d.Metrics,
	}
	s.pushes = newCoalescer(cfg.CoalesceInterval, d.Clock, s.publishReceipt)
	s.acks = newBatcher(cfg.BatchMax, s.commitAcks)
	s.msgs = newBatcher(cfg.BatchMax, s.commitMessages)
	return s, nil
}

// Close stops taking writes, commits what is queued, and flushes pending
// read-count pushes. It does not close the store or the bus.
func (s *Service) Close() {
	s.closeMu.Do(func() {
		s.msgs.close()
		s.acks.close()
		s.pushes.close()
	})
}

// Config returns the service's configuration.
func (s *Service) Config() Config { return s.cfg }

func (s *Service) now() time.Time { return s.clock.Now() }

// batchContext is the context of the commit of one batch, isolation
// included: it ends after cfg.CommitTimeout.
func (s *Service) batchContext() (context.Context, context.CancelFunc) {
	return context.WithTimeout(context.Background(), s.cfg.CommitTimeout)
}

// write runs fn in a store write transaction and records its latency.
func (s *Service) write(ctx context.Context, op string, fn func(Tx) error) error {
	start := time.Now()
	err := s.store.Write(ctx, fn)
	s.metrics.StoreLatency(op, time.Since(start))
	return err
}

// read runs fn in a store read transaction and records its latency.
func (s *Service) read(ctx context.Context, op string, fn func(Tx) error) error {
	start := time.Now()
	err := s.store.Read(ctx, fn)
	s.metrics.StoreLatency(op, time.Since(start))
	return err
}

// publish sends ev to topic. Bus errors cost latency, never data (the
// store is the truth), so they are not returned.
func (s *Service) publish(topic string, ev Event) {
	_ = s.bus.Publish(context.Background(), topic, ev)
}

// internal wraps a storage failure as an internal error.
func internal(what string, err error) error {
	if err == nil {
		return nil
	}
	if _, ok := err.(*Error); ok {
		return err
	}
	return &Error{Code: CodeInternal, Message: "internal error", Err: fmt.Errorf("%s: %w", what, err)}
}
