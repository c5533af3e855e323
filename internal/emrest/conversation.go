package emrest

import (
	"encoding/json"
	"fmt"
	"net/http"
	"slices"

	"seen/internal/chat"
)

// The JID domains of the vendor's protocol, constants whatever the
// server's host: the SDK tells a group conversation by "conference".
const (
	userDomain  = "@easemob.com"
	groupDomain = "@conference.easemob.com"
)

// channelInfo is one conversation of the vendor's conversation list.
type channelInfo struct {
	SessionTo           string    `json:"session_to"`
	SessionType         string    `json:"session_type"` // "chat" or "groupchat"
	UnreadNum           int       `json:"unread_num"`
	IsTop               bool      `json:"is_top"`
	UpdateTopStatusTime int64     `json:"update_top_status_time"`
	Meta                *metaJSON `json:"meta"`
}

// metaJSON is a message the way the conversation list carries it: the
// envelope, and the body as JSON text in payload (the SDK parses it).
type metaJSON struct {
	ID        string `json:"id"`
	Timestamp int64  `json:"timestamp"`
	From      string `json:"from"`
	To        string `json:"to"`
	Payload   string `json:"payload"`
}

// payloadJSON is the body of metaJSON.payload.
type payloadJSON struct {
	From      string          `json:"from"`
	To        string          `json:"to"`
	Type      string          `json:"type"` // "chat" or "groupchat"
	Bodies    []bodyJSON      `json:"bodies"`
	Ext       json.RawMessage `json:"ext,omitempty"`
	MsgConfig *msgConfigJSON  `json:"msgConfig,omitempty"`
}

type bodyJSON struct {
	Type        string           `json:"type"`
	Msg         string           `json:"msg,omitempty"`
	CustomEvent string           `json:"customEvent,omitempty"`
	CustomExts  []map[string]any `json:"customExts,omitempty"`
}

type msgConfigJSON struct {
	AllowGroupAck bool `json:"allowGroupAck"`
}

// conversationsReply is getServerConversations' answer; cursor is ""
// on the last page.
type conversationsReply struct {
	Data struct {
		Cursor       string        `json:"cursor"`
		ChannelInfos []channelInfo `json:"channel_infos"`
	} `json:"data"`
}

// conversations: GET /{org}/{app}/sdk/user/{me}/user_channels/list?limit&cursor
// (getServerConversations), and the older GET /{org}/{app}/users/{me}/user_channels
// (getSessionList, the first page) -> {data: {cursor, channel_infos}}:
// newest activity first, with the unread count and the last message.
func (h *Handler) conversations(r *http.Request, actor chat.Actor) (any, error) {
	if err := h.self(r, actor); err != nil {
		return nil, err
	}
	limit, err := queryInt(r, "limit")
	if err != nil {
		return nil, err
	}
	p, err := h.svc.Conversations(r.Context(), actor, query(r, "cursor"), limit)
	if err != nil {
		return nil, err
	}
	return channels(p)
}

// maxConvChunk is the largest page of chat's Conversations.
const maxConvChunk = 100

// conversationsPage: GET /{org}/{app}/users/{me}/user_channels/page?pageNum&pageSize
// (getConversationlist with pages) -> the same as conversations, page
// pageNum (from 1) of pageSize, found by walking seen's cursor pages;
// pageNum*pageSize is at most maxPageRows.
func (h *Handler) conversationsPage(r *http.Request, actor chat.Actor) (any, error) {
	if err := h.self(r, actor); err != nil {
		return nil, err
	}
	pageNum, err := queryInt(r, "pageNum")
	if err != nil {
		return nil, err
	}
	size, err := queryInt(r, "pageSize")
	if err != nil {
		return nil, err
	}
	if pageNum < 1 || size < 1 || size > maxConvChunk {
		return nil, chat.Errorf(chat.CodeBadRequest, "pageNum must be at least 1 and pageSize 1-%d", maxConvChunk)
	}
	if err := checkPageDepth("pageNum", "pageSize", pageNum, size); err != nil {
		return nil, err
	}
	cursor, ok, err := skipRows((pageNum-1)*size, maxConvChunk, func(cursor string, limit int) (int, string, error) {
		p, err := h.svc.Conversations(r.Context(), actor, cursor, limit)
		return len(p.Conversations), p.Next, err
	})
	if err != nil {
		return nil, err
	}
	var p chat.ConvPage // empty past the last page
	if ok {
		if p, err = h.svc.Conversations(r.Context(), actor, cursor, size); err != nil {
			return nil, err
		}
	}
	return channels(p)
}

// channels converts a page of conversations.
func channels(p chat.ConvPage) (any, error) {
	var out conversationsReply
	out.Data.Cursor = p.Next
	out.Data.ChannelInfos = make([]channelInfo, 0, len(p.Conversations))
	for _, c := range p.Conversations {
		ci, err := channel(c)
		if err != nil {
			return nil, err
		}
		out.Data.ChannelInfos = append(out.Data.ChannelInfos, ci)
	}
	return out, nil
}

// channel converts one conversation.
func channel(c chat.Conversation) (channelInfo, error) {
	ci := channelInfo{SessionTo: c.PeerName, SessionType: "chat", UnreadNum: c.Unread}
	if c.ChatType == chat.GroupChat {
		ci.SessionTo, ci.SessionType = c.Group.String(), "groupchat"
	}
	if c.Last == nil {
		return ci, nil
	}
	m, err := messageJSON(c.Last)
	if err != nil {
		return channelInfo{}, err
	}
	ci.Meta = m
	return ci, nil
}

// messageJSON is m in the vendor's JSON message form.
func messageJSON(m *chat.Message) (*metaJSON, error) {
	p := payloadJSON{From: m.FromName, To: m.ToName, Type: "chat", Ext: m.Ext}
	to := m.ToName + userDomain
	if m.ChatType == chat.GroupChat {
		p.To, p.Type, to = m.Group.String(), "groupchat", m.Group.String()+groupDomain
	}
	if m.AllowGroupAck {
		p.MsgConfig = &msgConfigJSON{AllowGroupAck: true}
	}
	b := bodyJSON{Type: string(m.Type), Msg: m.Text}
	if m.Type == chat.TypeCustom {
		exts, err := customExts(m.CustomExts)
		if err != nil {
			return nil, err
		}
		b = bodyJSON{Type: "custom", CustomEvent: m.CustomEvent, CustomExts: exts}
	}
	p.Bodies = []bodyJSON{b}
	raw, err := json.Marshal(p)
	if err != nil {
		return nil, internal(fmt.Errorf("encode message %s: %w", m.ID, err))
	}
	return &metaJSON{ID: m.ID.String(), Timestamp: m.SentAt.UnixMilli(), From: m.FromName + userDomain, To: to, Payload: string(raw)}, nil
}

// customExts turns seen's customExts object into the vendor's list of
// one-key objects, in key order.
func customExts(raw json.RawMessage) ([]map[string]any, error) {
	if len(raw) == 0 {
		return nil, nil
	}
	var obj map[string]any
	if err := json.Unmarshal(raw, &obj); err != nil {
		return nil, internal(fmt.Errorf("stored customExts are not an object: %w", err))
	}
	keys := make([]string, 0, len(obj))
	for k := range obj {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	out := make([]map[string]any, len(keys))
	for i, k := range keys {
		out[i] = map[string]any{k: obj[k]}
	}
	return out, nil
}
