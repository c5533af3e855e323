package httpapi_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/google/go-cmp/cmp"

	"seen/internal/chat"
	"seen/internal/httpapi"
)

// bigGroup makes a group of the REST user "owner" with n members created
// through the service (use fastHashing), and a receipt-requesting message
// in it. It returns the owner's token, the members, the group and the
// message.
func (h *harness) bigGroup(n int) (string, []chat.Actor, string, string) {
	h.t.Helper()
	ctx := context.Background()
	owner := h.user("owner")
	gid := h.group(owner, map[string]any{"name": "school"})
	g, err := chat.ParseGroupID(gid)
	if err != nil {
		h.t.Fatal(err)
	}
	var members []chat.Actor
	for start := 0; start < n; start += chat.MaxBulkUsers {
		var cs []chat.Credentials
		var names []string
		for i := start; i < min(n, start+chat.MaxBulkUsers); i++ {
			name := fmt.Sprintf("m%05d", i)
			cs = append(cs, chat.Credentials{Username: name, Password: "password"})
			names = append(names, name)
		}
		us, err := h.svc.CreateUsers(ctx, chat.AdminActor, cs)
		if err != nil {
			h.t.Fatalf("CreateUsers = %v", err)
		}
		for _, u := range us {
			members = append(members, chat.Actor{User: u.ID, Name: u.Name, Device: "rest"})
		}
		if _, err := h.svc.AddMembers(ctx, chat.AdminActor, g, names); err != nil {
			h.t.Fatalf("AddMembers = %v", err)
		}
	}
	mid := h.send(owner, map[string]any{"localId": "big", "type": "txt", "chatType": "groupChat", "to": gid, "msg": "notice",
		"msgConfig": map[string]any{"allowGroupAck": true}}).body["id"].(string)
	return owner, members, gid, mid
}

// ackAll acks message mid of group gid as each of members, with content.
func (h *harness) ackAll(members []chat.Actor, gid, mid string, content func(i int) string) {
	h.t.Helper()
	g, _ := chat.ParseGroupID(gid)
	m, _ := chat.ParseMsgID(mid)
	var wg sync.WaitGroup
	work := make(chan int)
	for range 32 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range work {
				rs, err := h.svc.Ack(context.Background(), members[i], g, []chat.AckItem{{Msg: m, Content: content(i)}})
				if err != nil || rs[0].Err != nil || !rs[0].Counted {
					h.t.Errorf("Ack(%s) = %+v, %v", members[i].Name, rs, err)
				}
			}
		}()
	}
	for i := range members {
		work <- i
	}
	close(work)
	wg.Wait()
}

// get does a GET with the admin token and returns the response, unread.
func (h *harness) get(path string, header map[string]string) *http.Response {
	h.t.Helper()
	r, err := http.NewRequest("GET", h.srv.URL+path, nil)
	if err != nil {
		h.t.Fatal(err)
	}
	r.Header.Set("Authorization", "Bearer "+adminToken)
	for k, v := range header {
		r.Header.Set(k, v)
	}
	res, err := h.srv.Client().Do(r)
	if err != nil {
		h.t.Fatal(err)
	}
	h.t.Cleanup(func() { res.Body.Close() })
	return res
}

func exportPath(gid, mid, query string) string {
	return "/api/v1/admin/groups/" + gid + "/messages/" + mid + "/receipts" + query
}

func TestExportCSV(t *testing.T) { onStores(t, testExportCSV) }

