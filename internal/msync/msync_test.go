package msync_test

import (
	"context"
	"encoding/json"
	"strconv"
	"strings"
	"testing"
	"time"

	"google.golang.org/protobuf/proto"

	"seen/internal/chat"
	"seen/internal/msync/pb"
)

func TestProvision(t *testing.T) {
	stores(t, func(t *testing.T, e *env) {
		_, tok := e.user("alice")
		before := time.Now()

		c, p := provisionM(t, e.ms, appKey, "alice", tok, "webim_web_1")
		if got := p.GetStatus().GetErrorCode(); p.Status == nil || got != pb.Status_OK {
			t.Fatalf("provision status = %v, want OK", p.GetStatus())
		}
		if got := p.GetResource(); got != "webim_web_1" {
			t.Errorf("resource = %q, want webim_web_1", got)
		}
		var at struct {
			ExpiresIn int64 `json:"expires_in"`
		}
		if err := json.Unmarshal([]byte(p.GetAuthToken()), &at); err != nil {
			t.Fatalf("authToken %q: %v", p.GetAuthToken(), err)
		}
		if min := before.Add(time.Hour).UnixMilli(); at.ExpiresIn < min {
			t.Errorf("expires_in = %d, want absolute epoch ms after %d", at.ExpiresIn, min)
		}
		c.close()

		// expires_in is the token's own expiry, not the time of this
		// login plus the token lifetime: a token issued earlier expires
		// earlier (onTokenWillExpire must come in time).
		g, err := e.svc.Login(context.Background(), chat.Credentials{Username: "alice", Password: "password"})
		if err != nil {
			t.Fatalf("Login = %v", err)
		}
		time.Sleep(5 * time.Millisecond) // the provision below is in a later millisecond than the login
		c, p = provisionM(t, e.ms, appKey, "alice", g.Token, "webim_web_2")
		if err := json.Unmarshal([]byte(p.GetAuthToken()), &at); err != nil {
			t.Fatalf("authToken %q: %v", p.GetAuthToken(), err)
		}
		if want := g.ExpiresAt.UnixMilli(); at.ExpiresIn != want {
			t.Errorf("expires_in = %d, want the token's expiry %d", at.ExpiresIn, want)
		}
		c.close()

		refusals := []struct {
			name, key, user, token, reason string
		}{
			{"bad token", appKey, "alice", "nope", "Sorry, token or password does not match login info"},
			{"another user's token", appKey, "bob", tok, "Sorry, token or password does not match login info"},
			{"wrong app key", "other#app", "alice", tok, `Sorry, app key "other#app" is not served here`},
		}
		for _, r := range refusals {
			_, p := provisionM(t, e.ms, r.key, r.user, r.token, "webim_web_2")
			if got := p.GetStatus(); got.GetErrorCode() != pb.Status_FAIL || got.GetReason() != r.reason {
				t.Errorf("%s: status = %v, want FAIL %q", r.name, got, r.reason)
			}
		}
	})
}

