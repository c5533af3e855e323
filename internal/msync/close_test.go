package msync_test

import (
	"context"
	"errors"
	"testing"

	"github.com/coder/websocket"
	"google.golang.org/protobuf/proto"

	"seen/internal/msync/pb"
)

// TestCloseDeadline: Close with a context that has ended drops a
// connection whose client never answers the close handshake, and says
// so; the session ends.
func TestCloseDeadline(t *testing.T) {
	stores(t, func(t *testing.T, e *env) {
		_, atok := e.user("alice")
		ctx, cancel := context.WithTimeout(context.Background(), wait)
		defer cancel()
		c, _, err := websocket.Dial(ctx, e.ms, nil)
		if err != nil {
			t.Fatal(err)
		}
		defer c.CloseNow()
		auth, _ := proto.Marshal(&pb.Provision{Resource: proto.String("webim_a")})
		f, _ := proto.Marshal(&pb.MSync{
			Command: pb.MSync_PROVISION.Enum(), Auth: proto.String("$t$" + atok),
			Guid: &pb.JID{AppKey: proto.String(appKey), Name: proto.String("alice")}, Payload: auth,
		})
		if err := c.Write(ctx, websocket.MessageBinary, f); err != nil {
			t.Fatal(err)
		}
		if _, _, err := c.Read(ctx); err != nil { // the answer; then it reads no more
			t.Fatal(err)
		}
		ended, stop := context.WithCancel(context.Background())
		stop()
		if err := e.srv.Close(ended); !errors.Is(err, context.Canceled) {
			t.Errorf("Close = %v, want the context's error", err)
		}
		e.ended.waitFor(t, "ended msync connections", 1)
	})
}
