package httpapi_test

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"seen/internal/chat"
)

// failDeliveries stores n webhook events and fails each for good, through
// the real store, as a deliverer whose attempts ran out does.
func (h *harness) failDeliveries(n int) {
	h.t.Helper()
	ctx := context.Background()
	now := time.Now()
	err := h.st.Write(ctx, func(tx chat.Tx) error {
		evs := make([]chat.OutboxEvent, n)
		for i := range evs {
			p, _ := json.Marshal(chat.WebhookEvent{Kind: chat.WebhookRead, Group: 7, Msg: chat.MsgID(100 + i), Sender: "alice", Count: i + 1, At: now.UnixMilli()})
			evs[i] = chat.OutboxEvent{Target: "https://hooks.example.com/seen", Kind: chat.WebhookRead, Payload: p, CreatedAt: now, NextAt: now}
		}
		if err := tx.InsertOutbox(ctx, evs); err != nil {
			return err
		}
		claimed, err := tx.ClaimOutbox(ctx, "test", now.Add(time.Second), time.Minute, n)
		if err != nil {
			return err
		}
		ids := make([]int64, len(claimed))
		for i, e := range claimed {
			ids[i] = e.ID
		}
		return tx.RescheduleOutbox(ctx, "test", ids, now.Add(time.Hour), "HTTP 503 from https://hooks.example.com/seen", true)
	})
	if err != nil {
		h.t.Fatalf("failing deliveries: %v", err)
	}
}

func TestFailedDeliveries(t *testing.T) { onStores(t, testFailedDeliveries) }

func testFailedDeliveries(t *testing.T, dsn string) {
	h := newHarnessAt(t, dsn)
	h.user("alice")
	alice := h.login("alice", "password")
	const failed = "/api/v1/admin/webhooks/failed"
	const retry = "/api/v1/admin/webhooks/retry"

	r := h.must(200, req{method: "GET", path: failed, token: adminToken})
	if diff := cmp.Diff(map[string]any{"deliveries": []any{}, "cursor": ""}, r.body); diff != "" {
		t.Errorf("no failed deliveries (-want +got):\n%s", diff)
	}
	h.failDeliveries(3)

	// Paged, oldest first.
	r = h.must(200, req{method: "GET", path: failed + "?limit=2", token: adminToken})
	page := list(r, "deliveries")
	if len(page) != 2 || r.body["cursor"] == "" {
		t.Fatalf("first page = %s, want 2 and a cursor", r.raw)
	}
	d := page[0].(map[string]any)
	if d["target"] != "https://hooks.example.com/seen" || d["kind"] != "read" || d["attempts"] != 1.0 ||
		!strings.Contains(d["lastError"].(string), "503") || d["createdAt"].(float64) <= 0 {
		t.Errorf("delivery = %v", d)
	}
	if p := d["payload"].(map[string]any); p["kind"] != "read" || p["msg"] == nil || p["sender"] != "alice" {
		t.Errorf("delivery payload = %v, want the event", p)
	}
	first := d["id"].(string)
	r = h.must(200, req{method: "GET", path: failed + "?limit=2&cursor=" + r.body["cursor"].(string), token: adminToken})
	if len(list(r, "deliveries")) != 1 || r.body["cursor"] != "" {
		t.Errorf("second page = %s, want the last one", r.raw)
	}

	// Retry one, then all.
	r = h.must(200, req{method: "POST", path: retry, token: adminToken, body: map[string]any{"ids": []string{first}}})
	if r.body["retried"] != 1.0 {
		t.Errorf("retry one = %s", r.raw)
	}
	r = h.must(200, req{method: "GET", path: failed, token: adminToken})
	if got := strs(r, "deliveries", "id"); len(got) != 2 || got[0] == first {
		t.Errorf("failed after retrying %s = %v", first, got)
	}
	r = h.must(200, req{method: "POST", path: retry, token: adminToken, body: map[string]any{"ids": []string{first}}})
	if r.body["retried"] != 0.0 {
		t.Errorf("retry of a delivery no longer failed = %s, want 0", r.raw)
	}
	r = h.must(200, req{method: "POST", path: retry, token: adminToken, body: map[string]any{"all": true}})
	if r.body["retried"] != 2.0 {
		t.Errorf("retry all = %s, want 2", r.raw)
	}
	if r := h.must(200, req{method: "GET", path: failed, token: adminToken}); len(list(r, "deliveries")) != 0 {
		t.Errorf("failed after retrying all = %s", r.raw)
	}

	ids := make([]string, chat.MaxRetryIDs+1)
	for i := range ids {
		ids[i] = fmt.Sprint(i + 1)
	}
	for _, c := range []struct {
		what   string
		q      req
		status int
		name   string
	}{
		{"neither ids nor all", req{method: "POST", path: retry, token: adminToken, body: map[string]any{}}, 400, "bad_request"},
		{"empty ids", req{method: "POST", path: retry, token: adminToken, body: map[string]any{"ids": []string{}, "all": false}}, 400, "bad_request"},
		{"both", req{method: "POST", path: retry, token: adminToken, body: map[string]any{"ids": []string{"1"}, "all": true}}, 400, "bad_request"},
		{"id not a number", req{method: "POST", path: retry, token: adminToken, body: map[string]any{"ids": []string{"x"}}}, 400, "bad_request"},
		{"id a JSON number", req{method: "POST", path: retry, token: adminToken, body: map[string]any{"ids": []int{1}}}, 400, "bad_request"},
		{"negative id", req{method: "POST", path: retry, token: adminToken, body: map[string]any{"ids": []string{"-1"}}}, 400, "bad_request"},
		{"too many ids", req{method: "POST", path: retry, token: adminToken, body: map[string]any{"ids": ids}}, 400, "bad_request"},
		{"no body", req{method: "POST", path: retry, token: adminToken}, 400, "bad_request"},
		{"bad cursor", req{method: "GET", path: failed + "?cursor=x", token: adminToken}, 400, "bad_request"},
		{"limit too big", req{method: "GET", path: failed + "?limit=1001", token: adminToken}, 400, "bad_request"},
		{"limit not a number", req{method: "GET", path: failed + "?limit=ten", token: adminToken}, 400, "bad_request"},
		{"user token", req{method: "GET", path: failed, token: alice}, 401, "unauthorized"},
		{"user token, retry", req{method: "POST", path: retry, token: alice, body: map[string]any{"all": true}}, 401, "unauthorized"},
	} {
		t.Run(c.what, func(t *testing.T) { h.wantErr(c.status, c.name, c.q) })
	}
	off := newHarness(t, noAdmin())
	off.wantErr(403, "permission_denied", req{method: "GET", path: failed, token: adminToken})
}
