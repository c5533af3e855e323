package chat_test

import (
	"context"
	"testing"
	"time"

	"seen/internal/chat"
)

func TestRegisterAndLogin(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	if _, err := e.svc.Register(ctx, chat.Credentials{Username: "Alice", Password: "secret1"}); err != nil {
		t.Fatalf("Register(Alice) = %v", err)
	}
	_, err := e.svc.Register(ctx, chat.Credentials{Username: "alice", Password: "secret2"})
	wantCode(t, "Register(alice) again", err, chat.CodeUserExists)

	for _, c := range []chat.Credentials{
		{Username: "", Password: "secret1"},
		{Username: "has space", Password: "secret1"},
		{Username: "ünï", Password: "secret1"},
		{Username: string(make([]byte, 65)), Password: "secret1"},
		{Username: "bob", Password: "short"},
		{Username: "bob", Password: string(make([]byte, 73))},
	} {
		_, err := e.svc.Register(ctx, c)
		wantCode(t, "Register("+c.Username+")", err, chat.CodeBadRequest)
	}

	g, err := e.svc.Login(ctx, chat.Credentials{Username: "ALICE", Password: "secret1"})
	if err != nil {
		t.Fatalf("Login = %v", err)
	}
	if g.User.Name != "alice" {
		t.Errorf("Login user = %q, want alice", g.User.Name)
	}
	u, err := e.svc.Authenticate(ctx, g.Token)
	if err != nil || u.Name != "alice" {
		t.Errorf("Authenticate = %v, %v, want alice", u.Name, err)
	}
	_, err = e.svc.Login(ctx, chat.Credentials{Username: "alice", Password: "wrong12"})
	wantCode(t, "Login with a wrong password", err, chat.CodeUnauthorized)
	_, err = e.svc.Login(ctx, chat.Credentials{Username: "nobody", Password: "secret1"})
	wantCode(t, "Login of an unknown user", err, chat.CodeUnauthorized)
	_, err = e.svc.Authenticate(ctx, "garbage")
	wantCode(t, "Authenticate(garbage)", err, chat.CodeUnauthorized)
}

func TestRegistrationClosed(t *testing.T) {
	e := newEnv(t, withConfig(func(c *chat.Config) { c.OpenRegistration = false }))
	_, err := e.svc.Register(context.Background(), chat.Credentials{Username: "alice", Password: "secret1"})
	wantCode(t, "Register with registration closed", err, chat.CodeRegistrationOff)
	_, err = e.svc.CreateUsers(context.Background(), chat.Actor{User: 1, Name: "x"}, []chat.Credentials{{Username: "a", Password: "secret1"}})
	wantCode(t, "CreateUsers by a user", err, chat.CodePermissionDenied)
	if _, err := e.svc.CreateUsers(context.Background(), chat.AdminActor, []chat.Credentials{{Username: "a", Password: "secret1"}}); err != nil {
		t.Errorf("CreateUsers by admin = %v", err)
	}
}

func TestCreateUsersIsAllOrNothing(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	e.users(t, "taken")
	_, err := e.svc.CreateUsers(ctx, chat.AdminActor, []chat.Credentials{
		{Username: "fresh", Password: "password"}, {Username: "taken", Password: "password"},
	})
	wantCode(t, "CreateUsers with a taken name", err, chat.CodeUserExists)
	_, err = e.svc.Login(ctx, chat.Credentials{Username: "fresh", Password: "password"})
	wantCode(t, "Login(fresh) after a failed bulk create", err, chat.CodeUnauthorized)
}

func TestTokenLifecycle(t *testing.T) {
	onStores(t, func(t *testing.T, newEnv func(t testing.TB, opts ...option) *env) {
		e := newEnv(t)
		ctx := context.Background()
		e.users(t, "alice")
		login := func() string {
			g, err := e.svc.Login(ctx, chat.Credentials{Username: "alice", Password: "password"})
			if err != nil {
				t.Fatalf("Login = %v", err)
			}
			return g.Token
		}
		// Expiry.
		tok := login()
		e.clock.Add(e.svc.Config().TokenTTL + time.Second)
		_, err := e.svc.Authenticate(ctx, tok)
		wantCode(t, "Authenticate(expired)", err, chat.CodeTokenExpired)

		// Logout revokes one token.
		t1, t2 := login(), login()
		if err := e.svc.Logout(ctx, t1); err != nil {
			t.Fatalf("Logout = %v", err)
		}
		_, err = e.svc.Authenticate(ctx, t1)
		wantCode(t, "Authenticate(logged out)", err, chat.CodeUnauthorized)
		u, err := e.svc.Authenticate(ctx, t2)
		if err != nil {
			t.Fatalf("Authenticate(other token) = %v", err)
		}

		// Changing the password revokes all tokens.
		actor := chat.Actor{User: u.ID, Name: u.Name, Device: "d1"}
		wantCode(t, "ChangePassword(wrong old)", e.svc.ChangePassword(ctx, actor, "nope123", "newpassword"), chat.CodeUnauthorized)
		if err := e.svc.ChangePassword(ctx, actor, "password", "newpassword"); err != nil {
			t.Fatalf("ChangePassword = %v", err)
		}
		_, err = e.svc.Authenticate(ctx, t2)
		wantCode(t, "Authenticate after password change", err, chat.CodeUnauthorized)
		if _, err := e.svc.Login(ctx, chat.Credentials{Username: "alice", Password: "newpassword"}); err != nil {
			t.Errorf("Login(new password) = %v", err)
		}

		// Admin reset.
		wantCode(t, "ResetPassword by a user", e.svc.ResetPassword(ctx, actor, "alice", "another1"), chat.CodePermissionDenied)
		if err := e.svc.ResetPassword(ctx, chat.AdminActor, "alice", "another1"); err != nil {
			t.Fatalf("ResetPassword = %v", err)
		}
		wantCode(t, "ResetPassword(unknown)", e.svc.ResetPassword(ctx, chat.AdminActor, "ghost", "another1"), chat.CodeUserNotFound)
		if _, err := e.svc.Login(ctx, chat.Credentials{Username: "alice", Password: "another1"}); err != nil {
			t.Errorf("Login(reset password) = %v", err)
		}
	})
}

func TestListUsers(t *testing.T) {
	e := newEnv(t)
	e.users(t, "c", "a", "b")
	p, err := e.svc.ListUsers(context.Background(), chat.AdminActor, "a", 10)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, u := range p.Users {
		names = append(names, u.Name)
	}
	if len(names) != 2 || names[0] != "b" || names[1] != "c" || p.Next != "" {
		t.Errorf("ListUsers(after a) = %v, next %q; want [b c], last page", names, p.Next)
	}
	p, err = e.svc.ListUsers(context.Background(), chat.AdminActor, "", 2)
	if err != nil || len(p.Users) != 2 || p.Next != "b" {
		t.Errorf("ListUsers(limit 2) = %d users, next %q, %v; want 2, next b", len(p.Users), p.Next, err)
	}
}
