package httpapi

// Fuzz targets for the REST request decoding: JSON bodies (decode, into
// every body type a handler reads), query parameters and path ids. A
// refusal must be a *chat.Error with a client code (bad_request or
// too_large), never internal, with a message that is safe to send; an
// accepted body must round-trip. Without -fuzz, go test runs the seeds
// as ordinary tests; `make fuzz` runs each target for longer.

import (
	"bytes"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"reflect"
	"strconv"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"seen/internal/chat"
	"seen/internal/protocol"
)

// fuzzBodies are the types the handlers decode request bodies into.
var fuzzBodies = []any{
	credentialsRequest{},
	[]credentialsRequest{},
	passwordRequest{},
	resetPasswordRequest{},
	adminGroupCreate{},
	protocol.GroupCreate{},
	usersRequest{},
	userRequest{},
	protocol.Send{},
	protocol.ConvAck{},
	ackRequest{},
	protocol.PeerAck{},
	remindRequest{},
	policyRequest{},
	protocol.SetSettings{},
	retryRequest{},
}

// fuzzBodyLimit is the body limit of the fuzz requests: small, so that
// the fuzzer reaches it.
const fuzzBodyLimit = 4 << 10

// fuzzRequest is a request with body as ServeHTTP hands it to a handler:
// the body behind an http.MaxBytesReader. chunked drops the length, as a
// chunked upload does.
func fuzzRequest(ct string, body []byte, chunked bool) *http.Request {
	r := httptest.NewRequest("POST", "/", bytes.NewReader(body))
	if chunked {
		r.ContentLength = -1
	}
	if ct != "" {
		r.Header.Set("Content-Type", ct)
	}
	r.Body = http.MaxBytesReader(nil, r.Body, fuzzBodyLimit)
	return r
}

// checkClientError fails unless err is a *chat.Error with one of codes and
// a non-empty, valid UTF-8 message.
func checkClientError(t *testing.T, what string, err error, codes ...chat.Code) {
	t.Helper()
	var ce *chat.Error
	if !errors.As(err, &ce) {
		t.Fatalf("%s = %T %v, want a *chat.Error", what, err, err)
	}
	ok := false
	for _, c := range codes {
		ok = ok || ce.Code == c
	}
	if !ok {
		t.Fatalf("%s = %v: code %s, want one of %v", what, err, ce.Code, codes)
	}
	if ce.Message == "" || !utf8.ValidString(ce.Message) {
		t.Fatalf("%s = %v: the message %q is empty or not valid UTF-8", what, err, ce.Message)
	}
}

var fuzzEquateEmpty = cmp.FilterPath(func(p cmp.Path) bool {
	return p.Last().Type() != reflect.TypeFor[json.RawMessage]()
}, cmpopts.EquateEmpty())

// fuzzEqualJSON compares raw JSON by its compact, HTML-escaped spelling,
// the one json.Marshal gives a RawMessage; absent is null.
var fuzzEqualJSON = cmp.Comparer(func(a, b json.RawMessage) bool {
	canon := func(raw json.RawMessage) []byte {
		if len(raw) == 0 {
			return []byte("null")
		}
		var c, e bytes.Buffer
		if json.Compact(&c, raw) != nil {
			return raw
		}
		json.HTMLEscape(&e, c.Bytes())
		return e.Bytes()
	}
	return bytes.Equal(canon(a), canon(b))
})

