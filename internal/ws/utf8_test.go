package ws

import (
	"strings"
	"testing"
)

// TestInvalidUTF8Refused: request data with invalid UTF-8 inside a
// string is refused with bad_request naming the field, not decoded with
// the bad bytes replaced by U+FFFD and stored.
func TestInvalidUTF8Refused(t *testing.T) {
	st := newStack(t, DefaultConfig())
	st.users(t, "alice", "bob")
	r := st.rawAuthed(t, "alice", "a1")
	for i, tc := range []struct{ data, field string }{
		{"{\"localId\":\"u1\",\"type\":\"txt\",\"chatType\":\"singleChat\",\"to\":\"bob\",\"msg\":\"hi \xff\"}", "msg: "},
		{"{\"localId\":\"u2\",\"type\":\"txt\",\"chatType\":\"singleChat\",\"to\":\"bob\",\"msg\":\"hi\",\"ext\":{\"k\":\"\xc3\"}}", "ext.k: "},
	} {
		r.send(`{"id":"s` + string(rune('0'+i)) + `","op":"msg.send","data":` + tc.data + `}`)
		rep := r.reply()
		if rep.OK || rep.Error == nil || rep.Error.Name != "bad_request" || !strings.Contains(rep.Error.Message, tc.field) {
			t.Errorf("msg.send %q = %+v, want bad_request naming %q", tc.data, rep, tc.field)
		}
	}
	r.send(`{"id":"h","op":"history","data":{"chatType":"singleChat","to":"bob"}}`)
	rep := r.reply()
	if !rep.OK || strings.Contains(string(rep.Data), `"localId"`) {
		t.Errorf("history = %+v %s, want ok and nothing stored", rep, rep.Data)
	}
}
