// Package webhook delivers the webhook outbox (chat.OutboxTx): events that
// chat wrote in the transaction of the ack or reminder they describe are
// POSTed, signed, to the configured targets, many per request, and deleted
// once a target answers 2xx. A failed attempt is retried with capped
// exponential backoff and jitter; when the attempts run out the row is
// marked failed and waits for an administrator's retry
// (chat.Service.RetryDeliveries).
//
// Every node runs one Deliverer. Rows are leased (Store.ClaimOutboxFor)
// before they are sent and the lease outlasts the request, so no two nodes
// send the same row at once. A node claims only the rows of its own
// targets: those of a target it does not have wait for a node that has it
// (a rolling deploy that adds one), and are logged at start. A node killed
// mid-request leaves its rows to be claimed again when the lease expires,
// so nothing committed is lost, and an event may arrive twice: receivers
// deduplicate by its id.
package webhook

import (
	"errors"
	"fmt"
	"net/url"
	"strings"
	"time"
)

// The formats of a POST body.
const (
	// FormatSeen is {"events":[...]}: many events per POST.
	FormatSeen = "seen"
	// FormatEasemob is one Easemob "post-send callback" object per POST:
	// reads in the shape of its group read_ack callback.
	FormatEasemob = "easemob"
)

// The headers of every POST.
const (
	// HeaderTimestamp is the Unix time, in seconds, of the attempt.
	HeaderTimestamp = "X-Seen-Timestamp"
	// HeaderSignature is "v1=" and the hex HMAC-SHA256, keyed with the
	// shared secret, of the timestamp, ".", and the body.
	HeaderSignature = "X-Seen-Signature"
)

// Config is a Deliverer's settings. DefaultConfig has the defaults;
// Validate names a bad setting by its flag.
type Config struct {
	// Targets are the URLs (http or https) that get every event.
	Targets []string
	// Secret keys the signature of every POST (and Easemob's security
	// field).
	Secret string
	// Format is FormatSeen or FormatEasemob.
	Format string
	// Timeout bounds one POST, from dialing to the end of the reply.
	Timeout time.Duration
	// MaxAttempts is how many failed attempts mark an event failed.
	MaxAttempts int
	// Batch is the most events in one POST (FormatSeen), and what one
	// claim takes per target and concurrent request.
	Batch int
	// MaxBodyBytes bounds a POST body: a batch is cut before an event
	// that would pass it (an event larger than it goes alone).
	MaxBodyBytes int
	// Concurrency is the most POSTs in flight to one target.
	Concurrency int
	// Poll is how often the outbox is checked when nothing woke the
	// Deliverer.
	Poll time.Duration
	// Lease is how long a claim holds its rows: over the request Timeout,
	// so that a lease never ends while its request may still be running.
	// 0: 3 Timeouts plus 10s.
	Lease time.Duration
	// BackoffMin and BackoffMax bound the wait before a retry: BackoffMin
	// times 2^(attempts-1), capped at BackoffMax, of which a random half
	// is taken off (jitter), so that retries of many rows spread out.
	BackoffMin, BackoffMax time.Duration
	// Owner names the lease holder: unique per process (the node's
	// instance name).
	Owner string
	// AppKey ("org#app") and Host fill the Easemob format's appkey and host.
	AppKey, Host string
}

// DefaultConfig returns the defaults (no targets).
func DefaultConfig() Config {
	return Config{
		Format:       FormatSeen,
		Timeout:      10 * time.Second,
		MaxAttempts:  20,
		Batch:        500,
		MaxBodyBytes: 1 << 20,
		Concurrency:  2,
		Poll:         time.Second,
		BackoffMin:   time.Second,
		BackoffMax:   time.Hour,
	}
}

// Validate reports the first invalid setting, named as its flag.
func (c Config) Validate() error {
	for _, t := range c.Targets {
		if err := checkTarget(t); err != nil {
			return fmt.Errorf("webhook-url: %w", err)
		}
	}
	switch {
	case len(c.Targets) > 16:
		return fmt.Errorf("webhook-url: %d targets is over 16", len(c.Targets))
	case len(c.Targets) > 0 && len(c.Secret) < 16:
		return errors.New("webhook-secret: at least 16 characters are required with --webhook-url")
	case c.Format != FormatSeen && c.Format != FormatEasemob:
		return fmt.Errorf("webhook-format %q is not seen or easemob", c.Format)
	case c.Timeout < 100*time.Millisecond || c.Timeout > 5*time.Minute:
		return fmt.Errorf("webhook-timeout %v is outside 100ms..5m", c.Timeout)
	case c.MaxAttempts < 1 || c.MaxAttempts > 1000:
		return fmt.Errorf("webhook-max-attempts %d is outside 1..1000", c.MaxAttempts)
	case c.Batch < 1 || c.Batch > 10_000:
		return fmt.Errorf("webhook-batch %d is outside 1..10000", c.Batch)
	case c.MaxBodyBytes < 4<<10 || c.MaxBodyBytes > 64<<20:
		return fmt.Errorf("webhook max body bytes %d is outside 4 KiB..64 MiB", c.MaxBodyBytes)
	case c.Concurrency < 1 || c.Concurrency > 64:
		return fmt.Errorf("webhook-concurrency %d is outside 1..64", c.Concurrency)
	case c.Poll < time.Millisecond || c.Poll > time.Minute:
		return fmt.Errorf("webhook poll interval %v is outside 1ms..1m", c.Poll)
	case c.Lease != 0 && c.Lease < 2*c.Timeout:
		return fmt.Errorf("webhook lease %v is under twice webhook-timeout %v", c.Lease, c.Timeout)
	case c.BackoffMin <= 0 || c.BackoffMax < c.BackoffMin:
		return fmt.Errorf("webhook backoff %v..%v: want 0 < min <= max", c.BackoffMin, c.BackoffMax)
	}
	return nil
}

// checkTarget accepts an absolute http or https URL with a host and
// without credentials (they would be logged with the URL).
func checkTarget(t string) error {
	u, err := url.Parse(t)
	if err != nil {
		return fmt.Errorf("%q is not a URL", t)
	}
	switch {
	case u.Scheme != "http" && u.Scheme != "https":
		return fmt.Errorf("%q is not an http or https URL", t)
	case u.Host == "":
		return fmt.Errorf("%q has no host", t)
	case u.User != nil:
		return fmt.Errorf("%q has credentials: use the signature (webhook-secret) instead", t)
	case u.Fragment != "" || strings.ContainsAny(t, " \t\r\n"):
		return fmt.Errorf("%q has a fragment or white space", t)
	}
	return nil
}

// lease is the lease a claim takes.
func (c Config) lease() time.Duration {
	if c.Lease > 0 {
		return c.Lease
	}
	return 3*c.Timeout + 10*time.Second
}

// ParseThresholds parses "50,90,100": percentages 1..100, increasing.
func ParseThresholds(s string) ([]int, error) {
	var out []int
	for p := range strings.SplitSeq(s, ",") {
		p = strings.TrimSpace(p)
		if p == "" {
			continue
		}
		var n int
		if _, err := fmt.Sscanf(p, "%d", &n); err != nil || fmt.Sprint(n) != p {
			return nil, fmt.Errorf("%q is not a whole percentage", p)
		}
		if n < 1 || n > 100 {
			return nil, fmt.Errorf("%d%% is outside 1..100", n)
		}
		if len(out) > 0 && n <= out[len(out)-1] {
			return nil, fmt.Errorf("thresholds must increase: %d after %d", n, out[len(out)-1])
		}
		out = append(out, n)
	}
	return out, nil
}