func fuzzBodySeeds(f *testing.F) {
	// The request data of the golden frames are the bodies of the REST
	// twins of those ops.
	b, err := os.ReadFile("../protocol/testdata/golden.json")
	if err != nil {
		f.Fatal(err)
	}
	var golden []struct {
		Frame protocol.Request `json:"frame"`
	}
	if err := json.Unmarshal(b, &golden); err != nil {
		f.Fatal(err)
	}
	var seeds []string
	for _, g := range golden {
		if len(g.Frame.Data) > 0 {
			seeds = append(seeds, string(g.Frame.Data))
		}
	}
	seeds = append(seeds,
		`{"username": "bob", "password": "password"}`,
		`[{"username": "carol", "password": "password"}]`,
		`{"oldPassword": "password", "newPassword": "password2"}`,
		`{"name": "g", "owner": "alice", "members": ["bob"]}`,
		`{"users": ["bob", "carol"]}`,
		`{"user": "bob"}`,
		`{"items": [{"msgId": "1", "ackContent": "ok"}]}`,
		`{"request": "all", "visibility": "members", "lists": false}`, `{"lists": null}`,
		`{"sendReadReceipts": false}`, `{"ids": ["1", "2"]}`, `{"all": true}`, `{"ids": [1]}`,
		``, ` `, `null`, `{}`, `[]`, `[null]`, `""`, `1`, "\x00", `{"username": "\u0000"}`,
		"{\"username\": \"\xff\xfe\"}", "{\"\xff\": 1}", `{"username": "x"} {}`, `{"username": "x"} x`,
		`{"username": `, `{"maxMembers": 99999999999999999999}`, `{"maxMembers": -1e400}`,
		`{"maxMembers": 1.5}`, `{"public": "yes"}`, `{"ext": `+strings.Repeat(`[`, 20000)+strings.Repeat(`]`, 20000)+`}`,
		`{"admin": true}`, `{"Username": "x", "USERNAME": "y"}`, `{"items": [{"msgId": 1}]}`,
		`{"username": "`+strings.Repeat("a", fuzzBodyLimit)+`"}`,
	)
	// Each seed once, for one body type in turn (the fuzzer varies the
	// type): a cross product would make the baseline run slow.
	for j, s := range seeds {
		f.Add(uint8(j%len(fuzzBodies)), "application/json", []byte(s), false)
	}
	for i := range fuzzBodies {
		f.Add(uint8(i), "application/json; charset=utf-8", []byte(`{}`), true)
		f.Add(uint8(i), "", []byte(`{}`), false)
		f.Add(uint8(i), "text/plain", []byte(`{}`), false)
		f.Add(uint8(i), "application/json; charset", []byte(`{}`), false)
		f.Add(uint8(i), "application/json\x00", []byte(`{}`), false)
	}
}

// FuzzDecodeBody fuzzes decode with every body type: it never panics,
// refuses with bad_request or too_large only, and what it accepts
// encodes to a body that decodes to the same value.
func FuzzDecodeBody(f *testing.F) {
	fuzzBodySeeds(f)
	f.Fuzz(func(t *testing.T, i uint8, ct string, body []byte, chunked bool) {
		typ := reflect.TypeOf(fuzzBodies[int(i)%len(fuzzBodies)])
		v := reflect.New(typ).Interface()
		err := decode(fuzzRequest(ct, body, chunked), v)
		if err != nil {
			checkClientError(t, "decode("+strconv.Quote(ct)+", "+strconv.Quote(string(body))+")", err, chat.CodeBadRequest, chat.CodeTooLarge)
			return
		}
		b, err := json.Marshal(v)
		if err != nil {
			t.Fatalf("json.Marshal(%#v) = %v", v, err)
		}
		if len(b) > fuzzBodyLimit {
			return // re-encoding may grow a body (escapes) past the limit
		}
		v2 := reflect.New(typ).Interface()
		if err := decode(fuzzRequest("application/json", b, false), v2); err != nil {
			t.Fatalf("decode(%s), the encoding of the accepted %q, = %v", b, body, err)
		}
		if d := cmp.Diff(v, v2, fuzzEqualJSON, fuzzEquateEmpty); d != "" {
			t.Fatalf("round trip of %q through %s changed the value (-first +second):\n%s", body, b, d)
		}
	})
}

