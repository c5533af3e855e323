package httpapi_test

import (
	"strings"
	"testing"
)

// TestInvalidUTF8Refused: a body with invalid UTF-8 inside a string is
// refused with bad_request naming the field, not decoded with the bad
// bytes replaced by U+FFFD and stored.
func TestInvalidUTF8Refused(t *testing.T) {
	h := newHarness(t)
	alice := h.user("alice")
	h.user("bob")
	for _, tc := range []struct{ body, field string }{
		{"{\"localId\":\"u1\",\"type\":\"txt\",\"chatType\":\"singleChat\",\"to\":\"bob\",\"msg\":\"hi \xff\"}", "msg: "},
		{"{\"localId\":\"u2\",\"type\":\"txt\",\"chatType\":\"singleChat\",\"to\":\"bob\",\"msg\":\"hi\",\"ext\":{\"k\":\"\xc3\"}}", "ext.k: "},
	} {
		r := h.wantErr(400, "bad_request", req{method: "POST", path: "/api/v1/messages", token: alice, body: []byte(tc.body)})
		if e, _ := r.body["error"].(map[string]any); !strings.Contains(e["message"].(string), tc.field) {
			t.Errorf("POST %q = %s, want the message to name %q", tc.body, r.raw, tc.field)
		}
	}
	r := h.must(200, req{method: "GET", path: "/api/v1/history?chatType=singleChat&to=bob", token: alice})
	if ms := list(r, "messages"); len(ms) != 0 {
		t.Errorf("history = %s, want nothing stored", r.raw)
	}
}
