package httpapi

import (
	"bytes"
	"io"
	"net/http"

	"seen/internal/chat"
	"seen/internal/wire"
)

// remind: POST /api/v1/groups/{groupId}/messages/{msgId}/remind
// {"users"?: [username]} (and the admin twin, on behalf of the
// administrator) -> {"reminded", "skipped", "at", "nextAt"}. No body, or
// no "users", reminds every eligible member who has not read the message.
func (a *API) remind(r *http.Request, actor chat.Actor) (int, any, error) {
	gid, err := groupID(r)
	if err != nil {
		return 0, nil, err
	}
	id, err := msgID(r)
	if err != nil {
		return 0, nil, err
	}
	var req remindRequest
	if err := decodeRemind(r, &req); err != nil {
		return 0, nil, err
	}
	users, err := wire.RemindUsers(req.Users)
	if err != nil {
		return 0, nil, err
	}
	res, err := a.svc.Remind(r.Context(), actor, gid, id, users)
	if err != nil {
		return 0, nil, err
	}
	return http.StatusOK, wire.RemindReply(res), nil
}

// decodeRemind decodes remind's optional body. An empty body, with
// whatever Content-Type (clients send application/json with no body), is
// no "users": everyone unread is reminded. A body that is present is
// decoded strictly.
func decodeRemind(r *http.Request, req *remindRequest) error {
	raw, err := io.ReadAll(r.Body)
	if err != nil {
		return decodeError(err)
	}
	if len(raw) == 0 {
		return nil
	}
	r.Body = io.NopCloser(bytes.NewReader(raw))
	return decode(r, req)
}