// FuzzQuery fuzzes the query and path parameters: page sizes, stream
// positions, booleans, message id lists, the export's format and part
// (and Accept), and the group and message ids of the path. Refusals are bad_request; accepted values format back to
// what parses to the same value.
func FuzzQuery(f *testing.F) {
	for _, q := range []string{
		"", "limit=10", "ack=41&limit=100", "limit=-1", "limit=2147483648", "ack=9223372036854775808",
		"ack=-9223372036854775808", "limit=+5", "limit=0x10", "limit=1e3", "limit=%00", "limit=%ff",
		"withUnread=true", "withUnread=TRUE", "withUnread=1", "msgIds=1,2,3", "msgIds=1,,2", "msgIds=%20", "msgIds=,",
		"msgIds=1, 2", "msgIds=0", "msgIds=-1", "msgIds=18446744073709551616", "limit=1&limit=2", "%zz", ";;&&==",
		"format=csv", "format=jsonl&only=readers", "only=unread", "format=CSV", "only=both", "format=csv&format=xml",
		"text/csv;q=0, application/x-ndjson", "application/jsonl;q=0.5", "*/*",
	} {
		f.Add(q, "123456789012345678", "123456789012345679")
	}
	f.Add("", "", "")
	f.Add("", "0", "-1")
	f.Add("", "+1", "01")
	f.Add("", "\x00", "\xff")
	f.Add("", "9223372036854775807", "9223372036854775808")
	f.Fuzz(func(t *testing.T, query, gid, mid string) {
		u, err := url.Parse("/?" + query)
		if err != nil {
			return // not a request line a client can send
		}
		r := httptest.NewRequest("GET", "/", nil)
		r.URL = u
		r.SetPathValue("groupId", gid)
		r.SetPathValue("msgId", mid)
		bad := func(what string, err error) { checkClientError(t, what, err, chat.CodeBadRequest) }

		if n, err := queryInt(r, "limit"); err != nil {
			bad("queryInt(limit)", err)
		} else {
			r2 := httptest.NewRequest("GET", "/?limit="+strconv.Itoa(n), nil)
			if n2, err := queryInt(r2, "limit"); err != nil || n2 != n {
				t.Fatalf("queryInt(limit=%d) = %d, %v: the formatted value does not parse back", n, n2, err)
			}
		}
		if n, err := queryInt64(r, "ack"); err != nil {
			bad("queryInt64(ack)", err)
		} else {
			r2 := httptest.NewRequest("GET", "/?ack="+strconv.FormatInt(n, 10), nil)
			if n2, err := queryInt64(r2, "ack"); err != nil || n2 != n {
				t.Fatalf("queryInt64(ack=%d) = %d, %v: the formatted value does not parse back", n, n2, err)
			}
		}
		if _, _, err := streamQuery(r); err != nil {
			bad("streamQuery", err)
		}
		if _, err := queryBool(r, "withUnread"); err != nil {
			bad("queryBool(withUnread)", err)
		}
		if ids, err := msgIDs(r.URL.Query().Get("msgIds")); err != nil {
			bad("msgIDs", err)
		} else {
			ss := make([]string, len(ids))
			for i, id := range ids {
				if id <= 0 {
					t.Fatalf("msgIDs(%q) accepted the id %d", r.URL.Query().Get("msgIds"), id)
				}
				ss[i] = id.String()
			}
			ids2, err := msgIDs(strings.Join(ss, ","))
			if err != nil {
				t.Fatalf("msgIDs(%q), the formatted ids, = %v", strings.Join(ss, ","), err)
			}
			if d := cmp.Diff(ids, ids2); d != "" {
				t.Fatalf("msgIDs round trip (-first +second):\n%s", d)
			}
		}
		// The export's path, query and Accept (the query string doubles as
		// an Accept header).
		r.Header.Set("Accept", query)
		if _, passes, format, err := (&API{}).exportPlan(r); err != nil {
			bad("exportPlan", err)
		} else if len(passes) == 0 || (format != formatCSV && format != formatJSONL) {
			t.Fatalf("exportPlan(%q, Accept %q) = %d passes, format %q", query, query, len(passes), format)
		}
		if g, err := groupID(r); err != nil {
			bad("groupID", err)
		} else {
			r.SetPathValue("groupId", g.String())
			if g2, err := groupID(r); err != nil || g2 != g {
				t.Fatalf("groupID(%q) = %v, %v; want %v", g.String(), g2, err, g)
			}
		}
		if m, err := msgID(r); err != nil {
			bad("msgID", err)
		} else {
			r.SetPathValue("msgId", m.String())
			if m2, err := msgID(r); err != nil || m2 != m {
				t.Fatalf("msgID(%q) = %v, %v; want %v", m.String(), m2, err, m)
			}
		}
	})
}
