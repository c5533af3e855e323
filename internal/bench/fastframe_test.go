package bench

import (
	"encoding/json"
	"fmt"
	"testing"

	"seen/internal/protocol"
)

// TestFastMsgPush: the scan agrees with encoding/json on the pushes it
// reads, and leaves every other frame to it.
func TestFastMsgPush(t *testing.T) {
	const g = "987654321098765432"
	for _, tc := range []struct {
		frame       string
		id          string
		forUs, fast bool
	}{
		{`{"push":"msg","data":{"id":"1","localId":"l","seq":42,"type":"txt","chatType":"groupChat","from":"alice","to":"` + g + `","msg":"a \",\"to\":\"x","msgConfig":{"allowGroupAck":true},"time":1}}`, "1", true, true},
		{`{"push":"msg","data":{"id":"2","localId":"l","seq":42,"type":"txt","chatType":"groupChat","from":"alice","to":"` + g + `","msg":"hi","time":1}}`, "2", false, true},
		{`{"push":"msg","data":{"id":"3","seq":1,"from":"alice","to":"123","msg":"hi","msgConfig":{"allowGroupAck":true},"time":1}}`, "3", false, true},
		// An ext could carry keys that look like the scanned ones.
		{`{"push":"msg","data":{"id":"4","from":"a","to":"123","msg":"hi","ext":{"to":"` + g + `","msgConfig":{"allowGroupAck":true}},"time":1}}`, "", false, false},
		{`{"push":"receipt","data":{"msgId":"5","count":1}}`, "", false, false},
		{`{"data":{"id":"6"},"push":"msg"}`, "", false, false},
		{`{"push":"msg","data":{"id":"x7","to":"` + g + `"}}`, "", false, false},
	} {
		id, forUs, ok := fastMsgPush([]byte(tc.frame), g)
		if id != tc.id || forUs != tc.forUs || ok != tc.fast {
			t.Errorf("fastMsgPush(%.50s) = %q, %v, %v, want %q, %v, %v", tc.frame, id, forUs, ok, tc.id, tc.forUs, tc.fast)
		}
		if !ok {
			continue
		}
		_, push, err := protocol.DecodeServerFrame([]byte(tc.frame))
		var m msgPushData
		if err != nil || json.Unmarshal(push.Data, &m) != nil {
			t.Fatalf("not JSON: %s", tc.frame)
		}
		if want := m.forGroup(g); m.ID != id || want != forUs {
			t.Errorf("%.50s: json says %q, %v; the scan %q, %v", tc.frame, m.ID, want, id, forUs)
		}
	}
}

// TestFastAckReply: the scan reads the server's and the floor's fast
// replies as encoding/json does, and leaves the rest to it.
func TestFastAckReply(t *testing.T) {
	for _, tc := range []struct {
		frame string
		want  string // the results read, "" when not fast
	}{
		{`{"id":"7","ok":true,"data":{"results":[{"msgId":"11","ok":true,"counted":true,"count":3}]}}`, "7 [{11 true 3}]"},
		{`{"id":"8","ok":true,"data":{"results":[{"msgId":"11","ok":true,"counted":true,"count":3},{"msgId":"12","ok":true,"counted":false}]}}`, "8 [{11 true 3} {12 false 0}]"},
		{`{"id":"9","ok":true,"data":{"results":[]}}`, "9 []"},
		{`{"id":"9","ok":true,"data":{"results":[{"msgId":"11","ok":false,"counted":false,"error":{"code":4,"name":"not_found","message":"no"}}]}}`, ""},
		{`{"id":"9","ok":false,"error":{"code":4,"name":"not_found","message":"no"}}`, ""},
		{`{"id":"9","ok":true,"data":{"results":[{"msgId":"11","ok":true,"counted":true,"count":3}]}} `, ""},
		{`{"id":"9","ok":true,"data":{"results":[{"msgId":"11","ok":true,"counted":true,"count":}]}}`, ""},
		{`{"id":"9","ok":true,"data":{"results":[{"msgId":"11","ok":true,"counted":true}{"msgId":"12","ok":true,"counted":true}]}}`, ""},
	} {
		id, rs, ok := fastAckReply([]byte(tc.frame), nil)
		got := ""
		if ok {
			got = fmt.Sprint(id, " ", fmtResults(rs))
		}
		if got != tc.want {
			t.Errorf("fastAckReply(%.60s) = %q, want %q", tc.frame, got, tc.want)
		}
		if !ok {
			continue
		}
		reply, _, err := protocol.DecodeServerFrame([]byte(tc.frame))
		var r protocol.ReceiptAckReply
		if err != nil || json.Unmarshal(reply.Data, &r) != nil {
			t.Fatalf("not JSON: %s", tc.frame)
		}
		var fromJSON []fastAckResult
		for _, res := range r.Results {
			fromJSON = append(fromJSON, fastAckResult{res.MsgID, res.Counted, res.Count, nil})
		}
		if reply.ID != id || fmtResults(fromJSON) != fmtResults(rs) {
			t.Errorf("%.60s: json says %s %v, the scan %s %v", tc.frame, reply.ID, fromJSON, id, rs)
		}
	}
}

