package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"strconv"
	"strings"

	"seen/internal/server"
	"seen/internal/webhook"
)

// envPrefix starts the environment twin of every flag: --max-group-members
// is SEEN_MAX_GROUP_MEMBERS.
const envPrefix = "SEEN_"

// envName returns the environment variable of a flag.
func envName(flagName string) string {
	return envPrefix + strings.ToUpper(strings.ReplaceAll(flagName, "-", "_"))
}

// serveOptions is what `seen serve` runs with.
type serveOptions struct {
	cfg       server.Config
	logLevel  slog.Level
	logFormat string
}

// parseServe reads the flags of `seen serve` from args and their
// environment twins from getenv; a flag on the command line wins over
// its variable. It returns flag.ErrHelp after printing help to out.
func parseServe(args []string, getenv func(string) string, out io.Writer) (serveOptions, error) {
	o := serveOptions{cfg: server.DefaultConfig(), logLevel: slog.LevelInfo, logFormat: "text"}
	c := &o.cfg
	fs := flag.NewFlagSet("seen serve", flag.ContinueOnError)
	fs.SetOutput(io.Discard) // errors are returned; help goes to out

	fs.StringVar(&c.Addr, "addr", c.Addr, "listen address, host:port (port 0: any free port)")
	fs.StringVar(&c.DataDir, "data", c.DataDir, "data directory: the SQLite database seen.db lives here")
	fs.StringVar(&c.Postgres, "postgres", "", "PostgreSQL URL (postgres://user:pass@host/db); replaces SQLite")
	fs.StringVar(&c.NATS, "nats", "", "NATS URL (nats://host:4222) for a bus between several nodes")
	fs.StringVar(&c.NodeID, "node-id", "", "name of this node (default: host name and a random suffix)")
	fs.StringVar(&c.AdminToken, "admin-token", "", "token of the admin REST API, at least 16 characters (empty: admin API off)")
	fs.Var((*registrationValue)(&c.Chat.OpenRegistration), "registration", "`mode` of account creation: open (anyone may register) or closed (only the admin API creates users)")
	fs.BoolVar(&c.Chat.OpenRegistration, "open-registration", c.Chat.OpenRegistration, "the same as --registration=open; false: --registration=closed (kept for old scripts)")
	fs.Var((*listValue)(&c.AllowedOrigins), "allowed-origins", "comma-separated host patterns of other origins allowed to use the REST API and WebSocket,\n\te.g. app.example.com,*.example.org,https://x.example.net (seen's own origin is always allowed)")
	fs.StringVar(&c.AppKey, "app-key", c.AppKey, "app key org#app of the Easemob / Agora Chat SDK's REST API, served under /org/app/ (letters, digits, - and _)")
	fs.StringVar(&c.TLSCert, "tls-cert", "", "TLS certificate PEM file (with --tls-key: serve HTTPS and WSS)")
	fs.StringVar(&c.TLSKey, "tls-key", "", "TLS private key PEM file")
	fs.Var((*levelValue)(&o.logLevel), "log-level", "log level: debug, info, warn or error")
	fs.StringVar(&o.logFormat, "log-format", o.logFormat, "log format: text or json")
	fs.IntVar(&c.PasswordCost, "password-cost", c.PasswordCost, "bcrypt cost of password hashes (4-31)")
	fs.DurationVar(&c.Chat.TokenTTL, "token-ttl", c.Chat.TokenTTL, "lifetime of an access token")
	fs.IntVar(&c.Chat.MaxGroupMembers, "max-group-members", c.Chat.MaxGroupMembers, "largest group")
	fs.IntVar(&c.Chat.MaxMessageBytes, "max-message-bytes", c.Chat.MaxMessageBytes, "largest message: text, custom payload and ext together")
	fs.IntVar(&c.Chat.MaxPageBytes, "max-page-bytes", c.Chat.MaxPageBytes, "byte budget of one page of sync, history, conversations, readers, unread and receipt stats (4 KiB-256 MiB)")
	fs.StringVar(&c.Chat.GroupAckSenders, "group-ack-senders", c.Chat.GroupAckSenders, "who may ask for group read receipts: admins (owner and admins) or all")
	fs.DurationVar(&c.Chat.ReceiptMaxAge, "receipt-max-age", c.Chat.ReceiptMaxAge, "refuse read receipts for messages older than this (0: no limit)")
	fs.IntVar(&c.Chat.ReceiptMaxGroupSize, "receipt-max-group-size", c.Chat.ReceiptMaxGroupSize, "refuse receipt-requesting messages in larger groups (0: no limit)")
	fs.IntVar(&c.Chat.ReceiptDailyLimit, "receipt-daily-limit", c.Chat.ReceiptDailyLimit, "receipt-requesting messages one user may send per 24 hours (0: no limit)")
	fs.DurationVar(&c.Chat.CoalesceInterval, "coalesce-interval", c.Chat.CoalesceInterval, "least time between two read-count pushes of one message (0-10s)")
	fs.DurationVar(&c.Chat.CommitTimeout, "commit-timeout", c.Chat.CommitTimeout, "deadline of one commit of a batch of messages or acks (1s-10m); a commit past it fails and nothing in it is acknowledged")
	fs.Float64Var(&c.WS.RatePerSec, "rate", c.WS.RatePerSec, "WebSocket requests per second per connection")
	fs.IntVar(&c.WS.RateBurst, "rate-burst", c.WS.RateBurst, "WebSocket request burst per connection")
	fs.IntVar(&c.WS.SendQueue, "send-queue", c.WS.SendQueue, "frames queued per connection before it is closed as a slow consumer (4009)")
	fs.IntVar(&c.WS.MaxFrameBytes, "max-frame-bytes", c.WS.MaxFrameBytes, "largest WebSocket request frame")
	fs.IntVar(&c.WS.SendQueueBytes, "send-queue-bytes", c.WS.SendQueueBytes, "bytes a connection may have waiting for the socket before it is closed as a slow consumer (4009)")
	fs.Float64Var(&c.WS.UserRatePerSec, "user-rate", c.WS.UserRatePerSec, "WebSocket requests per second per user, across the user's connections to this node")
	fs.IntVar(&c.WS.UserRateBurst, "user-rate-burst", c.WS.UserRateBurst, "WebSocket request burst per user, across the user's connections to this node")
	fs.IntVar(&c.WS.MaxConnsPerAddr, "max-conns-per-addr", c.WS.MaxConnsPerAddr, "concurrent WebSocket connections per client address (HTTP 429 over it)")
	fs.IntVar(&c.WS.MaxUnauthConns, "max-unauth-conns", c.WS.MaxUnauthConns, "WebSocket connections not yet authenticated, in total (HTTP 503 over it)")
	fs.IntVar(&c.WS.MaxUnauthPerAddr, "max-unauth-per-addr", c.WS.MaxUnauthPerAddr, "WebSocket connections not yet authenticated per client address (HTTP 429 over it)")
	fs.DurationVar(&c.WS.AuthTimeout, "auth-timeout", c.WS.AuthTimeout, "time a new WebSocket connection has to authenticate (close 4001 after it)")
	fs.DurationVar(&c.WS.PingInterval, "ping-interval", c.WS.PingInterval, "WebSocket ping interval, and how long a pong may take")
	fs.DurationVar(&c.WS.WriteTimeout, "write-timeout", c.WS.WriteTimeout, "longest write of one batch of WebSocket frames before the connection is dropped")
	fs.DurationVar(&c.WS.TokenCheckInterval, "token-check-interval", c.WS.TokenCheckInterval, "how often a connected session's token is checked again (close 4002 when revoked)")
	fs.StringVar(&c.DebugAddr, "debug-addr", "", "serve Go's profiler (/debug/pprof/) on this separate address, e.g. 127.0.0.1:6060 (keep it private)")
	fs.DurationVar(&c.ShutdownTimeout, "shutdown-timeout", c.ShutdownTimeout, "how long a graceful shutdown may take")
	fs.StringVar(&c.MetricsAddr, "metrics-addr", "", "serve /metrics on this separate address, e.g. 127.0.0.1:9090 (then not on --addr)")
	fs.StringVar(&c.MetricsToken, "metrics-token", "", "require Authorization: Bearer <token> for /metrics, at least 16 characters; serves /metrics on --addr,\n\tor only on --metrics-addr when that is set (with neither flag, /metrics is off)")
	fs.DurationVar(&c.HTTP.ReadHeaderTimeout, "http-read-header-timeout", c.HTTP.ReadHeaderTimeout, "HTTP: time to read a request's headers")
	fs.DurationVar(&c.HTTP.ReadTimeout, "http-read-timeout", c.HTTP.ReadTimeout, "HTTP: time to read a whole request, body included (not WebSockets after the upgrade)")
	fs.DurationVar(&c.HTTP.WriteTimeout, "http-write-timeout", c.HTTP.WriteTimeout, "HTTP: time from a request's headers to the end of its reply (not WebSockets after the upgrade)")
	fs.DurationVar(&c.HTTP.IdleTimeout, "http-idle-timeout", c.HTTP.IdleTimeout, "HTTP: how long a keep-alive connection waits for its next request")
	fs.IntVar(&c.HTTP.MaxHeaderBytes, "max-header-bytes", c.HTTP.MaxHeaderBytes, "largest HTTP request header block")
	fs.Int64Var(&c.REST.MaxBodyBytes, "max-body-bytes", c.REST.MaxBodyBytes, "largest REST request body (413 too_large)")
	fs.IntVar(&c.REST.LoginPerAccount, "login-limit-account", c.REST.LoginPerAccount, "failed logins per account per --login-limit-window before 429 (0: no limit)")
	fs.IntVar(&c.REST.LoginPerAddr, "login-limit-addr", c.REST.LoginPerAddr, "failed logins per client address per --login-limit-window before 429 (0: no limit)")
	fs.DurationVar(&c.REST.LoginWindow, "login-limit-window", c.REST.LoginWindow, "window of the login limits (attempts are regained steadily over it)")
	fs.IntVar(&c.REST.RegisterPerAddr, "register-limit-addr", c.REST.RegisterPerAddr, "registrations per client address per --register-limit-window before 429 (0: no limit)")
	fs.DurationVar(&c.REST.RegisterWindow, "register-limit-window", c.REST.RegisterWindow, "window of the registration limit")
	fs.Var((*listValue)(&c.TrustedProxies), "trusted-proxies", "comma-separated addresses or CIDR prefixes of reverse proxies whose X-Forwarded-For\n\tnames the client for the per-address limits (empty: the TCP peer is the client)")
	fs.IntVar(&c.REST.MaxKeys, "limit-max-keys", c.REST.MaxKeys, "accounts and addresses each REST limiter remembers (memory bound)")
	fs.StringVar(&c.Chat.ReceiptVisibility, "receipt-visibility", c.Chat.ReceiptVisibility, "default of who sees a group message's receipts: sender, admins (the sender, owner and admins) or members")
	fs.BoolVar(&c.Chat.ReceiptLists, "receipt-lists", c.Chat.ReceiptLists, "default of whether groups show reader and unread lists (false: counts only)")
	fs.DurationVar(&c.Chat.RemindInterval, "remind-interval", c.Chat.RemindInterval, "least time between two reminders of one message (0: no limit)")
	fs.Var((*listValue)(&c.Chat.WebhookTargets), "webhook-url", "comma-separated http(s) `URLs` that get every webhook event (empty: webhooks off)")
	fs.StringVar(&c.Webhook.Secret, "webhook-secret", "", "shared secret that signs webhook POSTs, at least 16 characters (required with --webhook-url)")
	fs.StringVar(&c.Webhook.Format, "webhook-format", c.Webhook.Format, "webhook body: seen (many events per POST) or easemob (Easemob's callback, one event per POST)")
	fs.Var((*thresholdsValue)(&c.Chat.WebhookThresholds), "webhook-thresholds", "comma-separated `percentages` of a message's eligible readers that send a threshold event (100: read by all)")
	fs.DurationVar(&c.Webhook.Timeout, "webhook-timeout", c.Webhook.Timeout, "deadline of one webhook POST (100ms-5m)")
	fs.IntVar(&c.Webhook.MaxAttempts, "webhook-max-attempts", c.Webhook.MaxAttempts, "failed attempts after which a webhook event waits for an admin retry (1-1000)")
	fs.IntVar(&c.Webhook.Batch, "webhook-batch", c.Webhook.Batch, "most events in one webhook POST (1-10000)")
	fs.IntVar(&c.Webhook.Concurrency, "webhook-concurrency", c.Webhook.Concurrency, "most webhook POSTs in flight to one URL from one node (1-64)")

	// Help only when asked for (--help); a parse error is one line (serve).
	fs.Usage = func() {}
	// The environment first, so that flags override it.
	var errs []error
	fs.VisitAll(func(f *flag.Flag) {
		env := envName(f.Name)
		if v := getenv(env); v != "" {
			if err := fs.Set(f.Name, v); err != nil {
				errs = append(errs, fmt.Errorf("invalid value %q for %s: %v", v, env, err))
			}
		}
	})
	if err := errors.Join(errs...); err != nil {
		return o, err
	}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			printUsage(out, fs)
		}
		return o, err
	}
	if fs.NArg() > 0 {
		return o, fmt.Errorf("unexpected argument %q (flags start with --)", fs.Arg(0))
	}
	if o.logFormat != "text" && o.logFormat != "json" {
		return o, fmt.Errorf("log-format %q is not text or json", o.logFormat)
	}
	if err := o.cfg.Validate(); err != nil {
		return o, err
	}
	return o, nil
}

