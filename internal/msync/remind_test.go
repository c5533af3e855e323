package msync_test

import (
	"context"
	"strconv"
	"testing"

	"seen/internal/chat"
)

// TestReminderNotPulled: a reminder (chat.TypeRemind) has no form in the
// vendor protocol. A member on the vendor SDK is neither noticed of it
// live nor pulls it after a reconnect (it would show as a message nobody
// wrote), and what follows it in the stream still arrives.
func TestReminderNotPulled(t *testing.T) {
	stores(t, func(t *testing.T, e *env) {
		alice, atok := e.user("alice")
		_, btok := e.user("bob")
		gid := e.group(alice, "bob")
		a := e.dial("alice", atok, "webim_a")
		b := e.dial("bob", btok, "webim_b")

		mid := a.upload(a.text(gid, true, true, "read me"), true).GetServerId()
		if m, _ := b.nextBody(); m.GetId() != mid {
			t.Fatalf("bob got %d, want %d", m.GetId(), mid)
		}
		b.idle()
		g, err := chat.ParseGroupID(gid)
		if err != nil {
			t.Fatal(err)
		}
		res, err := e.svc.Remind(context.Background(), alice, g, chat.MsgID(mid), nil)
		if err != nil || res.Reminded != 1 {
			t.Fatalf("Remind = %+v, %v, want bob reminded", res, err)
		}
		after := a.upload(a.text(gid, true, false, "after"), true).GetServerId()
		if m, body := b.nextBody(); m.GetId() != after {
			t.Fatalf("bob got %d (%v), want the message after the reminder, %d", m.GetId(), body, after)
		}
		b.idle()
		b.close()
		<-b.done

		// Reminded again while away: nothing to pull but the next message.
		e2 := chat.MsgID(a.upload(a.text(gid, true, true, "second"), true).GetServerId())
		if _, err := e.svc.Remind(context.Background(), alice, g, e2, []string{"bob"}); err != nil {
			t.Fatalf("Remind(second) = %v", err)
		}
		b2 := e.dial("bob", btok, "webim_b")
		if m, _ := b2.nextBody(); m.GetId() != uint64(e2) {
			t.Fatalf("bob after reconnect got %d, want %s", m.GetId(), strconv.FormatUint(uint64(e2), 10))
		}
		b2.idle()
		select {
		case m := <-b2.metas:
			t.Errorf("bob pulled %d after the message, want nothing (the reminder is not pulled)", m.GetId())
		default:
		}
	})
}