func testExportCSV(t *testing.T, dsn string) {
	h := newHarnessAt(t, dsn)
	alice, bob := h.user("alice"), h.user("bob")
	h.user("carol")
	h.user("-dash")
	gid := h.group(alice, map[string]any{"name": "team", "members": []string{"bob", "carol", "-dash"}})
	mid := h.send(alice, map[string]any{"localId": "a1", "type": "txt", "chatType": "groupChat", "to": gid, "msg": "read me",
		"msgConfig": map[string]any{"allowGroupAck": true}}).body["id"].(string)
	h.must(200, req{method: "POST", path: "/api/v1/groups/" + gid + "/receipts", token: bob, body: map[string]any{
		"items": []map[string]any{{"msgId": mid, "ackContent": "=HYPERLINK(\"http://evil\"), \"ok\"\nline 2"}}}})

	rem := h.must(200, req{method: "POST", path: msgPath(gid, mid, "remind"), token: alice, body: map[string]any{"users": []string{"carol"}}})
	remindedMs := int64(rem.body["at"].(float64))

	res := h.get(exportPath(gid, mid, "?format=csv"), nil)
	raw, err := io.ReadAll(res.Body)
	if err != nil || res.StatusCode != 200 {
		t.Fatalf("export = %d %q, %v", res.StatusCode, raw, err)
	}
	if ct := res.Header.Get("Content-Type"); ct != "text/csv; charset=utf-8; header=present" {
		t.Errorf("Content-Type = %q", ct)
	}
	if cd := res.Header.Get("Content-Disposition"); cd != `attachment; filename="receipts-`+mid+`.csv"` {
		t.Errorf("Content-Disposition = %q", cd)
	}
	// RFC 4180: every line ends in CRLF, the newline inside the quoted
	// cell too (a reader gives it back as \n).
	if !bytes.HasSuffix(raw, []byte("\r\n")) || bytes.Count(raw, []byte("\n")) != bytes.Count(raw, []byte("\r\n")) {
		t.Errorf("export lines are not CRLF-terminated: %q", raw)
	}
	recs, err := csv.NewReader(bytes.NewReader(raw)).ReadAll()
	if err != nil {
		t.Fatalf("export is not CSV: %v\n%s", err, raw)
	}
	bobID, carolID, dashID := h.userID("bob"), h.userID("carol"), h.userID("-dash")
	if len(recs) != 4 {
		t.Fatalf("export = %q, want a header and 3 rows", recs)
	}
	want := [][]string{
		{"status", "username", "userId", "readAt", "readAtMs", "ackContent", "reminded", "remindedAt", "remindedAtMs"},
		{"unread", "carol", carolID, "", "", "", "1", timeOf(remindedMs), fmt.Sprint(remindedMs)},
		{"unread", "'-dash", dashID, "", "", "", "0", "", ""},
	}
	// The unread pass comes first, by user id.
	if carolID > dashID {
		want[1], want[2] = want[2], want[1]
	}
	if diff := cmp.Diff(want, recs[:3]); diff != "" {
		t.Errorf("export header and unread rows (-want +got):\n%s", diff)
	}
	read := recs[3]
	if read[0] != "read" || read[1] != "bob" || read[2] != bobID || read[5] != "'=HYPERLINK(\"http://evil\"), \"ok\"\nline 2" || read[6] != "" {
		t.Errorf("reader row = %q", read)
	}
	checkTimes(t, read[3], read[4])

	// Parts: only readers, only unread.
	for query, want := range map[string][]string{"?only=readers": {"bob"}, "?only=unread&format=csv": {"carol", "'-dash"}} {
		res := h.get(exportPath(gid, mid, query), nil)
		recs, err := csv.NewReader(res.Body).ReadAll()
		if err != nil || len(recs) != len(want)+1 {
			t.Fatalf("export%s = %q, %v", query, recs, err)
		}
		var got []string
		for _, r := range recs[1:] {
			got = append(got, r[1])
		}
		if !cmp.Equal(sorted(got), sorted(want)) {
			t.Errorf("export%s users = %v, want %v", query, got, want)
		}
	}
}

// checkTimes checks that an RFC 3339 time and its Unix ms agree.
func checkTimes(t *testing.T, text, ms string) {
	t.Helper()
	var n int64
	if _, err := fmt.Sscan(ms, &n); err != nil || n <= 0 {
		t.Errorf("ms = %q, want a positive number", ms)
	}
	if want := timeOf(n); text != want {
		t.Errorf("time = %q, want %q (of %s ms)", text, want, ms)
	}
}

func TestExportJSONLines(t *testing.T) { onStores(t, testExportJSONLines) }

