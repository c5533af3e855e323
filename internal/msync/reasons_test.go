package msync

import (
	"context"
	"fmt"
	"testing"

	"seen/internal/chat"
	"seen/internal/msync/pb"
)

// TestRefusal: every chat code is refused with FAIL (never
// PERMISSION_DENIED, which the SDK drops), the codes the SDK maps with
// its reasons, the others with the service's message.
func TestRefusal(t *testing.T) {
	want := map[chat.Code]string{
		chat.CodeGroupNotFound:   "group not found",
		chat.CodeNotMember:       "not in group or chatroom",
		chat.CodeMessageNotFound: "Sorry, message does not exist",
		chat.CodeBadRequest:      "the message",
	}
	for code := range chat.Numbers {
		st := refusal(fmt.Errorf("wrapped: %w", chat.Errorf(code, "the message")))
		if st.GetErrorCode() != pb.Status_FAIL || st.GetReason() == "" {
			t.Errorf("%s: status %v, want FAIL with a reason", code, st)
		}
		if w, ok := want[code]; ok && st.GetReason() != w {
			t.Errorf("%s: reason %q, want %q", code, st.GetReason(), w)
		}
	}
	if st := refusal(fmt.Errorf("a store failure")); st.GetErrorCode() != pb.Status_FAIL || st.GetReason() != "internal error" {
		t.Errorf("a plain error: %v, want FAIL internal error", st)
	}
}

// TestAuthRefusal: only a token the service rejected is told as a bad
// token; a failure of the server is told as a server error.
func TestAuthRefusal(t *testing.T) {
	const bad, server = "Sorry, token or password does not match login info", "Sorry, server error"
	for _, c := range []struct {
		err  error
		want string
	}{
		{chat.Errorf(chat.CodeUnauthorized, "unknown or revoked access token"), bad},
		{chat.Errorf(chat.CodeTokenExpired, "expired"), "Sorry, token expired"},
		{chat.Errorf(chat.CodeUnavailable, "the server is shutting down"), server},
		{chat.Errorf(chat.CodeInternal, "internal error"), server},
		{fmt.Errorf("authenticate: %w", context.DeadlineExceeded), server},
		{&chat.Error{Code: chat.CodeUnauthorized, Message: "x", Err: context.Canceled}, server},
	} {
		if got, _ := authRefusal(c.err); got != c.want {
			t.Errorf("authRefusal(%v) = %q, want %q", c.err, got, c.want)
		}
	}
}
