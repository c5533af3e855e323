package sqlstore

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"strings"
	"time"

	"seen/internal/chat"
)

// tx is a chat.Tx on one transaction of either engine.
type tx struct {
	q     querier
	write bool
}

var _ chat.Tx = (*tx)(nil)

// hotStmt is a statement prepared once per SQLite pool (see prepareHot).
type hotStmt struct {
	q     string
	write bool
}

// hotStmts lists the statements run on every message or acknowledgement.
var hotStmts []hotStmt

// hot registers q as a hot statement and returns it.
func hot(q string) string {
	w := false
	for _, p := range []string{"INSERT", "UPDATE", "DELETE"} {
		w = w || strings.HasPrefix(q, p)
	}
	hotStmts = append(hotStmts, hotStmt{q: q, write: w})
	return q
}

// wrap adds what was being done to err, and maps the engines' "no rows"
// and unique violations to chat.ErrNotFound and chat.ErrConflict.
func wrap(err error, format string, args ...any) error {
	if err == nil {
		return nil
	}
	msg := fmt.Sprintf(format, args...)
	switch {
	case errors.Is(err, chat.ErrNotFound), errors.Is(err, chat.ErrConflict):
		return fmt.Errorf("%s: %w", msg, err)
	case isNoRows(err):
		return fmt.Errorf("%s: %w", msg, chat.ErrNotFound)
	case isUnique(err):
		return fmt.Errorf("%s: %w: %w", msg, chat.ErrConflict, err)
	}
	return fmt.Errorf("%s: %w", msg, err)
}

// queryOne scans the first row of q into dest; chat.ErrNotFound if none.
func queryOne(ctx context.Context, q querier, s string, args []any, dest ...any) error {
	rs, err := q.query(ctx, s, args...)
	if err != nil {
		return err
	}
	defer rs.Close()
	if !rs.Next() {
		if err := rs.Err(); err != nil {
			return err
		}
		return chat.ErrNotFound
	}
	if err := rs.Scan(dest...); err != nil {
		return err
	}
	rs.Close()
	return rs.Err()
}

// queryAll appends to dst one T per row of q, filled by scan.
func queryAll[T any](ctx context.Context, q querier, dst []T, s string, args []any, scan func(rows, *T) error) ([]T, error) {
	rs, err := q.query(ctx, s, args...)
	if err != nil {
		return dst, err
	}
	defer rs.Close()
	for rs.Next() {
		var v T
		if err := scan(rs, &v); err != nil {
			return dst, err
		}
		dst = append(dst, v)
	}
	rs.Close()
	return dst, rs.Err()
}

// placeholders returns "(?, ?, ?), (?, ?, ?)" for rows rows of cols columns.
func placeholders(rows, cols int) string {
	one := "(" + strings.TrimSuffix(strings.Repeat("?, ", cols), ", ") + ")"
	return strings.TrimSuffix(strings.Repeat(one+", ", rows), ", ")
}

// inList returns "?, ?, ?" for n values.
func inList(n int) string { return strings.TrimSuffix(strings.Repeat("?, ", n), ", ") }

// chunkRows is how many rows of cols columns go into one statement.
func chunkRows(cols int) int { return maxParams / cols }

// lim turns a caller's limit into a LIMIT value: <= 0 means no limit.
func lim(n int) int64 {
	if n <= 0 {
		return math.MaxInt32
	}
	return int64(n)
}

// toMS stores a time as Unix milliseconds; the zero time is stored as 0.
func toMS(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.UnixMilli()
}

// fromMS is the inverse of toMS.
func fromMS(v int64) time.Time {
	if v == 0 {
		return time.Time{}
	}
	return time.UnixMilli(v)
}

// msTime scans Unix milliseconds into a time.Time.
type msTime struct{ t *time.Time }

func (m msTime) Scan(src any) error {
	switch v := src.(type) {
	case int64:
		*m.t = fromMS(v)
	case nil:
		*m.t = time.Time{}
	default:
		return fmt.Errorf("scan time: unexpected %T", src)
	}
	return nil
}

// jsonText scans a nullable text column into a json.RawMessage: NULL and
// "" become nil.
type jsonText struct{ p *json.RawMessage }

func (j jsonText) Scan(src any) error {
	switch v := src.(type) {
	case nil:
		*j.p = nil
	case string:
		*j.p = nil
		if v != "" {
			*j.p = json.RawMessage(v)
		}
	case []byte:
		*j.p = nil
		if len(v) > 0 {
			*j.p = append(json.RawMessage(nil), v...)
		}
	default:
		return fmt.Errorf("scan json: unexpected %T", src)
	}
	return nil
}

// jsonArg binds a json.RawMessage: empty is NULL.
func jsonArg(j json.RawMessage) any {
	if len(j) == 0 {
		return nil
	}
	return string(j)
}

// nullText scans a nullable text column into a string: NULL becomes "".
type nullText struct{ p *string }

