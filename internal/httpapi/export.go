package httpapi

import (
	"context"
	"encoding/csv"
	"encoding/json"
	"errors"
	"io"
	"mime"
	"net/http"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"seen/internal/chat"
	"seen/internal/wire"
)

// The receipt export of the admin API streams the members who have not
// read a message and those who have, page by page (chat.Unread and
// chat.Readers as the administrator, exportPage at a time, each page a
// transaction of its own), writing and flushing each page before asking
// for the next: memory stays at one page whatever the group's size.
//
// The unread pass runs first, then the readers: a member who reads while
// the export runs is then listed at least once (as unread, and again as a
// reader when the read lands before the readers pass ends, since readers
// come oldest read first), never missed.
//
// Errors before the first byte are ordinary JSON error replies. An error
// after it cannot change the status any more, so the stream is ended
// visibly: JSON lines get a last line {"error": {...}}, and in both
// formats the connection is then aborted (no terminating chunk), so a
// client sees a truncated transfer, never a short file that looks whole.

const (
	// exportPage is the page size of the export's listings (their most).
	exportPage = 500
	// exportPageWrite bounds the writing of one page: the server's write
	// timeout would cut a long export, so each page moves the connection's
	// write deadline instead; a client that stops reading for this long is
	// cut.
	exportPageWrite = time.Minute
)

// Export formats.
const (
	formatCSV   = "csv"
	formatJSONL = "jsonl"
)

// exportCSVHeader is the header row of a CSV export, and the field names of
// JSON lines.
var exportCSVHeader = []string{"status", "username", "userId", "readAt", "readAtMs", "ackContent", "reminded", "remindedAt", "remindedAtMs"}

// exportRow is one member in an export: a reader (Read) or not.
type exportRow struct {
	read       bool
	name       string
	user       chat.UserID
	readAt     time.Time
	ackContent string
	reminded   int
	remindedAt time.Time
}

// exportPass is one listing of an export: fetch returns the page at cursor
// and the next cursor ("" after the last page).
type exportPass func(ctx context.Context, cursor string, rows []exportRow) ([]exportRow, string, error)

// exportReceipts: GET /api/v1/admin/groups/{groupId}/messages/{msgId}/receipts?format=csv|jsonl&only=readers|unread
// streams the members who have not read the message and its readers as
// CSV (RFC 4180, a header row) or JSON lines; the format is ?format, else
// the Accept header, else CSV.
func (a *API) exportReceipts(w http.ResponseWriter, r *http.Request) {
	if err := a.checkAdmin(r); err != nil {
		a.logError(r, err)
		writeError(w, err)
		return
	}
	id, passes, format, err := a.exportPlan(r)
	if err != nil {
		a.logError(r, err)
		writeError(w, err)
		return
	}
	ctx := r.Context()
	// The first page before the first byte, so that a missing group or
	// message, or one without receipts, is a normal error reply.
	rows, next, err := passes[0](ctx, "", make([]exportRow, 0, exportPage))
	if err != nil {
		a.logError(r, err)
		writeError(w, err)
		return
	}
	h := w.Header()
	if format == formatCSV {
		h.Set("Content-Type", "text/csv; charset=utf-8; header=present")
	} else {
		h.Set("Content-Type", "application/x-ndjson")
	}
	h.Set("Content-Disposition", `attachment; filename="receipts-`+id.String()+`.`+format+`"`)
	w.WriteHeader(http.StatusOK)

	out := newExportWriter(w, format)
	rc := http.NewResponseController(w)
	page := func(rows []exportRow) error {
		_ = rc.SetWriteDeadline(time.Now().Add(exportPageWrite)) // unsupported by some writers: then the server's timeout holds
		for i := range rows {
			if err := out.row(&rows[i]); err != nil {
				return err
			}
		}
		if err := out.flush(); err != nil {
			return err
		}
		if err := rc.Flush(); err != nil && !errors.Is(err, http.ErrNotSupported) {
			return err
		}
		return nil
	}
	fail := func(err error, writeFailed bool) {
		if writeFailed { // the client left, or stopped reading for exportPageWrite
			a.log.Debug("export cut", "method", r.Method, "path", r.URL.Path, "err", err)
		} else {
			a.logError(r, err)
			out.fail(err)
			_ = rc.Flush()
		}
		// End the response without its terminating chunk: the client sees
		// the transfer cut, not a complete file.
		panic(http.ErrAbortHandler)
	}
	if err := out.header(); err != nil {
		fail(err, true)
	}
	for i, pass := range passes {
		if i > 0 {
			if rows, next, err = pass(ctx, "", rows[:0]); err != nil {
				fail(err, false)
			}
		}
		for {
			if err := page(rows); err != nil {
				fail(err, true)
			}
			if next == "" {
				break
			}
			if rows, next, err = pass(ctx, next, rows[:0]); err != nil {
				fail(err, false)
			}
		}
	}
}