// TestGroupReceipts is the seed flow: a receipt-requesting group text, a
// plain member refused, the member's read ack, the sender's live count,
// and the counts that changed while the sender was away.
func TestGroupReceipts(t *testing.T) {
	stores(t, func(t *testing.T, e *env) {
		alice, atok := e.user("alice")
		_, btok := e.user("bob")
		_, ctok := e.user("carol")
		gid := e.group(alice, "bob", "carol")
		a := e.dial("alice", atok, "webim_a")
		b := e.dial("bob", btok, "webim_b")

		send := a.text(gid, true, true, "hello")
		ans := a.upload(send, true)
		if ans.GetStatus().GetErrorCode() != pb.Status_OK || ans.GetServerId() == 0 {
			t.Fatalf("send answer = %v, want OK with a server id", ans)
		}
		mid := ans.GetServerId()

		refused := b.upload(b.text(gid, true, true, "me too"), true)
		if st := refused.GetStatus(); st.GetErrorCode() != pb.Status_FAIL || !strings.Contains(st.GetReason(), "owner and admins") {
			t.Errorf("plain member's receipt request: status %v, want FAIL naming owner and admins", st)
		}

		m, body := b.nextBody()
		if m.GetId() != mid || body.GetType() != pb.MessageBody_GROUPCHAT || body.GetContents()[0].GetText() != "hello" ||
			!body.GetMsgConfig().GetAllowGroupAck() || body.GetFrom().GetName() != "alice" || body.GetTo().GetName() != gid {
			t.Fatalf("bob received %v / %v, want alice's text %d to %s with allowGroupAck", m, body, mid, gid)
		}
		if body.GetContents()[0].SubType != nil {
			t.Errorf("text content has subType %v: the SDK would read a combined message", body.GetContents()[0].GetSubType())
		}

		if st := b.upload(b.readAck(gid, true, mid, "seen it"), true).GetStatus(); st.GetErrorCode() != pb.Status_OK {
			t.Fatalf("read ack status = %v, want OK", st)
		}
		push, ack := a.nextBody()
		if ack.GetType() != pb.MessageBody_READ_ACK || ack.GetAckMessageId() != mid || ack.GetFrom().GetName() != "bob" || ack.GetAckContent() != "seen it" {
			t.Fatalf("alice got %v, want bob's READ_ACK of %d with its ackContent", ack, mid)
		}
		if got, want := readCount(t, ack), map[string]int{strconv.FormatUint(mid, 10): 1}; !equalCounts(got, want) {
			t.Errorf("groupReadCount = %v, want %v", got, want)
		}
		if push.GetId() == mid {
			t.Errorf("the READ_ACK push reuses the message's id %d: the SDK would drop it", mid)
		}
		a.idle()
		b.idle()

		// Away: carol reads; alice logs in again on the same device.
		a.close()
		c := e.dial("carol", ctok, "webim_c")
		c.nextBody()
		if st := c.upload(c.readAck(gid, true, mid, ""), true).GetStatus(); st.GetErrorCode() != pb.Status_OK {
			t.Fatalf("carol's read ack status = %v, want OK", st)
		}
		a2 := e.dial("alice", atok, "webim_a")
		st := a2.next()
		if st.GetNs() != pb.Meta_STATISTIC {
			var b pb.MessageBody
			_ = proto.Unmarshal(st.GetPayload(), &b)
			t.Fatalf("alice after login got ns %s (%v, id %d), want the STATISTIC meta", st.GetNs(), &b, st.GetId())
		}
		var sb pb.StatisticsBody
		if err := proto.Unmarshal(st.GetPayload(), &sb); err != nil {
			t.Fatal(err)
		}
		var loc struct {
			GroupAck []struct {
				Mid     string `json:"mid"`
				GroupID string `json:"groupId"`
				Count   int    `json:"count"`
				From    string `json:"from"`
			} `json:"group_ack"`
		}
		if err := json.Unmarshal([]byte(sb.GetLocation()), &loc); err != nil {
			t.Fatalf("location %q: %v", sb.GetLocation(), err)
		}
		if sb.GetOperation() != pb.StatisticsBody_INFORMATION || len(loc.GroupAck) != 1 ||
			loc.GroupAck[0].Mid != strconv.FormatUint(mid, 10) || loc.GroupAck[0].Count != 2 ||
			loc.GroupAck[0].From != "carol" || loc.GroupAck[0].GroupID != gid {
			t.Errorf("statistic = op %s %s, want one group_ack of %d with count 2 from carol", sb.GetOperation(), sb.GetLocation(), mid)
		}
		a2.idle()
		select {
		case m := <-a2.metas:
			t.Errorf("alice got %v after the statistic, want nothing more", m)
		default:
		}
	})
}

