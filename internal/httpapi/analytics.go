package httpapi

import (
	"net/http"

	"seen/internal/chat"
	"seen/internal/wire"
)

// analytics: GET /api/v1/groups/{groupId}/messages/{msgId}/analytics (and
// the admin twin) -> {"msgId", "sentAt", "eligible", "count", "unread",
// "to50", "to90", "toAll", "histogram"}: how fast the message was read.
func (a *API) analytics(r *http.Request, actor chat.Actor) (int, any, error) {
	gid, err := groupID(r)
	if err != nil {
		return 0, nil, err
	}
	id, err := msgID(r)
	if err != nil {
		return 0, nil, err
	}
	an, err := a.svc.ReadAnalytics(r.Context(), actor, gid, id)
	if err != nil {
		return 0, nil, err
	}
	return http.StatusOK, wire.AnalyticsReply(an), nil
}
