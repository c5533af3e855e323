package httpapi

import (
	"crypto/sha256"
	"crypto/subtle"
	"net/http"
	"strings"

	"seen/internal/chat"
)

// handlerFunc is a REST handler: it gets the request and the acting user,
// and returns the status and body of the reply (nil body: no content), or
// an error, which becomes an error body with the code's status.
type handlerFunc func(r *http.Request, actor chat.Actor) (status int, body any, err error)

// serve runs h as actor and writes its reply.
func (a *API) serve(w http.ResponseWriter, r *http.Request, actor chat.Actor, h handlerFunc) {
	status, body, err := h(r, actor)
	if err != nil {
		a.logError(r, err)
		writeError(w, err)
		return
	}
	if body == nil {
		w.WriteHeader(status)
		return
	}
	writeJSON(w, status, body)
}

// public serves h without credentials.
func (a *API) public(h handlerFunc) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		a.serve(w, r, chat.Actor{}, h)
	})
}

// user serves h as the user of the bearer access token, on the device
// named by X-Seen-Device (DefaultDevice when absent).
func (a *API) user(h handlerFunc) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		actor, err := a.authenticate(r)
		if err != nil {
			a.logError(r, err)
			writeError(w, err)
			return
		}
		a.serve(w, r, actor, h)
	})
}

func (a *API) authenticate(r *http.Request) (chat.Actor, error) {
	tok, ok := bearer(r)
	if !ok {
		return chat.Actor{}, chat.Errorf(chat.CodeUnauthorized, "missing access token: send Authorization: Bearer <token>")
	}
	dev := chat.DeviceID(r.Header.Get("X-Seen-Device"))
	if dev == "" {
		dev = DefaultDevice
	}
	if err := chat.CheckDevice(dev); err != nil {
		return chat.Actor{}, err
	}
	u, err := a.svc.Authenticate(r.Context(), tok)
	if err != nil {
		return chat.Actor{}, err
	}
	return chat.Actor{User: u.ID, Name: u.Name, Device: dev}, nil
}

// admin serves h as chat.AdminActor when the request carries the admin
// token. Without a configured token the admin API is off.
func (a *API) admin(h handlerFunc) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if err := a.checkAdmin(r); err != nil {
			a.logError(r, err)
			writeError(w, err)
			return
		}
		a.serve(w, r, chat.AdminActor, h)
	})
}

func (a *API) checkAdmin(r *http.Request) error {
	if a.cfg.AdminToken == "" {
		return chat.Errorf(chat.CodePermissionDenied, "the admin API is disabled: start seen with --admin-token")
	}
	if _, ok := bearer(r); !ok {
		return chat.Errorf(chat.CodeUnauthorized, "missing admin token: send Authorization: Bearer <admin token>")
	}
	if !a.isAdmin(r) {
		return chat.Errorf(chat.CodeUnauthorized, "wrong admin token")
	}
	return nil
}

// BearerCheck returns a check that a request bears secret in an
// "Authorization: Bearer <token>" header (the admin API's, and the
// server's for /metrics). It compares SHA-256 digests in constant time,
// so neither the content nor the length of secret leaks through timing.
// An empty secret matches nothing.
func BearerCheck(secret string) func(r *http.Request) bool {
	want := sha256.Sum256([]byte(secret))
	return func(r *http.Request) bool {
		tok, ok := bearer(r)
		if !ok || secret == "" {
			return false
		}
		got := sha256.Sum256([]byte(tok))
		return subtle.ConstantTimeCompare(got[:], want[:]) == 1
	}
}

// bearer returns the token of an "Authorization: Bearer <token>" header.
func bearer(r *http.Request) (string, bool) {
	scheme, tok, ok := strings.Cut(r.Header.Get("Authorization"), " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") {
		return "", false
	}
	tok = strings.TrimSpace(tok)
	return tok, tok != ""
}
