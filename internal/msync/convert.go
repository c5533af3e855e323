package msync

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"sort"
	"strings"
	"time"

	"google.golang.org/protobuf/proto"

	"seen/internal/chat"
	"seen/internal/msync/pb"
)

// The JID domains of the vendor's protocol: constants whatever the
// server's host. A JID is a group when its domain contains "conference",
// as the SDK tests it.
const (
	userDomain  = "easemob.com"
	groupDomain = "conference.easemob.com"
)

// isGroupJID reports whether j names a group.
func isGroupJID(j *pb.JID) bool { return strings.Contains(j.GetDomain(), "conference") }

// jid returns the JID of a user or group name in app key k.
func jid(k, name, domain string) *pb.JID {
	return &pb.JID{AppKey: proto.String(k), Name: proto.String(name), Domain: proto.String(domain)}
}

// unixMs is t in Unix milliseconds, as the vendor's timestamps are.
func unixMs(t time.Time) uint64 { return uint64(max(t.UnixMilli(), 0)) }

// messageMeta converts a message of the user's stream into the meta a
// pull returns: a CHAT meta whose id is the server id. Receipts become
// READ_ACK, DELIVER_ACK and CHANNEL_ACK bodies naming the message
// acknowledged.
func messageMeta(appKey string, m *chat.Message) (*pb.Meta, error) {
	from := m.FromName
	to, toDomain := m.ToName, userDomain
	if m.ChatType == chat.GroupChat {
		to, toDomain = m.Group.String(), groupDomain
	}
	body := &pb.MessageBody{
		From: &pb.JID{Name: proto.String(from)},
		To:   &pb.JID{Name: proto.String(to)},
	}
	switch m.Type {
	case chat.TypeText, chat.TypeCustom:
		body.Type = pb.MessageBody_CHAT.Enum()
		if m.ChatType == chat.GroupChat {
			body.Type = pb.MessageBody_GROUPCHAT.Enum()
		}
		c, err := content(m)
		if err != nil {
			return nil, err
		}
		body.Contents = []*pb.MessageBody_Content{c}
		if m.AllowGroupAck && m.ChatType == chat.GroupChat {
			body.MsgConfig = &pb.MessageBody_MessageConfig{AllowGroupAck: proto.Bool(true)}
		}
	case chat.TypeRead:
		body.Type = pb.MessageBody_READ_ACK.Enum()
		body.AckMessageId = proto.Uint64(uint64(m.AckMsg))
	case chat.TypeDelivery:
		body.Type = pb.MessageBody_DELIVER_ACK.Enum()
		body.AckMessageId = proto.Uint64(uint64(m.AckMsg))
	case chat.TypeChannel:
		body.Type = pb.MessageBody_CHANNEL_ACK.Enum()
	default:
		return nil, fmt.Errorf("message %s: type %q has no msync form", m.ID, m.Type)
	}
	ext, err := keyValues(m.Ext)
	if err != nil {
		return nil, fmt.Errorf("message %s ext: %w", m.ID, err)
	}
	body.Ext = ext
	payload, err := proto.Marshal(body)
	if err != nil {
		return nil, fmt.Errorf("encode message %s: %w", m.ID, err)
	}
	return &pb.Meta{
		Id:        proto.Uint64(uint64(m.ID)),
		From:      jid(appKey, from, userDomain),
		To:        jid(appKey, to, toDomain),
		Timestamp: proto.Uint64(unixMs(m.SentAt)),
		Ns:        pb.Meta_CHAT.Enum(),
		Payload:   payload,
	}, nil
}

// content is the one content of a text or custom message. A TEXT content
// never carries a subType: an explicit 0 makes the SDK read it as a
// combined message.
func content(m *chat.Message) (*pb.MessageBody_Content, error) {
	if m.Type == chat.TypeText {
		return &pb.MessageBody_Content{Type: pb.MessageBody_Content_TEXT.Enum(), Text: proto.String(m.Text)}, nil
	}
	exts, err := keyValues(m.CustomExts)
	if err != nil {
		return nil, fmt.Errorf("message %s customExts: %w", m.ID, err)
	}
	return &pb.MessageBody_Content{
		Type: pb.MessageBody_Content_CUSTOM.Enum(), CustomEvent: proto.String(m.CustomEvent), CustomExts: exts,
	}, nil
}

