package client

import (
	"bytes"
	"encoding/json"
	"errors"
	"strconv"
	"unicode/utf8"

	"seen/internal/protocol"
)

// The frames of the hot path are read and written without reflection:
// parseFrame validates a server frame in one pass and finds its fields;
// only the reply data is decoded with encoding/json, straight into the
// caller's value. appendRequest writes a request frame in one pass.

// serverFrame is a parsed server -> client frame. The byte slices alias
// the frame that was parsed.
type serverFrame struct {
	isReply bool
	id      []byte // the id, a JSON string without its quotes
	ok      bool
	data    []byte // the data, a JSON value (nil when absent)
	err     []byte // the error, a JSON value (nil when absent)
	push    []byte // the push name, a JSON string without its quotes
}

// maxDepth is the deepest nesting of arrays and objects accepted, as in
// encoding/json.
const maxDepth = 10000

var errSyntax = errors.New("seen: server frame is not valid JSON")

// parseFrame parses and validates a server frame: a JSON object that is a
// reply when it has an id (a string) and a push when it has a non-empty
// push name instead. Unknown fields are skipped (a newer server may add
// some); the last of repeated fields wins, as in encoding/json. Like
// protocol.DecodeServerFrame, but without copying the data.
func parseFrame(b []byte) (serverFrame, error) {
	var f serverFrame
	i := skipSpace(b, 0)
	if i >= len(b) || b[i] != '{' {
		return f, errSyntax
	}
	i = skipSpace(b, i+1)
	if i < len(b) && b[i] == '}' {
		i++
	} else {
		for {
			ks, ke, err := scanString(b, i)
			if err != nil {
				return f, err
			}
			i = skipSpace(b, ke)
			if i >= len(b) || b[i] != ':' {
				return f, errSyntax
			}
			vs := skipSpace(b, i+1)
			ve, err := skipValue(b, vs)
			if err != nil {
				return f, err
			}
			v := b[vs:ve]
			switch key(b[ks+1 : ke-1]) {
			case "id":
				switch {
				case v[0] == '"':
					f.isReply, f.id = true, v[1:len(v)-1]
				case string(v) == "null":
					f.isReply, f.id = false, nil
				default:
					return f, errors.New("seen: server frame id is not a string")
				}
			case "ok":
				switch string(v) {
				case "true":
					f.ok = true
				case "false", "null":
					f.ok = false
				default:
					return f, errors.New("seen: server frame ok is not a boolean")
				}
			case "data":
				f.data = v
			case "error":
				f.err = v
			case "push":
				switch {
				case v[0] == '"':
					f.push = v[1 : len(v)-1]
				case string(v) == "null":
					f.push = nil
				default:
					return f, errors.New("seen: server frame push is not a string")
				}
			}
			i = skipSpace(b, ve)
			if i < len(b) && b[i] == ',' {
				i = skipSpace(b, i+1)
				continue
			}
			if i < len(b) && b[i] == '}' {
				i++
				break
			}
			return f, errSyntax
		}
	}
	if skipSpace(b, i) != len(b) {
		return f, errSyntax
	}
	if !f.isReply && len(f.push) == 0 {
		return f, errors.New("seen: server frame is neither a reply nor a push")
	}
	return f, nil
}

// key returns which field of a server frame the key k (the inside of a
// valid JSON string) names, matched like encoding/json does: exactly or
// else without regard to case. It is "" for any other key.
func key(k []byte) string {
	for _, name := range [...]string{"id", "ok", "data", "error", "push"} {
		if string(k) == name {
			return name
		}
	}
	if len(k) > 5*len(`\u0000`) { // longer than any of them, however escaped
		return ""
	}
	if bytes.IndexByte(k, '\\') >= 0 || !utf8.Valid(k) {
		k = []byte(unquote(k))
	}
	for _, name := range [...]string{"id", "ok", "data", "error", "push"} {
		if bytes.EqualFold(k, []byte(name)) {
			return name
		}
	}
	return ""
}

// unquote returns the string of s, the inside of a valid JSON string.
func unquote(s []byte) string {
	if bytes.IndexByte(s, '\\') < 0 && utf8.Valid(s) {
		return string(s)
	}
	var v string
	quoted := make([]byte, 0, len(s)+2)
	quoted = append(append(append(quoted, '"'), s...), '"')
	_ = json.Unmarshal(quoted, &v) // valid: parseFrame checked it
	return v
}

// pushName returns the push name p, without allocating for the known
// names.
func pushName(p []byte) string {
	for _, n := range protocol.Pushes {
		if string(p) == n {
			return n
		}
	}
	return unquote(p)
}

