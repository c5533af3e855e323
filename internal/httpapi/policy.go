package httpapi

import (
	"net/http"

	"seen/internal/chat"
	"seen/internal/protocol"
	"seen/internal/wire"
)

// receiptPolicy: GET /api/v1/groups/{groupId}/receipts/policy ->
// {"request", "visibility", "lists"}: the group's effective receipt policy.
func (a *API) receiptPolicy(r *http.Request, actor chat.Actor) (int, any, error) {
	gid, err := groupID(r)
	if err != nil {
		return 0, nil, err
	}
	p, err := a.svc.ReceiptPolicy(r.Context(), actor, gid)
	if err != nil {
		return 0, nil, err
	}
	return http.StatusOK, wire.Policy(p), nil
}

// setReceiptPolicy: PUT /api/v1/groups/{groupId}/receipts/policy
// {"request"?, "visibility"?, "lists"?} -> the effective policy. Fields
// absent (or null) keep their value.
func (a *API) setReceiptPolicy(r *http.Request, actor chat.Actor) (int, any, error) {
	gid, err := groupID(r)
	if err != nil {
		return 0, nil, err
	}
	var req policyRequest
	if err := decode(r, &req); err != nil {
		return 0, nil, err
	}
	p, err := a.svc.SetReceiptPolicy(r.Context(), actor, gid, wire.PolicyUpdate(protocol.SetPolicy{Request: req.Request, Visibility: req.Visibility, Lists: req.Lists}))
	if err != nil {
		return 0, nil, err
	}
	return http.StatusOK, wire.Policy(p), nil
}

// settings: GET /api/v1/me/settings -> {"sendReadReceipts"}.
func (a *API) settings(r *http.Request, actor chat.Actor) (int, any, error) {
	s, err := a.svc.Settings(r.Context(), actor)
	if err != nil {
		return 0, nil, err
	}
	return http.StatusOK, wire.Settings(s), nil
}

// setSettings: PUT /api/v1/me/settings {"sendReadReceipts"?} -> the
// settings.
func (a *API) setSettings(r *http.Request, actor chat.Actor) (int, any, error) {
	var req protocol.SetSettings
	if err := decode(r, &req); err != nil {
		return 0, nil, err
	}
	s, err := a.svc.SetSettings(r.Context(), actor, wire.SettingsUpdate(req))
	if err != nil {
		return 0, nil, err
	}
	return http.StatusOK, wire.Settings(s), nil
}
