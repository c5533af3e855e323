package ws

import (
	"testing"

	"seen/internal/chat"
)

// BenchmarkDispatch measures what the transport itself costs per request
// frame, without a socket (and without the service's storage): decoding
// the envelope and the data, dispatching by op, encoding the reply and
// queueing it. The receipt.ack is refused before it reaches the service
// (its message id does not parse), so its figure is the decoding and the
// dispatch through a request worker.
func BenchmarkDispatch(b *testing.B) {
	st := newStack(b, Config{RatePerSec: 1e12, RateBurst: 1 << 30})
	st.users(b, "alice")
	for _, bc := range []struct{ name, frame string }{
		{"ping", `{"id":"17","op":"ping","data":{}}`},
		{"receipt.ack", `{"id":"18","op":"receipt.ack","data":{"groupId":"987654321098765432","items":[` +
			`{"msgId":"123456789012345678","ackContent":"{}"},{"msgId":"123456789012345679"},{"msgId":"x"}]}}`},
	} {
		b.Run(bc.name, func(b *testing.B) {
			s := newSession(st.srv, nil) // not ready, so no flusher: the benchmark drains the queue
			s.actor = chat.Actor{User: 1, Name: "alice", Device: "d1", Conn: s.id}
			s.authed.Store(true)
			frame := []byte(bc.frame)
			var spare []outFrame
			b.ReportAllocs()
			for b.Loop() {
				if !s.handleFrame(frame) {
					b.Fatalf("session closing: %d %s", s.closeCode, s.closeReason)
				}
				s.workers.Wait()
				spare = s.queue.take(spare)
				if len(spare) != 1 {
					b.Fatalf("replies = %d, want 1", len(spare))
				}
				s.queue.written(int64(len(spare[0].b)))
			}
			s.cancel()
		})
	}
}