// TestReconnect: what a device pulled is not pulled again after a
// reconnect, and what it missed is.
func TestReconnect(t *testing.T) {
	stores(t, func(t *testing.T, e *env) {
		alice, atok := e.user("alice")
		_, btok := e.user("bob")
		gid := e.group(alice, "bob")
		a := e.dial("alice", atok, "webim_a")
		b := e.dial("bob", btok, "webim_b")

		first := a.upload(a.text(gid, true, false, "one"), true).GetServerId()
		if m, _ := b.nextBody(); m.GetId() != first {
			t.Fatalf("bob got %d, want %d", m.GetId(), first)
		}
		b.idle()
		b.close()
		<-b.done

		second := a.upload(a.text(gid, true, false, "two"), true).GetServerId()
		b2 := e.dial("bob", btok, "webim_b")
		if m, body := b2.nextBody(); m.GetId() != second || body.GetContents()[0].GetText() != "two" {
			t.Fatalf("bob after reconnect got %d %q, want only the missed %d", m.GetId(), body.GetContents()[0].GetText(), second)
		}
		b2.idle()
		select {
		case m := <-b2.metas:
			t.Errorf("bob got %d after the missed message, want nothing more", m.GetId())
		default:
		}
		// The sender's own device does not pull back what it sent.
		a.idle()
		select {
		case m := <-a.metas:
			t.Errorf("alice pulled %d back, want nothing", m.GetId())
		default:
		}
	})
}

// TestSingleChat: a text both ways and the read receipt.
func TestSingleChat(t *testing.T) {
	stores(t, func(t *testing.T, e *env) {
		_, atok := e.user("alice")
		_, btok := e.user("bob")
		a := e.dial("alice", atok, "webim_a")
		b := e.dial("bob", btok, "webim_b")

		ans := a.upload(a.text("bob", false, false, "hi bob"), true)
		if ans.GetStatus().GetErrorCode() != pb.Status_OK {
			t.Fatalf("send status = %v", ans.GetStatus())
		}
		m, body := b.nextBody()
		if m.GetId() != ans.GetServerId() || body.GetType() != pb.MessageBody_CHAT || body.GetFrom().GetName() != "alice" ||
			body.GetTo().GetName() != "bob" || body.GetContents()[0].GetText() != "hi bob" {
			t.Fatalf("bob got %v %v, want alice's text", m, body)
		}
		if st := b.upload(b.readAck("alice", false, m.GetId(), ""), true).GetStatus(); st.GetErrorCode() != pb.Status_OK {
			t.Fatalf("read receipt status = %v", st)
		}
		_, r := a.nextBody()
		if r.GetType() != pb.MessageBody_READ_ACK || r.GetAckMessageId() != m.GetId() || r.GetFrom().GetName() != "bob" {
			t.Errorf("alice got %v, want bob's READ_ACK of %d", r, m.GetId())
		}
		// Unsupported content is refused at once, not left to time out.
		img := a.text("bob", false, false, "")
		var ib pb.MessageBody
		_ = proto.Unmarshal(img.Payload, &ib)
		ib.Contents[0].Type = pb.MessageBody_Content_IMAGE.Enum()
		img.Payload, _ = proto.Marshal(&ib)
		if st := a.upload(img, true).GetStatus(); st.GetErrorCode() != pb.Status_FAIL || st.GetReason() == "" {
			t.Errorf("image status = %v, want FAIL with a reason", st)
		}
	})
}

func readCount(t *testing.T, b *pb.MessageBody) map[string]int {
	t.Helper()
	if len(b.GetExt()) == 0 || b.GetExt()[0].GetType() != pb.KeyValue_JSON_STRING {
		t.Fatalf("READ_ACK ext = %v, want ext[0] JSON_STRING", b.GetExt())
	}
	var m map[string]int
	if err := json.Unmarshal([]byte(b.GetExt()[0].GetStringValue()), &m); err != nil {
		t.Fatalf("ext[0] %q: %v", b.GetExt()[0].GetStringValue(), err)
	}
	return m
}

func equalCounts(a, b map[string]int) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if b[k] != v {
			return false
		}
	}
	return true
}
