package emrest

import (
	"encoding/json"
	"errors"
	"io"
	"mime"
	"net/http"
	"strconv"
	"strings"
	"time"

	"seen/internal/chat"
)

// defaultDevice is the device of a call without a valid ?resource=.
const defaultDevice = "rest"

// handlerFunc is a vendor REST handler: it returns the body of the 200
// reply, or an error. The SDK counts only 200 as success.
type handlerFunc func(r *http.Request, actor chat.Actor) (body any, err error)

// public serves fn without credentials.
func (h *Handler) public(fn handlerFunc) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h.serve(w, r, chat.Actor{}, fn)
	})
}

// user serves fn as the bearer of the access token, on the device named
// by ?resource= (the SDK's device resource) when it is a valid device id.
func (h *Handler) user(fn handlerFunc) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		actor, err := h.authenticate(r)
		if err != nil {
			h.writeError(w, r, err)
			return
		}
		h.serve(w, r, actor, fn)
	})
}

func (h *Handler) serve(w http.ResponseWriter, r *http.Request, actor chat.Actor, fn handlerFunc) {
	body, err := fn(r, actor)
	if err != nil {
		h.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, body)
}

func (h *Handler) authenticate(r *http.Request) (chat.Actor, error) {
	scheme, tok, ok := strings.Cut(r.Header.Get("Authorization"), " ")
	tok = strings.TrimSpace(tok)
	if !ok || !strings.EqualFold(scheme, "Bearer") || tok == "" {
		return chat.Actor{}, chat.Errorf(chat.CodeUnauthorized, "missing access token: send Authorization: Bearer <token>")
	}
	u, err := h.svc.Authenticate(r.Context(), tok)
	if err != nil {
		return chat.Actor{}, err
	}
	dev := chat.DeviceID(r.URL.Query().Get("resource"))
	if chat.CheckDevice(dev) != nil {
		dev = defaultDevice
	}
	return chat.Actor{User: u.ID, Name: u.Name, Device: dev}, nil
}

// decode reads the JSON object body of r into v: Content-Type
// application/json, valid UTF-8, one JSON value of the right types.
// Unknown fields are ignored: the SDK's versions send different extras.
// A refused body changes nothing: handlers decode before they act.
func decode(r *http.Request, v any) error {
	if mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type")); err != nil || mt != "application/json" {
		return chat.Errorf(chat.CodeBadRequest, "send the body as Content-Type: application/json")
	}
	raw, err := io.ReadAll(r.Body)
	if err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			return chat.Errorf(chat.CodeTooLarge, "the body is over the limit of %d bytes", tooBig.Limit)
		}
		return chat.Errorf(chat.CodeBadRequest, "read the body: %v", err)
	}
	if len(strings.TrimSpace(string(raw))) == 0 {
		return chat.Errorf(chat.CodeBadRequest, "the body is empty: send a JSON object")
	}
	if err := chat.CheckJSONText(raw); err != nil {
		return err
	}
	if err := json.Unmarshal(raw, v); err != nil {
		var typ *json.UnmarshalTypeError
		if errors.As(err, &typ) && typ.Field != "" {
			return chat.Errorf(chat.CodeBadRequest, "field %q must not be %s", typ.Field, typ.Value)
		}
		return chat.Errorf(chat.CodeBadRequest, "the body is not the JSON object expected: %v", err)
	}
	return nil
}

// query is an optional query parameter. The SDK appends parameters it
// has no value for as the literal "undefined" (or "null"): those count as
// absent.
func query(r *http.Request, name string) string {
	switch s := r.URL.Query().Get(name); s {
	case "undefined", "null":
		return ""
	default:
		return s
	}
}

// queryInt is an optional non-negative integer query parameter, 0 when
// absent.
func queryInt(r *http.Request, name string) (int, error) {
	s := query(r, name)
	if s == "" {
		return 0, nil
	}
	n, err := strconv.Atoi(s)
	if err != nil || n < 0 {
		return 0, chat.Errorf(chat.CodeBadRequest, "query parameter %s=%q is not a non-negative integer", name, s)
	}
	return n, nil
}

// groupID reads the {groupId} path segment.
func groupID(r *http.Request) (chat.GroupID, error) {
	return chat.ParseGroupID(r.PathValue("groupId"))
}

// names splits a comma-separated list of usernames (a path segment),
// dropping empty entries.
func names(s string) []string {
	var out []string
	for _, n := range strings.Split(s, ",") {
		if n = strings.TrimSpace(n); n != "" {
			out = append(out, n)
		}
	}
	return out
}

// now is the current time in Unix milliseconds, the vendor's timestamps.
func now() int64 { return time.Now().UnixMilli() }
