package webhook

import (
	"bytes"
	"crypto/hmac"
	"crypto/md5"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"strconv"

	"seen/internal/chat"
)

// Sign returns the signature header value of body sent at timestamp (Unix
// seconds, as sent in HeaderTimestamp): "v1=" and the hex HMAC-SHA256 of
// timestamp + "." + body, keyed with secret.
func Sign(secret, timestamp string, body []byte) string {
	m := hmac.New(sha256.New, []byte(secret))
	m.Write([]byte(timestamp))
	m.Write([]byte{'.'})
	m.Write(body)
	return "v1=" + hex.EncodeToString(m.Sum(nil))
}

// Verify reports whether signature is Sign(secret, timestamp, body), in
// constant time. Receivers also check that timestamp is recent.
func Verify(secret, timestamp string, body []byte, signature string) bool {
	return hmac.Equal([]byte(Sign(secret, timestamp, body)), []byte(signature))
}

// errPayload marks a row whose payload cannot be delivered in any attempt.
var errPayload = errors.New("malformed payload")

// seenEvent renders a row in the seen format: its payload, a JSON object
// as chat wrote it, with the row's id (a decimal string: ids are 64-bit)
// first. The payload is kept byte for byte, fields chat may add included.
func seenEvent(row chat.OutboxEvent) ([]byte, error) {
	p := bytes.TrimSpace(row.Payload)
	if len(p) < 2 || p[0] != '{' || !json.Valid(p) {
		return nil, errPayload
	}
	out := make([]byte, 0, len(p)+32)
	out = append(out, `{"id":"`...)
	out = strconv.AppendInt(out, row.ID, 10)
	out = append(out, '"')
	if rest := bytes.TrimSpace(p[1:]); rest[0] != '}' {
		out = append(out, ',')
	}
	return append(out, p[1:]...), nil
}

// seenBody joins rendered events into {"events":[...]}.
func seenBody(evs [][]byte) []byte {
	n := len(`{"events":[]}`)
	for _, e := range evs {
		n += len(e) + 1
	}
	b := make([]byte, 0, n)
	b = append(b, `{"events":[`...)
	for i, e := range evs {
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, e...)
	}
	return append(b, "]}"...)
}

// easemobCallback is Easemob's post-send callback object, as its group
// read_ack callback fills it.
type easemobCallback struct {
	CallID         string `json:"callId"`
	EventType      string `json:"eventType"`
	ChatType       string `json:"chat_type"`
	Security       string `json:"security"`
	ContentType    string `json:"content_type,omitempty"`
	Payload        any    `json:"payload"`
	Host           string `json:"host"`
	AppKey         string `json:"appkey"`
	From           string `json:"from"`
	To             string `json:"to"`
	MsgID          string `json:"msg_id"`
	Timestamp      int64  `json:"timestamp"`
	ChannelChannel string `json:"channel_channel,omitempty"`
	ChannelUser    string `json:"channel_user,omitempty"`
	WritedChannel  *bool  `json:"writed_channel,omitempty"`
}

// easemobReadAck is the payload of a read_ack callback.
type easemobReadAck struct {
	Ext          struct{}          `json:"ext"`
	AckMessageID string            `json:"ack_message_id"`
	MsgConfig    easemobMsgConfig  `json:"msg_config"`
	Type         string            `json:"type"`
	Seen         *easemobSeenExtra `json:"seen,omitempty"`
}

type easemobMsgConfig struct {
	AllowGroupAck bool `json:"allow_group_ack"`
}

// easemobSeenExtra carries what Easemob's callbacks have no field for, for
// the events Easemob does not have (threshold, remind), under "seen".
type easemobSeenExtra struct {
	Kind      chat.WebhookKind `json:"kind"`
	Sender    string           `json:"sender,omitempty"`
	Count     int              `json:"count"`
	Eligible  int              `json:"eligible"`
	Threshold int              `json:"threshold,omitempty"`
	By        string           `json:"by,omitempty"`
	ByAdmin   bool             `json:"byAdmin,omitempty"`
	Users     []string         `json:"users,omitempty"`
}

// easemobEvent renders a row in the Easemob format: a read is the group
// read_ack callback; a threshold or remind event, which Easemob has not,
// takes the same envelope with chat_type "seen_threshold" or
// "seen_remind" and its figures under payload.seen.
func easemobEvent(row chat.OutboxEvent, secret, appKey, host string) ([]byte, error) {
	var ev chat.WebhookEvent
	if err := json.Unmarshal(row.Payload, &ev); err != nil {
		return nil, errPayload
	}
	id := strconv.FormatInt(row.ID, 10)
	cb := easemobCallback{
		CallID:    appKey + "_" + id,
		EventType: "chat",
		Host:      host,
		AppKey:    appKey,
		To:        ev.Group.String(),
		MsgID:     id,
		Timestamp: ev.At,
	}
	p := easemobReadAck{AckMessageID: ev.Msg.String(), MsgConfig: easemobMsgConfig{AllowGroupAck: true}, Type: "read_ack"}
	switch ev.Kind {
	case chat.WebhookRead:
		no := false
		cb.ChatType, cb.ContentType, cb.From, cb.WritedChannel = "read_ack", "chat:ack:read", ev.Reader, &no
		cb.ChannelChannel = appKey + "_" + ev.Group.String() + "@conference.easemob.com"
		cb.ChannelUser = appKey + "_" + ev.Reader + "@easemob.com"
	case chat.WebhookThreshold:
		cb.ChatType, cb.From = "seen_threshold", ev.Sender
		p.Type = "seen_threshold"
		p.Seen = &easemobSeenExtra{Kind: ev.Kind, Sender: ev.Sender, Count: ev.Count, Eligible: ev.Eligible, Threshold: ev.Threshold}
	case chat.WebhookRemind:
		cb.ChatType, cb.From = "seen_remind", ev.By
		p.Type = "seen_remind"
		p.Seen = &easemobSeenExtra{Kind: ev.Kind, Sender: ev.Sender, Count: ev.Count, Eligible: ev.Eligible, By: ev.By, ByAdmin: ev.ByAdmin, Users: ev.Users}
	default:
		return nil, errPayload
	}
	cb.Payload = p
	// Easemob's security: MD5(callId + secret + timestamp).
	sum := md5.Sum([]byte(cb.CallID + secret + strconv.FormatInt(cb.Timestamp, 10)))
	cb.Security = hex.EncodeToString(sum[:])
	return json.Marshal(cb)
}
