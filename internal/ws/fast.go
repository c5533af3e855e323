package ws

import (
	"strconv"

	"seen/internal/protocol"
)

// The hot frames (receipt.ack, its reply) have a fast path beside the
// generic one (decodeRequest, decodeData, encoding/json): it takes only
// the plain form of these frames, and declines everything else, which the
// generic path then decodes or encodes as always, with its errors. So the
// two never disagree on what a frame means or on the bytes of a reply
// (FuzzFastAck and FuzzFastAckReply check it), and the protocol is exactly
// the generic path's.

// decodeFastAck decodes a receipt.ack request frame whose keys are the
// envelope's and the data's own (id, op, data; groupId, items; msgId,
// ackContent: each at most once, exactly so spelt), whose values are
// strings of printable ASCII without escapes (and the items an array of
// objects), with JSON whitespace anywhere between tokens, and whose id is
// valid. ok is false for any other frame: decode it generically.
func decodeFastAck(b []byte) (id string, r protocol.ReceiptAck, ok bool) {
	p := fastParser{b: b}
	var seenID, seenOp, seenData bool
	if !p.obj(func(key []byte) bool {
		switch string(key) {
		case "id":
			if seenID {
				return false
			}
			seenID = true
			s, ok := p.str()
			id = s
			return ok
		case "op":
			if seenOp {
				return false
			}
			seenOp = true
			s, ok := p.str()
			return ok && s == protocol.OpReceiptAck
		case "data":
			if seenData {
				return false
			}
			seenData = true
			return p.ackData(&r)
		}
		return false
	}) {
		return "", protocol.ReceiptAck{}, false
	}
	p.ws()
	if p.i != len(b) || !seenID || !seenOp || !seenData || r.Items == nil || id == "" || len(id) > protocol.MaxRequestID {
		return "", protocol.ReceiptAck{}, false
	}
	return id, r, true
}

// fastParser reads the plain JSON that decodeFastAck takes.
type fastParser struct {
	b []byte
	i int
}

func (p *fastParser) ws() {
	for p.i < len(p.b) {
		switch p.b[p.i] {
		case ' ', '\t', '\n', '\r':
			p.i++
		default:
			return
		}
	}
}

// punct consumes c after whitespace.
func (p *fastParser) punct(c byte) bool {
	p.ws()
	if p.i < len(p.b) && p.b[p.i] == c {
		p.i++
		return true
	}
	return false
}

// raw reads a string of printable ASCII without escapes and returns its
// bytes.
func (p *fastParser) raw() ([]byte, bool) {
	if !p.punct('"') {
		return nil, false
	}
	start := p.i
	for p.i < len(p.b) {
		c := p.b[p.i]
		switch {
		case c == '"':
			s := p.b[start:p.i]
			p.i++
			return s, true
		case c < 0x20 || c > 0x7e || c == '\\':
			return nil, false
		}
		p.i++
	}
	return nil, false
}

func (p *fastParser) str() (string, bool) {
	s, ok := p.raw()
	return string(s), ok
}

// obj reads an object, calling member for each key with the parser at its
// value (after the colon); member reads the value.
func (p *fastParser) obj(member func(key []byte) bool) bool {
	if !p.punct('{') {
		return false
	}
	if p.punct('}') {
		return true
	}
	for {
		key, ok := p.raw()
		if !ok || !p.punct(':') || !member(key) {
			return false
		}
		if p.punct('}') {
			return true
		}
		if !p.punct(',') {
			return false
		}
	}
}

// ackData reads the data of receipt.ack.
func (p *fastParser) ackData(r *protocol.ReceiptAck) bool {
	var seenGroup, seenItems bool
	return p.obj(func(key []byte) bool {
		switch string(key) {
		case "groupId":
			if seenGroup {
				return false
			}
			seenGroup = true
			s, ok := p.str()
			r.GroupID = s
			return ok
		case "items":
			if seenItems {
				return false
			}
			seenItems = true
			return p.items(r)
		}
		return false
	})
}

// items reads the items of receipt.ack: an array of objects.
func (p *fastParser) items(r *protocol.ReceiptAck) bool {
	if !p.punct('[') {
		return false
	}
	r.Items = make([]protocol.AckItem, 0, 1)
	if p.punct(']') {
		return true
	}
	for {
		var it protocol.AckItem
		var seenMsg, seenContent bool
		if !p.obj(func(key []byte) bool {
			switch string(key) {
			case "msgId":
				if seenMsg {
					return false
				}
				seenMsg = true
				s, ok := p.str()
				it.MsgID = s
				return ok
			case "ackContent":
				if seenContent {
					return false
				}
				seenContent = true
				s, ok := p.str()
				it.AckContent = s
				return ok
			}
			return false
		}) {
			return false
		}
		r.Items = append(r.Items, it)
		if p.punct(']') {
			return true
		}
		if !p.punct(',') {
			return false
		}
	}
}

// encodeFastAckReply appends the frame of a receipt.ack reply as
// encoding/json would write protocol.Reply{ID: id, OK: true, Data:
// <rep>}, byte for byte, when every result is OK and every string needs no
// escape; ok is false otherwise: encode it generically.
func encodeFastAckReply(id string, rep protocol.ReceiptAckReply) (b []byte, ok bool) {
	if !plain(id) {
		return nil, false
	}
	for _, r := range rep.Results {
		if r.Error != nil || !plain(r.MsgID) {
			return nil, false
		}
	}
	b = make([]byte, 0, 48+len(id)+len(rep.Results)*64)
	b = append(b, `{"id":"`...)
	b = append(b, id...)
	b = append(b, `","ok":true,"data":{"results":[`...)
	for i, r := range rep.Results {
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, `{"msgId":"`...)
		b = append(b, r.MsgID...)
		b = append(b, `","ok":`...)
		b = strconv.AppendBool(b, r.OK)
		b = append(b, `,"counted":`...)
		b = strconv.AppendBool(b, r.Counted)
		if r.Count != 0 {
			b = append(b, `,"count":`...)
			b = strconv.AppendInt(b, int64(r.Count), 10)
		}
		b = append(b, '}')
	}
	b = append(b, "]}}"...)
	return b, true
}

// plain reports whether encoding/json writes s as it is, between quotes:
// printable ASCII without '"', '\\' and the HTML characters it escapes.
func plain(s string) bool {
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c < 0x20 || c > 0x7e, c == '"', c == '\\', c == '<', c == '>', c == '&':
			return false
		}
	}
	return true
}
