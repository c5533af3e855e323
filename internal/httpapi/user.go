package httpapi

import (
	"net/http"
	"time"

	"seen/internal/chat"
)

// register: POST /api/v1/users {username, password} -> 201 user; 429
// when the address has registered too often (Limits.RegisterPerAddr).
func (a *API) register(r *http.Request, _ chat.Actor) (int, any, error) {
	if err := a.checkRegister(a.clientAddr(r)); err != nil {
		return 0, nil, err
	}
	var req credentialsRequest
	if err := decode(r, &req); err != nil {
		return 0, nil, err
	}
	u, err := a.svc.Register(r.Context(), req.chat())
	if err != nil {
		return 0, nil, err
	}
	return http.StatusCreated, encodeUser(u), nil
}

// login: POST /api/v1/token {username, password} -> 200 token; 429 when
// the account or the address failed too often (Limits.LoginPerAccount,
// LoginPerAddr).
func (a *API) login(r *http.Request, _ chat.Actor) (int, any, error) {
	var req credentialsRequest
	if err := decode(r, &req); err != nil {
		return 0, nil, err
	}
	// Throttled before the password is checked, so a refused guess costs
	// no bcrypt and tells nothing.
	account, addr := accountKey(req.Username), a.clientAddr(r)
	if err := a.startLogin(account, addr); err != nil {
		return 0, nil, err
	}
	g, err := a.svc.Login(r.Context(), req.chat())
	a.loginDone(account, addr, err)
	if err != nil {
		return 0, nil, err
	}
	return http.StatusOK, tokenReply{
		AccessToken: g.Token,
		ExpiresIn:   int64(time.Until(g.ExpiresAt).Round(time.Second) / time.Second),
		User:        g.User.Name,
	}, nil
}

// logout: DELETE /api/v1/token revokes the bearer token -> 204.
func (a *API) logout(r *http.Request, _ chat.Actor) (int, any, error) {
	tok, _ := bearer(r) // present: user() authenticated it
	if err := a.svc.Logout(r.Context(), tok); err != nil {
		return 0, nil, err
	}
	return http.StatusNoContent, nil, nil
}

// changePassword: PUT /api/v1/me/password {oldPassword, newPassword} ->
// 204; every token of the user is revoked.
func (a *API) changePassword(r *http.Request, actor chat.Actor) (int, any, error) {
	var req passwordRequest
	if err := decode(r, &req); err != nil {
		return 0, nil, err
	}
	if err := a.svc.ChangePassword(r.Context(), actor, req.OldPassword, req.NewPassword); err != nil {
		return 0, nil, err
	}
	return http.StatusNoContent, nil, nil
}

// createUsers: POST /api/v1/admin/users [{username, password}...] -> 201
// {"users": [...]}, all or none.
func (a *API) createUsers(r *http.Request, actor chat.Actor) (int, any, error) {
	var req []credentialsRequest
	if err := decode(r, &req); err != nil {
		return 0, nil, err
	}
	cs := make([]chat.Credentials, len(req))
	for i, c := range req {
		cs[i] = c.chat()
	}
	us, err := a.svc.CreateUsers(r.Context(), actor, cs)
	if err != nil {
		return 0, nil, err
	}
	return http.StatusCreated, usersReply{Users: encodeUsers(us)}, nil
}

// listUsers: GET /api/v1/admin/users?after=&limit= -> {"users", "cursor"};
// cursor is the after of the next page, "" on the last.
func (a *API) listUsers(r *http.Request, actor chat.Actor) (int, any, error) {
	limit, err := queryInt(r, "limit")
	if err != nil {
		return 0, nil, err
	}
	p, err := a.svc.ListUsers(r.Context(), actor, r.URL.Query().Get("after"), limit)
	if err != nil {
		return 0, nil, err
	}
	return http.StatusOK, usersReply{Users: encodeUsers(p.Users), Cursor: p.Next}, nil
}

// resetPassword: PUT /api/v1/admin/users/{username}/password {password}
// -> 204; every token of the user is revoked.
func (a *API) resetPassword(r *http.Request, actor chat.Actor) (int, any, error) {
	var req resetPasswordRequest
	if err := decode(r, &req); err != nil {
		return 0, nil, err
	}
	if err := a.svc.ResetPassword(r.Context(), actor, r.PathValue("username"), req.Password); err != nil {
		return 0, nil, err
	}
	return http.StatusNoContent, nil, nil
}