const usageHead = `seen: a self-hosted chat server with group read receipts.

Usage:
  seen [serve] [flags]   start the server (the default command)
  seen bench [flags]     load-test a server
  seen help              show this help

Every flag can also be set by the environment variable shown next to it;
a flag on the command line wins over its variable. Booleans take
true/false; durations take 1s, 5m, 24h; lists are comma-separated.

Flags of serve:
`

// printUsage prints the help of serve: each flag with its variable,
// meaning and default.
func printUsage(out io.Writer, fs *flag.FlagSet) {
	fmt.Fprint(out, usageHead)
	fs.VisitAll(func(f *flag.Flag) {
		name, usage := flag.UnquoteUsage(f)
		fmt.Fprintf(out, "  --%s", f.Name)
		if name != "" {
			fmt.Fprintf(out, " %s", name)
		}
		fmt.Fprintf(out, "   [%s]\n\t%s", envName(f.Name), usage)
		if f.DefValue != "" && f.DefValue != "0" && f.DefValue != "0s" {
			fmt.Fprintf(out, " (default %s)", f.DefValue)
		}
		fmt.Fprintln(out)
	})
}

// listValue is a comma-separated list flag. Setting it replaces the list,
// so a flag replaces its environment variable; "" is the empty list.
type listValue []string

