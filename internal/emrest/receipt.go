package emrest

import (
	"net/http"

	"seen/internal/chat"
)

// readUsers is the vendor's GetGroupMsgReadUserResult. users is seen's
// addition (each reader's read time and ackContent), as in seen's SDK.
type readUsers struct {
	AckMid    string       `json:"ackmid"`
	IsLast    bool         `json:"is_last"`
	NextKey   string       `json:"next_key"`
	Timestamp int64        `json:"timestamp"`
	Total     int          `json:"total"`
	UserList  []string     `json:"userlist"`
	Users     []readerJSON `json:"users"`
}

type readerJSON struct {
	Username   string `json:"username"`
	Time       int64  `json:"time"`
	AckContent string `json:"ackContent,omitempty"`
}

// readers: GET /{org}/{app}/chatgroups/{gid}/acks/{msgId}?limit&key ->
// {data: {ackmid, is_last, next_key, timestamp, total, userlist}}: who has
// read a receipt-requesting message, oldest read first, for its sender
// and the group's owner and admins (chat decides). key is next_key of the
// previous page; the web SDK always sends key=undefined (the first page).
func (h *Handler) readers(r *http.Request, actor chat.Actor) (any, error) {
	gid, err := groupID(r)
	if err != nil {
		return nil, err
	}
	id, err := chat.ParseMsgID(r.PathValue("msgId"))
	if err != nil {
		return nil, err
	}
	limit, err := queryInt(r, "limit")
	if err != nil {
		return nil, err
	}
	p, err := h.svc.Readers(r.Context(), actor, gid, id, chat.OldestFirst, query(r, "key"), limit)
	if err != nil {
		return nil, err
	}
	out := readUsers{AckMid: id.String(), IsLast: p.Next == "", NextKey: p.Next, Timestamp: now(), Total: p.Total,
		UserList: make([]string, len(p.Readers)), Users: make([]readerJSON, len(p.Readers))}
	for i, rd := range p.Readers {
		out.UserList[i] = rd.Name
		out.Users[i] = readerJSON{Username: rd.Name, Time: rd.At.UnixMilli(), AckContent: rd.Content}
	}
	return dataReply{Data: out}, nil
}
