package msync_test

import (
	"encoding/json"
	"testing"

	"google.golang.org/protobuf/proto"

	"seen/internal/msync/pb"
)

// TestTwoDevices: what one device of a user sends reaches the user's
// other device, not the sending one; a custom message keeps its event,
// customExts and ext.
func TestTwoDevices(t *testing.T) {
	stores(t, func(t *testing.T, e *env) {
		_, atok := e.user("alice")
		_, btok := e.user("bob")
		a1 := e.dial("alice", atok, "webim_a1")
		a2 := e.dial("alice", atok, "webim_a2")
		b := e.dial("bob", btok, "webim_b")

		meta := a1.text("bob", false, false, "")
		body := &pb.MessageBody{
			Type: pb.MessageBody_CHAT.Enum(), From: &pb.JID{Name: proto.String("alice")}, To: &pb.JID{Name: proto.String("bob")},
			Contents: []*pb.MessageBody_Content{{
				Type: pb.MessageBody_Content_CUSTOM.Enum(), CustomEvent: proto.String("poll"),
				CustomExts: []*pb.KeyValue{{Key: proto.String("q"), Type: pb.KeyValue_STRING.Enum(), Value: &pb.KeyValue_StringValue{StringValue: "lunch?"}}},
			}},
			Ext: []*pb.KeyValue{
				{Key: proto.String("n"), Type: pb.KeyValue_INT.Enum(), Value: &pb.KeyValue_VarintValue{VarintValue: 3}},
				{Key: proto.String("o"), Type: pb.KeyValue_JSON_STRING.Enum(), Value: &pb.KeyValue_StringValue{StringValue: `{"k":[1,2]}`}},
			},
		}
		meta.Payload, _ = proto.Marshal(body)
		ans := a1.upload(meta, true)
		if ans.GetStatus().GetErrorCode() != pb.Status_OK {
			t.Fatalf("custom send: %v", ans.GetStatus())
		}
		for _, c := range []*mclient{b, a2} {
			m, got := c.nextBody()
			ct := got.GetContents()[0]
			if m.GetId() != ans.GetServerId() || got.GetFrom().GetName() != "alice" || got.GetTo().GetName() != "bob" ||
				ct.GetType() != pb.MessageBody_Content_CUSTOM || ct.GetCustomEvent() != "poll" ||
				len(ct.GetCustomExts()) != 1 || ct.GetCustomExts()[0].GetStringValue() != "lunch?" {
				t.Fatalf("%s got %d %v, want alice's custom message %d", c.user, m.GetId(), got, ans.GetServerId())
			}
			if ext := extOf(t, got); ext["n"] != float64(3) || string(mustJSON(t, ext["o"])) != `{"k":[1,2]}` {
				t.Errorf("%s: ext = %v, want n 3 and o {k:[1,2]}", c.user, ext)
			}
		}
		a1.idle()
		select {
		case m := <-a1.metas:
			t.Errorf("the sending device got %d, want nothing", m.GetId())
		default:
		}
	})
}

// extOf reads ext as the SDK does.
func extOf(t *testing.T, b *pb.MessageBody) map[string]any {
	t.Helper()
	out := map[string]any{}
	for _, kv := range b.GetExt() {
		switch kv.GetType() {
		case pb.KeyValue_JSON_STRING:
			var v any
			if err := json.Unmarshal([]byte(kv.GetStringValue()), &v); err != nil {
				t.Fatalf("ext %q: %v", kv.GetKey(), err)
			}
			out[kv.GetKey()] = v
		case pb.KeyValue_INT:
			out[kv.GetKey()] = float64(kv.GetVarintValue())
		default:
			out[kv.GetKey()] = kv.GetStringValue()
		}
	}
	return out
}

func mustJSON(t *testing.T, v any) []byte {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return b
}
