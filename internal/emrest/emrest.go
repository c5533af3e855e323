// Package emrest is the REST API of the Easemob / Agora Chat Web SDK
// (easemob-websdk 4.x, agora-chat 1.x), served under /{org}/{app}/ of the
// configured app key, so that the unmodified vendor SDK can register, log
// in and manage groups against seen. It is a second REST transport over
// the same *chat.Service as internal/httpapi: handlers only convert the
// vendor's JSON to chat calls and back; every rule lives in chat. The
// abuse limits (login throttle, registration limit, body limit, trusted
// proxies) are httpapi's, reached through Guard, so both APIs share one
// budget. What the SDK expects is in docs/easemob-compat.md ("REST").
package emrest

import (
	"fmt"
	"log/slog"
	"net/http"
	"strings"

	"seen/internal/appkey"
	"seen/internal/chat"
)

// DefaultAppKey is the app key served when none is configured.
const DefaultAppKey = "seen#demo"

// Guard is the REST abuse limits shared with seen's own API
// (*httpapi.API implements it).
type Guard interface {
	// StartLogin takes a login attempt of r's client and of username, or
	// refuses it; done settles it with the login's outcome.
	StartLogin(r *http.Request, username string) (done func(error), err error)
	// CheckRegister counts a registration attempt of r's client.
	CheckRegister(r *http.Request) error
	// RetryAfter is the Retry-After value of a refusal above, or "".
	RetryAfter(err error) string
	// MaxBodyBytes is the largest request body.
	MaxBodyBytes() int64
}

// Config configures the handler.
type Config struct {
	// AppKey is the served "org#app" (appkey.Parse must accept it).
	AppKey string
	// AllowOrigin reports whether a page at origin may call a server
	// reached as host (CORS); the server passes seen's --allowed-origins
	// check, so REST, WebSocket and this API agree.
	AllowOrigin func(origin, host string) bool
	// EncodeMessage encodes a message as the protobuf Meta the msync
	// endpoint sends for it; message roaming carries those. Nil: message
	// roaming answers "not supported".
	EncodeMessage func(m *chat.Message) ([]byte, error)
}

// Handler serves the vendor REST API. It is an http.Handler for the
// paths under Prefix; OtherApps answers the paths of other app keys.
type Handler struct {
	svc      *chat.Service
	guard    Guard
	cfg      Config
	org, app string
	log      *slog.Logger
	mux      *http.ServeMux
}

// New returns the handler over svc. cfg.AppKey must be valid.
func New(svc *chat.Service, guard Guard, cfg Config, log *slog.Logger) (*Handler, error) {
	org, app, err := appkey.Parse(cfg.AppKey)
	if err != nil {
		return nil, err
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	h := &Handler{svc: svc, guard: guard, cfg: cfg, org: org, app: app, log: log, mux: http.NewServeMux()}
	h.routes()
	return h, nil
}

// Prefix is the path prefix of the served app key: "/org/app/".
func (h *Handler) Prefix() string { return "/" + h.org + "/" + h.app + "/" }

// routes is the vendor REST surface seen serves; anything else under the
// prefix gets a vendor-shaped "not supported" error (notSupported).
func (h *Handler) routes() {
	m := h.mux
	p := "/" + h.org + "/" + h.app

	m.Handle("POST "+p+"/users", h.public(h.register))
	m.Handle("POST "+p+"/token", h.public(h.token))
	m.Handle("PUT "+p+"/users/{username}/password", h.user(h.changePassword))

	m.Handle("POST "+p+"/chatgroups", h.user(h.createGroup))
	m.Handle("GET "+p+"/chatgroups/{groupIds}", h.user(h.groupInfo))
	m.Handle("DELETE "+p+"/chatgroups/{groupId}", h.user(h.destroyGroup))
	m.Handle("PUT "+p+"/chatgroups/{groupId}", h.user(h.changeOwner))
	m.Handle("GET "+p+"/chatgroups/{groupId}/users", h.user(h.members))
	m.Handle("POST "+p+"/chatgroups/{groupId}/invite", h.user(h.invite))
	m.Handle("DELETE "+p+"/chatgroups/{groupId}/users/{usernames}", h.user(h.removeMembers))
	m.Handle("GET "+p+"/chatgroups/{groupId}/admin", h.user(h.admins))
	m.Handle("POST "+p+"/chatgroups/{groupId}/admin", h.user(h.setAdmin))
	m.Handle("DELETE "+p+"/chatgroups/{groupId}/admin/{username}", h.user(h.removeAdmin))
	m.Handle("DELETE "+p+"/chatgroups/{groupId}/quit", h.user(h.leave))
	m.Handle("GET "+p+"/users/{username}/joined_chatgroups", h.user(h.joinedGroups))
	m.Handle("GET "+p+"/chatgroups/{groupId}/acks/{msgId}", h.user(h.readers))

	m.Handle("GET "+p+"/sdk/user/{username}/user_channels/list", h.user(h.conversations))
	m.Handle("GET "+p+"/users/{username}/user_channels", h.user(h.conversations))
	m.Handle("GET "+p+"/users/{username}/user_channels/page", h.user(h.conversationsPage))
	if h.cfg.EncodeMessage != nil {
		m.Handle("POST "+p+"/users/{username}/messageroaming", h.user(h.roaming))
	}
}

// ServeHTTP applies CORS and the body limit, then routes.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Cache-Control", "no-store")
	if !h.cors(w, r) {
		return
	}
	if limit := h.guard.MaxBodyBytes(); r.ContentLength > limit {
		w.Header().Set("Connection", "close")
		h.writeError(w, r, chat.Errorf(chat.CodeTooLarge, "the body is %d bytes, over the limit of %d", r.ContentLength, limit))
		return
	} else if r.Body != nil {
		r.Body = http.MaxBytesReader(w, r.Body, limit)
	}
	if _, pattern := h.mux.Handler(r); pattern == "" {
		h.notSupported(w, r)
		return
	}
	h.mux.ServeHTTP(w, r)
}