// replyError decodes the error of a failed reply.
func replyError(raw []byte) *Error {
	var e protocol.Error
	if len(raw) == 0 || string(raw) == "null" || json.Unmarshal(raw, &e) != nil {
		return &Error{Code: 1, Name: "internal", Message: "error reply without an error"}
	}
	return &Error{Code: e.Code, Name: e.Name, Message: e.Message}
}

func isSpace(c byte) bool { return c == ' ' || c == '\t' || c == '\n' || c == '\r' }

func skipSpace(b []byte, i int) int {
	for i < len(b) && isSpace(b[i]) {
		i++
	}
	return i
}

// scanString checks the JSON string at b[i] and returns where it starts
// (the opening quote) and ends (after the closing quote).
func scanString(b []byte, i int) (start, end int, err error) {
	if i >= len(b) || b[i] != '"' {
		return 0, 0, errSyntax
	}
	start = i
	for i++; i < len(b); i++ {
		switch c := b[i]; {
		case c == '"':
			return start, i + 1, nil
		case c < 0x20:
			return 0, 0, errSyntax
		case c == '\\':
			i++
			if i >= len(b) {
				return 0, 0, errSyntax
			}
			switch b[i] {
			case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
			case 'u':
				if i+4 >= len(b) {
					return 0, 0, errSyntax
				}
				for _, h := range b[i+1 : i+5] {
					if !('0' <= h && h <= '9' || 'a' <= h && h <= 'f' || 'A' <= h && h <= 'F') {
						return 0, 0, errSyntax
					}
				}
				i += 4
			default:
				return 0, 0, errSyntax
			}
		}
	}
	return 0, 0, errSyntax
}

// scanNumber checks the JSON number at b[i] and returns its end.
func scanNumber(b []byte, i int) (int, error) {
	digits := func(i int) int {
		for i < len(b) && '0' <= b[i] && b[i] <= '9' {
			i++
		}
		return i
	}
	if i < len(b) && b[i] == '-' {
		i++
	}
	switch {
	case i < len(b) && b[i] == '0':
		i++
	case i < len(b) && '1' <= b[i] && b[i] <= '9':
		i = digits(i + 1)
	default:
		return 0, errSyntax
	}
	if i < len(b) && b[i] == '.' {
		j := digits(i + 1)
		if j == i+1 {
			return 0, errSyntax
		}
		i = j
	}
	if i < len(b) && (b[i] == 'e' || b[i] == 'E') {
		i++
		if i < len(b) && (b[i] == '+' || b[i] == '-') {
			i++
		}
		j := digits(i)
		if j == i {
			return 0, errSyntax
		}
		i = j
	}
	return i, nil
}

// skipValue checks the JSON value at b[i] and returns its end. It
// iterates, keeping one byte per open array or object.
func skipValue(b []byte, i int) (int, error) {
	var small [32]byte
	open := small[:0] // '{' or '[' per level
	for {
		// A value.
		i = skipSpace(b, i)
		if i >= len(b) {
			return 0, errSyntax
		}
		var err error
		switch c := b[i]; {
		case c == '{' || c == '[':
			if len(open) == maxDepth {
				return 0, errors.New("seen: server frame nested too deeply")
			}
			j := skipSpace(b, i+1)
			if j < len(b) && b[j] == c+2 { // '}' is '{'+2, ']' is '['+2
				i = j + 1
				break
			}
			open = append(open, c)
			if c == '{' {
				if i, err = skipKey(b, j); err != nil {
					return 0, err
				}
			} else {
				i = j
			}
			continue
		case c == '"':
			_, i, err = scanString(b, i)
		case c == 't':
			i, err = literal(b, i, "true")
		case c == 'f':
			i, err = literal(b, i, "false")
		case c == 'n':
			i, err = literal(b, i, "null")
		default:
			i, err = scanNumber(b, i)
		}
		if err != nil {
			return 0, err
		}
		// After a value: close what ends here, or go on to the next
		// element.
		for {
			if len(open) == 0 {
				return i, nil
			}
			i = skipSpace(b, i)
			if i >= len(b) {
				return 0, errSyntax
			}
			top := open[len(open)-1]
			if b[i] == top+2 {
				open = open[:len(open)-1]
				i++
				continue
			}
			if b[i] != ',' {
				return 0, errSyntax
			}
			i++
			if top == '{' {
				if i, err = skipKey(b, skipSpace(b, i)); err != nil {
					return 0, err
				}
			}
			break
		}
	}
}

// skipKey checks an object key and its colon at b[i] and returns where the
// value may start.
func skipKey(b []byte, i int) (int, error) {
	_, i, err := scanString(b, i)
	if err != nil {
		return 0, err
	}
	i = skipSpace(b, i)
	if i >= len(b) || b[i] != ':' {
		return 0, errSyntax
	}
	return i + 1, nil
}