// readAckMeta is the live read-count push to a message's sender: a
// READ_ACK whose ext[0] is the JSON {"<mid>": count} the SDK turns into
// groupReadCount. id must be fresh: the SDK drops a meta whose id it saw
// among its last 100.
func readAckMeta(appKey string, id uint64, p *chat.ReceiptPush) (*pb.Meta, error) {
	counts, err := json.Marshal(map[string]int{p.Msg.String(): p.Count})
	if err != nil {
		return nil, err
	}
	body := &pb.MessageBody{
		Type:         pb.MessageBody_READ_ACK.Enum(),
		From:         &pb.JID{Name: proto.String(p.Reader)},
		To:           &pb.JID{Name: proto.String(p.Group.String())},
		AckMessageId: proto.Uint64(uint64(p.Msg)),
		AckContent:   proto.String(p.AckContent),
		MsgConfig:    &pb.MessageBody_MessageConfig{AllowGroupAck: proto.Bool(true)},
		Ext: []*pb.KeyValue{{
			Key: proto.String("group_read_count"), Type: pb.KeyValue_JSON_STRING.Enum(),
			Value: &pb.KeyValue_StringValue{StringValue: string(counts)},
		}},
	}
	payload, err := proto.Marshal(body)
	if err != nil {
		return nil, fmt.Errorf("encode read count of %s: %w", p.Msg, err)
	}
	return &pb.Meta{
		Id:        proto.Uint64(id),
		From:      jid(appKey, p.Reader, userDomain),
		To:        jid(appKey, p.Group.String(), groupDomain),
		Timestamp: proto.Uint64(uint64(max(p.At, 0))),
		Ns:        pb.Meta_CHAT.Enum(),
		Payload:   payload,
	}, nil
}

// groupAck is one entry of the offline read counts (StatisticsBody
// location {"group_ack": [...]}), as docs/easemob-compat.md documents it.
// Ids are strings: JavaScript numbers lose precision above 2^53.
type groupAck struct {
	Mid        string `json:"mid"`
	GroupID    string `json:"groupId"`
	Count      int    `json:"count"`
	From       string `json:"from"`
	AckContent string `json:"ackContent"`
	Timestamp  int64  `json:"timestamp"`
}

// statisticMeta is the STATISTIC meta of the offline read counts: the
// SDK hands its decoded StatisticsBody to onStatisticMessage.
func statisticMeta(id uint64, now time.Time, from *pb.JID, cs []chat.ReceiptCount) (*pb.Meta, error) {
	entries := make([]groupAck, len(cs))
	for i, c := range cs {
		entries[i] = groupAck{
			Mid: c.Msg.String(), GroupID: c.Group.String(), Count: c.Count, From: c.LastName,
			AckContent: c.LastContent, Timestamp: int64(unixMs(c.LastAt)),
		}
	}
	loc, err := json.Marshal(map[string][]groupAck{"group_ack": entries})
	if err != nil {
		return nil, err
	}
	return statsMeta(id, now, from, &pb.StatisticsBody{
		Operation: pb.StatisticsBody_INFORMATION.Enum(), Location: proto.String(string(loc)),
	})
}

// statsMeta wraps a StatisticsBody in a STATISTIC meta from the JID
// from, the user's own: agora-chat reads Meta.from.name of every pulled
// meta unguarded (a meta without from throws, and is lost), easemob
// reads it when set.
func statsMeta(id uint64, now time.Time, from *pb.JID, b *pb.StatisticsBody) (*pb.Meta, error) {
	payload, err := proto.Marshal(b)
	if err != nil {
		return nil, fmt.Errorf("encode statistics: %w", err)
	}
	return &pb.Meta{
		Id: proto.Uint64(id), From: from, Timestamp: proto.Uint64(unixMs(now)), Ns: pb.Meta_STATISTIC.Enum(), Payload: payload,
	}, nil
}

