package chat

import (
	"bytes"
	"encoding/json"
	"strings"
	"unicode/utf8"
)

// Every string the service stores passes one of the checks below first,
// before it reaches a batch, so that both stores hold (and can send back)
// only what JSON can carry as valid UTF-8, and one bad request is refused
// alone instead of failing a whole group commit. The rule
// (docs/protocol.md, "Strings"): valid UTF-8, no NUL character, within the
// field's length limit; JSON values (ext, customExts, a group's ext) are
// kept as sent, so their raw bytes must be valid UTF-8 and hold no NUL,
// raw or escaped (\u0000). A refusal is bad_request (too_large for a
// length over a byte limit) and names the field: "msg: contains a NUL
// character", "ext: invalid UTF-8". Bad bytes are never replaced.

// checkText checks a stored string: valid UTF-8, no NUL, at most max bytes
// (max <= 0: no length limit here; the caller checks it).
func checkText(field, s string, max int) error {
	if max > 0 && len(s) > max {
		return Errorf(CodeTooLarge, "%s is %d bytes, over the limit of %d", field, len(s), max)
	}
	if !utf8.ValidString(s) {
		return Errorf(CodeBadRequest, "%s: invalid UTF-8", field)
	}
	if strings.IndexByte(s, 0) >= 0 {
		return Errorf(CodeBadRequest, "%s: contains a NUL character", field)
	}
	return nil
}

// checkRawJSON checks the bytes of a JSON value stored as sent: valid
// UTF-8 and no NUL, neither raw nor escaped as \u0000. It does not check
// that raw is JSON (checkObject does).
func checkRawJSON(field string, raw []byte) error {
	if !utf8.Valid(raw) {
		return Errorf(CodeBadRequest, "%s: invalid UTF-8", field)
	}
	if hasNUL(raw) {
		return Errorf(CodeBadRequest, "%s: contains a NUL character", field)
	}
	return nil
}

// hasNUL reports whether JSON text holds a NUL byte or the escape \u0000.
// Backslashes occur only in strings, and every escape is a backslash and
// one character (u and four hex digits for \u), so skipping escapes as
// pairs never mistakes an escaped backslash followed by "u0000" for one.
func hasNUL(raw []byte) bool {
	if bytes.IndexByte(raw, 0) >= 0 {
		return true
	}
	for i := bytes.IndexByte(raw, '\\'); i >= 0 && i+1 < len(raw); {
		if raw[i+1] == 'u' && i+6 <= len(raw) && string(raw[i+2:i+6]) == "0000" {
			return true
		}
		j := bytes.IndexByte(raw[i+2:], '\\')
		if j < 0 {
			break
		}
		i += 2 + j
	}
	return false
}

// CheckJSONText checks that a JSON document about to be decoded is valid
// UTF-8, and names the field holding the first invalid byte
// ("msg: invalid UTF-8"; nested fields are dotted, "ext.color"). Go's JSON
// decoder silently replaces invalid bytes in strings with U+FFFD; the
// transports call this first so that bad input is refused, not rewritten.
// Malformed JSON is left to the decoder: it returns nil for it.
func CheckJSONText(doc []byte) error {
	if utf8.Valid(doc) {
		return nil
	}
	dec := json.NewDecoder(bytes.NewReader(doc))
	var stack []jsonLevel
	prev := int64(0)
	for {
		tok, err := dec.Token()
		if err != nil {
			return nil // io.EOF, or malformed: the decoder will say
		}
		end := dec.InputOffset()
		span := doc[prev:end]
		prev = end
		var top *jsonLevel
		if len(stack) > 0 {
			top = &stack[len(stack)-1]
		}
		if s, ok := tok.(string); ok && top != nil && top.wantKey {
			if !utf8.Valid(span) {
				return Errorf(CodeBadRequest, "%s: invalid UTF-8 in a key", fieldPath(stack[:len(stack)-1]))
			}
			top.key, top.wantKey = s, false
			continue
		}
		if !utf8.Valid(span) {
			return Errorf(CodeBadRequest, "%s: invalid UTF-8", fieldPath(stack))
		}
		switch tok {
		case json.Delim('{'):
			stack = append(stack, jsonLevel{object: true, wantKey: true})
			continue
		case json.Delim('['):
			stack = append(stack, jsonLevel{})
			continue
		case json.Delim('}'), json.Delim(']'):
			stack = stack[:len(stack)-1]
		}
		// A value ended: an enclosing object wants its next key.
		if n := len(stack); n > 0 && stack[n-1].object {
			stack[n-1].wantKey = true
		}
	}
}

// jsonLevel is one enclosing object or array in CheckJSONText: its
// current key (objects), and whether the next string is a key.
type jsonLevel struct {
	object  bool
	key     string
	wantKey bool
}

// fieldPath names a position in a JSON document by its object keys,
// dotted; the document itself is "body".
func fieldPath(stack []jsonLevel) string {
	var keys []string
	for _, l := range stack {
		if l.key != "" {
			keys = append(keys, l.key)
		}
	}
	if len(keys) == 0 {
		return "body"
	}
	return strings.Join(keys, ".")
}
