package httpapi

import (
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
	if err := decodeOptional(r, &req); err != nil {
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
