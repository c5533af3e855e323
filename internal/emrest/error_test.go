package emrest

import (
	"net/http"
	"testing"

	"seen/internal/chat"
)

// rejecting are the statuses for which the vendor SDK's REST error
// handler both calls the error callback and rejects the promise (for
// 406 it does neither: the call would hang).
var rejecting = map[int]bool{
	http.StatusBadRequest: true, http.StatusUnauthorized: true, http.StatusForbidden: true, http.StatusNotFound: true,
	http.StatusRequestEntityTooLarge: true, http.StatusTooManyRequests: true,
	http.StatusInternalServerError: true, http.StatusServiceUnavailable: true,
}

// TestVendorErrorsComplete checks that every chat code has a vendor
// answer with a status the SDK rejects on, and a name.
func TestVendorErrorsComplete(t *testing.T) {
	for code := range chat.Numbers {
		ve, ok := vendorErrors[code]
		if !ok {
			t.Errorf("code %s has no vendor error", code)
			continue
		}
		if !rejecting[ve.status] || ve.name == "" {
			t.Errorf("code %s -> %+v: the SDK would not reject on that status, or no name", code, ve)
		}
	}
}

// TestDescribe checks the phrases the SDK matches.
func TestDescribe(t *testing.T) {
	for _, tc := range []struct {
		code chat.Code
		want string
	}{
		{chat.CodeNotMember, "users are not members of this group: you are not a member"},
		{chat.CodeGroupNotFound, "do not find this group: no group"},
		{chat.CodeGroupFull, "group member list is full!"},
		{chat.CodeBadRequest, "no group"},
	} {
		msg := "no group"
		if tc.code == chat.CodeNotMember {
			msg = "you are not a member"
		}
		if got := describe(tc.code, chat.Errorf(tc.code, "%s", msg)); got != tc.want {
			t.Errorf("describe(%s) = %q, want %q", tc.code, got, tc.want)
		}
	}
}
