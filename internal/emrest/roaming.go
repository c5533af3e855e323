package emrest

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"

	"seen/internal/chat"
)

// roamingRequest is the body of getHistoryMessages (and the older
// fetchHistoryMessages, which sends no pull_number). start is -1 for the
// newest message, else the next_key of the previous page (a number or a
// string). msgType, end, startTime, endTime and userId (search filters)
// are not supported: a request that sets one is refused.
type roamingRequest struct {
	Queue      string          `json:"queue"`
	Start      json.RawMessage `json:"start"`
	PullNumber int             `json:"pull_number"`
	IsPositive bool            `json:"is_positive"`
	MsgType    string          `json:"msgType"`
	StartTime  *int64          `json:"startTime"`
	EndTime    *int64          `json:"endTime"`
	UserID     *string         `json:"userId"`
}

// query converts the request to seen's history query.
func (q roamingRequest) query() (chat.HistoryQuery, error) {
	hq := chat.HistoryQuery{Limit: q.PullNumber, Newer: q.IsPositive}
	switch name, ok := strings.CutSuffix(q.Queue, groupDomain); {
	case ok:
		hq.ChatType, hq.With = chat.GroupChat, name
	default:
		name, ok = strings.CutSuffix(q.Queue, userDomain)
		if !ok || name == "" {
			return chat.HistoryQuery{}, chat.Errorf(chat.CodeBadRequest, "queue %q is not <user>@easemob.com or <group id>@conference.easemob.com", q.Queue)
		}
		hq.ChatType, hq.With = chat.SingleChat, name
	}
	if q.MsgType != "" || q.StartTime != nil || q.EndTime != nil || q.UserID != nil && *q.UserID != "" {
		return chat.HistoryQuery{}, chat.Errorf(chat.CodeNotAllowed, "seen does not support searchOptions (msgTypes, startTime, endTime, from) in message roaming yet")
	}
	cursor, err := startCursor(q.Start)
	if err != nil {
		return chat.HistoryQuery{}, err
	}
	hq.Cursor = cursor
	return hq, nil
}

// startCursor reads start: absent, -1 or "" is the start; a string or a
// number is a cursor of seen's history.
func startCursor(raw json.RawMessage) (string, error) {
	if len(raw) == 0 || string(raw) == "null" {
		return "", nil
	}
	var s string
	if err := json.Unmarshal(raw, &s); err == nil {
		if s == "-1" {
			return "", nil
		}
		return s, nil
	}
	var n json.Number
	if err := json.Unmarshal(raw, &n); err != nil {
		return "", chat.Errorf(chat.CodeBadRequest, "start must be -1, or the next_key of the previous page")
	}
	if v, err := n.Int64(); err == nil && v == -1 {
		return "", nil
	}
	return n.String(), nil
}

// roamingReply is the answer: each message a base64 protobuf Meta.
type roamingReply struct {
	Data struct {
		Msgs    []roamingMsg `json:"msgs"`
		NextKey string       `json:"next_key"`
		IsLast  bool         `json:"is_last"`
	} `json:"data"`
}

type roamingMsg struct {
	Msg string `json:"msg"`
}

// roaming: POST /{org}/{app}/users/{me}/messageroaming {queue, start,
// pull_number, is_positive} -> {data: {msgs: [{msg: base64 Meta}], next_key,
// is_last}}: a page of one conversation's history, as seen's history
// (newest first, or oldest first when is_positive), each message encoded
// as the msync endpoint encodes it (Config.EncodeMessage).
func (h *Handler) roaming(r *http.Request, actor chat.Actor) (any, error) {
	if err := h.self(r, actor); err != nil {
		return nil, err
	}
	var req roamingRequest
	if err := decode(r, &req); err != nil {
		return nil, err
	}
	q, err := req.query()
	if err != nil {
		return nil, err
	}
	p, err := h.svc.History(r.Context(), actor, q)
	if err != nil {
		return nil, err
	}
	var out roamingReply
	out.Data.Msgs = make([]roamingMsg, 0, len(p.Messages))
	for i := range p.Messages {
		b, err := h.cfg.EncodeMessage(&p.Messages[i])
		if err != nil {
			return nil, internal(fmt.Errorf("encode message %s: %w", p.Messages[i].ID, err))
		}
		out.Data.Msgs = append(out.Data.Msgs, roamingMsg{Msg: base64.StdEncoding.EncodeToString(b)})
	}
	// The SDK passes next_key back verbatim as start.
	out.Data.NextKey, out.Data.IsLast = p.Cursor, p.IsLast
	return out, nil
}
