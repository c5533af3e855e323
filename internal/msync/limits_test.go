package msync_test

import (
	"strings"
	"testing"
	"time"

	"seen/internal/msync"
	"seen/internal/msync/pb"
)

// TestUploadRateLimit: an upload over the connection's budget is refused
// at once with errorCode 1, and nothing is sent.
func TestUploadRateLimit(t *testing.T) {
	cfg := msync.Config{AppKey: appKey, RatePerSec: 0.001, RateBurst: 1}
	storesWith(t, cfg, func(t *testing.T, e *env) {
		_, atok := e.user("alice")
		_, btok := e.user("bob")
		a := e.dial("alice", atok, "webim_a")
		b := e.dial("bob", btok, "webim_b")
		if st := a.upload(a.text("bob", false, false, "one"), true).GetStatus(); st.GetErrorCode() != pb.Status_OK {
			t.Fatalf("first send: %v", st)
		}
		st := a.upload(a.text("bob", false, false, "two"), true).GetStatus()
		if st.GetErrorCode() != pb.Status_FAIL || !strings.Contains(st.GetReason(), "traffic limit") {
			t.Errorf("second send: %v, want FAIL traffic limit", st)
		}
		if _, body := b.nextBody(); body.GetContents()[0].GetText() != "one" {
			t.Errorf("bob got %q, want one", body.GetContents()[0].GetText())
		}
		b.idle()
		select {
		case m := <-b.metas:
			t.Errorf("bob got %d, want only the first message", m.GetId())
		default:
		}
	})
}

func TestConfigValidate(t *testing.T) {
	for _, c := range []struct {
		cfg msync.Config
		ok  bool
	}{
		{msync.Config{AppKey: "seen#demo"}, true},
		{msync.Config{AppKey: "seen"}, false},
		{msync.Config{AppKey: "a#b#c"}, false},
		{msync.Config{AppKey: "#b"}, false},
		{msync.Config{AppKey: "seen#demo", IdleTimeout: 10e9}, false},
		{msync.Config{AppKey: "seen#demo", PullPage: 501}, false},
	} {
		if err := c.cfg.Validate(); (err == nil) != c.ok {
			t.Errorf("Validate(%+v) = %v, want ok %v", c.cfg, err, c.ok)
		}
	}
}

// TestReadRateLimit: UNREADs and pulls are charged to the connection's
// limit; over it, an UNREAD lists nothing and a pull answers nothing,
// without reading the store, although a message is waiting.
func TestReadRateLimit(t *testing.T) {
	cfg := msync.Config{AppKey: appKey, ReadRatePerSec: 0.001, ReadBurst: 2}
	storesWith(t, cfg, func(t *testing.T, e *env) {
		_, atok := e.user("alice")
		_, btok := e.user("bob")
		b := e.dial("bob", btok, "webim_b")
		if st := b.upload(b.text("alice", false, false, "first"), true).GetStatus(); st.GetErrorCode() != pb.Status_OK {
			t.Fatalf("bob's send: %v", st)
		}
		// Alice's login spends the burst: UNREAD and the pull that
		// brings the first message.
		a := e.dial("alice", atok, "webim_a")
		select {
		case <-a.metas:
		case <-time.After(wait):
			t.Fatal("alice did not pull bob's first message within the burst")
		}
		// Now over the limit: the NOTICE of the second message, and the
		// UNREAD below, read nothing.
		if st := b.upload(b.text("alice", false, false, "second"), true).GetStatus(); st.GetErrorCode() != pb.Status_OK {
			t.Fatalf("bob's send: %v", st)
		}
		a.send(pb.MSync_UNREAD, &pb.CommUnreadUL{})
		select {
		case u := <-a.unreads:
			if len(u.GetUnread()) != 0 {
				t.Errorf("UNREAD over the limit lists %v, want nothing", u.GetUnread())
			}
		case <-time.After(wait):
			t.Fatal("no UNREAD answer")
		}
		select {
		case m := <-a.metas:
			t.Errorf("alice pulled %d over the limit, want nothing", m.GetId())
		default:
		}
	})
}
