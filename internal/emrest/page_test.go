package emrest

import (
	"errors"
	"strconv"
	"testing"
)

// listing is a fake cursor listing of n rows that counts its calls.
type listing struct {
	n, calls int
}

func (l *listing) fetch(cursor string, limit int) (int, string, error) {
	l.calls++
	at := 0
	if cursor != "" {
		var err error
		if at, err = strconv.Atoi(cursor); err != nil {
			return 0, "", errors.New("bad cursor")
		}
	}
	rows := min(limit, l.n-at)
	if at+rows >= l.n {
		return rows, "", nil
	}
	return rows, strconv.Itoa(at + rows), nil
}

// TestSkipRows checks that skipping to a deep row costs one call per
// chunk, not one per page, and lands on the right row.
func TestSkipRows(t *testing.T) {
	for _, c := range []struct {
		rows, skip, chunk int
		cursor            string
		ok                bool
		calls             int
	}{
		{rows: 20_000, skip: 0, chunk: 1000, cursor: "", ok: true, calls: 0},
		{rows: 20_000, skip: 9_999, chunk: 1000, cursor: "9999", ok: true, calls: 10},
		{rows: 20_000, skip: 9_999, chunk: 100, cursor: "9999", ok: true, calls: 100},
		{rows: 50, skip: 49, chunk: 1000, cursor: "49", ok: true, calls: 1},
		{rows: 50, skip: 50, chunk: 1000, ok: false, calls: 1},
		{rows: 50, skip: 9_000, chunk: 20, ok: false, calls: 3},
	} {
		l := &listing{n: c.rows}
		cursor, ok, err := skipRows(c.skip, c.chunk, l.fetch)
		if err != nil || cursor != c.cursor || ok != c.ok || l.calls != c.calls {
			t.Errorf("skip %d of %d by %d = %q, %v, %v in %d calls; want %q, %v in %d", c.skip, c.rows, c.chunk, cursor, ok, err, l.calls, c.cursor, c.ok, c.calls)
		}
	}
}
