package msync_test

import (
	"encoding/json"
	"testing"
	"time"

	"google.golang.org/protobuf/proto"

	"seen/internal/chat"
	"seen/internal/msync"
	"seen/internal/msync/pb"
)

// TestMessageMeta: the exported encoding is the pull's meta, ext and
// custom payloads as KeyValues the SDK reads back as the same JSON.
func TestMessageMeta(t *testing.T) {
	m := &chat.Message{
		ID: 42, Type: chat.TypeCustom, ChatType: chat.GroupChat, Group: 7, From: 1, FromName: "alice",
		CustomEvent: "poll", CustomExts: json.RawMessage(`{"q":"lunch?"}`),
		Ext: json.RawMessage(`{"b":true,"n":3,"f":1.5,"s":"x","o":{"k":[1]}}`), SentAt: time.UnixMilli(1700000000000),
	}
	b, err := msync.MessageMeta(appKey, m)
	if err != nil {
		t.Fatal(err)
	}
	var meta pb.Meta
	var body pb.MessageBody
	if err := proto.Unmarshal(b, &meta); err != nil {
		t.Fatal(err)
	}
	if err := proto.Unmarshal(meta.GetPayload(), &body); err != nil {
		t.Fatal(err)
	}
	if meta.GetId() != 42 || meta.GetTimestamp() != 1700000000000 || meta.GetTo().GetDomain() != "conference.easemob.com" ||
		body.GetType() != pb.MessageBody_GROUPCHAT || body.GetContents()[0].GetType() != pb.MessageBody_Content_CUSTOM ||
		body.GetContents()[0].GetCustomEvent() != "poll" || body.GetMsgConfig() != nil {
		t.Errorf("meta = %v / %v", &meta, &body)
	}
	want := map[string]pb.KeyValue_ValueType{
		"b": pb.KeyValue_BOOL, "n": pb.KeyValue_INT, "f": pb.KeyValue_DOUBLE, "s": pb.KeyValue_STRING, "o": pb.KeyValue_JSON_STRING,
	}
	if len(body.GetExt()) != len(want) {
		t.Fatalf("ext = %v, want %d entries", body.GetExt(), len(want))
	}
	for _, kv := range body.GetExt() {
		if kv.GetType() != want[kv.GetKey()] {
			t.Errorf("ext %q type = %s, want %s", kv.GetKey(), kv.GetType(), want[kv.GetKey()])
		}
	}
	if o := body.GetExt()[3]; o.GetKey() != "o" || o.GetStringValue() != `{"k":[1]}` {
		t.Errorf("ext o = %v, want the JSON text", o)
	}
}