// CORS: what a cross-origin page may send. The SDK sends Content-Type on
// every call and Authorization on authenticated ones.
const (
	corsHeaders = "Authorization, Content-Type"
	corsMethods = "GET, POST, PUT, DELETE"
	corsMaxAge  = "600"
)

// cors applies the cross-origin policy and reports whether the request
// goes on: an allowed preflight is answered here, a request from an
// origin that is not allowed is refused before anything is done.
func (h *Handler) cors(w http.ResponseWriter, r *http.Request) bool {
	hd := w.Header()
	hd.Add("Vary", "Origin")
	origin := r.Header.Get("Origin")
	if origin == "" {
		return true
	}
	if h.cfg.AllowOrigin == nil || !h.cfg.AllowOrigin(origin, r.Host) {
		h.writeError(w, r, chat.Errorf(chat.CodePermissionDenied, "origin %s is not allowed; see --allowed-origins", origin))
		return false
	}
	hd.Set("Access-Control-Allow-Origin", origin)
	if r.Method == http.MethodOptions && r.Header.Get("Access-Control-Request-Method") != "" {
		hd.Add("Vary", "Access-Control-Request-Method")
		hd.Add("Vary", "Access-Control-Request-Headers")
		hd.Set("Access-Control-Allow-Methods", corsMethods)
		hd.Set("Access-Control-Allow-Headers", corsHeaders)
		hd.Set("Access-Control-Max-Age", corsMaxAge)
		// 200, not 204: some stacks treat only 200 as a passed preflight.
		w.WriteHeader(http.StatusOK)
		return false
	}
	return true
}

// OtherApps wraps next (the rest of the server) so that a vendor REST
// call under another app key, /{org}/{app}/{users|token|chatgroups|...},
// gets a clear vendor-shaped error (404 organization_application_not_found,
// with CORS, preflights answered) instead of the web app's 404 page.
// Everything else goes to next untouched.
func (h *Handler) OtherApps(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !h.otherApp(r.URL.Path) {
			next.ServeHTTP(w, r)
			return
		}
		w.Header().Set("Cache-Control", "no-store")
		if !h.cors(w, r) {
			return
		}
		h.writeVendor(w, r, http.StatusNotFound, "organization_application_not_found",
			fmt.Sprintf("this server serves the app key %s#%s only (--app-key); check the appKey of the connection", h.org, h.app))
	})
}

// vendorRoots are the first path segments of the vendor's REST calls
// after /{org}/{app}: a path with one of them there, under another
// prefix, is an app using the wrong app key.
var vendorRoots = map[string]bool{
	"users": true, "token": true, "chatgroups": true, "publicchatgroups": true, "chatrooms": true,
	"thread": true, "threads": true, "sdk": true, "chatfiles": true, "messages": true,
}

// otherApp reports whether path is /{org}/{app}/{root}... of an app key
// other than the served one. seen's own /api/ is never one.
func (h *Handler) otherApp(path string) bool {
	seg := strings.SplitN(strings.TrimPrefix(path, "/"), "/", 4)
	if len(seg) < 3 || seg[0] == "" || seg[0] == "api" || seg[1] == "" || !vendorRoots[seg[2]] {
		return false
	}
	return seg[0] != h.org || seg[1] != h.app
}
