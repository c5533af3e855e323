package server_test

import (
	"strings"
	"testing"
	"time"

	"seen/internal/server"
	"seen/internal/ws"
)

func TestConfigValidate(t *testing.T) {
	tests := []struct {
		name   string
		change func(*server.Config)
		want   string // "" for valid; else a substring of the error
	}{
		{"defaults", func(*server.Config) {}, ""},
		{"postgres without data dir", func(c *server.Config) { c.DataDir = ""; c.Postgres = "postgres://u@h/db" }, ""},
		{"nats url", func(c *server.Config) { c.NATS = "nats://127.0.0.1:4222" }, ""},
		{"any port", func(c *server.Config) { c.Addr = ":0" }, ""},
		{"tls pair", func(c *server.Config) { c.TLSCert, c.TLSKey = "c.pem", "k.pem" }, ""},
		{"no port", func(c *server.Config) { c.Addr = "localhost" }, "addr"},
		{"no data dir", func(c *server.Config) { c.DataDir = " " }, "data"},
		{"bad postgres", func(c *server.Config) { c.Postgres = "mysql://u:secret@h/db" }, "postgres"},
		{"postgres password hidden", func(c *server.Config) { c.Postgres = "mysql://u:secret@h/db" }, "xxxxx"},
		{"bad nats", func(c *server.Config) { c.NATS = "http://x" }, "nats"},
		{"short lease", func(c *server.Config) { c.NodeLease = time.Second }, "lease"},
		{"short admin token", func(c *server.Config) { c.AdminToken = "short" }, "admin-token"},
		{"bad origin pattern", func(c *server.Config) { c.AllowedOrigins = []string{"[x"} }, "allowed-origins"},
		{"empty origin pattern", func(c *server.Config) { c.AllowedOrigins = []string{""} }, "allowed-origins"},
		{"cert without key", func(c *server.Config) { c.TLSCert = "c.pem" }, "tls-cert and tls-key"},
		{"key without cert", func(c *server.Config) { c.TLSKey = "k.pem" }, "tls-cert and tls-key"},
		{"low cost", func(c *server.Config) { c.PasswordCost = 3 }, "password-cost"},
		{"high cost", func(c *server.Config) { c.PasswordCost = 32 }, "password-cost"},
		{"no shutdown timeout", func(c *server.Config) { c.ShutdownTimeout = 0 }, "shutdown-timeout"},
		{"tiny frames", func(c *server.Config) { c.WS.MaxFrameBytes = 100 }, "max-frame-bytes"},
		{"frames under messages", func(c *server.Config) { c.Chat.MaxMessageBytes = 1 << 20 }, "max-message-bytes"},
		{"no send queue", func(c *server.Config) { c.WS.SendQueue = 0 }, "send-queue"},
		{"no rate", func(c *server.Config) { c.WS.RatePerSec = 0 }, "rate"},
		{"no burst", func(c *server.Config) { c.WS.RateBurst = 0 }, "rate-burst"},
		{"no ping", func(c *server.Config) { c.WS.PingInterval = 0 }, "ping-interval"},
		{"no auth timeout", func(c *server.Config) { c.WS.AuthTimeout = 0 }, "auth-timeout"},
		{"pages over the send queue", func(c *server.Config) { c.Chat.MaxPageBytes = 16 << 20 }, "max-page-bytes"},
		{"pipelined pages over the send queue", func(c *server.Config) { c.Chat.MaxPageBytes = 2 << 20 }, "max-page-bytes"},
		{"send queue for pipelined pages", func(c *server.Config) {
			c.Chat.MaxPageBytes, c.WS.MaxFrameBytes = 2<<20, 256<<10
			c.WS.SendQueueBytes = ws.MaxInflight*(2<<20) + 256<<10
		}, ""},
		{"send queue one byte short", func(c *server.Config) {
			c.Chat.MaxPageBytes, c.WS.MaxFrameBytes = 2<<20, 256<<10
			c.WS.SendQueueBytes = ws.MaxInflight*(2<<20) + 256<<10 - 1
		}, "send-queue-bytes"},
		{"app key", func(c *server.Config) { c.AppKey = "acme-1#chat_app" }, ""},
		{"app key without app", func(c *server.Config) { c.AppKey = "acme" }, "app-key"},
		{"app key with three parts", func(c *server.Config) { c.AppKey = "a#b#c" }, "app-key"},
		{"app key with an empty part", func(c *server.Config) { c.AppKey = "acme#" }, "app-key"},
		{"app key with a slash", func(c *server.Config) { c.AppKey = "ac/me#app" }, "app-key"},
		{"app key with a dot", func(c *server.Config) { c.AppKey = "..#app" }, "app-key"},
		{"app key on /api/", func(c *server.Config) { c.AppKey = "api#v1" }, "app-key"},
		{"empty app key", func(c *server.Config) { c.AppKey = "" }, "app-key"},
		{"metrics addr", func(c *server.Config) { c.MetricsAddr = "127.0.0.1:9090" }, ""},
		{"bad metrics addr", func(c *server.Config) { c.MetricsAddr = "9090" }, "metrics-addr"},
		{"short metrics token", func(c *server.Config) { c.MetricsToken = "short" }, "metrics-token"},
		{"no read timeout", func(c *server.Config) { c.HTTP.ReadTimeout = 0 }, "http-read-timeout"},
		{"no write timeout", func(c *server.Config) { c.HTTP.WriteTimeout = 0 }, "http-write-timeout"},
		{"header timeout over read", func(c *server.Config) { c.HTTP.ReadHeaderTimeout = time.Hour }, "http-read-header-timeout"},
		{"tiny headers", func(c *server.Config) { c.HTTP.MaxHeaderBytes = 100 }, "max-header-bytes"},
		{"tiny bodies", func(c *server.Config) { c.REST.MaxBodyBytes = 100 }, "max-body-bytes"},
		{"no login window", func(c *server.Config) { c.REST.LoginWindow = 0 }, "login-limit-window"},
		{"trusted proxies", func(c *server.Config) { c.TrustedProxies = []string{"10.0.0.0/8", "::1"} }, ""},
		{"bad trusted proxy", func(c *server.Config) { c.TrustedProxies = []string{"proxy.local"} }, "trusted-proxies"},
		{"chat: members", func(c *server.Config) { c.Chat.MaxGroupMembers = 1 }, "max group members"},
		{"chat: ack senders", func(c *server.Config) { c.Chat.GroupAckSenders = "everyone" }, "group ack senders"},
		{"chat: receipt age", func(c *server.Config) { c.Chat.ReceiptMaxAge = -time.Second }, "receipt limits"},
		{"chat: coalesce", func(c *server.Config) { c.Chat.CoalesceInterval = time.Minute }, "coalesce"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := server.DefaultConfig()
			tt.change(&c)
			err := c.Validate()
			switch {
			case tt.want == "" && err != nil:
				t.Errorf("Validate() = %v, want nil", err)
			case tt.want != "" && (err == nil || !strings.Contains(err.Error(), tt.want)):
				t.Errorf("Validate() = %v, want an error containing %q", err, tt.want)
			}
		})
	}
}

func TestDefaultConfig(t *testing.T) {
	c := server.DefaultConfig()
	if c.Addr != "localhost:8080" || c.DataDir != "seen-data" || !c.Chat.OpenRegistration || c.PasswordCost != 10 ||
		c.Chat.MaxGroupMembers != 100_000 || c.Chat.CoalesceInterval != 100*time.Millisecond {
		t.Errorf("DefaultConfig() = %+v", c)
	}
	// Each call returns its own origins slice.
	c.AllowedOrigins[0] = "changed"
	if server.DefaultConfig().AllowedOrigins[0] == "changed" {
		t.Errorf("DefaultConfig shares its AllowedOrigins slice")
	}
}
