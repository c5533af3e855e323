package main

import (
	"bytes"
	"errors"
	"flag"
	"log/slog"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"seen/internal/server"
)

func env(kv ...string) func(string) string {
	m := map[string]string{}
	for i := 0; i < len(kv); i += 2 {
		m[kv[i]] = kv[i+1]
	}
	return func(k string) string { return m[k] }
}

func TestEnvName(t *testing.T) {
	for flagName, want := range map[string]string{
		"addr": "SEEN_ADDR", "max-group-members": "SEEN_MAX_GROUP_MEMBERS", "open-registration": "SEEN_OPEN_REGISTRATION",
	} {
		if got := envName(flagName); got != want {
			t.Errorf("envName(%q) = %q, want %q", flagName, got, want)
		}
	}
}

func TestParseServe(t *testing.T) {
	tests := []struct {
		name string
		args []string
		env  func(string) string
		want func(*serveOptions)
	}{
		{"defaults", nil, env(), func(*serveOptions) {}},
		{"flags", []string{
			"--addr", ":9000", "--data", "/var/lib/seen", "--admin-token", "0123456789abcdef", "--open-registration=false",
			"--allowed-origins", "app.example.com, *.example.org", "--log-level", "debug", "--password-cost", "12",
			"--max-group-members", "500", "--group-ack-senders", "all", "--receipt-max-age", "168h",
			"--receipt-max-group-size", "200", "--receipt-daily-limit", "50", "--coalesce-interval", "250ms",
			"--rate", "20", "--rate-burst", "40", "--send-queue", "64", "--nats", "nats://127.0.0.1:4222",
			"--postgres", "postgres://seen@db/seen", "--node-id", "n1", "--log-format", "json",
		}, env(), func(o *serveOptions) {
			c := &o.cfg
			c.Addr, c.DataDir, c.AdminToken, c.Chat.OpenRegistration = ":9000", "/var/lib/seen", "0123456789abcdef", false
			c.AllowedOrigins = []string{"app.example.com", "*.example.org"}
			o.logLevel, o.logFormat, c.PasswordCost = slog.LevelDebug, "json", 12
			c.Chat.MaxGroupMembers, c.Chat.GroupAckSenders, c.Chat.ReceiptMaxAge = 500, "all", 168*time.Hour
			c.Chat.ReceiptMaxGroupSize, c.Chat.ReceiptDailyLimit, c.Chat.CoalesceInterval = 200, 50, 250*time.Millisecond
			c.WS.RatePerSec, c.WS.RateBurst, c.WS.SendQueue = 20, 40, 64
			c.NATS, c.Postgres, c.NodeID = "nats://127.0.0.1:4222", "postgres://seen@db/seen", "n1"
		}},
		{"env", nil, env(
			"SEEN_ADDR", "0.0.0.0:80", "SEEN_OPEN_REGISTRATION", "false", "SEEN_ALLOWED_ORIGINS", "a.example.com",
			"SEEN_RECEIPT_MAX_AGE", "1h", "SEEN_LOG_LEVEL", "WARN", "SEEN_TLS_CERT", "c.pem", "SEEN_TLS_KEY", "k.pem",
		), func(o *serveOptions) {
			o.cfg.Addr, o.cfg.Chat.OpenRegistration, o.cfg.AllowedOrigins = "0.0.0.0:80", false, []string{"a.example.com"}
			o.cfg.Chat.ReceiptMaxAge, o.logLevel = time.Hour, slog.LevelWarn
			o.cfg.TLSCert, o.cfg.TLSKey = "c.pem", "k.pem"
		}},
		{"flag wins over env", []string{"--addr", "127.0.0.1:1", "--open-registration", "--allowed-origins", "b.example.com"},
			env("SEEN_ADDR", "0.0.0.0:80", "SEEN_OPEN_REGISTRATION", "false", "SEEN_ALLOWED_ORIGINS", "a.example.com,c.example.com"),
			func(o *serveOptions) {
				o.cfg.Addr, o.cfg.AllowedOrigins = "127.0.0.1:1", []string{"b.example.com"}
			}},
		{"empty origins: own origin only", []string{"--allowed-origins="}, env(), func(o *serveOptions) {
			o.cfg.AllowedOrigins = []string{}
		}},
		{"single dash works too", []string{"-addr", ":1"}, env(), func(o *serveOptions) { o.cfg.Addr = ":1" }},
		{"registration closed", []string{"--registration", "closed"}, env(), func(o *serveOptions) { o.cfg.Chat.OpenRegistration = false }},
		{"registration from env", nil, env("SEEN_REGISTRATION", "closed"), func(o *serveOptions) { o.cfg.Chat.OpenRegistration = false }},
		{"registration flag wins", []string{"--registration=open"}, env("SEEN_REGISTRATION", "closed"), func(*serveOptions) {}},
		{"hardening limits", []string{
			"--metrics-addr", "127.0.0.1:9090", "--metrics-token", "0123456789abcdef",
			"--http-read-header-timeout", "2s", "--http-read-timeout", "5s", "--http-write-timeout", "7s", "--http-idle-timeout", "1m",
			"--max-header-bytes", "8192", "--max-body-bytes", "4096", "--login-limit-account", "3", "--login-limit-addr", "9",
			"--login-limit-window", "1m", "--register-limit-addr", "0", "--register-limit-window", "2h", "--limit-max-keys", "50",
		}, env("SEEN_LOGIN_LIMIT_ACCOUNT", "100", "SEEN_TRUSTED_PROXIES", "10.0.0.0/8, 127.0.0.1"), func(o *serveOptions) {
			c := &o.cfg
			c.TrustedProxies = []string{"10.0.0.0/8", "127.0.0.1"}
			c.MetricsAddr, c.MetricsToken = "127.0.0.1:9090", "0123456789abcdef"
			c.HTTP = server.HTTPConfig{ReadHeaderTimeout: 2 * time.Second, ReadTimeout: 5 * time.Second, WriteTimeout: 7 * time.Second, IdleTimeout: time.Minute, MaxHeaderBytes: 8192}
			c.REST.MaxBodyBytes, c.REST.LoginPerAccount, c.REST.LoginPerAddr, c.REST.LoginWindow = 4096, 3, 9, time.Minute
			c.REST.RegisterPerAddr, c.REST.RegisterWindow, c.REST.MaxKeys = 0, 2*time.Hour, 50
		}},
		{"webhooks and receipts", []string{
			"--webhook-url", "https://a.example/hook, http://b.example:8080/h", "--webhook-secret", "0123456789abcdef-s",
			"--webhook-format", "easemob", "--webhook-thresholds", "25,100", "--webhook-timeout", "3s",
			"--webhook-max-attempts", "5", "--webhook-batch", "100", "--webhook-concurrency", "4",
			"--receipt-visibility", "members", "--receipt-lists=false", "--remind-interval", "0",
		}, env("SEEN_WEBHOOK_SECRET", "from-the-environment"), func(o *serveOptions) {
			c := &o.cfg
			c.Chat.WebhookTargets = []string{"https://a.example/hook", "http://b.example:8080/h"}
			c.Chat.WebhookThresholds = []int{25, 100}
			c.Webhook.Secret, c.Webhook.Format, c.Webhook.Timeout = "0123456789abcdef-s", "easemob", 3*time.Second
			c.Webhook.MaxAttempts, c.Webhook.Batch, c.Webhook.Concurrency = 5, 100, 4
			c.Chat.ReceiptVisibility, c.Chat.ReceiptLists, c.Chat.RemindInterval = "members", false, 0
		}},
		{"webhooks from env", nil, env("SEEN_WEBHOOK_URL", "https://a.example/hook", "SEEN_WEBHOOK_SECRET", "0123456789abcdef-s",
			"SEEN_WEBHOOK_THRESHOLDS", "100", "SEEN_REMIND_INTERVAL", "1m"), func(o *serveOptions) {
			c := &o.cfg
			c.Chat.WebhookTargets, c.Webhook.Secret = []string{"https://a.example/hook"}, "0123456789abcdef-s"
			c.Chat.WebhookThresholds, c.Chat.RemindInterval = []int{100}, time.Minute
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			want := serveOptions{cfg: server.DefaultConfig(), logLevel: slog.LevelInfo, logFormat: "text"}
			tt.want(&want)
			got, err := parseServe(tt.args, tt.env, new(bytes.Buffer))
			if err != nil {
				t.Fatalf("parseServe(%q) = %v", tt.args, err)
			}
			if diff := cmp.Diff(want, got, cmp.AllowUnexported(serveOptions{})); diff != "" {
				t.Errorf("parseServe(%q) (-want +got):\n%s", tt.args, diff)
			}
		})
	}
}

