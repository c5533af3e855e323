package chat

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"strings"
	"sync"
	"time"
)

// Password length limits. 72 bytes is bcrypt's own limit: longer input
// would be silently truncated, so it is refused instead.
const (
	MinPasswordLen = 6
	MaxPasswordLen = 72
)

// NormalizeName lower-cases a username and checks it: 1-64 characters of
// a-z 0-9 _ - . (compared case-insensitively, as Easemob does).
func NormalizeName(name string) (string, error) {
	n := strings.ToLower(name)
	if len(n) < 1 || len(n) > 64 {
		return "", Errorf(CodeBadRequest, "username must be 1-64 characters")
	}
	for _, r := range n {
		if !(r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r == '_' || r == '-' || r == '.') {
			return "", Errorf(CodeBadRequest, "username %q may contain only a-z, 0-9, _, - and .", name)
		}
	}
	return n, nil
}

func checkPassword(pw string) error {
	if len(pw) < MinPasswordLen || len(pw) > MaxPasswordLen {
		return Errorf(CodeBadRequest, "password must be %d-%d bytes", MinPasswordLen, MaxPasswordLen)
	}
	return checkText("password", pw, 0)
}

// Credentials is a username and password.
type Credentials struct {
	Username string `json:"username"`
	Password string `json:"password"`
}

// Register creates an account when open registration is on.
func (s *Service) Register(ctx context.Context, c Credentials) (User, error) {
	if !s.cfg.OpenRegistration {
		return User{}, Errorf(CodeRegistrationOff, "registration is closed on this server; ask an administrator")
	}
	us, err := s.CreateUsers(ctx, AdminActor, []Credentials{c})
	if err != nil {
		return User{}, err
	}
	return us[0], nil
}

// MaxBulkUsers is the most users one CreateUsers call may create.
const MaxBulkUsers = 1000

// CreateUsers creates accounts, all or none (admin only, or Register).
func (s *Service) CreateUsers(ctx context.Context, actor Actor, cs []Credentials) ([]User, error) {
	if !actor.Admin {
		return nil, Errorf(CodePermissionDenied, "only the administrator may create users")
	}
	if len(cs) == 0 || len(cs) > MaxBulkUsers {
		return nil, Errorf(CodeBadRequest, "create 1-%d users at a time", MaxBulkUsers)
	}
	users := make([]User, len(cs))
	seen := make(map[string]bool, len(cs))
	for i, c := range cs {
		name, err := NormalizeName(c.Username)
		if err != nil {
			return nil, err
		}
		if seen[name] {
			return nil, Errorf(CodeBadRequest, "username %q appears twice", name)
		}
		seen[name] = true
		if err := checkPassword(c.Password); err != nil {
			return nil, err
		}
		users[i] = User{Name: name, CreatedAt: s.now()}
	}
	// Hash outside the transaction: it is deliberately slow.
	for i, c := range cs {
		h, err := s.pw.Hash(c.Password)
		if err != nil {
			return nil, internal("hash password", err)
		}
		users[i].PasswordHash = h
	}
	err := s.write(ctx, "create_users", func(tx Tx) error {
		for i := range users {
			if err := tx.InsertUser(ctx, &users[i]); err != nil {
				if errors.Is(err, ErrConflict) {
					return Errorf(CodeUserExists, "username %q is taken", users[i].Name)
				}
				return err
			}
		}
		return nil
	})
	if err != nil {
		return nil, internal("create users", err)
	}
	return users, nil
}

// Grant is a fresh access token.
type Grant struct {
	Token     string
	ExpiresAt time.Time
	User      User
}

// Login checks a username and password and issues an access token.
func (s *Service) Login(ctx context.Context, c Credentials) (Grant, error) {
	name, err := NormalizeName(c.Username)
	if err != nil {
		return Grant{}, errWrongLogin()
	}
	var u User
	err = s.read(ctx, "user_by_name", func(tx Tx) error {
		u, err = tx.UserByName(ctx, name)
		return err
	})
	if errors.Is(err, ErrNotFound) {
		// Spend what a wrong password costs, so that the time of the
		// answer does not tell which usernames exist.
		// If the dummy hash cannot be made (it is tried again next
		// time), the answer is still the wrong login's, not an internal
		// error that would tell the name is unknown.
		if h, err := s.dummy.get(s.pw); err == nil {
			s.pw.Verify(h, c.Password)
		}
		return Grant{}, errWrongLogin()
	}
	if err != nil {
		return Grant{}, internal("login", err)
	}
	if !s.pw.Verify(u.PasswordHash, c.Password) {
		return Grant{}, errWrongLogin()
	}
	return s.issueToken(ctx, u)
}

