package httpapi

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"mime"
	"net/http"
	"reflect"
	"strconv"
	"strings"

	"seen/internal/chat"
	"seen/internal/wire"
)

// decode reads the JSON body of r into v, strictly: the Content-Type must
// be application/json, the body within Limits.MaxBodyBytes (ServeHTTP
// wraps it in an http.MaxBytesReader), one JSON value with no
// unknown fields and nothing after it. A refused body changes nothing:
// handlers decode before they act.
func decode(r *http.Request, v any) error {
	ct := r.Header.Get("Content-Type")
	if ct == "" {
		return chat.Errorf(chat.CodeBadRequest, "missing Content-Type: send application/json")
	}
	if mt, _, err := mime.ParseMediaType(ct); err != nil || mt != "application/json" {
		return chat.Errorf(chat.CodeBadRequest, "Content-Type %q is not application/json", ct)
	}
	raw, err := io.ReadAll(r.Body)
	if err != nil {
		return decodeError(err)
	}
	// Refuse invalid UTF-8, naming the field: the decoder would silently
	// turn it into U+FFFD.
	if err := chat.CheckJSONText(raw); err != nil {
		return err
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return decodeError(err)
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			return decodeError(err)
		}
		return chat.Errorf(chat.CodeBadRequest, "the body must hold exactly one JSON value")
	}
	return nil
}

// decodeError explains a JSON decoding failure to the client.
func decodeError(err error) error {
	var (
		syntax  *json.SyntaxError
		typ     *json.UnmarshalTypeError
		tooBig  *http.MaxBytesError
		unknown = strings.HasPrefix(err.Error(), "json: unknown field ")
	)
	switch {
	case errors.As(err, &tooBig):
		return chat.Errorf(chat.CodeTooLarge, "the body is over the limit of %d bytes", tooBig.Limit)
	case errors.Is(err, io.EOF):
		return chat.Errorf(chat.CodeBadRequest, "the body is empty: send a JSON value")
	case errors.Is(err, io.ErrUnexpectedEOF):
		return chat.Errorf(chat.CodeBadRequest, "the body ends in the middle of a JSON value")
	case errors.As(err, &syntax):
		return chat.Errorf(chat.CodeBadRequest, "malformed JSON at byte %d: %s", syntax.Offset, syntax.Error())
	case errors.As(err, &typ):
		if typ.Field == "" {
			return chat.Errorf(chat.CodeBadRequest, "the body must be %s, not %s", kindOf(typ.Type.Kind()), typ.Value)
		}
		return chat.Errorf(chat.CodeBadRequest, "field %q must be %s, not %s", typ.Field, kindOf(typ.Type.Kind()), typ.Value)
	case unknown:
		return chat.Errorf(chat.CodeBadRequest, "unknown field %s", strings.TrimPrefix(err.Error(), "json: unknown field "))
	}
	return chat.Errorf(chat.CodeBadRequest, "malformed JSON: %v", err)
}

// kindOf names a Go kind the way a JSON client thinks of it.
func kindOf(k reflect.Kind) string {
	switch k {
	case reflect.String:
		return "a string"
	case reflect.Bool:
		return "a boolean"
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64,
		reflect.Float32, reflect.Float64:
		return "a number"
	case reflect.Slice, reflect.Array:
		return "an array"
	case reflect.Struct, reflect.Map:
		return "an object"
	}
	return k.String()
}

// queryInt reads an optional 32-bit integer query parameter (0 when
// absent), such as a page size.
func queryInt(r *http.Request, name string) (int, error) {
	n, err := parseQueryInt(r, name, 32)
	return int(n), err
}

// queryInt64 reads an optional 64-bit integer query parameter (0 when
// absent), such as a stream position.
func queryInt64(r *http.Request, name string) (int64, error) {
	return parseQueryInt(r, name, 64)
}

// queryBool reads an optional boolean query parameter: "true" or "false"
// (false when absent).
func queryBool(r *http.Request, name string) (bool, error) {
	switch s := r.URL.Query().Get(name); s {
	case "", "false":
		return false, nil
	case "true":
		return true, nil
	default:
		return false, chat.Errorf(chat.CodeBadRequest, "query parameter %s=%q is not true or false", name, s)
	}
}

func parseQueryInt(r *http.Request, name string, bits int) (int64, error) {
	s := r.URL.Query().Get(name)
	if s == "" {
		return 0, nil
	}
	n, err := strconv.ParseInt(s, 10, bits)
	if err != nil {
		return 0, chat.Errorf(chat.CodeBadRequest, "query parameter %s=%q is not an integer", name, s)
	}
	return n, nil
}

// streamQuery reads the ?ack&limit of the confirm-and-fetch streams (sync,
// receipt stats).
func streamQuery(r *http.Request) (ack int64, limit int, err error) {
	if ack, err = queryInt64(r, "ack"); err != nil {
		return 0, 0, err
	}
	if limit, err = queryInt(r, "limit"); err != nil {
		return 0, 0, err
	}
	return ack, limit, nil
}

// groupID reads the {groupId} path segment.
func groupID(r *http.Request) (chat.GroupID, error) {
	return chat.ParseGroupID(r.PathValue("groupId"))
}

// msgID reads the {msgId} path segment.
func msgID(r *http.Request) (chat.MsgID, error) {
	return chat.ParseMsgID(r.PathValue("msgId"))
}

// msgIDs parses a comma-separated list of message ids.
func msgIDs(s string) ([]chat.MsgID, error) {
	if s == "" {
		return nil, chat.Errorf(chat.CodeBadRequest, "msgIds is required: a comma-separated list of message ids")
	}
	parts := strings.Split(s, ",")
	for i, p := range parts {
		parts[i] = strings.TrimSpace(p)
	}
	return wire.MsgIDs(parts)
}

// required reports a missing required field.
func required(field, value string) error {
	if value == "" {
		return chat.Errorf(chat.CodeBadRequest, "%s is required", field)
	}
	return nil
}

// decodeOptional is decode for an endpoint whose body may be left out: an
// empty body, whatever its Content-Type (clients send application/json
// with no body), leaves v as it is; a body that is present is decoded
// strictly.
func decodeOptional(r *http.Request, v any) error {
	raw, err := io.ReadAll(r.Body)
	if err != nil {
		return decodeError(err)
	}
	if len(raw) == 0 {
		return nil
	}
	r.Body = io.NopCloser(bytes.NewReader(raw))
	return decode(r, v)
}