func testExportJSONLines(t *testing.T, dsn string) {
	h := newHarnessAt(t, dsn)
	alice, bob := h.user("alice"), h.user("bob")
	h.user("carol")
	gid := h.group(alice, map[string]any{"name": "team", "members": []string{"bob", "carol"}})
	mid := h.send(alice, map[string]any{"localId": "a1", "type": "txt", "chatType": "groupChat", "to": gid, "msg": "read me",
		"msgConfig": map[string]any{"allowGroupAck": true}}).body["id"].(string)
	h.must(200, req{method: "POST", path: "/api/v1/groups/" + gid + "/receipts", token: bob, body: map[string]any{
		"items": []map[string]any{{"msgId": mid, "ackContent": "=1+1"}}}})

	// By ?format, and by Accept (ignoring what it cannot serve).
	for _, c := range []struct {
		query  string
		accept string
	}{
		{"?format=jsonl", ""},
		{"", "application/x-ndjson"},
		{"", "text/html;q=0.9, application/jsonl"},
		{"?format=jsonl", "text/csv"},
	} {
		res := h.get(exportPath(gid, mid, c.query), map[string]string{"Accept": c.accept})
		if ct := res.Header.Get("Content-Type"); res.StatusCode != 200 || ct != "application/x-ndjson" {
			t.Fatalf("export%s Accept %q = %d %s", c.query, c.accept, res.StatusCode, ct)
		}
		lines := jsonLines(t, res.Body)
		if len(lines) != 2 {
			t.Fatalf("export lines = %v, want 2", lines)
		}
		want := map[string]any{"status": "unread", "username": "carol", "userId": h.userID("carol"), "reminded": 0.0}
		if diff := cmp.Diff(want, lines[0]); diff != "" {
			t.Errorf("unread line (-want +got):\n%s", diff)
		}
		// JSON needs no formula guard: the content is as acked.
		r := lines[1]
		if r["status"] != "read" || r["username"] != "bob" || r["userId"] != h.userID("bob") || r["ackContent"] != "=1+1" {
			t.Errorf("reader line = %v", r)
		}
		checkTimes(t, r["readAt"].(string), fmt.Sprint(int64(r["readAtMs"].(float64))))
	}
	// CSV when Accept names neither format.
	for _, accept := range []string{"", "*/*", "application/json", "text/csv;q=0, application/xml"} {
		res := h.get(exportPath(gid, mid, ""), map[string]string{"Accept": accept})
		if ct := res.Header.Get("Content-Type"); !strings.HasPrefix(ct, "text/csv") {
			t.Errorf("export with Accept %q: Content-Type %q, want CSV", accept, ct)
		}
	}
}

func jsonLines(t *testing.T, r io.Reader) []map[string]any {
	t.Helper()
	var out []map[string]any
	sc := bufio.NewScanner(r)
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		var v map[string]any
		if err := json.Unmarshal(sc.Bytes(), &v); err != nil {
			t.Fatalf("line %q: %v", sc.Bytes(), err)
		}
		out = append(out, v)
	}
	if err := sc.Err(); err != nil {
		t.Fatalf("reading lines: %v", err)
	}
	return out
}

// TestExportErrors: every error before the first byte is a JSON error
// reply, and changes nothing.
func TestExportErrors(t *testing.T) { onStores(t, testExportErrors) }