// keyValues converts an app-defined JSON object (ext, customExts) into
// the vendor's KeyValue list, keys sorted: strings as STRING, booleans
// as BOOL, integers as INT, other numbers as DOUBLE, objects, arrays and
// null as JSON_STRING. The SDK decodes each back to the same JSON value.
func keyValues(raw json.RawMessage) ([]*pb.KeyValue, error) {
	if len(bytes.TrimSpace(raw)) == 0 || bytes.Equal(bytes.TrimSpace(raw), []byte("null")) {
		return nil, nil
	}
	var obj map[string]json.RawMessage
	if err := json.Unmarshal(raw, &obj); err != nil {
		return nil, fmt.Errorf("not a JSON object: %w", err)
	}
	keys := make([]string, 0, len(obj))
	for k := range obj {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	kvs := make([]*pb.KeyValue, 0, len(keys))
	for _, k := range keys {
		kvs = append(kvs, keyValue(k, obj[k]))
	}
	return kvs, nil
}

// keyValue converts one JSON value.
func keyValue(k string, v json.RawMessage) *pb.KeyValue {
	kv := &pb.KeyValue{Key: proto.String(k)}
	var b bool
	var s string
	var n json.Number
	switch {
	case json.Unmarshal(v, &b) == nil:
		kv.Type = pb.KeyValue_BOOL.Enum()
		kv.Value = &pb.KeyValue_VarintValue{VarintValue: map[bool]int64{false: 0, true: 1}[b]}
	case json.Unmarshal(v, &s) == nil:
		kv.Type = pb.KeyValue_STRING.Enum()
		kv.Value = &pb.KeyValue_StringValue{StringValue: s}
	case json.Unmarshal(v, &n) == nil && isInt(n):
		i, _ := n.Int64()
		kv.Type = pb.KeyValue_INT.Enum()
		kv.Value = &pb.KeyValue_VarintValue{VarintValue: i}
	case json.Unmarshal(v, &n) == nil:
		f, _ := n.Float64()
		kv.Type = pb.KeyValue_DOUBLE.Enum()
		kv.Value = &pb.KeyValue_DoubleValue{DoubleValue: f}
	default:
		kv.Type = pb.KeyValue_JSON_STRING.Enum()
		kv.Value = &pb.KeyValue_StringValue{StringValue: string(v)}
	}
	return kv
}

// isInt reports whether n is an integer that fits an int64.
func isInt(n json.Number) bool {
	_, err := n.Int64()
	return err == nil
}

// extJSON converts a KeyValue list from the SDK into a JSON object, as
// the SDK itself reads one (JSON_STRING parsed, BOOL from the varint).
// An empty list is no object at all.
func extJSON(kvs []*pb.KeyValue) (json.RawMessage, error) {
	if len(kvs) == 0 {
		return nil, nil
	}
	obj := make(map[string]any, len(kvs))
	for _, kv := range kvs {
		v, err := kvValue(kv)
		if err != nil {
			return nil, fmt.Errorf("ext %q: %w", kv.GetKey(), err)
		}
		obj[kv.GetKey()] = v
	}
	b, err := json.Marshal(obj)
	return b, err
}

// kvValue is the JSON value of one KeyValue.
func kvValue(kv *pb.KeyValue) (any, error) {
	switch kv.GetType() {
	case pb.KeyValue_JSON_STRING:
		var v any
		if err := json.Unmarshal([]byte(kv.GetStringValue()), &v); err != nil {
			return nil, fmt.Errorf("JSON_STRING is not JSON: %w", err)
		}
		return v, nil
	case pb.KeyValue_STRING:
		return kv.GetStringValue(), nil
	case pb.KeyValue_BOOL:
		return kv.GetVarintValue() != 0, nil
	case pb.KeyValue_INT, pb.KeyValue_UINT, pb.KeyValue_LLINT:
		return kv.GetVarintValue(), nil
	case pb.KeyValue_FLOAT:
		return finite(float64(kv.GetFloatValue()))
	case pb.KeyValue_DOUBLE:
		return finite(kv.GetDoubleValue())
	}
	return nil, fmt.Errorf("value type %d is unknown", kv.GetType())
}

// finite refuses the floats JSON cannot hold.
func finite(f float64) (any, error) {
	if math.IsNaN(f) || math.IsInf(f, 0) {
		return nil, fmt.Errorf("%v is not a JSON number", f)
	}
	return f, nil
}

// MessageMeta is the encoded meta of m, as a pull returns it: for the
// REST message roaming of the vendor SDK (internal/emrest), which
// carries each message as the base64 of this protobuf.
func MessageMeta(appKey string, m *chat.Message) ([]byte, error) {
	meta, err := messageMeta(appKey, m)
	if err != nil {
		return nil, err
	}
	return proto.Marshal(meta)
}