func (l *listValue) String() string { return strings.Join(*l, ",") }

func (l *listValue) Set(s string) error {
	*l = (*l)[:0:0]
	for _, p := range strings.Split(s, ",") {
		if p = strings.TrimSpace(p); p != "" {
			*l = append(*l, p)
		}
	}
	return nil
}

// thresholdsValue is --webhook-thresholds: increasing percentages 1..100.
type thresholdsValue []int

func (t *thresholdsValue) String() string {
	ps := make([]string, len(*t))
	for i, p := range *t {
		ps[i] = strconv.Itoa(p)
	}
	return strings.Join(ps, ",")
}

func (t *thresholdsValue) Set(s string) error {
	ps, err := webhook.ParseThresholds(s)
	if err != nil {
		return err
	}
	*t = ps
	return nil
}

// registrationValue is --registration: open or closed, over the
// service's OpenRegistration.
type registrationValue bool

func (r *registrationValue) String() string {
	if *r {
		return "open"
	}
	return "closed"
}

func (r *registrationValue) Set(s string) error {
	switch strings.ToLower(s) {
	case "open":
		*r = true
	case "closed":
		*r = false
	default:
		return fmt.Errorf("%q is not open or closed", s)
	}
	return nil
}

// levelValue is a log level flag.
type levelValue slog.Level

func (l *levelValue) String() string { return strings.ToLower(slog.Level(*l).String()) }

func (l *levelValue) Set(s string) error {
	switch strings.ToLower(s) {
	case "debug":
		*l = levelValue(slog.LevelDebug)
	case "info":
		*l = levelValue(slog.LevelInfo)
	case "warn":
		*l = levelValue(slog.LevelWarn)
	case "error":
		*l = levelValue(slog.LevelError)
	default:
		return fmt.Errorf("%q is not debug, info, warn or error", s)
	}
	return nil
}