func testExportErrors(t *testing.T, dsn string) {
	h := newHarnessAt(t, dsn)
	alice := h.user("alice")
	h.user("bob")
	gid := h.group(alice, map[string]any{"name": "team", "members": []string{"bob"}})
	mid := h.send(alice, map[string]any{"localId": "a1", "type": "txt", "chatType": "groupChat", "to": gid, "msg": "read me",
		"msgConfig": map[string]any{"allowGroupAck": true}}).body["id"].(string)
	plain := h.send(alice, map[string]any{"localId": "a2", "type": "txt", "chatType": "groupChat", "to": gid, "msg": "plain"}).body["id"].(string)
	single := h.send(alice, map[string]any{"localId": "a3", "type": "txt", "chatType": "singleChat", "to": "bob", "msg": "hi"}).body["id"].(string)

	for _, c := range []struct {
		path   string
		token  string
		status int
		name   string
	}{
		{exportPath(gid, mid, ""), "", 401, "unauthorized"},
		{exportPath(gid, mid, ""), "wrong", 401, "unauthorized"},
		{exportPath(gid, mid, ""), alice, 401, "unauthorized"},
		{exportPath(gid, mid, "?format=xml"), adminToken, 400, "bad_request"},
		{exportPath(gid, mid, "?format=CSV"), adminToken, 400, "bad_request"},
		{exportPath(gid, mid, "?only=all"), adminToken, 400, "bad_request"},
		{exportPath("x", mid, ""), adminToken, 400, "bad_request"},
		{exportPath(gid, "x", ""), adminToken, 400, "bad_request"},
		{exportPath("123", mid, ""), adminToken, 404, "group_not_found"},
		{exportPath(gid, "123", ""), adminToken, 404, "message_not_found"},
		{exportPath(gid, single, ""), adminToken, 404, "message_not_found"},
		{exportPath(gid, plain, "?format=jsonl"), adminToken, 409, "not_allowed"},
		{exportPath(gid, plain, "?only=readers"), adminToken, 409, "not_allowed"},
	} {
		r := h.wantErr(c.status, c.name, req{method: "GET", path: c.path, token: c.token})
		if ct := r.header.Get("Content-Type"); ct != "application/json; charset=utf-8" {
			t.Errorf("GET %s: Content-Type %q, want JSON", c.path, ct)
		}
	}
	h.wantErr(405, "bad_request", req{method: "POST", path: exportPath(gid, mid, ""), token: adminToken})

	off := newHarness(t, noAdmin())
	off.wantErr(403, "permission_denied", req{method: "GET", path: exportPath(gid, mid, ""), token: adminToken})
}

// hookStore is the real store with a hook run before each read
// transaction, given the count of reads so far (1 for the first): a
// non-nil error fails that read instead.
type hookStore struct {
	chat.Store
	reads  atomic.Int64
	before atomic.Pointer[func(n int64) error]
}

var errDiskOnFire = errors.New("disk on fire")

func (s *hookStore) Read(ctx context.Context, fn func(chat.Tx) error) error {
	n := s.reads.Add(1)
	if f := s.before.Load(); f != nil {
		if err := (*f)(n); err != nil {
			return err
		}
	}
	return s.Store.Read(ctx, fn)
}

// hook sets the hook, counting reads from now.
func (s *hookStore) hook(f func(n int64) error) {
	s.reads.Store(0)
	if f == nil {
		s.before.Store(nil)
		return
	}
	s.before.Store(&f)
}

func withHookStore(s *hookStore) harnessOpt {
	return func(_ *chat.Config, _ *httpapi.Config, d *chat.Deps) {
		s.Store = d.Store
		d.Store = s
	}
}

// TestExportFailsVisibly: a failure after the first page ends the stream
// so that the client cannot take it for a whole file: JSON lines end with
// an error line, and in both formats the transfer is cut (no terminating
// chunk).
func TestExportFailsVisibly(t *testing.T) {
	fs := &hookStore{}
	h := newHarness(t, fastHashing(), withHookStore(fs))
	_, _, gid, mid := h.bigGroup(600) // two pages of unread members
	for _, format := range []string{"jsonl", "csv"} {
		fs.hook(func(n int64) error { // the first page, then the failure
			if n > 1 {
				return errDiskOnFire
			}
			return nil
		})
		res := h.get(exportPath(gid, mid, "?format="+format), nil)
		raw, err := io.ReadAll(res.Body)
		fs.hook(nil)
		if res.StatusCode != 200 || !errors.Is(err, io.ErrUnexpectedEOF) {
			t.Fatalf("%s export = %d, read error %v; want 200 and a cut transfer", format, res.StatusCode, err)
		}
		lines := strings.Split(strings.TrimSuffix(strings.ReplaceAll(string(raw), "\r\n", "\n"), "\n"), "\n")
		switch format {
		case "jsonl":
			if len(lines) != 501 {
				t.Fatalf("jsonl export has %d lines, want 500 and the error", len(lines))
			}
			var last map[string]map[string]any
			if err := json.Unmarshal([]byte(lines[500]), &last); err != nil || last["error"]["name"] != "internal" {
				t.Errorf("last line = %s, want an internal error", lines[500])
			}
			if strings.Contains(lines[500], errDiskOnFire.Error()) {
				t.Errorf("last line %s tells the cause", lines[500])
			}
		case "csv":
			if len(lines) != 501 || lines[0] != "status,username,userId,readAt,readAtMs,ackContent,reminded,remindedAt,remindedAtMs" {
				t.Fatalf("csv export has %d lines (first %q), want the header and 500 rows", len(lines), lines[0])
			}
		}
	}
	// The service still answers once the fault is gone.
	res := h.get(exportPath(gid, mid, "?format=jsonl&only=unread"), nil)
	if n := len(jsonLines(t, res.Body)); n != 600 {
		t.Errorf("export after the fault: %d lines, want 600", n)
	}
}