// errWrongLogin is Login's one answer to an unknown user and a wrong
// password alike.
func errWrongLogin() error { return Errorf(CodeUnauthorized, "wrong username or password") }

// dummyHash is the hash of a random password, made with the configured
// hasher (so at its cost) on the first unknown-user login and then kept,
// that Login verifies for an unknown user. A failure is not kept: the next
// login tries again. (Made lazily rather than in NewService, so that a
// service costs no hash at its cost until a login needs one.)
type dummyHash struct {
	mu   sync.Mutex
	hash []byte
}

func (d *dummyHash) get(pw Passwords) ([]byte, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.hash != nil {
		return d.hash, nil
	}
	secret := make([]byte, 16)
	if _, err := rand.Read(secret); err != nil {
		return nil, err
	}
	h, err := pw.Hash(base64.RawURLEncoding.EncodeToString(secret))
	if err != nil {
		return nil, err
	}
	d.hash = h
	return h, nil
}

func (s *Service) issueToken(ctx context.Context, u User) (Grant, error) {
	secret := make([]byte, 32)
	if _, err := rand.Read(secret); err != nil {
		return Grant{}, internal("token", err)
	}
	tok := base64.RawURLEncoding.EncodeToString(secret)
	now := s.now()
	t := Token{Hash: hashToken(tok), UserID: u.ID, CreatedAt: now, ExpiresAt: now.Add(s.cfg.TokenTTL)}
	err := s.write(ctx, "insert_token", func(tx Tx) error { return tx.InsertToken(ctx, t) })
	if err != nil {
		return Grant{}, internal("insert token", err)
	}
	return Grant{Token: tok, ExpiresAt: t.ExpiresAt, User: u}, nil
}

func hashToken(tok string) []byte {
	h := sha256.Sum256([]byte(tok))
	return h[:]
}

// Authenticate resolves an access token to its user.
func (s *Service) Authenticate(ctx context.Context, token string) (User, error) {
	u, _, err := s.AuthenticateUntil(ctx, token)
	return u, err
}

// AuthenticateUntil is Authenticate that also returns when the token
// expires, for transports that tell the client (the vendor SDK's
// onTokenWillExpire).
func (s *Service) AuthenticateUntil(ctx context.Context, token string) (User, time.Time, error) {
	if token == "" || len(token) > 256 {
		return User{}, time.Time{}, Errorf(CodeUnauthorized, "missing or malformed access token")
	}
	var u User
	var expires time.Time
	err := s.read(ctx, "authenticate", func(tx Tx) error {
		t, err := tx.TokenByHash(ctx, hashToken(token))
		if err != nil {
			return err
		}
		if !s.now().Before(t.ExpiresAt) {
			return Errorf(CodeTokenExpired, "the access token has expired; log in again")
		}
		expires = t.ExpiresAt
		us, err := tx.UsersByID(ctx, []UserID{t.UserID})
		if err != nil {
			return err
		}
		if len(us) == 0 {
			return ErrNotFound
		}
		u = us[0]
		return nil
	})
	if errors.Is(err, ErrNotFound) {
		return User{}, time.Time{}, Errorf(CodeUnauthorized, "unknown or revoked access token")
	}
	if err != nil {
		return User{}, time.Time{}, internal("authenticate", err)
	}
	return u, expires, nil
}

// Logout revokes one access token; the sessions using it are closed.
func (s *Service) Logout(ctx context.Context, token string) error {
	h := hashToken(token)
	var user UserID
	err := s.write(ctx, "delete_token", func(tx Tx) error {
		t, err := tx.TokenByHash(ctx, h)
		if err != nil {
			return err
		}
		user = t.UserID
		return tx.DeleteToken(ctx, h)
	})
	if errors.Is(err, ErrNotFound) {
		return nil // already gone: logging out twice is fine
	}
	if err != nil {
		return internal("logout", err)
	}
	s.publish(UserTopic(user), Event{Kind: EventRevoked, Revoked: &RevokedEvent{User: user, TokenHash: h}})
	return nil
}

// ChangePassword sets a new password after checking the old one, and
// revokes every token of the user.
func (s *Service) ChangePassword(ctx context.Context, actor Actor, old, new string) error {
	var u User
	err := s.read(ctx, "user_by_id", func(tx Tx) error {
		us, err := tx.UsersByID(ctx, []UserID{actor.User})
		if err == nil && len(us) == 0 {
			err = ErrNotFound
		}
		if err == nil {
			u = us[0]
		}
		return err
	})
	if err != nil {
		return internal("change password", err)
	}
	if !s.pw.Verify(u.PasswordHash, old) {
		return Errorf(CodeUnauthorized, "the current password is wrong")
	}
	return s.setPassword(ctx, u.ID, new)
}

