package chat

import (
	"errors"
	"fmt"
)

// Code is a stable error code. Its Name is sent on the wire and its Number
// mirrors the Easemob / Agora Chat Web SDK status codes where one exists, so
// that apps written for them keep working. The list is mirrored by the Web
// SDK (sdk/src/errors.ts) and documented in docs/protocol.md; codes are
// only ever added.
type Code string

// The codes. Each has a number (Numbers) and an HTTP status (in httpapi).
const (
	CodeBadRequest       Code = "bad_request"         // malformed or invalid input
	CodeUnauthorized     Code = "unauthorized"        // missing, wrong or revoked credentials
	CodeTokenExpired     Code = "token_expired"       // the access token has expired
	CodeRegistrationOff  Code = "registration_closed" // open registration is disabled
	CodeUserExists       Code = "user_exists"         // username taken
	CodeUserNotFound     Code = "user_not_found"      // no such user
	CodePermissionDenied Code = "permission_denied"   // the actor may not do this
	CodeGroupNotFound    Code = "group_not_found"     // no such group (or destroyed)
	CodeNotMember        Code = "not_member"          // the user is not a member of the group
	CodeAlreadyMember    Code = "already_member"      // the user is already a member
	CodeGroupFull        Code = "group_full"          // the group has reached its member limit
	CodeMessageNotFound  Code = "message_not_found"   // no such message in that conversation
	CodeTooLarge         Code = "too_large"           // a payload exceeds a size limit
	CodeRateLimited      Code = "rate_limited"        // too many requests on this connection
	CodeLimitExceeded    Code = "limit_exceeded"      // a configured limit refused it; the message names the limit
	CodeNotAllowed       Code = "not_allowed"         // the operation is not allowed in this state
	CodeUnavailable      Code = "unavailable"         // the server is shutting down or overloaded; retry
	CodeInternal         Code = "internal"            // a bug or a storage failure; logged on the server
)

// Numbers maps each code to its numeric wire code (the SDK's error.type).
// The numbers avoid the Web SDK's client-side connection codes (0-40),
// which mean other things there.
var Numbers = map[Code]int{
	CodeBadRequest:       110, // INVALID_PARAM
	CodeUnauthorized:     202, // USER_AUTHENTICATION_FAILED
	CodeTokenExpired:     108, // TOKEN_EXPIRED
	CodeRegistrationOff:  208, // USER_REG_FAILED
	CodeUserExists:       203, // USER_ALREADY_EXIST
	CodeUserNotFound:     204, // USER_NOT_FOUND
	CodePermissionDenied: 603, // PERMISSION_DENIED
	CodeGroupNotFound:    605, // GROUP_NOT_EXIST
	CodeNotMember:        602, // GROUP_NOT_JOINED
	CodeAlreadyMember:    601, // GROUP_ALREADY_JOINED
	CodeGroupFull:        606, // GROUP_MEMBERS_FULL
	CodeMessageNotFound:  51,  // MESSAGE_NOT_FOUND
	CodeTooLarge:         511, // MESSAGE_SIZE_LIMIT
	CodeRateLimited:      509, // MESSAGE_CURRENT_LIMITING
	CodeLimitExceeded:    50,  // MAX_LIMIT
	CodeNotAllowed:       54,  // OPERATION_NOT_ALLOWED
	CodeUnavailable:      302, // SERVER_BUSY: retry later
	CodeInternal:         303, // SERVER_UNKNOWN_ERROR
}

// Number returns the numeric wire code of c.
func (c Code) Number() int {
	if n, ok := Numbers[c]; ok {
		return n
	}
	return Numbers[CodeInternal]
}

// Error is seen's one error type. Code is stable and sent on the wire,
// Message is safe to show a user, Err is the cause: logged, never sent.
type Error struct {
	Code    Code
	Message string
	Err     error
}

func (e *Error) Error() string {
	if e.Err != nil {
		return fmt.Sprintf("%s: %s: %v", e.Code, e.Message, e.Err)
	}
	return fmt.Sprintf("%s: %s", e.Code, e.Message)
}

func (e *Error) Unwrap() error { return e.Err }

// Errorf returns an *Error with a formatted user-safe message.
func Errorf(code Code, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...)}
}

// ErrorCode returns the code of the first *Error in err's chain, or
// CodeInternal for any other non-nil error.
func ErrorCode(err error) Code {
	var e *Error
	if errors.As(err, &e) {
		return e.Code
	}
	if err == nil {
		return ""
	}
	return CodeInternal
}

// ErrorMessage returns the user-safe message of err. Errors that are not
// *Error are internal: their text is never shown.
func ErrorMessage(err error) string {
	var e *Error
	if errors.As(err, &e) {
		return e.Message
	}
	return "internal error"
}

// ErrNotFound is returned by Store methods when a row does not exist. The
// service turns it into the right user-facing code.
var ErrNotFound = errors.New("not found")

// ErrConflict is returned by Store methods when a unique key is taken.
var ErrConflict = errors.New("conflict")
