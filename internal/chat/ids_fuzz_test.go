package chat

// Fuzz targets for the wire ids (ParseGroupID, ParseMsgID) and the
// two-part cursors (readers, members): parsing never panics, refuses
// with bad_request, parse(format(x)) == x, and whatever parse accepts
// formats to something it accepts again, meaning the same. The one-number
// cursors (history, conversations, unread, my groups) are parsed inside
// the service methods; cursor_fuzz_test.go fuzzes those through a real
// service. `make fuzz` runs each target for longer.

import (
	"errors"
	"fmt"
	"strconv"
	"testing"
	"time"
	"unicode/utf8"
)

// fuzzBadRequest fails unless err is a bad_request *Error with a
// non-empty, valid UTF-8 message.
func fuzzBadRequest(t *testing.T, what string, err error) {
	t.Helper()
	var e *Error
	if !errors.As(err, &e) || e.Code != CodeBadRequest {
		t.Fatalf("%s = %v, want a bad_request *chat.Error", what, err)
	}
	if e.Message == "" || !utf8.ValidString(e.Message) {
		t.Fatalf("%s: message %q is empty or not valid UTF-8", what, e.Message)
	}
}

var fuzzIDSeeds = []string{
	"", "0", "1", "-1", "+1", "01", " 1", "1 ", "1.0", "1e3", "0x10",
	"123456789012345678", "9223372036854775807", "9223372036854775808", "-9223372036854775808",
	"99999999999999999999999999", "\x00", "1\x00", "\xff", "١٢٣", strconv.Itoa(int(time.Now().UnixMilli())),
}

// FuzzIDs fuzzes ParseGroupID and ParseMsgID with a string, and the
// format-then-parse direction with a number.
func FuzzIDs(f *testing.F) {
	for _, s := range fuzzIDSeeds {
		f.Add(s, int64(0))
	}
	for _, n := range []int64{1, -1, 1 << 53, 1<<63 - 1, -1 << 63} {
		f.Add("", n)
	}
	f.Fuzz(func(t *testing.T, s string, n int64) {
		g, gerr := ParseGroupID(s)
		m, merr := ParseMsgID(s)
		if (gerr == nil) != (merr == nil) || int64(g) != int64(m) {
			t.Fatalf("ParseGroupID(%q) = %d, %v but ParseMsgID = %d, %v", s, g, gerr, m, merr)
		}
		if gerr != nil {
			fuzzBadRequest(t, fmt.Sprintf("ParseGroupID(%q)", s), gerr)
			fuzzBadRequest(t, fmt.Sprintf("ParseMsgID(%q)", s), merr)
		} else {
			if g <= 0 {
				t.Fatalf("ParseGroupID(%q) accepted %d, not positive", s, g)
			}
			if g2, err := ParseGroupID(g.String()); err != nil || g2 != g {
				t.Fatalf("ParseGroupID(%q) = %d, %v: accepted %q formats to %q, which does not parse back", g.String(), g2, err, s, g.String())
			}
		}

		// format -> parse: every positive id round-trips, nothing else parses.
		g2, err := ParseGroupID(GroupID(n).String())
		m2, err2 := ParseMsgID(MsgID(n).String())
		switch {
		case n > 0 && (err != nil || err2 != nil || int64(g2) != n || int64(m2) != n):
			t.Fatalf("id %d: ParseGroupID(String) = %d, %v; ParseMsgID(String) = %d, %v", n, g2, err, m2, err2)
		case n <= 0 && (err == nil || err2 == nil):
			t.Fatalf("id %d is not positive, yet parses: %d, %v; %d, %v", n, g2, err, m2, err2)
		}
	})
}

// formatReadCursor and formatMemberCursor are how Readers and Members
// spell their cursors (fmt.Sprintf("%d.%d", ...) there).
func formatReadCursor(p ReadPos) string             { return fmt.Sprintf("%d.%d", p.At.UnixMilli(), p.User) }
func formatMemberCursor(seq int64, u UserID) string { return fmt.Sprintf("%d.%d", seq, u) }

// FuzzCursors fuzzes the reader and member cursors: parse never panics
// and refuses with bad_request; parse(format(x)) == x; and an accepted
// cursor formats back to one that parses to the same position.
func FuzzCursors(f *testing.F) {
	for _, s := range []string{
		"", ".", "1.", ".1", "1.2", "1.2.3", "-1.-2", "+1.+2", "1764000000000.42", "01.02", " 1.2",
		"9223372036854775807.9223372036854775807", "-9223372036854775808.1", "9223372036854775808.1",
		"1.9223372036854775808", "1,2", "1..2", "\x00.\x00", "\xff.1", "1e3.1",
	} {
		f.Add(s, int64(0), int64(0))
	}
	f.Add("", int64(1764000000000), int64(42))
	f.Add("", int64(-1), int64(-1))
	f.Add("", int64(1<<63-1), int64(-1<<63))
	f.Add("", int64(-1<<63), int64(1<<63-1))
	f.Fuzz(func(t *testing.T, s string, a, b int64) {
		// Readers: "<read time ms>.<user id>".
		pos, err := parseReadCursor(s)
		switch {
		case err != nil:
			fuzzBadRequest(t, fmt.Sprintf("parseReadCursor(%q)", s), err)
		case s == "" && pos != nil:
			t.Fatalf("parseReadCursor(\"\") = %+v, want nil (the start)", pos)
		case s != "":
			if pos == nil {
				t.Fatalf("parseReadCursor(%q) = nil, nil", s)
			}
			c := formatReadCursor(*pos)
			again, err := parseReadCursor(c)
			if err != nil || again == nil || !again.At.Equal(pos.At) || again.User != pos.User {
				t.Fatalf("parseReadCursor(%q) = %+v; its format %q parses to %+v, %v", s, pos, c, again, err)
			}
		}
		want := ReadPos{At: time.UnixMilli(a), User: UserID(b)}
		got, err := parseReadCursor(formatReadCursor(want))
		if err != nil || got == nil || got.At.UnixMilli() != a || got.User != want.User {
			t.Fatalf("parseReadCursor(%q) = %+v, %v, want %+v", formatReadCursor(want), got, err, want)
		}

		// Members: "<join seq>.<user id>"; "" is before the first (-1, 0).
		seq, u, err := parseMemberCursor(s)
		switch {
		case err != nil:
			fuzzBadRequest(t, fmt.Sprintf("parseMemberCursor(%q)", s), err)
		case s == "" && (seq != -1 || u != 0):
			t.Fatalf("parseMemberCursor(\"\") = %d, %d, want -1, 0 (the start)", seq, u)
		case s != "":
			c := formatMemberCursor(seq, u)
			seq2, u2, err := parseMemberCursor(c)
			if err != nil || seq2 != seq || u2 != u {
				t.Fatalf("parseMemberCursor(%q) = %d, %d; its format %q parses to %d, %d, %v", s, seq, u, c, seq2, u2, err)
			}
		}
		seq, u, err = parseMemberCursor(formatMemberCursor(a, UserID(b)))
		if err != nil || seq != a || u != UserID(b) {
			t.Fatalf("parseMemberCursor(%q) = %d, %d, %v, want %d, %d", formatMemberCursor(a, UserID(b)), seq, u, err, a, b)
		}
	})
}
