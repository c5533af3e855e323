package sqlstore

import (
	"context"
	"testing"

	"github.com/google/go-cmp/cmp"

	"seen/internal/chat"
)

func TestMessagesByLocalIDs(t *testing.T) {
	for _, e := range engines() {
		t.Run(e.name, func(t *testing.T) {
			s := e.open(t)
			ids := addUsers(t, s, "alice", "bob")
			alice, bob := ids[0], ids[1]
			a := send(t, s, chat.Message{Type: chat.TypeText, ChatType: chat.SingleChat, From: alice, To: bob, SentAt: at(1)}, "a1", "a2", "a3")
			b := send(t, s, chat.Message{Type: chat.TypeText, ChatType: chat.SingleChat, From: bob, To: alice, SentAt: at(2)}, "b1")
			read(t, s, func(ctx context.Context, tx chat.Tx) error {
				for _, tc := range []struct {
					from chat.UserID
					keys []string
					want []string
				}{
					{alice, []string{a[2].LocalID, a[0].LocalID, "nope"}, []string{"a1", "a3"}}, // by seq, missing ones left out
					{alice, []string{b[0].LocalID}, []string{}},                                 // bob's local id, not alice's message
					{bob, []string{b[0].LocalID, a[1].LocalID}, []string{"b1"}},
					{bob, nil, []string{}},
				} {
					ms, err := tx.MessagesByLocalIDs(ctx, tc.from, tc.keys)
					if got := texts(ms); err != nil || !cmp.Equal(got, tc.want) {
						t.Errorf("MessagesByLocalIDs(%d, %q) = %v, %v, want %v", tc.from, tc.keys, got, err, tc.want)
					}
				}
				return nil
			})
		})
	}
}