func TestParseServeErrors(t *testing.T) {
	tests := []struct {
		name string
		args []string
		env  func(string) string
		want string
	}{
		{"unknown flag", []string{"--bogus"}, env(), "bogus"},
		{"bad int", []string{"--max-group-members", "many"}, env(), "max-group-members"},
		{"bad duration", []string{"--receipt-max-age", "forever"}, env(), "receipt-max-age"},
		{"bad env bool", nil, env("SEEN_OPEN_REGISTRATION", "maybe"), "SEEN_OPEN_REGISTRATION"},
		{"bad env int", nil, env("SEEN_PASSWORD_COST", "x"), "SEEN_PASSWORD_COST"},
		{"bad env level", nil, env("SEEN_LOG_LEVEL", "loud"), "SEEN_LOG_LEVEL"},
		{"bad level", []string{"--log-level", "trace"}, env(), "log-level"},
		{"bad format", []string{"--log-format", "xml"}, env(), "log-format"},
		{"invalid config", []string{"--group-ack-senders", "everyone"}, env(), "group ack senders"},
		{"invalid config from env", nil, env("SEEN_PASSWORD_COST", "99"), "password-cost"},
		{"cert without key", []string{"--tls-cert", "c.pem"}, env(), "tls-key"},
		{"positional", []string{"extra"}, env(), "unexpected argument"},
		{"bad registration", []string{"--registration", "invite"}, env(), "open or closed"},
		{"bad trusted proxy", []string{"--trusted-proxies", "lb.local"}, env(), "trusted-proxies"},
		{"bad registration env", nil, env("SEEN_REGISTRATION", "maybe"), "SEEN_REGISTRATION"},
		{"short metrics token", []string{"--metrics-token", "x"}, env(), "metrics-token"},
		{"bad write timeout", []string{"--http-write-timeout", "0s"}, env(), "http-write-timeout"},
		{"negative login limit", []string{"--login-limit-addr", "-1"}, env(), "login-limit-addr"},
		{"webhook url without secret", []string{"--webhook-url", "https://a.example/hook"}, env(), "webhook-secret"},
		{"short webhook secret", []string{"--webhook-url", "https://a.example/hook", "--webhook-secret", "short"}, env(), "webhook-secret"},
		{"bad webhook url", []string{"--webhook-url", "a.example/hook", "--webhook-secret", "0123456789abcdef"}, env(), "webhook-url"},
		{"bad webhook format", []string{"--webhook-format", "xml"}, env(), "webhook-format"},
		{"bad webhook thresholds", []string{"--webhook-thresholds", "90,50"}, env(), "webhook-thresholds"},
		{"threshold over 100", nil, env("SEEN_WEBHOOK_THRESHOLDS", "150"), "SEEN_WEBHOOK_THRESHOLDS"},
		{"bad webhook timeout", []string{"--webhook-timeout", "0s"}, env(), "webhook-timeout"},
		{"bad webhook attempts", []string{"--webhook-max-attempts", "0"}, env(), "webhook-max-attempts"},
		{"bad webhook batch", []string{"--webhook-batch", "100000"}, env(), "webhook-batch"},
		{"bad receipt visibility", []string{"--receipt-visibility", "everyone"}, env(), "visibility"},
		{"negative remind interval", []string{"--remind-interval", "-1m"}, env(), "remind"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := parseServe(tt.args, tt.env, new(bytes.Buffer))
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("parseServe(%q) = %v, want an error containing %q", tt.args, err, tt.want)
			}
		})
	}
}

