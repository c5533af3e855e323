package httpapi

import (
	"net/http"

	"seen/internal/chat"
	"seen/internal/protocol"
	"seen/internal/wire"
)

// ackReceipts: POST /api/v1/groups/{groupId}/receipts
// {"items": [{msgId, ackContent}]} -> {"results": [...]}, one per item.
func (a *API) ackReceipts(r *http.Request, actor chat.Actor) (int, any, error) {
	gid, err := groupID(r)
	if err != nil {
		return 0, nil, err
	}
	var req ackRequest
	if err := decode(r, &req); err != nil {
		return 0, nil, err
	}
	items, err := wire.AckItems(req.Items)
	if err != nil {
		return 0, nil, err
	}
	rs, err := a.svc.Ack(r.Context(), actor, gid, items)
	if err != nil {
		return 0, nil, err
	}
	return http.StatusOK, wire.ReceiptAckReply(req.Items, rs), nil
}

// readers: GET /api/v1/groups/{groupId}/messages/{msgId}/readers?cursor&limit&order
// -> {"total", "users": [{username, time, ackContent}], "cursor", "isLast"};
// order is asc (oldest read first, the default) or desc.
func (a *API) readers(r *http.Request, actor chat.Actor) (int, any, error) {
	gid, id, limit, err := receiptTarget(r)
	if err != nil {
		return 0, nil, err
	}
	order, err := chat.ParseOrder(r.URL.Query().Get("order"))
	if err != nil {
		return 0, nil, err
	}
	p, err := a.svc.Readers(r.Context(), actor, gid, id, order, r.URL.Query().Get("cursor"), limit)
	if err != nil {
		return 0, nil, err
	}
	return http.StatusOK, wire.ReadersReply(p), nil
}

// unread: GET /api/v1/groups/{groupId}/messages/{msgId}/unread?cursor&limit
// -> {"total", "users": [username], "cursor", "isLast"}.
func (a *API) unread(r *http.Request, actor chat.Actor) (int, any, error) {
	gid, id, limit, err := receiptTarget(r)
	if err != nil {
		return 0, nil, err
	}
	p, err := a.svc.Unread(r.Context(), actor, gid, id, r.URL.Query().Get("cursor"), limit)
	if err != nil {
		return 0, nil, err
	}
	return http.StatusOK, wire.UnreadReply(p), nil
}

func receiptTarget(r *http.Request) (chat.GroupID, chat.MsgID, int, error) {
	gid, err := groupID(r)
	if err != nil {
		return 0, 0, 0, err
	}
	id, err := msgID(r)
	if err != nil {
		return 0, 0, 0, err
	}
	limit, err := queryInt(r, "limit")
	return gid, id, limit, err
}

// readCounts: GET /api/v1/groups/{groupId}/receipts/counts?msgIds=1,2&withUnread=true
// -> {"counts": {"<msgId>": n}, "unread"?: {"<msgId>": n}}.
func (a *API) readCounts(r *http.Request, actor chat.Actor) (int, any, error) {
	gid, err := groupID(r)
	if err != nil {
		return 0, nil, err
	}
	ids, err := msgIDs(r.URL.Query().Get("msgIds"))
	if err != nil {
		return 0, nil, err
	}
	withUnread, err := queryBool(r, "withUnread")
	if err != nil {
		return 0, nil, err
	}
	cs, err := a.svc.ReadCounts(r.Context(), actor, gid, ids, withUnread)
	if err != nil {
		return 0, nil, err
	}
	return http.StatusOK, wire.ReceiptCountsReply(cs), nil
}

// receiptStats: GET /api/v1/receipts/stats?ack&limit -> {"entries", "next",
// "more"} for the device named by X-Seen-Device.
func (a *API) receiptStats(r *http.Request, actor chat.Actor) (int, any, error) {
	ack, limit, err := streamQuery(r)
	if err != nil {
		return 0, nil, err
	}
	p, err := a.svc.ReceiptStats(r.Context(), actor, ack, limit)
	if err != nil {
		return 0, nil, err
	}
	return http.StatusOK, wire.StatsReply(p), nil
}

// peerRead: POST /api/v1/receipts/read {to, msgId} -> 204: tells the
// single-chat peer that sent msgId that it was read.
func (a *API) peerRead(r *http.Request, actor chat.Actor) (int, any, error) {
	return a.peerReceipt(r, actor, chat.EventPeerRead)
}

// peerDelivered: POST /api/v1/receipts/delivered {to, msgId} -> 204.
func (a *API) peerDelivered(r *http.Request, actor chat.Actor) (int, any, error) {
	return a.peerReceipt(r, actor, chat.EventDelivered)
}

func (a *API) peerReceipt(r *http.Request, actor chat.Actor, kind chat.EventKind) (int, any, error) {
	var req protocol.PeerAck
	if err := decode(r, &req); err != nil {
		return 0, nil, err
	}
	if err := required("to", req.To); err != nil {
		return 0, nil, err
	}
	id, err := chat.ParseMsgID(req.MsgID)
	if err != nil {
		return 0, nil, err
	}
	if err := a.svc.PeerReceipt(r.Context(), actor, kind, req.To, id); err != nil {
		return 0, nil, err
	}
	return http.StatusNoContent, nil, nil
}