// TestExportWhileReading: members who read while the export runs are
// never missed: one who read after the export listed them as unread
// appears twice (unread, then read), one who read before their unread
// page was listed appears once, as a reader.
func TestExportWhileReading(t *testing.T) { onStores(t, testExportWhileReading) }

func testExportWhileReading(t *testing.T, dsn string) {
	hs := &hookStore{}
	h := newHarnessAt(t, dsn, fastHashing(), withHookStore(hs))
	_, members, gid, mid := h.bigGroup(600) // unread pages: m00000-m00499, m00500-m00599
	g, _ := chat.ParseGroupID(gid)
	m, _ := chat.ParseMsgID(mid)
	hs.hook(func(n int64) error {
		if n != 2 { // between the first and the second unread page
			return nil
		}
		hs.hook(nil)
		for _, a := range []chat.Actor{members[0], members[599]} {
			if rs, err := h.svc.Ack(context.Background(), a, g, []chat.AckItem{{Msg: m}}); err != nil || rs[0].Err != nil || !rs[0].Counted {
				t.Errorf("Ack(%s) = %+v, %v", a.Name, rs, err)
			}
		}
		return nil
	})
	res := h.get(exportPath(gid, mid, "?format=jsonl"), nil)
	seen := map[string][]string{}
	for _, l := range jsonLines(t, res.Body) {
		name := l["username"].(string)
		seen[name] = append(seen[name], l["status"].(string))
	}
	if len(seen) != 600 {
		t.Errorf("export names %d members, want all 600", len(seen))
	}
	for name, want := range map[string][]string{"m00000": {"unread", "read"}, "m00599": {"read"}, "m00300": {"unread"}} {
		if !cmp.Equal(seen[name], want) {
			t.Errorf("export rows of %s = %v, want %v", name, seen[name], want)
		}
	}
}

// TestExportConstantMemory: exporting a 20,000-member group (8,000
// readers with 1000-byte ackContents: about 9 MB of CSV) keeps the live
// heap within a few pages. The heap is measured after a GC at every MiB
// the client reads, while the export is running; a handler that held the
// rows would show the whole export.
func TestExportConstantMemory(t *testing.T) {
	if testing.Short() {
		t.Skip("short")
	}
	h := newHarness(t, fastHashing())
	const n = 20_000
	_, members, gid, mid := h.bigGroup(n)
	content := strings.Repeat("x", 1000)
	h.ackAll(members[:8_000], gid, mid, func(int) string { return content })

	for _, format := range []string{"csv", "jsonl"} {
		runtime.GC()
		var ms runtime.MemStats
		runtime.ReadMemStats(&ms)
		base, peak := ms.HeapAlloc, ms.HeapAlloc

		res := h.get(exportPath(gid, mid, "?format="+format), nil)
		if res.StatusCode != 200 {
			t.Fatalf("export = %d", res.StatusCode)
		}
		var total, rows int64
		next := int64(1 << 20)
		buf := make([]byte, 32<<10)
		for {
			k, err := res.Body.Read(buf)
			total += int64(k)
			rows += int64(bytes.Count(buf[:k], []byte("\n")))
			if total >= next {
				next += 1 << 20
				runtime.GC()
				runtime.ReadMemStats(&ms)
				peak = max(peak, ms.HeapAlloc)
			}
			if err == io.EOF {
				break
			}
			if err != nil {
				t.Fatalf("reading the export: %v", err)
			}
		}
		want := int64(n)
		if format == "csv" {
			want++ // the header
		}
		if rows != want {
			t.Errorf("%s export: %d lines, want %d", format, rows, want)
		}
		growth := int64(peak) - int64(base)
		t.Logf("%s export: %d bytes, heap growth at most %d bytes", format, total, growth)
		if total < 8<<20 {
			t.Fatalf("%s export is %d bytes: too small to tell", format, total)
		}
		if growth > 3<<20 {
			t.Errorf("%s export of %d bytes grew the heap by %d bytes, want at most 3 MiB (a few pages)", format, total, growth)
		}
	}
}

