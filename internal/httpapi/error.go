package httpapi

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"

	"seen/internal/chat"
	"seen/internal/wire"
)

// Statuses is the one mapping of chat.Code to HTTP status. Every code has
// an entry (a test checks it); the body of every error names the code.
var Statuses = map[chat.Code]int{
	chat.CodeBadRequest:       http.StatusBadRequest,
	chat.CodeUnauthorized:     http.StatusUnauthorized,
	chat.CodeTokenExpired:     http.StatusUnauthorized,
	chat.CodeRegistrationOff:  http.StatusForbidden,
	chat.CodeUserExists:       http.StatusConflict,
	chat.CodeUserNotFound:     http.StatusNotFound,
	chat.CodePermissionDenied: http.StatusForbidden,
	chat.CodeGroupNotFound:    http.StatusNotFound,
	chat.CodeNotMember:        http.StatusForbidden,
	chat.CodeAlreadyMember:    http.StatusConflict,
	chat.CodeGroupFull:        http.StatusConflict,
	chat.CodeMessageNotFound:  http.StatusNotFound,
	chat.CodeTooLarge:         http.StatusRequestEntityTooLarge,
	chat.CodeRateLimited:      http.StatusTooManyRequests,
	chat.CodeLimitExceeded:    http.StatusForbidden,
	chat.CodeNotAllowed:       http.StatusConflict,
	chat.CodeUnavailable:      http.StatusServiceUnavailable,
	chat.CodeInternal:         http.StatusInternalServerError,
}

// Status returns the HTTP status of an error code.
func Status(c chat.Code) int {
	if s, ok := Statuses[c]; ok {
		return s
	}
	return http.StatusInternalServerError
}

// writeJSON writes v as the JSON body with status.
func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

// writeError writes err as an error body with the status of its code.
func writeError(w http.ResponseWriter, err error) {
	writeErrorStatus(w, Status(chat.ErrorCode(err)), err)
}

// writeErrorStatus writes err as an error body with status.
func writeErrorStatus(w http.ResponseWriter, status int, err error) {
	if status == http.StatusUnauthorized {
		w.Header().Set("WWW-Authenticate", `Bearer realm="seen"`)
	}
	if after := retryAfter(err); after != "" {
		w.Header().Set("Retry-After", after)
	}
	writeJSON(w, status, errorBody{Error: wire.Error(err)})
}

// logError logs what a client is not told: the cause of internal errors.
func (a *API) logError(r *http.Request, err error) {
	switch code := chat.ErrorCode(err); {
	case errors.Is(err, context.Canceled):
		a.log.Debug("request canceled", "method", r.Method, "path", r.URL.Path)
	case code == chat.CodeInternal || code == chat.CodeUnavailable:
		a.log.Error("request failed", "method", r.Method, "path", r.URL.Path, "code", code, "err", err)
	default:
		a.log.Debug("request refused", "method", r.Method, "path", r.URL.Path, "code", code, "err", err)
	}
}
