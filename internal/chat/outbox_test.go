package chat_test

import (
	"context"
	"encoding/json"
	"fmt"
	"testing"
	"time"

	"seen/internal/chat"
)

// failOutbox stores n outbox rows and fails them all, as a deliverer
// whose attempts ran out does.
func failOutbox(t *testing.T, e *env, n int) []int64 {
	t.Helper()
	ctx := context.Background()
	var ids []int64
	err := e.store.Write(ctx, func(tx chat.Tx) error {
		evs := make([]chat.OutboxEvent, n)
		for i := range evs {
			p, _ := json.Marshal(chat.WebhookEvent{Kind: chat.WebhookRead, Group: 1, Msg: chat.MsgID(i + 1), Reader: fmt.Sprint("u", i)})
			evs[i] = chat.OutboxEvent{Target: "http://hook.example/", Kind: chat.WebhookRead, Payload: p, CreatedAt: e.clock.Now()}
		}
		if err := tx.InsertOutbox(ctx, evs); err != nil {
			return err
		}
		got, err := tx.ClaimOutbox(ctx, "n1", e.clock.Now(), time.Minute, n)
		if err != nil {
			return err
		}
		for _, r := range got {
			ids = append(ids, r.ID)
		}
		return tx.RescheduleOutbox(ctx, "n1", ids, e.clock.Now(), "HTTP 500: down", true)
	})
	if err != nil {
		t.Fatal(err)
	}
	return ids
}

func TestFailedDeliveries(t *testing.T) {
	onStores(t, func(t *testing.T, newEnv func(t testing.TB, opts ...option) *env) {
		e := newEnv(t, withFastHash())
		ctx := context.Background()
		ids := failOutbox(t, e, 5)
		user := e.users(t, "ann")[0]

		_, _, err := e.svc.FailedDeliveries(ctx, user, "", 0)
		wantCode(t, "FailedDeliveries(a user)", err, chat.CodePermissionDenied)
		_, err = e.svc.RetryDeliveries(ctx, user, nil)
		wantCode(t, "RetryDeliveries(a user)", err, chat.CodePermissionDenied)
		for _, c := range []string{"x", "-1", "1.5", "99999999999999999999"} {
			_, _, err := e.svc.FailedDeliveries(ctx, chat.AdminActor, c, 0)
			wantCode(t, fmt.Sprintf("FailedDeliveries(cursor %q)", c), err, chat.CodeBadRequest)
		}
		for _, n := range []int{-1, 1001} {
			_, _, err := e.svc.FailedDeliveries(ctx, chat.AdminActor, "", n)
			wantCode(t, fmt.Sprintf("FailedDeliveries(limit %d)", n), err, chat.CodeBadRequest)
		}
		_, err = e.svc.RetryDeliveries(ctx, chat.AdminActor, []int64{ids[0], 0})
		wantCode(t, "RetryDeliveries(id 0)", err, chat.CodeBadRequest)
		_, err = e.svc.RetryDeliveries(ctx, chat.AdminActor, make([]int64, chat.MaxRetryIDs+1))
		wantCode(t, "RetryDeliveries(too many ids)", err, chat.CodeBadRequest)

		// Pages of 2: 2, 2, 1, and the cursor ends.
		var got []int64
		cursor, pages := "", 0
		for {
			evs, next, err := e.svc.FailedDeliveries(ctx, chat.AdminActor, cursor, 2)
			if err != nil {
				t.Fatal(err)
			}
			pages++
			for _, ev := range evs {
				if !ev.Failed || ev.Attempts != 1 || ev.LastError != "HTTP 500: down" || ev.Target != "http://hook.example/" {
					t.Errorf("failed delivery = %+v", ev)
				}
				got = append(got, ev.ID)
			}
			if next == "" {
				break
			}
			cursor = next
		}
		if fmt.Sprint(got) != fmt.Sprint(ids) || pages != 3 {
			t.Errorf("FailedDeliveries pages = %v in %d pages, want %v in 3", got, pages, ids)
		}

		n, err := e.svc.RetryDeliveries(ctx, chat.AdminActor, ids[:2])
		if err != nil || n != 2 {
			t.Errorf("RetryDeliveries(2 ids) = %d, %v, want 2", n, err)
		}
		n, err = e.svc.RetryDeliveries(ctx, chat.AdminActor, ids[:2])
		if err != nil || n != 0 {
			t.Errorf("RetryDeliveries(the same ids again) = %d, %v, want 0: they are no longer failed", n, err)
		}
		n, err = e.svc.RetryDeliveries(ctx, chat.AdminActor, nil)
		if err != nil || n != 3 {
			t.Errorf("RetryDeliveries(all) = %d, %v, want the 3 left", n, err)
		}
		evs, next, err := e.svc.FailedDeliveries(ctx, chat.AdminActor, "", 0)
		if err != nil || len(evs) != 0 || next != "" {
			t.Errorf("FailedDeliveries after retrying all = %v, %q, %v, want none", evs, next, err)
		}
	})
}