func TestHelp(t *testing.T) {
	var out bytes.Buffer
	_, err := parseServe([]string{"--help"}, env(), &out)
	if !errors.Is(err, flag.ErrHelp) {
		t.Fatalf("parseServe(--help) = %v, want flag.ErrHelp", err)
	}
	for _, want := range []string{"seen [serve]", "seen bench", "--addr", "[SEEN_ADDR]", "localhost:8080", "--allowed-origins", "[SEEN_ALLOWED_ORIGINS]", "flag on the command line wins",
		// --metrics-token does not put /metrics on --addr when --metrics-addr is set.
		"serves /metrics on --addr,\n\tor only on --metrics-addr when that is set"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("help lacks %q:\n%s", want, out.String())
		}
	}
}

// TestUsageErrorIsOneLine: a bad flag prints one line, the error and
// where the help is, not the whole help.
func TestUsageErrorIsOneLine(t *testing.T) {
	for _, args := range [][]string{{"--bogus"}, {"serve", "--no-such-flag=1"}, {"--max-group-members", "many"}, {"frobnicate"}} {
		var stdout, stderr bytes.Buffer
		if got := run(args, env(), &stdout, &stderr); got != exitUsage {
			t.Errorf("run(%q) = %d, want %d", args, got, exitUsage)
		}
		if stdout.Len() != 0 {
			t.Errorf("run(%q) printed %d bytes to stdout, want nothing:\n%s", args, stdout.Len(), stdout.String())
		}
		lines := strings.Split(strings.TrimSuffix(stderr.String(), "\n"), "\n")
		if len(lines) != 1 || !strings.Contains(lines[0], "run seen --help") {
			t.Errorf("run(%q) stderr = %q, want one line ending in run seen --help", args, stderr.String())
		}
	}
}

