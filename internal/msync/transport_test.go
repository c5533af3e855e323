package msync_test

import (
	"context"
	"testing"

	"github.com/coder/websocket"
)

// TestBadFrames: a frame over MaxFrameBytes closes the connection with
// 1009, a text frame with 1003, each before PROVISION too.
func TestBadFrames(t *testing.T) {
	stores(t, func(t *testing.T, e *env) {
		for _, c := range []struct {
			name string
			typ  websocket.MessageType
			size int
			want websocket.StatusCode
		}{
			{"too large", websocket.MessageBinary, 256<<10 + 1, 1009},
			{"text", websocket.MessageText, 10, 1003},
		} {
			ctx, cancel := context.WithTimeout(context.Background(), wait)
			defer cancel()
			conn, _, err := websocket.Dial(ctx, e.ms, nil)
			if err != nil {
				t.Fatal(err)
			}
			defer conn.CloseNow()
			if err := conn.Write(ctx, c.typ, make([]byte, c.size)); err != nil {
				t.Fatal(err)
			}
			_, _, err = conn.Read(ctx)
			if got := websocket.CloseStatus(err); got != c.want {
				t.Errorf("%s: Read = %v, want close %d", c.name, err, c.want)
			}
		}
	})
}
