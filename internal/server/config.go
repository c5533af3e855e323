package server

import (
	"fmt"
	"net"
	"net/http"
	"strings"
	"time"

	"seen/internal/appkey"
	"seen/internal/chat"
	"seen/internal/emrest"
	"seen/internal/httpapi"
	"seen/internal/webhook"
	"seen/internal/ws"
)

// Config is every setting of a seen node. DefaultConfig documents the
// defaults; docs/operations.md lists the flags and environment variables
// that set them (cmd/seen).
type Config struct {
	// Addr is the listen address, host:port. Port 0 picks a free port
	// (tests); Server.Addr tells which.
	Addr string
	// DataDir holds the SQLite database (seen.db). Unused with Postgres.
	DataDir string
	// Postgres is a PostgreSQL URL (postgres://...). When set it replaces
	// the embedded SQLite store.
	Postgres string
	// NATS is a NATS URL (nats://...) for the bus between nodes. Empty: the
	// in-process bus of a single node.
	NATS string
	// NodeID names this node for its id-generator slot lease. Empty: the
	// host name plus a random suffix, so two processes never share one.
	NodeID string
	// NodeLease is how long a node's slot is held without renewal; the
	// node renews it every third of that.
	NodeLease time.Duration
	// AdminToken enables the admin REST API. Empty: the admin API answers
	// permission_denied.
	AdminToken string
	// AllowedOrigins are the host patterns of the web pages on other
	// origins that may use the REST API (CORS) and the WebSocket (Origin
	// check): path.Match syntax, matched against the origin's host, or
	// against scheme://host when the pattern has "://". The server's own
	// host is always allowed.
	AllowedOrigins []string
	// TLSCert and TLSKey are PEM files; with both set the server speaks
	// HTTPS and WSS.
	TLSCert, TLSKey string
	// PasswordCost is the bcrypt cost of password hashes.
	PasswordCost int
	// DebugAddr, when set, serves Go's profiler (/debug/pprof/) on this
	// separate address; keep it on loopback.
	DebugAddr string
	// ShutdownTimeout bounds a graceful shutdown: closing sessions and
	// draining in-flight requests.
	ShutdownTimeout time.Duration
	// MetricsAddr, when set, serves /metrics on this separate address
	// (keep it private) instead of the main one.
	MetricsAddr string
	// MetricsToken, when set, is required of /metrics requests as
	// "Authorization: Bearer <token>", and lets the main address serve
	// /metrics. With neither, /metrics is not served.
	MetricsToken string

	// AppKey is the "org#app" of the vendor SDK's REST API (emrest),
	// served under /org/app/. Other app keys get 404
	// organization_application_not_found.
	AppKey string

	// TrustedProxies are the addresses or CIDR prefixes of reverse
	// proxies whose X-Forwarded-For names the client for the REST API's
	// per-address limits. Empty: the TCP peer is the client.
	TrustedProxies []string

	// HTTP holds the HTTP server's timeouts and header limit.
	HTTP HTTPConfig
	// REST holds the REST API's abuse limits: body size, login failures,
	// registrations.
	REST httpapi.Limits

	// Chat holds the service's limits and policies.
	Chat chat.Config

	// Webhook holds the webhook deliverer's settings. Its Targets, Owner,
	// AppKey and Host are ignored: the targets are Chat.WebhookTargets (chat
	// writes the outbox rows for them), the rest is the node's.
	Webhook webhook.Config

	// WS holds the WebSocket limits. Its AllowedOrigins, ClientAddr,
	// MaxMessageBytes and MaxPageBytes are ignored: the server's
	// AllowedOrigins and TrustedProxies govern the WebSocket and REST
	// alike, and the chat limits are Chat's.
	WS ws.Config
}

// HTTPConfig bounds what one HTTP connection may hold. The timeouts end
// at a WebSocket upgrade: a hijacked connection has no deadlines, and the
// WebSocket session applies its own (ws.Config).
type HTTPConfig struct {
	// ReadHeaderTimeout bounds reading a request's headers.
	ReadHeaderTimeout time.Duration
	// ReadTimeout bounds reading a whole request, body included: a body
	// that trickles in slower is cut.
	ReadTimeout time.Duration
	// WriteTimeout bounds a request from the end of its headers to the
	// end of its reply: a client that stops reading is cut.
	WriteTimeout time.Duration
	// IdleTimeout is how long a keep-alive connection waits for its next
	// request.
	IdleTimeout time.Duration
	// MaxHeaderBytes bounds a request's header block.
	MaxHeaderBytes int
}

// DefaultAddr is where `seen` listens by default.
const DefaultAddr = "localhost:8080"

// DefaultAllowedOrigins are the pages allowed besides the server's own
// origin: anything served from this machine.
var defaultAllowedOrigins = []string{"localhost", "localhost:*", "127.0.0.1", "127.0.0.1:*"}

// DefaultConfig returns the defaults: a single node on localhost:8080
// with SQLite under ./seen-data.
func DefaultConfig() Config {
	return Config{
		Addr:            DefaultAddr,
		DataDir:         "seen-data",
		NodeLease:       30 * time.Second,
		AllowedOrigins:  append([]string(nil), defaultAllowedOrigins...),
		PasswordCost:    10,
		AppKey:          emrest.DefaultAppKey,
		ShutdownTimeout: 10 * time.Second,
		Chat:            chat.DefaultConfig(),
		WS:              ws.DefaultConfig(),
		HTTP: HTTPConfig{
			ReadHeaderTimeout: 10 * time.Second,
			ReadTimeout:       30 * time.Second,
			WriteTimeout:      60 * time.Second,
			IdleTimeout:       2 * time.Minute,
			MaxHeaderBytes:    64 << 10,
		},
		REST:    httpapi.DefaultLimits(),
		Webhook: webhook.DefaultConfig(),
	}
}

