package sqlstore

import (
	"context"
	"testing"
	"time"

	"seen/internal/chat"
)

// BenchmarkAckBatch measures the storage ceiling for group read receipts:
// each Write stores a batch of 500 reads (10 messages x 50 readers) with
// InsertReads, takes 10 stat numbers and updates the 10 counts with
// AddReceiptCounts, as the service does for a batch of acks. It reports
// acks/s. PostgreSQL runs when SEEN_TEST_POSTGRES_URL is set.
//
//	go test -run '^$' -bench AckBatch -benchtime 5s ./internal/sqlstore/
func BenchmarkAckBatch(b *testing.B) {
	const (
		msgs      = 1000 // receipt-requesting messages, acked round robin
		perBatch  = 10   // messages per batch
		perMsg    = 50   // readers per message per batch
		batchAcks = perBatch * perMsg
	)
	for _, e := range engines() {
		b.Run(e.name, func(b *testing.B) {
			s := e.open(b)
			ctx := context.Background()
			write(b, s, func(ctx context.Context, tx chat.Tx) error {
				for m := range msgs {
					if err := tx.InsertReceiptCount(ctx, chat.ReceiptCount{Msg: chat.MsgID(m + 1), Group: 1, Sender: 1}); err != nil {
						return err
					}
				}
				return nil
			})
			reads := make([]chat.Read, batchAcks)
			ups := make([]chat.ReceiptUpdate, perBatch)
			now := time.Now()
			start := time.Now()
			for i := 0; b.Loop(); i++ {
				for j := range perBatch {
					k := i*perBatch + j
					msg := chat.MsgID(k%msgs + 1)
					base := chat.UserID(k/msgs*perMsg + 1) // a new set of readers each round
					for r := range perMsg {
						reads[j*perMsg+r] = chat.Read{Msg: msg, User: base + chat.UserID(r), At: now}
					}
					ups[j] = chat.ReceiptUpdate{Msg: msg, Delta: perMsg, LastReader: base + perMsg - 1, LastAt: now}
				}
				err := s.Write(ctx, func(tx chat.Tx) error {
					fresh, err := tx.InsertReads(ctx, reads)
					if err != nil {
						return err
					}
					for _, f := range fresh {
						if !f {
							b.Fatalf("InsertReads() reported a duplicate in a batch of new reads")
						}
					}
					stat, err := tx.NextSeq(ctx, chat.SeqStats, perBatch)
					if err != nil {
						return err
					}
					for j := range ups {
						ups[j].StatSeq = stat + int64(j)
					}
					_, err = tx.AddReceiptCounts(ctx, ups)
					return err
				})
				if err != nil {
					b.Fatalf("Write() = %v", err)
				}
			}
			b.ReportMetric(float64(b.N*batchAcks)/time.Since(start).Seconds(), "acks/s")
		})
	}
}