// exportPlan reads the path and query of an export: the message, the
// passes and the format.
func (a *API) exportPlan(r *http.Request) (chat.MsgID, []exportPass, string, error) {
	gid, err := groupID(r)
	if err != nil {
		return 0, nil, "", err
	}
	id, err := msgID(r)
	if err != nil {
		return 0, nil, "", err
	}
	format, err := exportFormat(r)
	if err != nil {
		return 0, nil, "", err
	}
	unread := func(ctx context.Context, cursor string, rows []exportRow) ([]exportRow, string, error) {
		p, err := a.svc.UnreadWithoutTotal(ctx, chat.AdminActor, gid, id, cursor, exportPage)
		if err != nil {
			return nil, "", err
		}
		for _, m := range p.Users {
			rows = append(rows, exportRow{name: m.Name, user: m.User, reminded: m.Reminded, remindedAt: m.RemindedAt})
		}
		return rows, p.Next, nil
	}
	readers := func(ctx context.Context, cursor string, rows []exportRow) ([]exportRow, string, error) {
		p, err := a.svc.Readers(ctx, chat.AdminActor, gid, id, chat.OldestFirst, cursor, exportPage)
		if err != nil {
			return nil, "", err
		}
		for _, rd := range p.Readers {
			rows = append(rows, exportRow{read: true, name: rd.Name, user: rd.User, readAt: rd.At, ackContent: rd.Content})
		}
		return rows, p.Next, nil
	}
	switch only := r.URL.Query().Get("only"); only {
	case "":
		return id, []exportPass{unread, readers}, format, nil
	case "readers":
		return id, []exportPass{readers}, format, nil
	case "unread":
		return id, []exportPass{unread}, format, nil
	default:
		return 0, nil, "", chat.Errorf(chat.CodeBadRequest, "query parameter only=%q is not readers or unread", only)
	}
}

// exportFormat is the format of an export: ?format=csv|jsonl, else the
// first of text/csv and application/x-ndjson (or application/jsonl) that
// Accept names, else CSV.
func exportFormat(r *http.Request) (string, error) {
	switch f := r.URL.Query().Get("format"); f {
	case formatCSV, formatJSONL:
		return f, nil
	case "":
	default:
		return "", chat.Errorf(chat.CodeBadRequest, "query parameter format=%q is not csv or jsonl", f)
	}
	for _, part := range strings.Split(r.Header.Get("Accept"), ",") {
		mt, params, err := mime.ParseMediaType(strings.TrimSpace(part))
		if err != nil || params["q"] == "0" {
			continue
		}
		switch mt {
		case "text/csv":
			return formatCSV, nil
		case "application/x-ndjson", "application/jsonl", "application/x-jsonlines", "application/json-lines":
			return formatJSONL, nil
		}
	}
	return formatCSV, nil
}

// exportWriter encodes the rows of an export.
type exportWriter interface {
	header() error
	row(*exportRow) error
	flush() error
	// fail ends the stream with err, where the format can say it.
	fail(err error)
}

func newExportWriter(w io.Writer, format string) exportWriter {
	if format == formatCSV {
		c := csv.NewWriter(w)
		c.UseCRLF = true // RFC 4180
		return &csvExport{w: c, rec: make([]string, len(exportCSVHeader))}
	}
	return &jsonlExport{enc: json.NewEncoder(w)}
}