func fmtResults(rs []fastAckResult) string {
	s := "["
	for i, r := range rs {
		if i > 0 {
			s += " "
		}
		s += fmt.Sprintf("{%s %v %d}", r.msgID, r.counted, r.count)
	}
	return s + "]"
}

// TestReadLoadFrame: what the fast path leaves to encoding/json reads the
// same: a push with an ext, a refused ack, a result that did not count
// and why, and the frames a member ignores.
func TestReadLoadFrame(t *testing.T) {
	const g = "987654321098765432"
	for _, tc := range []struct {
		frame string
		want  string // "" when ignored
	}{
		{`{"push":"msg","data":{"id":"4","from":"a","to":"` + g + `","msg":"hi","ext":{"a":1},"msgConfig":{"allowGroupAck":true},"time":1}}`, "msg 4"},
		{`{"push":"msg","data":{"id":"4","from":"a","to":"` + g + `","msg":"hi","ext":{"a":1},"time":1}}`, ""},
		{`{"push":"msg","data":{"id":"5","from":"a","to":"123","msg":"hi","msgConfig":{"allowGroupAck":true},"time":1}}`, ""},
		{`{"push":"receipt","data":{"msgId":"5","count":1}}`, ""},
		{`not json`, ""},
		{`{"id":"9","ok":false,"error":{"code":4,"name":"not_found","message":"no"}}`, "reply 9 refused not_found"},
		{`{"id":"9","ok":true,"data":{"results":[{"msgId":"11","ok":false,"counted":false,"error":{"code":4,"name":"not_found","message":"no"}}]}}`, "reply 9 [{11 false 0 not_found}]"},
		{`{"id":"9","ok":true,"data":{"results":[{"msgId":"11","ok":true,"counted":true,"count":2}]}}`, "reply 9 [{11 true 2 }]"},
		{`{"id":"9","ok":true,"data":{"results":7}}`, "reply 9 bad"},
	} {
		f, ok := readLoadFrame([]byte(tc.frame), g, nil)
		got := ""
		switch {
		case !ok:
		case f.msgID != "":
			got = "msg " + f.msgID
		case f.refused:
			got = "reply " + f.replyID + " refused " + f.refusal.Name
		case f.bad != nil:
			got = "reply " + f.replyID + " bad"
		default:
			got = "reply " + f.replyID + " ["
			for k, r := range f.results {
				if k > 0 {
					got += " "
				}
				name := ""
				if r.err != nil {
					name = r.err.Name
				}
				got += fmt.Sprintf("{%s %v %d %s}", r.msgID, r.counted, r.count, name)
			}
			got += "]"
		}
		if got != tc.want {
			t.Errorf("readLoadFrame(%.60s) = %q, want %q", tc.frame, got, tc.want)
		}
	}
}
