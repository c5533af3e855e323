// Package httpapi is seen's REST API: the whole surface in one route table
// (routes, below), JSON in and out, strict request decoding, and one table
// mapping chat.Code to HTTP status (error.go). Handlers only translate
// between HTTP and *chat.Service: every rule lives in chat.
package httpapi

import (
	"log/slog"
	"net/http"
	"net/netip"
	"strings"
	"time"

	"seen/internal/chat"
)

// DefaultDevice is the device of a REST request without X-Seen-Device.
const DefaultDevice = "rest"

// MaxBodyBytes is the default of Limits.MaxBodyBytes, the largest request
// body the API reads.
const MaxBodyBytes = 1 << 20

// Config configures the API.
type Config struct {
	// AdminToken enables the admin API when set; requests present it as
	// "Authorization: Bearer <token>".
	AdminToken string
	// AllowedOrigins are the host patterns of the web pages that may call
	// the API from another origin (CORS). The semantics are those of the
	// WebSocket origin check, so both agree: the request's own host is
	// always allowed; each pattern is matched case-insensitively with
	// path.Match against the Origin's host ("localhost:*"), or against
	// "scheme://host" when the pattern contains "://".
	AllowedOrigins []string
	// Limits are the abuse limits: body size, login failures and
	// registrations. The zero value is replaced by DefaultLimits.
	Limits Limits
	// TrustedProxies are the reverse proxies whose X-Forwarded-For names
	// the client for the per-address limits (see ClientAddr). Empty: the
	// TCP peer is the client.
	TrustedProxies []netip.Prefix
	// Now is the limiters' clock (nil: time.Now); tests pass a fake one.
	Now func() time.Time
}

// API serves /api/v1/. It is an http.Handler.
type API struct {
	svc     *chat.Service
	cfg     Config
	log     *slog.Logger
	mux     *http.ServeMux
	isAdmin func(*http.Request) bool // bears the admin token
	limits  limiters
}

// New returns the API over svc.
func New(svc *chat.Service, cfg Config, log *slog.Logger) *API {
	if cfg.Limits == (Limits{}) {
		cfg.Limits = DefaultLimits()
	}
	if cfg.Limits.MaxBodyBytes <= 0 {
		cfg.Limits.MaxBodyBytes = MaxBodyBytes
	}
	a := &API{svc: svc, cfg: cfg, log: log, mux: http.NewServeMux(), limits: newLimiters(cfg.Limits, cfg.Now)}
	a.isAdmin = BearerCheck(cfg.AdminToken)
	a.routes()
	return a
}

