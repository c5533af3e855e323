package msync

import (
	"fmt"
	"time"

	"seen/internal/admit"
	"seen/internal/appkey"
)

// Config holds the endpoint's app key and per-connection limits. Zero
// limits take the defaults documented on each field.
type Config struct {
	// AppKey is the "org#app" the SDK must be configured with; a
	// PROVISION naming another is refused (docs/easemob-compat.md).
	AppKey string
	// AllowedOrigins are host patterns (path.Match syntax) of the browser
	// origins allowed to connect. Empty: any origin. The session
	// authenticates with a token inside its first frame, never with a
	// cookie, so a foreign page gains nothing from connecting.
	AllowedOrigins []string
	// MaxFrameBytes is the largest frame read; a larger one closes the
	// connection (1009). Default 256 KiB.
	MaxFrameBytes int
	// SendQueue and SendQueueBytes bound the frames, and their bytes, that
	// a session holds for the socket: those queued and those of the batch
	// being written, until its write returns. A frame that would pass
	// either closes the session (4009). Defaults 256 frames and 8 MiB.
	SendQueue      int
	SendQueueBytes int
	// AuthTimeout is how long a connection may take to send PROVISION.
	// Default 10s.
	AuthTimeout time.Duration
	// IdleTimeout is how long a connection may stay silent. The SDK sends
	// an UNREAD heartbeat after 30 s without traffic either way, so a
	// client that only receives pushes may send nothing: a connection
	// silent for a third of it is pinged (the browser answers by itself),
	// and closed when the pong does not come within another third.
	// Default 90s.
	IdleTimeout time.Duration
	// WriteTimeout bounds one write of the frames queued at the time (one
	// syscall, under one write deadline). Default 10s.
	WriteTimeout time.Duration
	// TokenCheckInterval is how often a session's token is checked again;
	// an expired or revoked one closes it. Default 1m.
	TokenCheckInterval time.Duration
	// PullPage is the most messages one pull answers. Default 100.
	PullPage int
	// RatePerSec and RateBurst limit the metas one connection uploads (a
	// token bucket); UserRatePerSec and UserRateBurst those of all the
	// user's connections on this node, of either transport (hub.Budget).
	// An upload over a limit is refused with errorCode 1 and a reason.
	// Defaults as internal/ws: 50/s burst 100, and 100/s burst 200.
	RatePerSec     float64
	RateBurst      int
	UserRatePerSec float64
	UserRateBurst  int
	// ReadRatePerSec and ReadBurst limit the UNREADs and pulls of one
	// connection (a token bucket of their own, so that reading never
	// starves sending); each is charged to the user's budget too. Over a
	// limit an UNREAD lists no queue and a pull answers none, without
	// reading the store. Defaults 50/s burst 100: the SDK sends an UNREAD
	// every 30 s and a few pulls for each.
	ReadRatePerSec float64
	ReadBurst      int
	// NodeSlot is this node's id-generator slot (chat.Deps.NodeSlot):
	// the ids of pushes are unique across the nodes of a cluster when
	// each passes its own.
	NodeSlot int
	// Admission bounds the connections per client address and those not
	// provisioned yet, and names the client address. internal/server
	// passes ws.Server.Admission, so that the caps count a client's
	// connections on /ws and /websocket together. Nil: one of the
	// endpoint's own, with admit's default caps.
	Admission *admit.Admission
}

// Defaults.
const (
	DefaultMaxFrameBytes      = 256 << 10
	DefaultSendQueue          = 256
	DefaultSendQueueBytes     = 8 << 20
	DefaultAuthTimeout        = 10 * time.Second
	DefaultIdleTimeout        = 90 * time.Second
	DefaultWriteTimeout       = 10 * time.Second
	DefaultTokenCheckInterval = time.Minute
	DefaultPullPage           = 100
)

// withDefaults fills the zero limits.
func (c Config) withDefaults() Config {
	def(&c.MaxFrameBytes, DefaultMaxFrameBytes)
	def(&c.SendQueue, DefaultSendQueue)
	def(&c.SendQueueBytes, DefaultSendQueueBytes)
	def(&c.AuthTimeout, DefaultAuthTimeout)
	def(&c.IdleTimeout, DefaultIdleTimeout)
	def(&c.WriteTimeout, DefaultWriteTimeout)
	def(&c.TokenCheckInterval, DefaultTokenCheckInterval)
	def(&c.PullPage, DefaultPullPage)
	def(&c.RatePerSec, 50)
	def(&c.RateBurst, 100)
	def(&c.UserRatePerSec, 100)
	def(&c.UserRateBurst, 200)
	def(&c.ReadRatePerSec, 50)
	def(&c.ReadBurst, 100)
	return c
}

func def[T int | float64 | time.Duration](v *T, d T) {
	if *v == 0 {
		*v = d
	}
}

// Validate reports the first invalid setting.
func (c Config) Validate() error {
	if _, _, err := appkey.Parse(c.AppKey); err != nil {
		return err
	}
	c = c.withDefaults()
	switch {
	case c.MaxFrameBytes < 1<<10:
		return fmt.Errorf("msync max frame bytes %d is under 1 KiB", c.MaxFrameBytes)
	case c.SendQueue < 8 || c.SendQueueBytes < c.MaxFrameBytes:
		return fmt.Errorf("msync send queue %d frames / %d bytes is under 8 frames or one frame", c.SendQueue, c.SendQueueBytes)
	case c.AuthTimeout < 0 || c.IdleTimeout < 35*time.Second || c.WriteTimeout < 0 || c.TokenCheckInterval < 0:
		return fmt.Errorf("msync timeouts must be positive, and the idle timeout at least 35s (the SDK's heartbeat is 30s)")
	case c.RatePerSec < 0 || c.RateBurst < 1 || c.UserRatePerSec < 0 || c.UserRateBurst < 1 ||
		c.ReadRatePerSec < 0 || c.ReadBurst < 1:
		return fmt.Errorf("msync rate limits must be positive")
	case c.PullPage < 1 || c.PullPage > 500:
		return fmt.Errorf("msync pull page %d is outside 1..500", c.PullPage)
	}
	return nil
}
