package httpapi

import (
	"net/http"

	"seen/internal/chat"
	"seen/internal/protocol"
	"seen/internal/wire"
)

// sendMessage: POST /api/v1/messages (the data of msg.send) ->
// {"localId", "id", "time", "seq"} once committed; a resend of the same
// localId gets the first message's reply and stores nothing.
func (a *API) sendMessage(r *http.Request, actor chat.Actor) (int, any, error) {
	var req protocol.Send
	if err := decode(r, &req); err != nil {
		return 0, nil, err
	}
	m, err := a.svc.Send(r.Context(), actor, wire.Outgoing(req))
	if err != nil {
		return 0, nil, err
	}
	return http.StatusOK, wire.SendReply(m), nil
}

// history: GET /api/v1/history?chatType&to&cursor&limit&direction ->
// {"messages", "cursor", "isLast"}.
func (a *API) history(r *http.Request, actor chat.Actor) (int, any, error) {
	q := r.URL.Query()
	limit, err := queryInt(r, "limit")
	if err != nil {
		return 0, nil, err
	}
	hq, err := wire.HistoryQuery(protocol.History{
		ChatType: q.Get("chatType"), To: q.Get("to"), Cursor: q.Get("cursor"), Limit: limit, Direction: q.Get("direction"),
	})
	if err != nil {
		return 0, nil, err
	}
	if err := required("to", hq.With); err != nil {
		return 0, nil, err
	}
	p, err := a.svc.History(r.Context(), actor, hq)
	if err != nil {
		return 0, nil, err
	}
	return http.StatusOK, wire.HistoryReply(p), nil
}

// conversations: GET /api/v1/conversations?cursor&limit ->
// {"conversations", "cursor"}.
func (a *API) conversations(r *http.Request, actor chat.Actor) (int, any, error) {
	limit, err := queryInt(r, "limit")
	if err != nil {
		return 0, nil, err
	}
	p, err := a.svc.Conversations(r.Context(), actor, r.URL.Query().Get("cursor"), limit)
	if err != nil {
		return 0, nil, err
	}
	return http.StatusOK, wire.ConvListReply(p), nil
}

// ackConversation: POST /api/v1/conversations/ack {chatType, to} ->
// {"receiptsCounted"}.
func (a *API) ackConversation(r *http.Request, actor chat.Actor) (int, any, error) {
	var req protocol.ConvAck
	if err := decode(r, &req); err != nil {
		return 0, nil, err
	}
	if err := required("to", req.To); err != nil {
		return 0, nil, err
	}
	n, err := a.svc.AckConversation(r.Context(), actor, chat.ChatType(req.ChatType), req.To)
	if err != nil {
		return 0, nil, err
	}
	return http.StatusOK, protocol.ConvAckReply{ReceiptsCounted: n}, nil
}

// sync: GET /api/v1/sync?ack&limit -> {"messages", "next", "more"} for the
// device named by X-Seen-Device.
func (a *API) sync(r *http.Request, actor chat.Actor) (int, any, error) {
	ack, limit, err := streamQuery(r)
	if err != nil {
		return 0, nil, err
	}
	p, err := a.svc.Sync(r.Context(), actor, ack, limit)
	if err != nil {
		return 0, nil, err
	}
	return http.StatusOK, wire.SyncReply(p), nil
}
