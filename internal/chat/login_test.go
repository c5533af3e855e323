package chat_test

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/google/go-cmp/cmp"
	"golang.org/x/crypto/bcrypt"

	"seen/internal/auth"
	"seen/internal/chat"
)

// countingHasher is the real bcrypt hasher, recording the hashes Verify
// is given.
type countingHasher struct {
	*auth.Bcrypt
	mu       sync.Mutex
	verified [][]byte
}

func (h *countingHasher) Verify(hash []byte, pw string) bool {
	h.mu.Lock()
	h.verified = append(h.verified, hash)
	h.mu.Unlock()
	return h.Bcrypt.Verify(hash, pw)
}

func (h *countingHasher) take() [][]byte {
	h.mu.Lock()
	defer h.mu.Unlock()
	v := h.verified
	h.verified = nil
	return v
}

// TestLoginUnknownUserCostsTheSame: an unknown user and a wrong password
// get the same error, and both cost one bcrypt comparison at the
// configured cost, so neither the answer nor its time tells which
// usernames exist.
func TestLoginUnknownUserCostsTheSame(t *testing.T) {
	const cost = 5
	b, err := auth.NewBcrypt(cost)
	if err != nil {
		t.Fatal(err)
	}
	h := &countingHasher{Bcrypt: b}
	e := newEnv(t, func(_ *chat.Config, d *chat.Deps) { d.Passwords = h })
	ctx := context.Background()
	e.users(t, "alice")

	_, wrong := e.svc.Login(ctx, chat.Credentials{Username: "alice", Password: "not-it"})
	wrongHashes := h.take()
	for i := range 2 { // the dummy hash is made once, then reused
		_, unknown := e.svc.Login(ctx, chat.Credentials{Username: "nobody", Password: "not-it"})
		if wrong == nil || unknown == nil {
			t.Fatalf("Login = %v (wrong password), %v (unknown user); want errors", wrong, unknown)
		}
		type answer struct {
			Code chat.Code
			Msg  string
		}
		if diff := cmp.Diff(answer{chat.ErrorCode(wrong), chat.ErrorMessage(wrong)}, answer{chat.ErrorCode(unknown), chat.ErrorMessage(unknown)}); diff != "" {
			t.Errorf("unknown user's error differs from a wrong password's (-wrong +unknown):\n%s", diff)
		}
		unknownHashes := h.take()
		if len(wrongHashes) != 1 || len(unknownHashes) != 1 {
			t.Fatalf("Verify calls: %d for a wrong password, %d for an unknown user (try %d); want 1 each", len(wrongHashes), len(unknownHashes), i)
		}
		for what, hash := range map[string][]byte{"wrong password": wrongHashes[0], "unknown user": unknownHashes[0]} {
			if c, err := bcrypt.Cost(hash); err != nil || c != cost {
				t.Errorf("%s: verified against a hash of cost %d (%v), want %d", what, c, err, cost)
			}
		}
	}
}

// failingHasher is the real bcrypt hasher whose Hash fails while fail is
// set.
type failingHasher struct {
	countingHasher
	fail atomic.Bool
}

func (h *failingHasher) Hash(pw string) ([]byte, error) {
	if h.fail.Load() {
		return nil, errors.New("injected hash failure")
	}
	return h.Bcrypt.Hash(pw)
}

// TestLoginUnknownUserHashFailure: when the dummy hash for an unknown
// user cannot be made, the answer is still the wrong login's (not an
// internal error, which would tell the name is unknown), and the failure
// is not kept: once the hasher works, an unknown user costs a comparison
// at the configured cost again.
func TestLoginUnknownUserHashFailure(t *testing.T) {
	const cost = 5
	b, err := auth.NewBcrypt(cost)
	if err != nil {
		t.Fatal(err)
	}
	h := &failingHasher{countingHasher: countingHasher{Bcrypt: b}}
	e := newEnv(t, func(_ *chat.Config, d *chat.Deps) { d.Passwords = h })
	ctx := context.Background()

	h.fail.Store(true)
	_, err = e.svc.Login(ctx, chat.Credentials{Username: "nobody", Password: "not-it"})
	wantCode(t, "unknown user while the hasher fails", err, chat.CodeUnauthorized)
	h.take()

	h.fail.Store(false)
	_, err = e.svc.Login(ctx, chat.Credentials{Username: "nobody", Password: "not-it"})
	wantCode(t, "unknown user once the hasher works", err, chat.CodeUnauthorized)
	hashes := h.take()
	if len(hashes) != 1 {
		t.Fatalf("Verify calls for an unknown user = %d, want 1", len(hashes))
	}
	if c, err := bcrypt.Cost(hashes[0]); err != nil || c != cost {
		t.Errorf("unknown user verified against a hash of cost %d (%v), want %d", c, err, cost)
	}
}