func literal(b []byte, i int, lit string) (int, error) {
	if len(b)-i < len(lit) || string(b[i:i+len(lit)]) != lit {
		return 0, errSyntax
	}
	return i + len(lit), nil
}

// appendRequest appends the request frame {"id":...,"op":...,"data":...}
// to dst; data is encoded with encoding/json (nil as {}).
func appendRequest(dst []byte, id uint64, op string, data any) ([]byte, error) {
	dst = append(dst, `{"id":"`...)
	dst = strconv.AppendUint(dst, id, 10)
	dst = append(dst, `","op":`...)
	if plain(op) {
		dst = append(append(append(dst, '"'), op...), '"')
	} else {
		q, err := json.Marshal(op)
		if err != nil {
			return nil, err
		}
		dst = append(dst, q...)
	}
	dst = append(dst, `,"data":`...)
	if data == nil {
		dst = append(dst, "{}"...)
	} else {
		raw, err := json.Marshal(data)
		if err != nil {
			return nil, err
		}
		dst = append(dst, raw...)
	}
	return append(dst, '}'), nil
}

// plain reports whether s needs no escaping in a JSON string.
func plain(s string) bool {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 || c >= 0x7f || c == '"' || c == '\\' || c == '<' || c == '>' || c == '&' {
			return false
		}
	}
	return true
}

// fastDecoder is a reply value that can decode the usual shape of its data
// without reflection; decodeFast reports false, having changed nothing
// that matters, for anything else, which then goes through encoding/json.
type fastDecoder interface {
	decodeFast(data []byte) bool
}

// ackReply is the receipt.ack reply: the hottest reply of all.
type ackReply protocol.ReceiptAckReply

// decodeFast decodes {"results":[{"msgId":"...","ok":true,"counted":true,
// "count":3},...]}: the keys of AckResult but error, in any order, strings
// without escapes, counts that are integers. data is valid JSON
// (parseFrame checked it).
func (r *ackReply) decodeFast(b []byte) bool {
	i := skipSpace(b, 0)
	if !expect(b, &i, '{') {
		return false
	}
	k, ok := plainString(b, &i)
	if !ok || k != "results" || !expect(b, &i, ':') || !expect(b, &i, '[') {
		return false
	}
	var results []protocol.AckResult
	if !expect(b, &i, ']') {
		for {
			var a protocol.AckResult
			if !expect(b, &i, '{') {
				return false
			}
			if !expect(b, &i, '}') {
				for {
					k, ok := plainString(b, &i)
					if !ok || !expect(b, &i, ':') {
						return false
					}
					i = skipSpace(b, i)
					switch k {
					case "msgId":
						if a.MsgID, ok = plainString(b, &i); !ok {
							return false
						}
					case "ok":
						if a.OK, ok = boolean(b, &i); !ok {
							return false
						}
					case "counted":
						if a.Counted, ok = boolean(b, &i); !ok {
							return false
						}
					case "count":
						end, err := scanNumber(b, i)
						if err != nil {
							return false
						}
						n, err := strconv.Atoi(string(b[i:end]))
						if err != nil {
							return false
						}
						a.Count, i = n, end
					default:
						return false
					}
					if expect(b, &i, '}') {
						break
					}
					if !expect(b, &i, ',') {
						return false
					}
				}
			}
			results = append(results, a)
			if expect(b, &i, ']') {
				break
			}
			if !expect(b, &i, ',') {
				return false
			}
		}
	} else {
		results = []protocol.AckResult{}
	}
	if !expect(b, &i, '}') || skipSpace(b, i) != len(b) {
		return false
	}
	r.Results = results
	return true
}

// expect skips space and then c, reporting whether c was there.
func expect(b []byte, i *int, c byte) bool {
	j := skipSpace(b, *i)
	if j < len(b) && b[j] == c {
		*i = j + 1
		return true
	}
	return false
}

// plainString reads a string without escapes and of valid UTF-8 at b[*i]
// (after space).
func plainString(b []byte, i *int) (string, bool) {
	j := skipSpace(b, *i)
	if j >= len(b) || b[j] != '"' {
		return "", false
	}
	end := bytes.IndexByte(b[j+1:], '"')
	if end < 0 {
		return "", false
	}
	s := b[j+1 : j+1+end]
	if bytes.IndexByte(s, '\\') >= 0 || !utf8.Valid(s) {
		return "", false
	}
	*i = j + end + 2
	return string(s), true
}

// boolean reads true or false at b[*i].
func boolean(b []byte, i *int) (v, ok bool) {
	if end, err := literal(b, *i, "true"); err == nil {
		*i = end
		return true, true
	}
	if end, err := literal(b, *i, "false"); err == nil {
		*i = end
		return false, true
	}
	return false, false
}