// TestGitignore: the default data directory is never committed.
func TestGitignore(t *testing.T) {
	b, err := os.ReadFile("../../.gitignore")
	if err != nil {
		t.Fatalf("read .gitignore: %v", err)
	}
	dflt := server.DefaultConfig().DataDir
	for _, line := range strings.Split(string(b), "\n") {
		if l := strings.TrimSpace(line); l == dflt+"/" || l == "/"+dflt+"/" || l == dflt || l == "/"+dflt {
			return
		}
	}
	t.Errorf(".gitignore does not list the default data directory %s/:\n%s", dflt, b)
}

func TestRunExitCodes(t *testing.T) {
	tests := []struct {
		args     []string
		env      func(string) string
		want     int
		inStderr string
		inStdout string
	}{
		{[]string{"help"}, env(), exitOK, "", "SEEN_ADDR"},
		{[]string{"--help"}, env(), exitOK, "", "SEEN_ADDR"},
		{[]string{"serve", "-h"}, env(), exitOK, "", "SEEN_ADDR"},
		{[]string{"frobnicate"}, env(), exitUsage, "unknown command", ""},
		{[]string{"--bogus"}, env(), exitUsage, "bogus", ""},
		{[]string{"serve", "--password-cost", "1"}, env(), exitUsage, "password-cost", ""},
		{nil, env("SEEN_ADDR", "nope"), exitUsage, "addr", ""},
		{[]string{"bench"}, env(), exitUsage, "usage: seen bench", ""},
		{[]string{"bench", "--help"}, env(), exitOK, "", "usage: seen bench"},
		{[]string{"bench", "help"}, env(), exitOK, "", "usage: seen bench"},
		{[]string{"bench", "receipts", "--help"}, env(), exitOK, "-members", ""},
	}
	for _, tt := range tests {
		var stdout, stderr bytes.Buffer
		if got := run(tt.args, tt.env, &stdout, &stderr); got != tt.want {
			t.Errorf("run(%q) = %d, want %d (stderr %q)", tt.args, got, tt.want, stderr.String())
		}
		if !strings.Contains(stderr.String(), tt.inStderr) {
			t.Errorf("run(%q) stderr = %q, want %q", tt.args, stderr.String(), tt.inStderr)
		}
		if !strings.Contains(stdout.String(), tt.inStdout) {
			t.Errorf("run(%q) stdout lacks %q", tt.args, tt.inStdout)
		}
	}
}
