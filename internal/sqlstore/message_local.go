package sqlstore

import (
	"context"
	"slices"

	"seen/internal/chat"
)

// MessagesByLocalIDs returns the messages of sender from with one of the
// given client ids, through the unique (sender, local id) index.
func (t *tx) MessagesByLocalIDs(ctx context.Context, from chat.UserID, localIDs []string) ([]chat.Message, error) {
	var ms []chat.Message
	for part := range slices.Chunk(localIDs, maxParams-1) {
		args := make([]any, 0, len(part)+1)
		args = append(args, int64(from))
		for _, id := range part {
			args = append(args, id)
		}
		var err error
		ms, err = queryAll(ctx, t.q, ms, `SELECT `+msgCols+` FROM messages m WHERE m.sender_id = ? AND m.local_id IN (`+inList(len(part))+`)`, args, scanMessage)
		if err != nil {
			return nil, wrap(err, "messages of user %d by local id", from)
		}
	}
	slices.SortFunc(ms, func(a, b chat.Message) int { return cmpInt(a.Seq, b.Seq) })
	return ms, nil
}