func (n nullText) Scan(src any) error {
	switch v := src.(type) {
	case nil:
		*n.p = ""
	case string:
		*n.p = v
	case []byte:
		*n.p = string(v)
	default:
		return fmt.Errorf("scan text: unexpected %T", src)
	}
	return nil
}

// nullArg binds a string: empty is NULL.
func nullArg(s string) any {
	if s == "" {
		return nil
	}
	return s
}

// Sequence counters and node slots.

var (
	sqlNextSeq   = hot(`UPDATE seqs SET v = v + ? WHERE name = ? RETURNING v`)
	sqlNewSeq    = `INSERT INTO seqs (name, v) VALUES (?, ?) ON CONFLICT (name) DO UPDATE SET v = seqs.v + excluded.v RETURNING v`
	sqlHeadSeq   = hot(`SELECT v FROM seqs WHERE name = ?`)
	sqlRenewNode = `UPDATE nodes SET expires_at = ? WHERE name = ? AND slot < ? RETURNING slot`
	sqlDropNode  = `DELETE FROM nodes WHERE name = ?`
	sqlNodes     = `SELECT slot, expires_at FROM nodes WHERE slot < ? ORDER BY slot`
	sqlTakeNode  = `INSERT INTO nodes (slot, name, expires_at) VALUES (?, ?, ?)
ON CONFLICT (slot) DO UPDATE SET name = excluded.name, expires_at = excluded.expires_at
WHERE nodes.expires_at <= ? RETURNING slot`
)

// NextSeq reserves n numbers of counter c. The UPDATE locks the counter
// row until commit: on PostgreSQL a concurrent NextSeq of another
// transaction waits here and then reads the committed value, so numbers
// are handed out, and become visible, in commit order. On SQLite writes
// are serialized anyway.
func (t *tx) NextSeq(ctx context.Context, c string, n int) (int64, error) {
	if !t.write {
		return 0, fmt.Errorf("next seq %s: %w", c, errNotWrite)
	}
	if n < 1 {
		return 0, fmt.Errorf("next seq %s: n = %d, want >= 1", c, n)
	}
	var v int64
	err := queryOne(ctx, t.q, sqlNextSeq, []any{int64(n), c}, &v)
	if errors.Is(err, chat.ErrNotFound) {
		err = queryOne(ctx, t.q, sqlNewSeq, []any{c, int64(n)}, &v)
	}
	if err != nil {
		return 0, wrap(err, "next seq %s", c)
	}
	return v - int64(n) + 1, nil
}

// HeadSeq returns the last number of counter c; 0 for a counter never used.
func (t *tx) HeadSeq(ctx context.Context, c string) (int64, error) {
	var v int64
	err := queryOne(ctx, t.q, sqlHeadSeq, []any{c}, &v)
	if errors.Is(err, chat.ErrNotFound) {
		return 0, nil
	}
	if err != nil {
		return 0, wrap(err, "head seq %s", c)
	}
	return v, nil
}

// ClaimNode renews name's slot, or takes the lowest slot below max that
// is unused or whose lease has expired. The conditional upsert makes two
// nodes racing for one slot safe: the loser gets no row back and tries
// the next. It returns chat.ErrConflict when every slot is leased.
func (t *tx) ClaimNode(ctx context.Context, name string, now time.Time, lease time.Duration, max int) (int, error) {
	nowMS, exp := now.UnixMilli(), now.Add(lease).UnixMilli()
	var slot int64
	err := queryOne(ctx, t.q, sqlRenewNode, []any{exp, name, int64(max)}, &slot)
	if err == nil {
		return int(slot), nil
	}
	if !errors.Is(err, chat.ErrNotFound) {
		return 0, wrap(err, "claim node %s", name)
	}
	// Not held, or held at a slot no longer below max.
	if _, err := t.q.exec(ctx, sqlDropNode, name); err != nil {
		return 0, wrap(err, "claim node %s", name)
	}
	type row struct{ slot, exp int64 }
	taken, err := queryAll(ctx, t.q, nil, sqlNodes, []any{int64(max)}, func(r rows, v *row) error {
		return r.Scan(&v.slot, &v.exp)
	})
	if err != nil {
		return 0, wrap(err, "claim node %s", name)
	}
	live := make(map[int64]bool, len(taken))
	for _, r := range taken {
		live[r.slot] = r.exp > nowMS
	}
	for s := int64(0); s < int64(max); s++ {
		if live[s] {
			continue
		}
		err := queryOne(ctx, t.q, sqlTakeNode, []any{s, name, exp, nowMS}, &slot)
		if err == nil {
			return int(slot), nil
		}
		if !errors.Is(err, chat.ErrNotFound) {
			return 0, wrap(err, "claim node %s", name)
		}
	}
	return 0, fmt.Errorf("claim node %s: all %d slots leased: %w", name, max, chat.ErrConflict)
}
