package httpapi

import (
	"net/http"
	"strconv"

	"seen/internal/chat"
)

// failedDeliveries: GET /api/v1/admin/webhooks/failed?cursor&limit ->
// {"deliveries": [...], "cursor"}: webhook events whose delivery failed
// for good, oldest first.
func (a *API) failedDeliveries(r *http.Request, actor chat.Actor) (int, any, error) {
	limit, err := queryInt(r, "limit")
	if err != nil {
		return 0, nil, err
	}
	evs, next, err := a.svc.FailedDeliveries(r.Context(), actor, r.URL.Query().Get("cursor"), limit)
	if err != nil {
		return 0, nil, err
	}
	return http.StatusOK, deliveriesReply{Deliveries: encodeDeliveries(evs), Cursor: next}, nil
}

// retryDeliveries: POST /api/v1/admin/webhooks/retry {"ids": [id]} or
// {"all": true} -> {"retried": n}: the failed deliveries are due again,
// with their attempts reset. One of ids and all is required, so that an
// empty body never retries everything by accident.
func (a *API) retryDeliveries(r *http.Request, actor chat.Actor) (int, any, error) {
	var req retryRequest
	if err := decode(r, &req); err != nil {
		return 0, nil, err
	}
	switch {
	case req.All && len(req.IDs) > 0:
		return 0, nil, chat.Errorf(chat.CodeBadRequest, "send either ids or all, not both")
	case !req.All && len(req.IDs) == 0:
		return 0, nil, chat.Errorf(chat.CodeBadRequest, `ids is required (the failed deliveries to retry), or "all": true`)
	}
	ids := make([]int64, len(req.IDs))
	for i, s := range req.IDs {
		n, err := strconv.ParseInt(s, 10, 64)
		if err != nil {
			return 0, nil, chat.Errorf(chat.CodeBadRequest, "ids[%d] = %q is not a delivery id", i, s)
		}
		ids[i] = n
	}
	n, err := a.svc.RetryDeliveries(r.Context(), actor, ids)
	if err != nil {
		return 0, nil, err
	}
	return http.StatusOK, retryReply{Retried: n}, nil
}
