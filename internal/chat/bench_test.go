package chat_test

import (
	"context"
	"sync/atomic"
	"testing"

	"seen/internal/chat"
)

// BenchmarkAck measures acks through the service (rules, group commit,
// coalesced pushes) on SQLite, without the WebSocket: many readers ack
// one receipt-requesting message each, concurrently. Each op is one ack.
//
//	go test -run '^$' -bench Ack -benchtime 20000x ./internal/chat/
func BenchmarkAck(b *testing.B) {
	e := newEnv(b, withFastHash())
	ctx := context.Background()
	members := b.N
	if members > 50_000 {
		members = 50_000
	}
	owner, readers, g := bigGroup(b, e, members)
	msgs := make([]chat.Message, (b.N+members-1)/members)
	for i := range msgs {
		m, err := e.svc.Send(ctx, owner, chat.Outgoing{LocalID: nextLocal(), Type: chat.TypeText, ChatType: chat.GroupChat, To: g.String(), Text: "x", AllowGroupAck: true})
		if err != nil {
			b.Fatal(err)
		}
		msgs[i] = m
	}
	var next atomic.Int64
	b.SetParallelism(64)
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			i := int(next.Add(1) - 1)
			rs, err := e.svc.Ack(ctx, readers[i%members], g, []chat.AckItem{{Msg: msgs[i/members].ID}})
			if err != nil || !rs[0].Counted {
				b.Errorf("Ack = %+v, %v", rs, err)
				return
			}
		}
	})
	b.StopTimer()
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "acks/s")
}