// TestExportFormulaGuard: OWASP's CSV injection rule, cell by cell: a
// cell whose first character other than white space is = + - @ or a
// full-width form of them, or that starts with a tab, CR or LF, gets a
// leading '; others are as acked. (A NUL, which the guard covers too,
// never reaches a cell: an ackContent with one is refused.)
func TestExportFormulaGuard(t *testing.T) {
	h := newHarness(t)
	alice, bob := h.user("alice"), h.user("bob")
	gid := h.group(alice, map[string]any{"name": "team", "members": []string{"bob"}})
	for _, c := range []struct {
		what, content string
		guard         bool
	}{
		{"equals", "=1+1", true},
		{"plus", "+1", true},
		{"minus", "-1", true},
		{"at", "@SUM(A1)", true},
		{"tab", "\tx", true},
		{"carriage return", "\r=1", true},
		{"line feed", "\n=1", true},
		{"full-width equals", "\uFF1D1+1", true},
		{"full-width plus", "\uFF0B1", true},
		{"full-width minus", "\uFF0D1", true},
		{"full-width at", "\uFF20SUM(A1)", true},
		{"spaces, equals", "   =1+1", true},
		{"space, plus", " +1", true},
		{"space, minus", " -1", true},
		{"space, at", " @x", true},
		{"ideographic space, equals", "\u3000=1", true},
		{"space, full-width equals", " \uFF1D1", true},
		{"text", "ok, seen", false},
		{"inner equals", "a=1", false},
		{"spaces, text", "  ok", false},
		{"quote", "'=1", false},
		{"empty", "", false},
	} {
		mid := h.send(alice, map[string]any{"localId": "guard-" + c.what, "type": "txt", "chatType": "groupChat", "to": gid, "msg": "read me",
			"msgConfig": map[string]any{"allowGroupAck": true}}).body["id"].(string)
		h.must(200, req{method: "POST", path: "/api/v1/groups/" + gid + "/receipts", token: bob, body: map[string]any{
			"items": []map[string]any{{"msgId": mid, "ackContent": c.content}}}})
		res := h.get(exportPath(gid, mid, "?format=csv&only=readers"), nil)
		recs, err := csv.NewReader(res.Body).ReadAll()
		res.Body.Close()
		if err != nil || len(recs) != 2 {
			t.Errorf("export of %s = %q, %v; want a header and bob's row", c.what, recs, err)
			continue
		}
		want := c.content
		if c.guard {
			want = "'" + want
		}
		// encoding/csv, writing CRLF line ends, drops a CR in a cell and
		// writes an LF as CRLF, read back as LF: unguarded, "\r=1" would
		// be written as the formula =1.
		want = strings.ReplaceAll(want, "\r", "")
		if got := recs[1][5]; got != want {
			t.Errorf("ackContent cell of %s (%q) = %q, want %q", c.what, c.content, got, want)
		}
	}
	mid := h.notice(alice, gid)
	h.wantErr(400, "bad_request", req{method: "POST", path: "/api/v1/groups/" + gid + "/receipts", token: bob, body: map[string]any{
		"items": []map[string]any{{"msgId": mid, "ackContent": "\x00=1"}}}})
}