// csvExport writes RFC 4180 CSV (CRLF line ends, quoted where needed),
// each cell guarded against formula injection (csvCell).
type csvExport struct {
	w   *csv.Writer
	rec []string
}

func (c *csvExport) header() error { return c.w.Write(exportCSVHeader) }

func (c *csvExport) row(r *exportRow) error {
	rec := c.rec
	clear(rec)
	rec[1], rec[2] = csvCell(r.name), r.user.String()
	if r.read {
		rec[0] = "read"
		rec[3], rec[4] = rfc3339(r.readAt), strconv.FormatInt(wire.Millis(r.readAt), 10)
		rec[5] = csvCell(r.ackContent)
	} else {
		rec[0] = "unread"
		rec[6] = strconv.Itoa(r.reminded)
		if !r.remindedAt.IsZero() {
			rec[7], rec[8] = rfc3339(r.remindedAt), strconv.FormatInt(wire.Millis(r.remindedAt), 10)
		}
	}
	return c.w.Write(rec)
}

func (c *csvExport) flush() error {
	c.w.Flush()
	return c.w.Error()
}

// fail: CSV has no place for an error; the aborted transfer says it.
func (c *csvExport) fail(error) {}

// csvCell guards a text cell against formula injection, as OWASP's "CSV
// Injection" advises: a spreadsheet may run a cell as a formula when its
// first character other than white space is = + - or @, or their
// full-width forms (U+FF1D, U+FF0B, U+FF0D, U+FF20, which some read as
// the ASCII ones), and some strip a leading tab, carriage return, line
// feed or NUL before they look. Such a cell gets a leading ', which shows
// the text as it is.
func csvCell(s string) string {
	if s == "" {
		return s
	}
	if strings.IndexByte("\t\r\n\x00", s[0]) >= 0 {
		return "'" + s
	}
	first, _ := utf8.DecodeRuneInString(strings.TrimLeftFunc(s, func(r rune) bool { return unicode.IsSpace(r) || r == 0 }))
	switch first {
	case '=', '+', '-', '@', '\uFF1D', '\uFF0B', '\uFF0D', '\uFF20':
		return "'" + s
	}
	return s
}

// rfc3339 formats t in UTC with milliseconds.
func rfc3339(t time.Time) string {
	return t.UTC().Format("2006-01-02T15:04:05.000Z07:00")
}

// jsonlExport writes one JSON object per line.
type jsonlExport struct {
	enc *json.Encoder
}

// readLine and unreadLine are the JSON lines of a reader and of a member
// who has not read (remindedAt and remindedAtMs only when reminded).
type readLine struct {
	Status     string `json:"status"`
	Username   string `json:"username"`
	UserID     string `json:"userId"`
	ReadAt     string `json:"readAt"`
	ReadAtMs   int64  `json:"readAtMs"`
	AckContent string `json:"ackContent"`
}

type unreadLine struct {
	Status       string `json:"status"`
	Username     string `json:"username"`
	UserID       string `json:"userId"`
	Reminded     int    `json:"reminded"`
	RemindedAt   string `json:"remindedAt,omitempty"`
	RemindedAtMs int64  `json:"remindedAtMs,omitempty"`
}

// header: JSON lines need none.
func (j *jsonlExport) header() error { return nil }

func (j *jsonlExport) row(r *exportRow) error {
	if r.read {
		return j.enc.Encode(readLine{Status: "read", Username: r.name, UserID: r.user.String(),
			ReadAt: rfc3339(r.readAt), ReadAtMs: wire.Millis(r.readAt), AckContent: r.ackContent})
	}
	l := unreadLine{Status: "unread", Username: r.name, UserID: r.user.String(), Reminded: r.reminded}
	if !r.remindedAt.IsZero() {
		l.RemindedAt, l.RemindedAtMs = rfc3339(r.remindedAt), wire.Millis(r.remindedAt)
	}
	return j.enc.Encode(l)
}

// flush: the encoder writes through.
func (j *jsonlExport) flush() error { return nil }

// fail writes the last line, {"error": {...}}.
func (j *jsonlExport) fail(err error) { _ = j.enc.Encode(errorBody{Error: wire.Error(err)}) }
