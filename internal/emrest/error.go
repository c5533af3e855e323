package emrest

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"strings"

	"seen/internal/chat"
)

// errorBody is the vendor's error reply. The SDK reads error_description
// and matches substrings of it (see vendorErrors); it never needs
// error_code, and an error_code would switch on mappings meant for other
// services, so none is sent. code is seen's own code name, for people.
type errorBody struct {
	Error       string `json:"error"`
	Description string `json:"error_description"`
	Code        string `json:"code,omitempty"`
	Timestamp   int64  `json:"timestamp"`
}

// vendorError is how one chat.Code is answered: the HTTP status, the
// vendor's error name, and a phrase the SDK recognizes, added to seen's
// message where it maps the error to a status code of its own.
type vendorError struct {
	status int
	name   string
	phrase string
}

// vendorErrors maps every chat.Code (a test checks) to the vendor's
// answer. Each status is one for which the SDK both calls the error
// callback and rejects the promise (406 is never used: there it does
// neither). The phrases are the substrings its error handler matches:
// "are not members of this group" is GROUP_NOT_JOINED, "do not find this
// group" GROUP_NOT_EXIST, "user not found" USER_NOT_FOUND, "already in
// group" GROUP_ALREADY_JOINED.
var vendorErrors = map[chat.Code]vendorError{
	chat.CodeBadRequest:       {http.StatusBadRequest, "illegal_argument", ""},
	chat.CodeUnauthorized:     {http.StatusUnauthorized, "unauthorized", ""},
	chat.CodeTokenExpired:     {http.StatusUnauthorized, "unauthorized", ""},
	chat.CodeRegistrationOff:  {http.StatusBadRequest, "unauthorized_registration", "Open registration doesn't allow"},
	chat.CodeUserExists:       {http.StatusBadRequest, "duplicate_unique_property_exists", "Entity user requires that property named username be unique"},
	chat.CodeUserNotFound:     {http.StatusNotFound, "service_resource_not_found", "user not found"},
	chat.CodePermissionDenied: {http.StatusForbidden, "forbidden_op", ""},
	chat.CodeGroupNotFound:    {http.StatusNotFound, "resource_not_found", "do not find this group"},
	chat.CodeNotMember:        {http.StatusForbidden, "forbidden_op", "users are not members of this group"},
	chat.CodeAlreadyMember:    {http.StatusForbidden, "forbidden_op", "invite users to join group failed, already in group"},
	chat.CodeGroupFull:        {http.StatusForbidden, "forbidden_op", ""},
	chat.CodeMessageNotFound:  {http.StatusNotFound, "resource_not_found", ""},
	chat.CodeTooLarge:         {http.StatusRequestEntityTooLarge, "request_entity_too_large", ""},
	chat.CodeRateLimited:      {http.StatusTooManyRequests, "too_many_requests", ""},
	chat.CodeLimitExceeded:    {http.StatusForbidden, "exceed_limit", ""},
	chat.CodeNotAllowed:       {http.StatusForbidden, "forbidden_op", ""},
	chat.CodeUnavailable:      {http.StatusServiceUnavailable, "service_unavailable", ""},
	chat.CodeInternal:         {http.StatusInternalServerError, "internal_server_error", ""},
}

// internal is a failure of seen itself: the client is told "internal
// error" only; err, the cause, is logged (writeError), never sent.
func internal(err error) *chat.Error {
	return &chat.Error{Code: chat.CodeInternal, Message: "internal error", Err: err}
}

// describe is the error_description of err: seen's user-safe message,
// after the vendor's phrase when there is one.
func describe(code chat.Code, err error) string {
	msg := chat.ErrorMessage(err)
	if code == chat.CodeGroupFull {
		return "group member list is full!" // the SDK compares it whole
	}
	if ph := vendorErrors[code].phrase; ph != "" && !strings.Contains(msg, ph) {
		return ph + ": " + msg
	}
	return msg
}

// writeError answers err the vendor's way and logs what the client is
// not told.
func (h *Handler) writeError(w http.ResponseWriter, r *http.Request, err error) {
	code := chat.ErrorCode(err)
	ve, ok := vendorErrors[code]
	if !ok {
		code, ve = chat.CodeInternal, vendorErrors[chat.CodeInternal]
	}
	switch {
	case errors.Is(err, context.Canceled):
		h.log.Debug("request canceled", "method", r.Method, "path", r.URL.Path)
	case code == chat.CodeInternal || code == chat.CodeUnavailable:
		h.log.Error("request failed", "method", r.Method, "path", r.URL.Path, "code", code, "err", err)
	default:
		h.log.Debug("request refused", "method", r.Method, "path", r.URL.Path, "code", code, "err", err)
	}
	if after := h.guard.RetryAfter(err); after != "" {
		w.Header().Set("Retry-After", after)
	}
	writeJSON(w, ve.status, errorBody{Error: ve.name, Description: describe(code, err), Code: string(code), Timestamp: now()})
}

// writeVendor answers a vendor error that is not a chat error (an
// unknown app key, an unsupported call).
func (h *Handler) writeVendor(w http.ResponseWriter, r *http.Request, status int, name, desc string) {
	h.log.Debug("request refused", "method", r.Method, "path", r.URL.Path, "error", name)
	writeJSON(w, status, errorBody{Error: name, Description: desc, Timestamp: now()})
}

// notSupported answers a call under the served prefix that seen does not
// implement (rooms, threads, contacts, reactions, presence, files, ...):
// 403 with "service not open!", which the SDK maps to SERVICE_NOT_ENABLED
// and rejects at once.
func (h *Handler) notSupported(w http.ResponseWriter, r *http.Request) {
	path := strings.TrimPrefix(r.URL.Path, "/"+h.org+"/"+h.app)
	h.writeVendor(w, r, http.StatusForbidden, "service_not_supported",
		"seen does not support "+r.Method+" "+path+" (see docs/easemob-compat.md): service not open!")
}

// writeJSON writes v as the JSON body with status.
func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}