// ResetPassword sets a user's password (admin only) and revokes every
// token of the user.
func (s *Service) ResetPassword(ctx context.Context, actor Actor, username, pw string) error {
	if !actor.Admin {
		return Errorf(CodePermissionDenied, "only the administrator may reset passwords")
	}
	u, err := s.userByName(ctx, username)
	if err != nil {
		return err
	}
	return s.setPassword(ctx, u.ID, pw)
}

func (s *Service) setPassword(ctx context.Context, id UserID, pw string) error {
	if err := checkPassword(pw); err != nil {
		return err
	}
	h, err := s.pw.Hash(pw)
	if err != nil {
		return internal("hash password", err)
	}
	err = s.write(ctx, "set_password", func(tx Tx) error {
		if err := tx.SetPassword(ctx, id, h); err != nil {
			return err
		}
		return tx.DeleteUserTokens(ctx, id)
	})
	if err != nil {
		return internal("set password", err)
	}
	s.publish(UserTopic(id), Event{Kind: EventRevoked, Revoked: &RevokedEvent{User: id}})
	return nil
}

// UserPage is a page of users by name.
type UserPage struct {
	Users []User
	Next  string // pass as after for the next page; "" on the last
}

// ListUsers pages through all users by name (admin only).
func (s *Service) ListUsers(ctx context.Context, actor Actor, after string, limit int) (UserPage, error) {
	if !actor.Admin {
		return UserPage{}, Errorf(CodePermissionDenied, "only the administrator may list users")
	}
	limit, err := pageSize(limit, 100, 1000)
	if err != nil {
		return UserPage{}, err
	}
	if err := checkText("after", after, 0); err != nil {
		return UserPage{}, err
	}
	var p UserPage
	err = s.read(ctx, "list_users", func(tx Tx) error {
		us, err := tx.ListUsers(ctx, strings.ToLower(after), limit+1)
		if err != nil {
			return err
		}
		if len(us) > limit {
			us = us[:limit]
			p.Next = us[limit-1].Name
		}
		p.Users = us
		return nil
	})
	return p, internal("list users", err)
}

// userByName resolves a username, with CodeUserNotFound if there is none.
func (s *Service) userByName(ctx context.Context, name string) (User, error) {
	n, err := NormalizeName(name)
	if err != nil {
		return User{}, err
	}
	var u User
	err = s.read(ctx, "user_by_name", func(tx Tx) error {
		u, err = tx.UserByName(ctx, n)
		return err
	})
	if errors.Is(err, ErrNotFound) {
		return User{}, Errorf(CodeUserNotFound, "no user %q", n)
	}
	return u, internal("user by name", err)
}

// usersByName resolves usernames, all or CodeUserNotFound naming the first
// missing one. The result is in the order given, without duplicates.
func usersByName(ctx context.Context, tx Tx, names []string) ([]User, error) {
	norm := make([]string, 0, len(names))
	seen := make(map[string]bool, len(names))
	for _, n := range names {
		nn, err := NormalizeName(n)
		if err != nil {
			return nil, err
		}
		if !seen[nn] {
			seen[nn] = true
			norm = append(norm, nn)
		}
	}
	found, err := tx.UsersByName(ctx, norm)
	if err != nil {
		return nil, err
	}
	byName := make(map[string]User, len(found))
	for _, u := range found {
		byName[u.Name] = u
	}
	out := make([]User, 0, len(norm))
	for _, n := range norm {
		u, ok := byName[n]
		if !ok {
			return nil, Errorf(CodeUserNotFound, "no user %q", n)
		}
		out = append(out, u)
	}
	return out, nil
}

// pageSize applies a default and a maximum to a requested page size.
func pageSize(n, def, max int) (int, error) {
	switch {
	case n == 0:
		return def, nil
	case n < 0 || n > max:
		return 0, Errorf(CodeBadRequest, "page size %d is outside 1..%d", n, max)
	}
	return n, nil
}

// Device ids: 1-64 printable ASCII characters without spaces.
func checkDevice(d DeviceID) error {
	if len(d) < 1 || len(d) > 64 {
		return Errorf(CodeBadRequest, "device id must be 1-64 characters")
	}
	for _, r := range d {
		if r <= ' ' || r > '~' {
			return Errorf(CodeBadRequest, "device id may contain only printable ASCII without spaces")
		}
	}
	return nil
}

// CheckDevice validates a device id chosen by a client.
func CheckDevice(d DeviceID) error { return checkDevice(d) }
