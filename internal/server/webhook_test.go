package server_test

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"seen/client"
	"seen/internal/server"
	"seen/internal/webhook"
)

// TestWebhooks: a node with a webhook target delivers the read, the
// thresholds and the reminder of a group message, signed, without
// waiting for its poll (the commit wakes the deliverer), on each store.
func TestWebhooks(t *testing.T) {
	stores(t, func(t *testing.T, cfg server.Config) {
		const secret = "server-test-webhook-secret"
		var mu sync.Mutex
		var events []map[string]string
		got := make(chan struct{}, 100)
		recv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			body, _ := io.ReadAll(r.Body)
			if !webhook.Verify(secret, r.Header.Get(webhook.HeaderTimestamp), body, r.Header.Get(webhook.HeaderSignature)) {
				t.Errorf("bad signature")
				w.WriteHeader(http.StatusUnauthorized)
				return
			}
			var b struct{ Events []map[string]any }
			if err := json.Unmarshal(body, &b); err != nil {
				t.Errorf("decode %s: %v", body, err)
			}
			mu.Lock()
			for _, e := range b.Events {
				m := map[string]string{}
				for k, v := range e {
					if s, ok := v.(string); ok {
						m[k] = s
					}
				}
				events = append(events, m)
				got <- struct{}{}
			}
			mu.Unlock()
		}))
		defer recv.Close()
		cfg.Chat.WebhookTargets = []string{recv.URL + "/hooks"}
		cfg.Webhook.Secret = secret
		cfg.Webhook.Poll = time.Minute // only a commit's wake-up can deliver in time
		e := newE2E(t, cfg)
		ctx := ctxT(t)
		alice, bob := e.dial(e.user("alice"), "d1"), e.dial(e.user("bob"), "d1")
		g, err := alice.CreateGroup(ctx, client.GroupCreate{Name: "notices", Members: []string{"bob"}})
		if err != nil {
			t.Fatal(err)
		}
		m, err := alice.Send(ctx, client.Send{LocalID: alice.NewLocalID(), Type: "txt", ChatType: client.GroupChat, To: g.GroupID,
			Msg: "read me", MsgConfig: &client.MsgConfig{AllowGroupAck: true}})
		if err != nil {
			t.Fatal(err)
		}
		// Reminded before reading: one remind event.
		if _, err := alice.Remind(ctx, g.GroupID, m.ID); err != nil {
			t.Fatalf("Remind = %v", err)
		}
		if _, err := bob.Ack(ctx, g.GroupID, client.AckItem{MsgID: m.ID, AckContent: "ok"}); err != nil {
			t.Fatal(err)
		}
		// 1 remind, 1 read, thresholds 50, 90, 100 (1 of 1 eligible).
		for i := range 5 {
			select {
			case <-got:
			case <-time.After(10 * time.Second):
				mu.Lock()
				t.Fatalf("%d of 5 events within 10s: %v", i, events)
			}
		}
		mu.Lock()
		defer mu.Unlock()
		kinds := map[string]int{}
		for _, ev := range events {
			kinds[ev["kind"]]++
			if ev["msg"] != m.ID || ev["group"] != g.GroupID || ev["id"] == "" {
				t.Errorf("event %v, want message %s of group %s, with an id", ev, m.ID, g.GroupID)
			}
			if ev["kind"] == "read" && (ev["reader"] != "bob" || ev["ackContent"] != "ok" || ev["sender"] != "alice") {
				t.Errorf("read event %v, want bob's read of alice's message with his ack content", ev)
			}
		}
		if kinds["read"] != 1 || kinds["threshold"] != 3 || kinds["remind"] != 1 {
			t.Errorf("events by kind = %v, want 1 read, 3 thresholds, 1 remind", kinds)
		}
		// Recorded after the POSTs returned: poll.
		deadline := time.Now().Add(10 * time.Second)
		for {
			_, body := e.r.get(t, "/metrics")
			if strings.Contains(body, "seen_webhook_delivered_total 5\n") && strings.Contains(body, "seen_webhook_failed_total 0\n") {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("metrics lack 5 delivered, 0 failed webhook events:\n%s", body)
			}
			time.Sleep(20 * time.Millisecond)
		}
	})
}
