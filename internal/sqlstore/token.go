package sqlstore

import (
	"context"

	"seen/internal/chat"
)

var (
	sqlInsertToken      = `INSERT INTO tokens (hash, user_id, created_at, expires_at) VALUES (?, ?, ?, ?)`
	sqlTokenByHash      = hot(`SELECT hash, user_id, created_at, expires_at FROM tokens WHERE hash = ?`)
	sqlDeleteToken      = `DELETE FROM tokens WHERE hash = ?`
	sqlDeleteUserTokens = `DELETE FROM tokens WHERE user_id = ?`
)

// InsertToken stores t.
func (t *tx) InsertToken(ctx context.Context, tok chat.Token) error {
	_, err := t.q.exec(ctx, sqlInsertToken, tok.Hash, int64(tok.UserID), toMS(tok.CreatedAt), toMS(tok.ExpiresAt))
	return wrap(err, "insert token of user %d", tok.UserID)
}

// TokenByHash returns the token with that hash, expired or not.
func (t *tx) TokenByHash(ctx context.Context, hash []byte) (chat.Token, error) {
	var tok chat.Token
	err := queryOne(ctx, t.q, sqlTokenByHash, []any{hash}, &tok.Hash, &tok.UserID, msTime{&tok.CreatedAt}, msTime{&tok.ExpiresAt})
	if err != nil {
		return chat.Token{}, wrap(err, "token by hash")
	}
	return tok, nil
}

// DeleteToken deletes one token; chat.ErrNotFound if there is none.
func (t *tx) DeleteToken(ctx context.Context, hash []byte) error {
	n, err := t.q.exec(ctx, sqlDeleteToken, hash)
	if err == nil && n == 0 {
		err = chat.ErrNotFound
	}
	return wrap(err, "delete token")
}

// DeleteUserTokens deletes all tokens of user id.
func (t *tx) DeleteUserTokens(ctx context.Context, id chat.UserID) error {
	_, err := t.q.exec(ctx, sqlDeleteUserTokens, int64(id))
	return wrap(err, "delete tokens of user %d", id)
}