// routes is the REST surface. See docs/rest.md. user handlers run as the
// bearer of an access token, admin handlers as chat.AdminActor, public
// handlers as nobody.
func (a *API) routes() {
	m := a.mux
	const v1 = "/api/v1"

	// Accounts and tokens.
	m.Handle("POST "+v1+"/users", a.public(a.register))
	m.Handle("POST "+v1+"/token", a.public(a.login))
	m.Handle("DELETE "+v1+"/token", a.user(a.logout))
	m.Handle("PUT "+v1+"/me/password", a.user(a.changePassword))
	m.Handle("GET "+v1+"/me/settings", a.user(a.settings))
	m.Handle("PUT "+v1+"/me/settings", a.user(a.setSettings))

	// Administration.
	m.Handle("POST "+v1+"/admin/users", a.admin(a.createUsers))
	m.Handle("GET "+v1+"/admin/users", a.admin(a.listUsers))
	m.Handle("PUT "+v1+"/admin/users/{username}/password", a.admin(a.resetPassword))
	m.Handle("POST "+v1+"/admin/groups", a.admin(a.createGroup))
	m.Handle("POST "+v1+"/admin/groups/{groupId}/members", a.admin(a.addMembers))
	m.Handle("GET "+v1+"/admin/groups/{groupId}/messages/{msgId}/receipts", http.HandlerFunc(a.exportReceipts))
	m.Handle("GET "+v1+"/admin/groups/{groupId}/messages/{msgId}/analytics", a.admin(a.analytics))
	m.Handle("POST "+v1+"/admin/groups/{groupId}/messages/{msgId}/remind", a.admin(a.remind))
	m.Handle("GET "+v1+"/admin/webhooks/failed", a.admin(a.failedDeliveries))
	m.Handle("POST "+v1+"/admin/webhooks/retry", a.admin(a.retryDeliveries))

	// Groups.
	m.Handle("POST "+v1+"/groups", a.user(a.createGroup))
	m.Handle("GET "+v1+"/groups", a.user(a.myGroups))
	m.Handle("GET "+v1+"/groups/{groupId}", a.user(a.groupInfo))
	m.Handle("DELETE "+v1+"/groups/{groupId}", a.user(a.destroyGroup))
	m.Handle("POST "+v1+"/groups/{groupId}/members", a.user(a.addMembers))
	m.Handle("GET "+v1+"/groups/{groupId}/members", a.user(a.members))
	m.Handle("DELETE "+v1+"/groups/{groupId}/members/{username}", a.user(a.removeMember))
	m.Handle("GET "+v1+"/groups/{groupId}/admins", a.user(a.admins))
	m.Handle("PUT "+v1+"/groups/{groupId}/admins/{username}", a.user(a.setAdmin))
	m.Handle("DELETE "+v1+"/groups/{groupId}/admins/{username}", a.user(a.removeAdmin))
	m.Handle("PUT "+v1+"/groups/{groupId}/owner", a.user(a.transferOwner))
	m.Handle("POST "+v1+"/groups/{groupId}/leave", a.user(a.leaveGroup))

	// Messages, conversations, sync.
	m.Handle("POST "+v1+"/messages", a.user(a.sendMessage))
	m.Handle("GET "+v1+"/history", a.user(a.history))
	m.Handle("GET "+v1+"/conversations", a.user(a.conversations))
	m.Handle("POST "+v1+"/conversations/ack", a.user(a.ackConversation))
	m.Handle("GET "+v1+"/sync", a.user(a.sync))

	// Read receipts.
	m.Handle("POST "+v1+"/groups/{groupId}/receipts", a.user(a.ackReceipts))
	m.Handle("GET "+v1+"/groups/{groupId}/messages/{msgId}/readers", a.user(a.readers))
	m.Handle("GET "+v1+"/groups/{groupId}/messages/{msgId}/unread", a.user(a.unread))
	m.Handle("GET "+v1+"/groups/{groupId}/receipts/counts", a.user(a.readCounts))
	m.Handle("GET "+v1+"/receipts/stats", a.user(a.receiptStats))
	m.Handle("POST "+v1+"/receipts/read", a.user(a.peerRead))
	m.Handle("POST "+v1+"/receipts/delivered", a.user(a.peerDelivered))
	m.Handle("POST "+v1+"/groups/{groupId}/messages/{msgId}/remind", a.user(a.remind))
	m.Handle("GET "+v1+"/groups/{groupId}/messages/{msgId}/analytics", a.user(a.analytics))
	m.Handle("GET "+v1+"/groups/{groupId}/receipts/policy", a.user(a.receiptPolicy))
	m.Handle("PUT "+v1+"/groups/{groupId}/receipts/policy", a.user(a.setReceiptPolicy))
}

// ServeHTTP applies CORS and the body limit, then routes. Requests that
// match no route get a JSON error too, with the mux's status (404, or 405
// with Allow).
func (a *API) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	h := w.Header()
	h.Set("Cache-Control", "no-store")
	h.Set("X-Content-Type-Options", "nosniff")
	if !a.cors(w, r) {
		return
	}
	// A declared length over the limit is refused before reading; a body
	// without one is cut at the limit (decode reports it as too_large)
	// and the connection is closed after the reply.
	if max := a.cfg.Limits.MaxBodyBytes; r.ContentLength > max {
		w.Header().Set("Connection", "close")
		writeError(w, chat.Errorf(chat.CodeTooLarge, "the body is %d bytes, over the limit of %d", r.ContentLength, max))
		return
	} else if r.Body != nil {
		r.Body = http.MaxBytesReader(w, r.Body, max)
	}
	handler, pattern := a.mux.Handler(r)
	if pattern == "" {
		// The mux's own 404 or 405: learn which, answer in JSON.
		rec := &statusRecorder{header: http.Header{}}
		handler.ServeHTTP(rec, r)
		msg := "no endpoint " + r.Method + " " + r.URL.Path
		if allow := rec.header.Get("Allow"); rec.code == http.StatusMethodNotAllowed && allow != "" {
			h.Set("Allow", allow)
			msg = "method " + r.Method + " is not allowed on " + r.URL.Path + "; use " + strings.ReplaceAll(allow, ", ", " or ")
		}
		writeErrorStatus(w, rec.code, chat.Errorf(chat.CodeBadRequest, "%s", msg))
		return
	}
	a.mux.ServeHTTP(w, r)
}

// statusRecorder keeps the status and headers of the mux's fallback
// handlers and drops their plain-text body.
type statusRecorder struct {
	header http.Header
	code   int
}

func (s *statusRecorder) Header() http.Header { return s.header }

func (s *statusRecorder) WriteHeader(code int) {
	if s.code == 0 {
		s.code = code
	}
}

func (s *statusRecorder) Write(p []byte) (int, error) {
	s.WriteHeader(http.StatusOK)
	return len(p), nil
}
