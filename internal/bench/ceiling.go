package bench

import (
	"context"
	"fmt"
	"os"
	"time"

	"seen/internal/chat"
	"seen/internal/sqlstore"
)

// storeCeiling writes members x messages acks straight into a fresh store,
// in batches of the service's default size, as the ack path does (insert
// the reads, reserve statistics positions, update the counts), and
// returns acks per second. It is what end-to-end throughput is compared
// against.
func storeCeiling(ctx context.Context, postgres string, members, messages int) (float64, error) {
	dsn, cleanup, err := freshStore(ctx, postgres)
	if err != nil {
		return 0, err
	}
	defer cleanup()
	st, err := sqlstore.Open(ctx, dsn)
	if err != nil {
		return 0, err
	}
	defer st.Close()

	// One group message per bench message, each asking for receipts.
	ids := make([]chat.MsgID, messages)
	gen := chat.NewIDGen(0, chat.SystemClock{})
	err = st.Write(ctx, func(tx chat.Tx) error {
		u := chat.User{Name: "ceiling-owner", PasswordHash: []byte("x"), CreatedAt: time.Now()}
		if err := tx.InsertUser(ctx, &u); err != nil {
			return err
		}
		g := chat.Group{ID: chat.GroupID(gen.Next()), Name: "ceiling", Owner: u.ID, MaxMembers: members + 1, CreatedAt: time.Now()}
		if err := tx.InsertGroup(ctx, &g); err != nil {
			return err
		}
		first, err := tx.NextSeq(ctx, chat.SeqMessages, messages)
		if err != nil {
			return err
		}
		ms := make([]*chat.Message, messages)
		for i := range ms {
			ids[i] = chat.MsgID(gen.Next())
			ms[i] = &chat.Message{ID: ids[i], Seq: first + int64(i), Conv: chat.GroupConv(g.ID), LocalID: fmt.Sprint(i),
				Type: chat.TypeText, ChatType: chat.GroupChat, From: u.ID, Group: g.ID, Text: "x", AllowGroupAck: true, SentAt: time.Now()}
		}
		if err := tx.InsertMessages(ctx, ms); err != nil {
			return err
		}
		for _, id := range ids {
			if err := tx.InsertReceiptCount(ctx, chat.ReceiptCount{Msg: id, Group: g.ID, Sender: u.ID}); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return 0, fmt.Errorf("prepare ceiling store: %w", err)
	}
	// The acks, in the order the benchmark's members send them.
	const batch = 1000
	total := members * messages
	reads := make([]chat.Read, 0, batch)
	start := time.Now()
	flush := func() error {
		err := st.Write(ctx, func(tx chat.Tx) error {
			fresh, err := tx.InsertReads(ctx, reads)
			if err != nil {
				return err
			}
			byMsg := map[chat.MsgID]*chat.ReceiptUpdate{}
			var order []chat.MsgID
			for i, r := range reads {
				if !fresh[i] {
					continue
				}
				u := byMsg[r.Msg]
				if u == nil {
					u = &chat.ReceiptUpdate{Msg: r.Msg}
					byMsg[r.Msg] = u
					order = append(order, r.Msg)
				}
				u.Delta++
				u.LastReader, u.LastAt = r.User, r.At
			}
			seq, err := tx.NextSeq(ctx, chat.SeqStats, len(order))
			if err != nil {
				return err
			}
			us := make([]chat.ReceiptUpdate, len(order))
			for i, id := range order {
				us[i] = *byMsg[id]
				us[i].StatSeq = seq + int64(i)
			}
			_, err = tx.AddReceiptCounts(ctx, us)
			return err
		})
		reads = reads[:0]
		return err
	}
	for m := 0; m < members; m++ {
		for k := 0; k < messages; k++ {
			reads = append(reads, chat.Read{Msg: ids[k], User: chat.UserID(1000 + m), At: time.Now()})
			if len(reads) == batch {
				if err := flush(); err != nil {
					return 0, err
				}
			}
		}
	}
	if len(reads) > 0 {
		if err := flush(); err != nil {
			return 0, err
		}
	}
	return float64(total) / time.Since(start).Seconds(), nil
}

// freshStore returns the DSN of an empty store of the same kind the
// benchmark's server uses, and a function that removes it.
func freshStore(ctx context.Context, postgres string) (string, func(), error) {
	if postgres == "" {
		dir, err := os.MkdirTemp("", "seen-ceiling-")
		if err != nil {
			return "", nil, err
		}
		return "sqlite:" + dir + "/ceiling.db", func() { os.RemoveAll(dir) }, nil
	}
	dsn, drop, err := sqlstore.NewSchema(ctx, postgres, "bench_")
	if err != nil {
		return "", nil, err
	}
	return dsn, func() { _ = drop() }, nil
}
