package emrest

import (
	"net/http"
	"time"

	"seen/internal/chat"
)

// userEntity is the vendor's user object.
type userEntity struct {
	Type      string `json:"type"`
	Username  string `json:"username"`
	Activated bool   `json:"activated"`
	Created   int64  `json:"created,omitempty"`
}

func entity(u chat.User) userEntity {
	e := userEntity{Type: "user", Username: u.Name, Activated: true}
	if !u.CreatedAt.IsZero() {
		e.Created = u.CreatedAt.UnixMilli()
	}
	return e
}

// registerRequest is registerUser's body; nickname is accepted and not
// kept (seen has no nicknames).
type registerRequest struct {
	Username string `json:"username"`
	Password string `json:"password"`
	Nickname string `json:"nickname"`
}

// registerReply is the vendor's RegisterUserResult.
type registerReply struct {
	Action    string       `json:"action"`
	Path      string       `json:"path"`
	Entities  []userEntity `json:"entities"`
	Timestamp int64        `json:"timestamp"`
}

// register: POST /{org}/{app}/users {username, password, nickname} ->
// {entities: [user]}; open registration only, under the registration
// limit of seen's own API.
func (h *Handler) register(r *http.Request, _ chat.Actor) (any, error) {
	if err := h.guard.CheckRegister(r); err != nil {
		return nil, err
	}
	var req registerRequest
	if err := decode(r, &req); err != nil {
		return nil, err
	}
	u, err := h.svc.Register(r.Context(), chat.Credentials{Username: req.Username, Password: req.Password})
	if err != nil {
		return nil, err
	}
	return registerReply{Action: "post", Path: "/users", Entities: []userEntity{entity(u)}, Timestamp: now()}, nil
}

// tokenRequest is the password grant the SDK's open() sends.
type tokenRequest struct {
	GrantType string `json:"grant_type"`
	Username  string `json:"username"`
	Password  string `json:"password"`
	Timestamp int64  `json:"timestamp"`
}

// tokenReply carries expires_in in seconds from now: the SDK hands it to
// the app as the duration of the token.
type tokenReply struct {
	AccessToken string     `json:"access_token"`
	ExpiresIn   int64      `json:"expires_in"`
	User        userEntity `json:"user"`
}

// token: POST /{org}/{app}/token {grant_type: "password", username,
// password} -> {access_token, expires_in, user}, under the login limits
// of seen's own API. Other grants are refused (seen has no app tokens).
func (h *Handler) token(r *http.Request, _ chat.Actor) (any, error) {
	var req tokenRequest
	if err := decode(r, &req); err != nil {
		return nil, err
	}
	if req.GrantType != "password" {
		return nil, chat.Errorf(chat.CodeBadRequest, "grant_type %q is not supported: use password (log in with a user's password, or open the connection with an access token)", req.GrantType)
	}
	done, err := h.guard.StartLogin(r, req.Username)
	if err != nil {
		return nil, err
	}
	g, err := h.svc.Login(r.Context(), chat.Credentials{Username: req.Username, Password: req.Password})
	done(err)
	if err != nil {
		return nil, err
	}
	return tokenReply{
		AccessToken: g.Token,
		ExpiresIn:   int64(time.Until(g.ExpiresAt).Round(time.Second) / time.Second),
		User:        entity(g.User),
	}, nil
}

// passwordRequest changes the caller's own password.
type passwordRequest struct {
	OldPassword string `json:"oldpassword"`
	NewPassword string `json:"newpassword"`
}

// changePassword: PUT /{org}/{app}/users/{me}/password {oldpassword,
// newpassword} -> {action: "set user password"}. Only for the caller's own
// account; every token of the user is revoked, which ends its sessions
// (the WebSocket endpoints notice and close them).
func (h *Handler) changePassword(r *http.Request, actor chat.Actor) (any, error) {
	if err := h.self(r, actor); err != nil {
		return nil, err
	}
	var req passwordRequest
	if err := decode(r, &req); err != nil {
		return nil, err
	}
	if err := h.svc.ChangePassword(r.Context(), actor, req.OldPassword, req.NewPassword); err != nil {
		return nil, err
	}
	return map[string]any{"action": "set user password", "timestamp": now()}, nil
}

// self refuses a call on another user's {username}.
func (h *Handler) self(r *http.Request, actor chat.Actor) error {
	name, err := chat.NormalizeName(r.PathValue("username"))
	if err != nil || name != actor.Name {
		return chat.Errorf(chat.CodePermissionDenied, "a user may only do this for their own account (%s)", actor.Name)
	}
	return nil
}