// Validate reports the first invalid setting, named as its flag.
func (c Config) Validate() error {
	if _, _, err := net.SplitHostPort(c.Addr); err != nil {
		return fmt.Errorf("addr %q is not host:port", c.Addr)
	}
	if c.Postgres == "" && strings.TrimSpace(c.DataDir) == "" {
		return fmt.Errorf("data: a data directory is required without --postgres")
	}
	if c.Postgres != "" && !strings.HasPrefix(c.Postgres, "postgres://") && !strings.HasPrefix(c.Postgres, "postgresql://") {
		return fmt.Errorf("postgres: %q is not a postgres:// URL", redact(c.Postgres))
	}
	if c.NATS != "" && !strings.HasPrefix(c.NATS, "nats://") && !strings.HasPrefix(c.NATS, "tls://") {
		return fmt.Errorf("nats: %q is not a nats:// URL", redact(c.NATS))
	}
	if len(c.NodeID) > 128 {
		return fmt.Errorf("node-id is over 128 characters")
	}
	if c.NodeLease < 3*time.Second {
		return fmt.Errorf("node lease %v is under 3s", c.NodeLease)
	}
	if c.AdminToken != "" && len(c.AdminToken) < 16 {
		return fmt.Errorf("admin-token must be at least 16 characters")
	}
	if err := httpapi.CheckOriginPatterns(c.AllowedOrigins); err != nil {
		return fmt.Errorf("allowed-origins: %s", chat.ErrorMessage(err))
	}
	if _, _, err := appkey.Parse(c.AppKey); err != nil {
		return fmt.Errorf("app-key: %w", err)
	}
	if (c.TLSCert == "") != (c.TLSKey == "") {
		return fmt.Errorf("tls-cert and tls-key must be set together")
	}
	if c.PasswordCost < 4 || c.PasswordCost > 31 {
		return fmt.Errorf("password-cost %d is outside 4..31", c.PasswordCost)
	}
	if c.ShutdownTimeout <= 0 {
		return fmt.Errorf("shutdown-timeout must be positive")
	}
	if c.MetricsAddr != "" {
		if _, _, err := net.SplitHostPort(c.MetricsAddr); err != nil {
			return fmt.Errorf("metrics-addr %q is not host:port", c.MetricsAddr)
		}
	}
	if c.MetricsToken != "" && len(c.MetricsToken) < 16 {
		return fmt.Errorf("metrics-token must be at least 16 characters")
	}
	switch h := c.HTTP; {
	case h.ReadHeaderTimeout <= 0 || h.ReadTimeout <= 0 || h.WriteTimeout <= 0 || h.IdleTimeout <= 0:
		return fmt.Errorf("http-read-header-timeout, http-read-timeout, http-write-timeout and http-idle-timeout must be positive")
	case h.ReadHeaderTimeout > h.ReadTimeout:
		return fmt.Errorf("http-read-header-timeout %v is over http-read-timeout %v", h.ReadHeaderTimeout, h.ReadTimeout)
	case h.MaxHeaderBytes < 4096:
		return fmt.Errorf("max-header-bytes %d is under 4096", h.MaxHeaderBytes)
	}
	if _, err := httpapi.ParseTrustedProxies(c.TrustedProxies); err != nil {
		return err
	}
	if err := c.REST.Validate(); err != nil {
		return err
	}
	if err := c.wsConfig().Validate(); err != nil {
		return err
	}
	if err := c.Chat.Validate(); err != nil {
		return err
	}
	if err := c.webhookConfig("", "").Validate(); err != nil {
		return err
	}
	return nil
}

// webhookConfig is the deliverer's part of c: c.Webhook with the targets
// chat writes rows for, and the node's names, filled here and nowhere
// else. owner names the process (the lease holder), host the node.
func (c Config) webhookConfig(owner, host string) webhook.Config {
	w := c.Webhook
	w.Targets = c.Chat.WebhookTargets
	w.Owner, w.Host, w.AppKey = owner, host, c.AppKey
	return w
}

// wsConfig is the WebSocket endpoint's part of c: c.WS with the settings
// it shares with the rest of the node (the origins, the client address,
// and the chat limits its own must hold), filled here and nowhere else.
func (c Config) wsConfig() ws.Config {
	w := c.WS
	w.AllowedOrigins = c.AllowedOrigins
	w.MaxMessageBytes, w.MaxPageBytes = c.Chat.MaxMessageBytes, c.Chat.MaxPageBytes
	if len(c.TrustedProxies) > 0 {
		proxies, _ := httpapi.ParseTrustedProxies(c.TrustedProxies) // checked by Validate
		w.ClientAddr = func(r *http.Request) string { return httpapi.ClientAddr(r, proxies) }
	}
	return w
}

// redact hides the password of a URL for error messages and logs.
func redact(u string) string {
	scheme, rest, ok := strings.Cut(u, "://")
	if !ok {
		return u
	}
	at := strings.LastIndex(rest, "@")
	if at < 0 {
		return u
	}
	user, _, hasPassword := strings.Cut(rest[:at], ":")
	if !hasPassword {
		return u
	}
	return scheme + "://" + user + ":xxxxx@" + rest[at+1:]
}
