package sqlstore

import (
	"context"
	"slices"

	"seen/internal/chat"
)

const userCols = `id, name, password_hash, created_at, receipts_off, receipts_since`

var (
	sqlInsertUser     = `INSERT INTO users (name, password_hash, created_at) VALUES (?, ?, ?) RETURNING id`
	sqlUserByName     = hot(`SELECT ` + userCols + ` FROM users WHERE name = ?`)
	sqlListUsers      = `SELECT ` + userCols + ` FROM users WHERE name > ? ORDER BY name LIMIT ?`
	sqlSetPassword    = `UPDATE users SET password_hash = ? WHERE id = ?`
	sqlSetReceiptsOff = `UPDATE users SET receipts_off = ?, receipts_since = ? WHERE id = ?`
)

func scanUser(r rows, u *chat.User) error {
	return r.Scan(&u.ID, &u.Name, &u.PasswordHash, msTime{&u.CreatedAt}, &u.ReceiptsOff, &u.ReceiptsSince)
}

// InsertUser stores u and sets u.ID.
func (t *tx) InsertUser(ctx context.Context, u *chat.User) error {
	var id int64
	err := queryOne(ctx, t.q, sqlInsertUser, []any{u.Name, u.PasswordHash, toMS(u.CreatedAt)}, &id)
	if err != nil {
		return wrap(err, "insert user %q", u.Name)
	}
	u.ID = chat.UserID(id)
	return nil
}

// UserByName returns the user named name.
func (t *tx) UserByName(ctx context.Context, name string) (chat.User, error) {
	us, err := queryAll(ctx, t.q, nil, sqlUserByName, []any{name}, scanUser)
	if err == nil && len(us) == 0 {
		err = chat.ErrNotFound
	}
	if err != nil {
		return chat.User{}, wrap(err, "user %q", name)
	}
	return us[0], nil
}

// UsersByName returns the users of names that exist, ordered by name.
func (t *tx) UsersByName(ctx context.Context, names []string) ([]chat.User, error) {
	var us []chat.User
	for part := range slices.Chunk(names, maxParams) {
		args := make([]any, len(part))
		for i, n := range part {
			args[i] = n
		}
		var err error
		us, err = queryAll(ctx, t.q, us, `SELECT `+userCols+` FROM users WHERE name IN (`+inList(len(part))+`)`, args, scanUser)
		if err != nil {
			return nil, wrap(err, "users by name")
		}
	}
	slices.SortFunc(us, func(a, b chat.User) int { return cmpStr(a.Name, b.Name) })
	return us, nil
}

// UsersByID returns the users of ids that exist, ordered by id.
func (t *tx) UsersByID(ctx context.Context, ids []chat.UserID) ([]chat.User, error) {
	var us []chat.User
	for part := range slices.Chunk(ids, maxParams) {
		args := make([]any, len(part))
		for i, id := range part {
			args[i] = int64(id)
		}
		var err error
		us, err = queryAll(ctx, t.q, us, `SELECT `+userCols+` FROM users WHERE id IN (`+inList(len(part))+`)`, args, scanUser)
		if err != nil {
			return nil, wrap(err, "users by id")
		}
	}
	slices.SortFunc(us, func(a, b chat.User) int { return cmpInt(a.ID, b.ID) })
	return us, nil
}

// ListUsers lists users by name, after afterName.
func (t *tx) ListUsers(ctx context.Context, afterName string, limit int) ([]chat.User, error) {
	us, err := queryAll(ctx, t.q, nil, sqlListUsers, []any{afterName, lim(limit)}, scanUser)
	if err != nil {
		return nil, wrap(err, "list users")
	}
	return us, nil
}

// SetPassword replaces the password hash of user id.
func (t *tx) SetPassword(ctx context.Context, id chat.UserID, hash []byte) error {
	n, err := t.q.exec(ctx, sqlSetPassword, hash, int64(id))
	if err == nil && n == 0 {
		err = chat.ErrNotFound
	}
	return wrap(err, "set password of user %d", id)
}

// SetReceiptsOff stores user id's privacy switch and receipts_since.
func (t *tx) SetReceiptsOff(ctx context.Context, id chat.UserID, off bool, since int64) error {
	n, err := t.q.exec(ctx, sqlSetReceiptsOff, off, since, int64(id))
	if err == nil && n == 0 {
		err = chat.ErrNotFound
	}
	return wrap(err, "set receipts off of user %d", id)
}

func cmpStr(a, b string) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

func cmpInt[T ~int64](a, b T) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}
