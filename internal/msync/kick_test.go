package msync_test

import (
	"context"
	"testing"
	"time"

	"github.com/coder/websocket"
	"google.golang.org/protobuf/proto"

	"seen/internal/msync/pb"
)

// TestPasswordChangeKicks: a password change revokes every token; the
// session is told with the kick statistic and closed with 4002.
func TestPasswordChangeKicks(t *testing.T) {
	stores(t, func(t *testing.T, e *env) {
		alice, atok := e.user("alice")
		a := e.dial("alice", atok, "webim_a")
		if err := e.svc.ChangePassword(context.Background(), alice, "password", "password2"); err != nil {
			t.Fatalf("ChangePassword = %v", err)
		}
		m := a.next()
		var sb pb.StatisticsBody
		if err := proto.Unmarshal(m.GetPayload(), &sb); err != nil {
			t.Fatal(err)
		}
		if m.GetNs() != pb.Meta_STATISTIC || sb.GetOperation() != pb.StatisticsBody_USER_KICKED_BY_CHANGE_PASSWORD {
			t.Errorf("alice got ns %s operation %s, want the change-password kick", m.GetNs(), sb.GetOperation())
		}
		select {
		case <-a.done:
		case <-time.After(wait):
			t.Fatal("the session was not closed")
		}
		if got := websocket.CloseStatus(a.closeErr); got != 4002 {
			t.Errorf("close status = %d, want 4002", got)
		}
		_, p := provisionM(t, e.ms, appKey, "alice", atok, "webim_a")
		if st := p.GetStatus(); st.GetErrorCode() != pb.Status_FAIL || st.GetReason() != "Sorry, token or password does not match login info" {
			t.Errorf("login with the revoked token: %v, want the SDK's invalid-token refusal", st)
		}
	})
}
