package bench

import (
	"bytes"
	"encoding/json"
	"strconv"

	"seen/internal/protocol"
)

// What a member of the load reads of the server's frames (readLoadFrame),
// with a fast path for the two frames every member gets per ack: the
// message push and the receipt.ack reply. It reads them by a byte scan in
// the shape seen's server (internal/ws's fast encoder) and the floor
// write; anything else is decoded with encoding/json. Decoding every frame twice with
// encoding/json was a third of the load's CPU, which shares the cores
// with the server it measures.

var (
	msgPushHead  = []byte(`{"push":"msg","data":{"id":"`)
	toKey        = []byte(`,"to":"`)
	allowAck     = []byte(`,"msgConfig":{"allowGroupAck":true}`)
	extKey       = []byte(`"ext":`)
	ackReplyHead = []byte(`{"id":"`)
	ackReplyMid  = []byte(`","ok":true,"data":{"results":[`)
	resultHead   = []byte(`{"msgId":"`)
)

// fastMsgPush reads a message push: its id, and whether it is to group
// and asks for group acks. ok is false when b is not a message push in
// the server's shape, or carries an ext (whose keys could mimic the
// scanned ones): decode it with encoding/json.
func fastMsgPush(b []byte, group string) (id string, forUs, ok bool) {
	rest, found := bytes.CutPrefix(b, msgPushHead)
	if !found || bytes.Contains(b, extKey) {
		return "", false, false
	}
	end := bytes.IndexByte(rest, '"')
	if end <= 0 || !plainDigits(rest[:end]) {
		return "", false, false
	}
	id = string(rest[:end])
	// No string value holds an unescaped quote, so the first `,"to":"`
	// after the id is the data's own "to".
	i := bytes.Index(rest[end:], toKey)
	if i < 0 {
		return "", false, false
	}
	to := rest[end+i+len(toKey):]
	j := bytes.IndexByte(to, '"')
	if j < 0 {
		return "", false, false
	}
	forUs = string(to[:j]) == group && bytes.Contains(to[j:], allowAck)
	return id, forUs, true
}

// msgPushData is what the load reads of a message push's data, with
// encoding/json.
type msgPushData struct {
	ID        string `json:"id"`
	To        string `json:"to"`
	MsgConfig *struct {
		AllowGroupAck bool `json:"allowGroupAck"`
	} `json:"msgConfig"`
}

// forGroup reports whether the message is to group and asks for acks.
func (m msgPushData) forGroup(group string) bool {
	return m.To == group && m.MsgConfig != nil && m.MsgConfig.AllowGroupAck
}

// fastAckResult is one result of a receipt.ack reply.
type fastAckResult struct {
	msgID   string
	counted bool
	count   int
	err     *protocol.Error // why it did not count, when the reply said
}

// loadFrame is what a member reads of a frame from the server: a message
// push to the benchmark's group that asks for acks (msgID), or a reply
// (replyID): refused, or with the results of its acks, or with data that
// did not decode (bad).
type loadFrame struct {
	msgID   string
	replyID string
	refused bool
	refusal *protocol.Error
	results []fastAckResult
	bad     error
}

// readLoadFrame reads b by the fast path (fastMsgPush, fastAckReply),
// else with encoding/json; results reuses rs's storage. ok is false for a
// frame the load ignores: not JSON, another push, a message to another
// group (other clusters may share the NATS server) or one that asks for
// no acks.
func readLoadFrame(b []byte, group string, rs []fastAckResult) (f loadFrame, ok bool) {
	if id, forUs, fast := fastMsgPush(b, group); fast {
		return loadFrame{msgID: id}, forUs
	}
	if id, results, fast := fastAckReply(b, rs); fast {
		return loadFrame{replyID: id, results: results}, true
	}
	reply, push, err := protocol.DecodeServerFrame(b)
	switch {
	case err != nil:
		return f, false
	case push != nil:
		var m msgPushData
		if push.Push != protocol.PushMsg || json.Unmarshal(push.Data, &m) != nil || !m.forGroup(group) {
			return f, false
		}
		return loadFrame{msgID: m.ID}, true
	case !reply.OK:
		return loadFrame{replyID: reply.ID, refused: true, refusal: reply.Error}, true
	}
	var r protocol.ReceiptAckReply
	if err := json.Unmarshal(reply.Data, &r); err != nil {
		return loadFrame{replyID: reply.ID, bad: err}, true
	}
	f = loadFrame{replyID: reply.ID, results: rs}
	for _, res := range r.Results {
		f.results = append(f.results, fastAckResult{res.MsgID, res.Counted, res.Count, res.Error})
	}
	return f, true
}

// fastAckReply reads a successful receipt.ack reply whose results have no
// error (the server's fast encoding): its id and results, appended to rs.
// ok is false for anything else: decode it with encoding/json.
func fastAckReply(b []byte, rs []fastAckResult) (id string, out []fastAckResult, ok bool) {
	rest, found := bytes.CutPrefix(b, ackReplyHead)
	if !found {
		return "", rs, false
	}
	end := bytes.IndexByte(rest, '"')
	if end <= 0 {
		return "", rs, false
	}
	id = string(rest[:end])
	if rest, found = bytes.CutPrefix(rest[end:], ackReplyMid); !found {
		return "", rs, false
	}
	for first := true; ; first = false {
		if tail, done := bytes.CutPrefix(rest, []byte(`]}}`)); done && len(tail) == 0 {
			return id, rs, true
		}
		if !first {
			if rest, found = bytes.CutPrefix(rest, []byte{','}); !found {
				return "", rs, false
			}
		}
		var r fastAckResult
		if r, rest, ok = fastResult(rest); !ok {
			return "", rs, false
		}
		rs = append(rs, r)
	}
}

// fastResult reads {"msgId":"…","ok":B,"counted":B[,"count":N]} off b.
func fastResult(b []byte) (r fastAckResult, rest []byte, ok bool) {
	b, found := bytes.CutPrefix(b, resultHead)
	if !found {
		return r, nil, false
	}
	end := bytes.IndexByte(b, '"')
	if end <= 0 || !plainDigits(b[:end]) {
		return r, nil, false
	}
	r.msgID = string(b[:end])
	b = b[end:]
	var okv bool
	switch {
	case bytes.HasPrefix(b, []byte(`","ok":true,"counted":`)):
		b, okv = b[len(`","ok":true,"counted":`):], true
	case bytes.HasPrefix(b, []byte(`","ok":false,"counted":`)):
		b = b[len(`","ok":false,"counted":`):]
	default:
		return r, nil, false
	}
	switch {
	case bytes.HasPrefix(b, []byte("true")):
		r.counted, b = true, b[4:]
	case bytes.HasPrefix(b, []byte("false")):
		b = b[5:]
	default:
		return r, nil, false
	}
	if !okv && r.counted {
		return r, nil, false
	}
	if after, found := bytes.CutPrefix(b, []byte(`,"count":`)); found {
		n := 0
		for n < len(after) && after[n] >= '0' && after[n] <= '9' {
			n++
		}
		c, err := strconv.Atoi(string(after[:n]))
		if err != nil {
			return r, nil, false
		}
		r.count, b = c, after[n:]
	}
	b, found = bytes.CutPrefix(b, []byte{'}'})
	return r, b, found
}

// plainDigits reports whether b is a decimal number (every id of seen's).
func plainDigits(b []byte) bool {
	for _, c := range b {
		if c < '0' || c > '9' {
			return false
		}
	}
	return len(b) > 0
}
