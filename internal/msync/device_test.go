package msync_test

import (
	"testing"
	"time"

	"github.com/coder/websocket"
	"google.golang.org/protobuf/proto"

	"seen/internal/msync/pb"
)

// TestReconnectWithoutPull is agora-chat's logout: the sender closes
// without a LOGOUT and without pulling after its send, a member reads,
// and the sender logs in again on the same device. It gets the count as
// the STATISTIC meta (onStatisticMessage), not its own message back.
func TestReconnectWithoutPull(t *testing.T) {
	stores(t, func(t *testing.T, e *env) {
		alice, atok := e.user("alice")
		_, btok := e.user("bob")
		gid := e.group(alice, "bob")
		a := e.dial("alice", atok, "webim_a")
		b := e.dial("bob", btok, "webim_b")
		ans := a.upload(a.text(gid, true, true, "hello"), true)
		mid := ans.GetServerId()
		a.close()
		e.ended.waitFor(t, "ended msync connections", 1)

		b.nextBody()
		if st := b.upload(b.readAck(gid, true, mid, ""), true).GetStatus(); st.GetErrorCode() != pb.Status_OK {
			t.Fatalf("bob's read ack: %v", st)
		}
		a2 := e.dial("alice", atok, "webim_a")
		m := a2.next()
		if m.GetNs() != pb.Meta_STATISTIC {
			t.Fatalf("alice after login got a %s meta %d (message %d), want the STATISTIC meta", m.GetNs(), m.GetId(), mid)
		}
		a2.idle()
		select {
		case m := <-a2.metas:
			t.Errorf("alice got meta %d (ns %s) after the statistics, want nothing", m.GetId(), m.GetNs())
		default:
		}
	})
}

// TestSameDeviceKicks: a PROVISION of a device that has a live session
// tells the older session with the kick statistic (the SDK's onError
// 206) and closes it (4003); the newer one keeps working.
func TestSameDeviceKicks(t *testing.T) {
	stores(t, func(t *testing.T, e *env) {
		_, atok := e.user("alice")
		_, btok := e.user("bob")
		a1 := e.dial("alice", atok, "webim_a")
		a2 := e.dial("alice", atok, "webim_a")
		select {
		case <-a1.done:
		case <-time.After(wait):
			t.Fatal("the older session was not closed")
		}
		var m *pb.Meta
		select {
		case m = <-a1.metas: // read before the close frame
		default:
			t.Fatal("the older session got no meta before the close")
		}
		var sb pb.StatisticsBody
		if err := proto.Unmarshal(m.GetPayload(), &sb); err != nil {
			t.Fatal(err)
		}
		if m.GetNs() != pb.Meta_STATISTIC || sb.GetOperation() != pb.StatisticsBody_USER_LOGIN_ANOTHER_DEVICE {
			t.Errorf("the older session got ns %s operation %s, want the another-device kick", m.GetNs(), sb.GetOperation())
		}
		if got := websocket.CloseStatus(a1.closeErr); got != 4003 {
			t.Errorf("close status = %d, want 4003", got)
		}
		b := e.dial("bob", btok, "webim_b")
		ans := b.upload(b.text("alice", false, false, "hi"), true)
		if got, _ := a2.nextBody(); got.GetId() != ans.GetServerId() {
			t.Errorf("the newer session got %d, want bob's message %d", got.GetId(), ans.GetServerId())
		}
	})
}

// TestNonMemberRefused: a send to a group the user is not in is refused
// with the reason the SDK maps to GROUP_NOT_JOINED.
func TestNonMemberRefused(t *testing.T) {
	stores(t, func(t *testing.T, e *env) {
		alice, _ := e.user("alice")
		_, btok := e.user("bob")
		gid := e.group(alice)
		b := e.dial("bob", btok, "webim_b")
		st := b.upload(b.text(gid, true, false, "hi"), true).GetStatus()
		if st.GetErrorCode() != pb.Status_FAIL || st.GetReason() != "not in group or chatroom" {
			t.Errorf("non-member's send: %v, want FAIL %q", st, "not in group or chatroom")
		}
	})
}
