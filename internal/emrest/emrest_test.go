package emrest_test

// Tests of the vendor REST API against a real server (internal/server):
// SQLite always, PostgreSQL when SEEN_TEST_POSTGRES_URL is set. Where a
// route has a twin in seen's own API (/api/v1, or the WebSocket through
// the Go client), the test checks that both agree.

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"seen/client"
	"seen/internal/server"
	"seen/internal/sqlstore/sqltest"
)

// prefix is the REST prefix of the default app key.
const prefix = "/seen/demo"

// stores runs f on each store engine available.
func stores(t *testing.T, f func(t *testing.T, cfg server.Config)) {
	t.Run("sqlite", func(t *testing.T) { f(t, testConfig(t)) })
	t.Run("postgres", func(t *testing.T) {
		url := os.Getenv(sqltest.EnvPostgres)
		if url == "" {
			t.Skip(sqltest.EnvPostgres + " is not set: PostgreSQL skipped")
		}
		cfg := testConfig(t)
		cfg.Postgres = sqltest.PostgresDSN(t, url)
		f(t, cfg)
	})
}

// testConfig is the default configuration (so the default app key) on a
// free port with fast password hashing.
func testConfig(t *testing.T) server.Config {
	cfg := server.DefaultConfig()
	cfg.Addr = "127.0.0.1:0"
	cfg.DataDir = t.TempDir()
	cfg.PasswordCost = 4
	cfg.ShutdownTimeout = 5 * time.Second
	return cfg
}

// srv is a running server.
type srv struct {
	t      *testing.T
	url    string
	client *http.Client
}

func start(t *testing.T, cfg server.Config) *srv {
	t.Helper()
	s, err := server.New(cfg, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatalf("server.New: %v", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- s.Run(ctx) }()
	hc := &http.Client{Transport: &http.Transport{}, Timeout: 10 * time.Second}
	t.Cleanup(func() {
		cancel()
		hc.CloseIdleConnections()
		if err := <-done; err != nil {
			t.Errorf("Run = %v", err)
		}
	})
	select {
	case <-s.Serving():
	case <-time.After(10 * time.Second):
		t.Fatal("server not serving after 10s")
	}
	return &srv{t: t, url: s.URL(), client: hc}
}

// reply is an HTTP reply.
type reply struct {
	status int
	header http.Header
	body   []byte
}

// decode decodes the body into out.
func (r reply) decode(t *testing.T, out any) {
	t.Helper()
	if err := json.Unmarshal(r.body, out); err != nil {
		t.Fatalf("decode %q: %v", r.body, err)
	}
}

// vendorError is the vendor's error body.
type vendorError struct {
	Error       string `json:"error"`
	Description string `json:"error_description"`
}

// wantError checks that r is a vendor error with status and a
// description containing desc.
func (r reply) wantError(t *testing.T, status int, name, desc string) {
	t.Helper()
	var e vendorError
	if r.status != status || json.Unmarshal(r.body, &e) != nil || e.Error == "" || !strings.Contains(e.Description, desc) || name != "" && e.Error != name {
		t.Fatalf("reply = %d %s, want %d {error: %q, error_description containing %q}", r.status, r.body, status, name, desc)
	}
}

// do sends a request with a JSON body (raw bytes, a string, or a value to
// marshal; nil for none) as the SDK does: Content-Type application/json
// always, Authorization when token is set.
func (s *srv) do(method, path, token string, body any, hdr ...string) reply {
	s.t.Helper()
	var rd io.Reader
	switch b := body.(type) {
	case nil:
	case []byte:
		rd = bytes.NewReader(b)
	case string:
		rd = strings.NewReader(b)
	default:
		raw, err := json.Marshal(b)
		if err != nil {
			s.t.Fatal(err)
		}
		rd = bytes.NewReader(raw)
	}
	req, err := http.NewRequest(method, s.url+path, rd)
	if err != nil {
		s.t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	res, err := s.client.Do(req)
	if err != nil {
		s.t.Fatalf("%s %s: %v", method, path, err)
	}
	defer res.Body.Close()
	raw, _ := io.ReadAll(res.Body)
	return reply{status: res.StatusCode, header: res.Header, body: raw}
}

// ok sends a request that must succeed (200) and decodes its body.
func (s *srv) ok(method, path, token string, body, out any) {
	s.t.Helper()
	r := s.do(method, path, token, body)
	if r.status != http.StatusOK {
		s.t.Fatalf("%s %s = %d %s, want 200", method, path, r.status, r.body)
	}
	if out != nil {
		r.decode(s.t, out)
	}
}

// register creates name through the vendor API and logs it in; it
// returns the token.
func (s *srv) register(name string) string {
	s.t.Helper()
	var reg struct {
		Entities []struct {
			Username string `json:"username"`
		} `json:"entities"`
	}
	s.ok("POST", prefix+"/users", "", map[string]string{"username": name, "password": "password", "nickname": ""}, &reg)
	if len(reg.Entities) != 1 || reg.Entities[0].Username != name {
		s.t.Fatalf("register %s: entities = %+v", name, reg.Entities)
	}
	return s.login(name, "password")
}

// login is the SDK's password grant; it returns the token.
func (s *srv) login(name, password string) string {
	s.t.Helper()
	var tok struct {
		AccessToken string `json:"access_token"`
		ExpiresIn   int64  `json:"expires_in"`
		User        struct {
			Username string `json:"username"`
		} `json:"user"`
	}
	s.ok("POST", prefix+"/token", "", map[string]any{"grant_type": "password", "username": name, "password": password, "timestamp": time.Now().UnixMilli()}, &tok)
	// expires_in is relative seconds: the default token TTL is 7 days.
	if week := int64(7 * 24 * 3600); tok.AccessToken == "" || tok.ExpiresIn < week-60 || tok.ExpiresIn > week || tok.User.Username != name {
		s.t.Fatalf("token of %s = %+v, want a token, expires_in about %d s, user %s", name, tok, week, name)
	}
	return tok.AccessToken
}

// dial connects name over seen's own WebSocket protocol.
func (s *srv) dial(token, device string) *client.Conn {
	s.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	c, err := client.Dial(ctx, "ws"+strings.TrimPrefix(s.url, "http")+"/ws", token, device, client.WithHTTPClient(s.client))
	if err != nil {
		s.t.Fatalf("Dial: %v", err)
	}
	s.t.Cleanup(func() { c.Close() })
	return c
}

func ctxT(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	t.Cleanup(cancel)
	return ctx
}

// createGroup is createGroupVNext's call; it returns the group id.
func (s *srv) createGroup(token, owner string, members ...string) string {
	s.t.Helper()
	var g struct {
		Data struct {
			GroupID string `json:"groupid"`
		} `json:"data"`
	}
	s.ok("POST", prefix+"/chatgroups?resource=webim_web_1", token, map[string]any{
		"owner": owner, "groupname": "team", "avatar": "", "desc": "the team", "members": members,
		"public": false, "approval": false, "allowinvites": true, "invite_need_confirm": false, "maxusers": 200, "custom": "blue",
	}, &g)
	if g.Data.GroupID == "" || strings.Trim(g.Data.GroupID, "0123456789") != "" {
		s.t.Fatalf("createGroup: groupid = %q, want a decimal string", g.Data.GroupID)
	}
	return g.Data.GroupID
}

// TestSeedFlow is the REST half of the seed flow: register, log in,
// create a group with members, and list a message's readers, with the
// message sent and acked over seen's own WebSocket protocol: both APIs
// name the same message and the same readers.
func TestSeedFlow(t *testing.T) {
	stores(t, func(t *testing.T, cfg server.Config) {
		s := start(t, cfg)
		alice, bob := s.register("alice"), s.register("bob")
		carol := s.register("carol")
		gid := s.createGroup(alice, "alice", "bob", "carol")

		ctx := ctxT(t)
		ca, cb := s.dial(alice, "a1"), s.dial(bob, "b1")
		sent, err := ca.Send(ctx, client.Send{LocalID: ca.NewLocalID(), Type: "txt", ChatType: client.GroupChat, To: gid, Msg: "hi",
			MsgConfig: &client.MsgConfig{AllowGroupAck: true}})
		if err != nil {
			t.Fatalf("send: %v", err)
		}
		if _, err := cb.Ack(ctx, gid, client.AckItem{MsgID: sent.ID, AckContent: "seen it"}); err != nil {
			t.Fatalf("ack: %v", err)
		}

		var acks struct {
			Data struct {
				AckMid   string   `json:"ackmid"`
				IsLast   bool     `json:"is_last"`
				NextKey  string   `json:"next_key"`
				Total    int      `json:"total"`
				UserList []string `json:"userlist"`
				Users    []struct {
					Username, AckContent string
				} `json:"users"`
			} `json:"data"`
		}
		// As the SDK calls it: limit=500, key=undefined, _v.
		s.ok("GET", prefix+"/chatgroups/"+gid+"/acks/"+sent.ID+"?limit=500&key=undefined&_v=1", alice, nil, &acks)
		d := acks.Data
		if d.AckMid != sent.ID || d.Total != 1 || !slices.Equal(d.UserList, []string{"bob"}) || !d.IsLast || d.NextKey != "" ||
			len(d.Users) != 1 || d.Users[0].AckContent != "seen it" {
			t.Errorf("acks = %+v, want ackmid %s, total 1, userlist [bob] with ackContent", d, sent.ID)
		}
		own, err := ca.Readers(ctx, gid, sent.ID, "", 0)
		if err != nil {
			t.Fatal(err)
		}
		if own.Total != d.Total || len(own.Users) != 1 || own.Users[0].Username != d.UserList[0] {
			t.Errorf("seen's readers = %+v, vendor's = %+v: they differ", own, d)
		}

		// A plain member may not list the readers: a clear error.
		s.do("GET", prefix+"/chatgroups/"+gid+"/acks/"+sent.ID+"?limit=500&key=undefined", carol, nil).wantError(t, http.StatusForbidden, "", "")
		// An unknown message.
		s.do("GET", prefix+"/chatgroups/"+gid+"/acks/123456789", alice, nil).wantError(t, http.StatusNotFound, "", "")
		// No token.
		s.do("GET", prefix+"/chatgroups/"+gid+"/acks/"+sent.ID, "", nil).wantError(t, http.StatusUnauthorized, "unauthorized", "access token")
	})
}

// TestAccounts covers registration and login errors, and the password
// change.
func TestAccounts(t *testing.T) {
	stores(t, func(t *testing.T, cfg server.Config) {
		s := start(t, cfg)
		alice := s.register("alice")

		// A taken name: the phrase the SDK matches, and nothing changed.
		s.do("POST", prefix+"/users", "", map[string]string{"username": "alice", "password": "other-password"}).
			wantError(t, http.StatusBadRequest, "duplicate_unique_property_exists", "username be unique")
		s.login("alice", "password")
		s.do("POST", prefix+"/token", "", map[string]string{"grant_type": "password", "username": "alice", "password": "wrong"}).
			wantError(t, http.StatusUnauthorized, "unauthorized", "")
		s.do("POST", prefix+"/token", "", map[string]string{"grant_type": "client_credentials", "username": "alice", "password": "password"}).
			wantError(t, http.StatusBadRequest, "illegal_argument", "grant_type")

		// The password change: only one's own, the old password checked,
		// every token revoked.
		s.do("PUT", prefix+"/users/bob/password", alice, map[string]string{"oldpassword": "password", "newpassword": "password2"}).
			wantError(t, http.StatusForbidden, "", "own account")
		s.do("PUT", prefix+"/users/alice/password", alice, map[string]string{"oldpassword": "nope", "newpassword": "password2"}).
			wantError(t, http.StatusUnauthorized, "", "current password")
		s.ok("PUT", prefix+"/users/alice/password", alice, map[string]string{"oldpassword": "password", "newpassword": "password2"}, nil)
		s.do("GET", prefix+"/users/alice/joined_chatgroups", alice, nil).wantError(t, http.StatusUnauthorized, "", "")
		s.do("POST", prefix+"/token", "", map[string]string{"grant_type": "password", "username": "alice", "password": "password"}).
			wantError(t, http.StatusUnauthorized, "", "")
		s.login("alice", "password2")
	})
}

// TestLimitsShared checks that the vendor API spends the budgets of
// seen's own API: registrations and failed logins counted on one are
// refused on the other.
func TestLimitsShared(t *testing.T) {
	cfg := testConfig(t)
	cfg.REST.RegisterPerAddr = 2
	cfg.REST.LoginPerAccount = 2
	s := start(t, cfg)
	if r := s.do("POST", "/api/v1/users", "", map[string]string{"username": "alice", "password": "password"}); r.status != http.StatusCreated {
		t.Fatalf("seen register = %d %s", r.status, r.body)
	}
	s.register("bob")
	r := s.do("POST", prefix+"/users", "", map[string]string{"username": "carol", "password": "password"})
	r.wantError(t, http.StatusTooManyRequests, "too_many_requests", "registrations")
	if r.header.Get("Retry-After") == "" {
		t.Errorf("429 without Retry-After")
	}

	wrong := map[string]string{"grant_type": "password", "username": "alice", "password": "wrong"}
	s.do("POST", prefix+"/token", "", wrong).wantError(t, http.StatusUnauthorized, "", "")
	if r := s.do("POST", "/api/v1/token", "", map[string]string{"username": "alice", "password": "wrong"}); r.status != http.StatusUnauthorized {
		t.Fatalf("seen login = %d %s", r.status, r.body)
	}
	// The account's two failures are spent: even the right password waits.
	s.do("POST", prefix+"/token", "", map[string]string{"grant_type": "password", "username": "alice", "password": "password"}).
		wantError(t, http.StatusTooManyRequests, "", "failed logins")
}

// member is one affiliation entry.
type member map[string]any

func roleOf(m member) (role, name string) {
	for _, r := range []string{"owner", "admin", "member"} {
		if n, ok := m[r].(string); ok {
			return r, n
		}
	}
	return "", ""
}

func roles(ms []member) []string {
	var out []string
	for _, m := range ms {
		r, n := roleOf(m)
		out = append(out, r+":"+n)
	}
	slices.Sort(out)
	return out
}

// seenMembers lists a group's members through seen's own API, as
// "role:name", sorted.
func (s *srv) seenMembers(token, gid string) []string {
	s.t.Helper()
	var p client.GroupMembersReply
	r := s.do("GET", "/api/v1/groups/"+gid+"/members", token, nil)
	if r.status != http.StatusOK {
		s.t.Fatalf("seen members = %d %s", r.status, r.body)
	}
	r.decode(s.t, &p)
	var out []string
	for _, m := range p.Members {
		out = append(out, m.Role+":"+m.Username)
	}
	slices.Sort(out)
	return out
}

// TestGroups is group management through the vendor API, checked
// against seen's own API after each change.
func TestGroups(t *testing.T) {
	stores(t, func(t *testing.T, cfg server.Config) {
		s := start(t, cfg)
		alice, bob, carol, dave := s.register("alice"), s.register("bob"), s.register("carol"), s.register("dave")
		gid := s.createGroup(alice, "alice", "bob", "carol")

		// Info, as getGroupInfo calls it.
		var info struct {
			Data []struct {
				ID                string   `json:"id"`
				Name              string   `json:"name"`
				Description       string   `json:"description"`
				Owner             string   `json:"owner"`
				Custom            string   `json:"custom"`
				MaxUsers          int      `json:"maxusers"`
				AffiliationsCount int      `json:"affiliations_count"`
				Affiliations      []member `json:"affiliations"`
			} `json:"data"`
		}
		s.ok("GET", prefix+"/chatgroups/"+gid+"?joined_time=true&_v=1", bob, nil, &info)
		if len(info.Data) != 1 {
			t.Fatalf("group info = %+v, want one group", info)
		}
		g := info.Data[0]
		want := []string{"member:bob", "member:carol", "owner:alice"}
		if g.ID != gid || g.Name != "team" || g.Description != "the team" || g.Owner != "alice" || g.Custom != "blue" || g.MaxUsers != 200 ||
			g.AffiliationsCount != 3 || !slices.Equal(roles(g.Affiliations), want) {
			t.Errorf("group info = %+v", g)
		}
		if got := s.seenMembers(alice, gid); !slices.Equal(got, want) {
			t.Errorf("seen's members = %v, want %v", got, want)
		}

		// Invite: dave joins at once; a second invite reports him a member.
		var inv struct {
			Data []struct {
				Result bool   `json:"result"`
				User   string `json:"user"`
			} `json:"data"`
		}
		s.ok("POST", prefix+"/chatgroups/"+gid+"/invite?resource=r1", alice, map[string]any{"usernames": []string{"dave"}}, &inv)
		if len(inv.Data) != 1 || !inv.Data[0].Result || inv.Data[0].User != "dave" {
			t.Errorf("invite = %+v", inv)
		}
		s.ok("POST", prefix+"/chatgroups/"+gid+"/invite", alice, map[string]any{"usernames": []string{"dave"}}, &inv)
		if len(inv.Data) != 1 || inv.Data[0].Result {
			t.Errorf("second invite = %+v, want result false", inv)
		}
		s.do("POST", prefix+"/chatgroups/"+gid+"/invite", carol, map[string]any{"usernames": []string{"bob"}}).wantError(t, http.StatusForbidden, "", "")

		// Admins.
		var set struct {
			Data struct{ Result, NewAdmin string } `json:"data"`
		}
		s.ok("POST", prefix+"/chatgroups/"+gid+"/admin?resource=r1&version=v3", alice, map[string]string{"newadmin": "bob"}, &set)
		if set.Data.Result != "success" || set.Data.NewAdmin != "bob" {
			t.Errorf("setAdmin = %+v", set)
		}
		var admins struct {
			Data []string `json:"data"`
		}
		s.ok("GET", prefix+"/chatgroups/"+gid+"/admin?version=v3", carol, nil, &admins)
		if !slices.Equal(admins.Data, []string{"bob"}) {
			t.Errorf("admins = %v, want [bob]", admins.Data)
		}
		if got := s.seenMembers(alice, gid); !slices.Contains(got, "admin:bob") {
			t.Errorf("seen's members = %v, want bob an admin", got)
		}

		// Members, both ways the SDK pages.
		var byCursor struct {
			Data   []member `json:"data"`
			Cursor string   `json:"cursor"`
		}
		s.ok("GET", prefix+"/chatgroups/"+gid+"/users?cursor=undefined&limit=50&joined_time=true", carol, nil, &byCursor)
		if got := roles(byCursor.Data); !slices.Equal(got, []string{"admin:bob", "member:carol", "member:dave", "owner:alice"}) || byCursor.Cursor != "" {
			t.Errorf("members by cursor = %v %q", got, byCursor.Cursor)
		}
		var byPage struct {
			Data []member `json:"data"`
		}
		seenAll := map[string]bool{}
		for page := 1; page <= 2; page++ {
			byPage.Data = nil // fresh maps: Unmarshal would merge into the old ones
			s.ok("GET", prefix+"/chatgroups/"+gid+"/users?version=v3&pagenum="+string(rune('0'+page))+"&pagesize=2", carol, nil, &byPage)
			if len(byPage.Data) != 2 {
				t.Fatalf("members page %d = %v, want 2", page, byPage.Data)
			}
			for _, m := range byPage.Data {
				_, n := roleOf(m)
				seenAll[n] = true
			}
		}
		if len(seenAll) != 4 {
			t.Errorf("pages 1 and 2 hold %v, want the 4 members", seenAll)
		}
		s.ok("GET", prefix+"/chatgroups/"+gid+"/users?version=v3&pagenum=3&pagesize=2", carol, nil, &byPage)
		if len(byPage.Data) != 0 {
			t.Errorf("members page 3 = %v, want none", byPage.Data)
		}

		var rm struct {
			Data struct{ OldAdmin string } `json:"data"`
		}
		s.ok("DELETE", prefix+"/chatgroups/"+gid+"/admin/bob?resource=r1&version=v3", alice, nil, &rm)
		s.ok("GET", prefix+"/chatgroups/"+gid+"/admin?version=v3", carol, nil, &admins)
		if rm.Data.OldAdmin != "bob" || len(admins.Data) != 0 {
			t.Errorf("removeAdmin = %+v, then admins = %v", rm, admins.Data)
		}

		// Transfer the group to bob and back; modifyGroup is refused.
		var owner struct {
			Data struct {
				NewOwner bool `json:"newowner"`
			} `json:"data"`
		}
		s.ok("PUT", prefix+"/chatgroups/"+gid+"?resource=r1", alice, map[string]string{"newowner": "bob"}, &owner)
		if got := s.seenMembers(alice, gid); !owner.Data.NewOwner || !slices.Contains(got, "owner:bob") {
			t.Errorf("changeOwner = %+v, then seen's members = %v", owner, got)
		}
		s.do("PUT", prefix+"/chatgroups/"+gid, alice, map[string]string{"newowner": "alice"}).wantError(t, http.StatusForbidden, "", "")
		s.ok("PUT", prefix+"/chatgroups/"+gid, bob, map[string]string{"newowner": "alice"}, &owner)
		s.do("PUT", prefix+"/chatgroups/"+gid, alice, map[string]string{"groupname": "renamed"}).wantError(t, http.StatusForbidden, "", "modifyGroup")
		if got := s.seenMembers(alice, gid); !slices.Contains(got, "owner:alice") {
			t.Errorf("seen's members after the transfer back = %v", got)
		}

		// Remove a member.
		var removed struct {
			Data struct {
				Result bool   `json:"result"`
				User   string `json:"user"`
			} `json:"data"`
		}
		s.ok("DELETE", prefix+"/chatgroups/"+gid+"/users/carol?resource=r1", alice, nil, &removed)
		if !removed.Data.Result || removed.Data.User != "carol" {
			t.Errorf("remove = %+v", removed)
		}
		if got := s.seenMembers(alice, gid); !slices.Equal(got, []string{"member:bob", "member:dave", "owner:alice"}) {
			t.Errorf("seen's members after remove = %v", got)
		}
		// carol is out: the SDK's GROUP_NOT_JOINED phrase.
		s.do("GET", prefix+"/chatgroups/"+gid+"/users?limit=50", carol, nil).wantError(t, http.StatusForbidden, "", "are not members of this group")

		// My groups, then leave.
		var joined struct {
			URI  string `json:"uri"`
			Data []struct {
				GroupID   string `json:"groupid"`
				GroupName string `json:"groupname"`
				ID        string `json:"id"`
			} `json:"data"`
		}
		s.ok("GET", prefix+"/users/bob/joined_chatgroups?pagenum=1&pagesize=20&version=v3", bob, nil, &joined)
		if !strings.Contains(joined.URI, "joined_chatgroups") || len(joined.Data) != 1 || joined.Data[0].GroupID != gid || joined.Data[0].ID != gid || joined.Data[0].GroupName != "team" {
			t.Errorf("joined groups = %+v", joined)
		}
		s.do("GET", prefix+"/users/alice/joined_chatgroups", bob, nil).wantError(t, http.StatusForbidden, "", "own account")
		var quit struct {
			Data struct{ Result bool } `json:"data"`
		}
		s.ok("DELETE", prefix+"/chatgroups/"+gid+"/quit?resource=r1", bob, nil, &quit)
		s.ok("GET", prefix+"/users/bob/joined_chatgroups", bob, nil, &joined)
		if !quit.Data.Result || len(joined.Data) != 0 {
			t.Errorf("quit = %+v, then joined = %+v", quit, joined)
		}

		// Destroy: the owner only; then the group is gone.
		s.do("DELETE", prefix+"/chatgroups/"+gid+"?version=v3&resource=r1", dave, nil).wantError(t, http.StatusForbidden, "", "")
		var destroyed struct {
			Data struct {
				Success bool   `json:"success"`
				ID      string `json:"id"`
			} `json:"data"`
		}
		s.ok("DELETE", prefix+"/chatgroups/"+gid+"?version=v3&resource=r1", alice, nil, &destroyed)
		if !destroyed.Data.Success || destroyed.Data.ID != gid {
			t.Errorf("destroy = %+v", destroyed)
		}
		s.do("GET", prefix+"/chatgroups/"+gid, alice, nil).wantError(t, http.StatusNotFound, "", "do not find this group")
		if r := s.do("GET", "/api/v1/groups/"+gid, alice, nil); r.status != http.StatusNotFound {
			t.Errorf("seen's group info after destroy = %d %s", r.status, r.body)
		}
	})
}

// TestBadBodies checks that malformed requests are refused at the edge
// with a clear error and change nothing.
func TestBadBodies(t *testing.T) {
	stores(t, func(t *testing.T, cfg server.Config) {
		s := start(t, cfg)
		alice := s.register("alice")

		for _, tc := range []struct {
			name string
			body any
			ct   string
			desc string
		}{
			{"not json", "{username:", "", "not the JSON object"},
			{"wrong type", `{"username": 5, "password": "password"}`, "", `"username"`},
			{"empty", "", "", "empty"},
			{"text body", `{"username": "zed", "password": "password"}`, "text/plain", "application/json"},
			{"bad utf-8", []byte("{\"username\": \"z\xffd\", \"password\": \"password\"}"), "", ""},
		} {
			t.Run(tc.name, func(t *testing.T) {
				var hdr []string
				if tc.ct != "" {
					hdr = []string{"Content-Type", tc.ct}
				}
				s.do("POST", prefix+"/users", "", tc.body, hdr...).wantError(t, http.StatusBadRequest, "illegal_argument", tc.desc)
			})
		}
		big := `{"username": "zed", "password": "` + strings.Repeat("x", 2<<20) + `"}`
		s.do("POST", prefix+"/users", "", big).wantError(t, http.StatusRequestEntityTooLarge, "", "")
		// None of them made an account.
		if r := s.do("POST", "/api/v1/token", "", map[string]string{"username": "zed", "password": "password"}); r.status != http.StatusUnauthorized {
			t.Errorf("login of zed = %d, want 401: a refused body made the account", r.status)
		}

		// Groups: a string for members, another owner, a negative size.
		for _, body := range []string{
			`{"groupname": "x", "members": "bob"}`,
			`{"groupname": "x", "owner": "bob"}`,
			`{"groupname": "x", "maxusers": -1}`,
		} {
			r := s.do("POST", prefix+"/chatgroups", alice, body)
			if r.status != http.StatusBadRequest && r.status != http.StatusForbidden {
				t.Errorf("create %s = %d %s, want refused", body, r.status, r.body)
			}
		}
		var joined struct {
			Data []any `json:"data"`
		}
		s.ok("GET", prefix+"/users/alice/joined_chatgroups", alice, nil, &joined)
		if len(joined.Data) != 0 {
			t.Errorf("refused creates made groups: %v", joined.Data)
		}
		s.do("GET", prefix+"/chatgroups/abc", alice, nil).wantError(t, http.StatusBadRequest, "", "group id")
		s.do("GET", prefix+"/chatgroups/1/users?pagenum=x", alice, nil).wantError(t, http.StatusBadRequest, "", "pagenum")
	})
}

// TestCORS checks preflights and headers for a page on another origin.
func TestCORS(t *testing.T) {
	s := start(t, testConfig(t))
	page := "http://localhost:5173" // allowed by the default --allowed-origins
	preflight := func(path, origin string) reply {
		return s.do("OPTIONS", path, "", nil, "Origin", origin, "Access-Control-Request-Method", "POST",
			"Access-Control-Request-Headers", "authorization,content-type")
	}
	r := preflight(prefix+"/users", page)
	if r.status != http.StatusOK || r.header.Get("Access-Control-Allow-Origin") != page {
		t.Fatalf("preflight = %d %v, want 200 allowing %s", r.status, r.header, page)
	}
	allow := strings.ToLower(r.header.Get("Access-Control-Allow-Headers"))
	if !strings.Contains(allow, "authorization") || !strings.Contains(allow, "content-type") || !strings.Contains(r.header.Get("Access-Control-Allow-Methods"), "DELETE") {
		t.Errorf("preflight allows headers %q, methods %q", allow, r.header.Get("Access-Control-Allow-Methods"))
	}
	// Even a path seen does not serve is preflighted, so that the call
	// itself reaches the clear error.
	if r := preflight(prefix+"/chatrooms", page); r.status != http.StatusOK {
		t.Errorf("preflight of an unsupported path = %d", r.status)
	}
	// The call itself carries the header.
	r = s.do("POST", prefix+"/users", "", map[string]string{"username": "alice", "password": "password"}, "Origin", page)
	if r.status != http.StatusOK || r.header.Get("Access-Control-Allow-Origin") != page {
		t.Errorf("cross-origin register = %d %v", r.status, r.header)
	}
	// Another origin is refused, without CORS headers, before acting.
	r = preflight(prefix+"/users", "https://evil.example")
	if r.status != http.StatusForbidden || r.header.Get("Access-Control-Allow-Origin") != "" {
		t.Errorf("preflight from a foreign origin = %d %v", r.status, r.header)
	}
	r = s.do("POST", prefix+"/users", "", map[string]string{"username": "bob", "password": "password"}, "Origin", "https://evil.example")
	r.wantError(t, http.StatusForbidden, "", "origin")
	if r := s.do("POST", "/api/v1/token", "", map[string]string{"username": "bob", "password": "password"}); r.status != http.StatusUnauthorized {
		t.Errorf("a refused origin registered bob: login = %d", r.status)
	}
}

// TestWrongAppKey checks what an app with another app key gets: a clear
// 404 organization_application_not_found, preflights included, and
// nothing done; seen's own API and web pages are not affected.
func TestWrongAppKey(t *testing.T) {
	cfg := testConfig(t)
	cfg.AppKey = "acme#chat"
	s := start(t, cfg)
	for _, path := range []string{"/seen/demo/users", "/acme/other/token", "/other/chat/chatgroups/1/acks/2"} {
		s.do("POST", path, "", map[string]string{"username": "alice", "password": "password"}).
			wantError(t, http.StatusNotFound, "organization_application_not_found", "acme#chat")
	}
	r := s.do("OPTIONS", "/seen/demo/users", "", nil, "Origin", "http://localhost:5173", "Access-Control-Request-Method", "POST")
	if r.status != http.StatusOK || r.header.Get("Access-Control-Allow-Origin") == "" {
		t.Errorf("preflight under a wrong app key = %d %v", r.status, r.header)
	}
	if r := s.do("POST", "/api/v1/token", "", map[string]string{"username": "alice", "password": "password"}); r.status != http.StatusUnauthorized {
		t.Errorf("a wrong app key registered alice: login = %d", r.status)
	}
	// The configured key works; seen's own API and pages are untouched.
	s.ok("POST", "/acme/chat/users", "", map[string]string{"username": "alice", "password": "password"}, nil)
	if r := s.do("POST", "/api/v1/users", "", map[string]string{"username": "bob", "password": "password"}); r.status != http.StatusCreated {
		t.Errorf("seen's register = %d %s", r.status, r.body)
	}
	if r := s.do("GET", "/healthz", "", nil); r.status != http.StatusOK {
		t.Errorf("healthz = %d", r.status)
	}
	if r := s.do("GET", "/no/such/page", "", nil); r.status != http.StatusNotFound || strings.Contains(string(r.body), "organization_application_not_found") {
		t.Errorf("a web path = %d %s, want the web app's 404", r.status, r.body)
	}
}

// TestNotSupported checks that calls seen does not implement get the
// error the SDK maps to SERVICE_NOT_ENABLED, never a hang or a page.
func TestNotSupported(t *testing.T) {
	s := start(t, testConfig(t))
	alice := s.register("alice")
	for _, c := range []struct{ method, path string }{
		{"GET", "/chatrooms?pagenum=1&pagesize=20"},
		{"DELETE", "/user/alice/user_channel"},
		{"GET", "/users/alice/contacts/users"},
		{"PUT", "/chatgroups/1/announcement"},
		{"PATCH", "/chatgroups/1"},
		{"POST", "/thread"},
	} {
		s.do(c.method, prefix+c.path, alice, "{}").wantError(t, http.StatusForbidden, "service_not_supported", "service not open!")
	}
}

// channel is one entry of the vendor's conversation list, with its
// payload decoded.
type channel struct {
	SessionTo   string `json:"session_to"`
	SessionType string `json:"session_type"`
	UnreadNum   int    `json:"unread_num"`
	Meta        *struct {
		ID        string `json:"id"`
		Timestamp int64  `json:"timestamp"`
		To        string `json:"to"`
		Payload   string `json:"payload"`
	} `json:"meta"`
}

type payload struct {
	From   string `json:"from"`
	To     string `json:"to"`
	Type   string `json:"type"`
	Bodies []struct {
		Type        string           `json:"type"`
		Msg         string           `json:"msg"`
		CustomEvent string           `json:"customEvent"`
		CustomExts  []map[string]any `json:"customExts"`
	} `json:"bodies"`
	Ext       map[string]any `json:"ext"`
	MsgConfig *struct {
		AllowGroupAck bool `json:"allowGroupAck"`
	} `json:"msgConfig"`
}

// channels is bob's conversation list through the vendor API, by
// session_to.
func (s *srv) channels(token, user, path string) (map[string]channel, string) {
	s.t.Helper()
	var r struct {
		Data struct {
			Cursor       string    `json:"cursor"`
			ChannelInfos []channel `json:"channel_infos"`
		} `json:"data"`
	}
	s.ok("GET", prefix+path, token, nil, &r)
	out := map[string]channel{}
	for _, c := range r.Data.ChannelInfos {
		out[c.SessionTo] = c
	}
	return out, r.Data.Cursor
}

// TestConversations checks the conversation list with unread counts
// against seen's own, and that a conversation ack over seen's protocol
// clears the vendor's count.
func TestConversations(t *testing.T) {
	stores(t, func(t *testing.T, cfg server.Config) {
		s := start(t, cfg)
		alice, bob := s.register("alice"), s.register("bob")
		gid := s.createGroup(alice, "alice", "bob")
		ctx := ctxT(t)
		ca, cb := s.dial(alice, "a1"), s.dial(bob, "b1")
		single, err := ca.Send(ctx, client.Send{LocalID: ca.NewLocalID(), Type: "txt", ChatType: client.SingleChat, To: "bob", Msg: "hello", Ext: json.RawMessage(`{"k":1}`)})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := ca.Send(ctx, client.Send{LocalID: ca.NewLocalID(), Type: "txt", ChatType: client.GroupChat, To: gid, Msg: "one"}); err != nil {
			t.Fatal(err)
		}
		group, err := ca.Send(ctx, client.Send{LocalID: ca.NewLocalID(), Type: "custom", ChatType: client.GroupChat, To: gid, CustomEvent: "poll",
			CustomExts: json.RawMessage(`{"q":"lunch?","n":2}`), MsgConfig: &client.MsgConfig{AllowGroupAck: true}})
		if err != nil {
			t.Fatal(err)
		}

		for _, path := range []string{"/sdk/user/bob/user_channels/list?limit=20&cursor=&need_mark=true&needEmptySession=false", "/users/bob/user_channels"} {
			got, cursor := s.channels(bob, "bob", path)
			sc, gc := got["alice"], got[gid]
			if len(got) != 2 || cursor != "" || sc.SessionType != "chat" || sc.UnreadNum != 1 || gc.SessionType != "groupchat" || gc.UnreadNum != 2 {
				t.Fatalf("%s: conversations = %+v, cursor %q", path, got, cursor)
			}
			var sp, gp payload
			if sc.Meta == nil || gc.Meta == nil || json.Unmarshal([]byte(sc.Meta.Payload), &sp) != nil || json.Unmarshal([]byte(gc.Meta.Payload), &gp) != nil {
				t.Fatalf("%s: metas %+v %+v", path, sc.Meta, gc.Meta)
			}
			if sc.Meta.ID != single.ID || sc.Meta.Timestamp != single.Time || sc.Meta.To != "bob@easemob.com" || sp.From != "alice" || sp.To != "bob" || sp.Type != "chat" ||
				len(sp.Bodies) != 1 || sp.Bodies[0].Type != "txt" || sp.Bodies[0].Msg != "hello" || sp.Ext["k"] != 1.0 || sp.MsgConfig != nil {
				t.Errorf("single-chat last message = %+v %+v", sc.Meta, sp)
			}
			if gc.Meta.ID != group.ID || gc.Meta.To != gid+"@conference.easemob.com" || gp.Type != "groupchat" || gp.To != gid || len(gp.Bodies) != 1 ||
				gp.Bodies[0].Type != "custom" || gp.Bodies[0].CustomEvent != "poll" || len(gp.Bodies[0].CustomExts) != 2 || gp.Bodies[0].CustomExts[0]["n"] != 2.0 ||
				gp.MsgConfig == nil || !gp.MsgConfig.AllowGroupAck {
				t.Errorf("group last message = %+v %+v", gc.Meta, gp)
			}
		}
		own, err := cb.Conversations(ctx, "", 0)
		if err != nil {
			t.Fatal(err)
		}
		for _, c := range own.Conversations {
			if c.Unread != 1 && c.Unread != 2 {
				t.Errorf("seen's conversation %+v: unread differs from the vendor list", c)
			}
		}

		// The conversation ack over seen's protocol clears the group's count.
		if _, err := cb.AckConversation(ctx, client.GroupChat, gid); err != nil {
			t.Fatal(err)
		}
		got, _ := s.channels(bob, "bob", "/sdk/user/bob/user_channels/list?limit=20")
		if got[gid].UnreadNum != 0 || got["alice"].UnreadNum != 1 {
			t.Errorf("after the group's conversation ack: %+v", got)
		}
		// Paging: one per page, the cursor leads to the second.
		type page struct {
			Data struct {
				Cursor       string    `json:"cursor"`
				ChannelInfos []channel `json:"channel_infos"`
			} `json:"data"`
		}
		var first, second page
		s.ok("GET", prefix+"/sdk/user/bob/user_channels/list?limit=1&cursor=", bob, nil, &first)
		if len(first.Data.ChannelInfos) != 1 || first.Data.Cursor == "" {
			t.Fatalf("first page = %+v", first)
		}
		s.ok("GET", prefix+"/sdk/user/bob/user_channels/list?limit=1&cursor="+first.Data.Cursor, bob, nil, &second)
		if len(second.Data.ChannelInfos) != 1 || second.Data.ChannelInfos[0].SessionTo == first.Data.ChannelInfos[0].SessionTo {
			t.Errorf("second page = %+v after %+v", second, first)
		}
		// The numbered pages of getConversationlist.
		p1, _ := s.channels(bob, "bob", "/users/bob/user_channels/page?pageNum=1&pageSize=1")
		p2, _ := s.channels(bob, "bob", "/users/bob/user_channels/page?pageNum=2&pageSize=1")
		p3, _ := s.channels(bob, "bob", "/users/bob/user_channels/page?pageNum=3&pageSize=1")
		if len(p1) != 1 || len(p2) != 1 || len(p3) != 0 || p1[first.Data.ChannelInfos[0].SessionTo].SessionTo == "" || p2[second.Data.ChannelInfos[0].SessionTo].SessionTo == "" {
			t.Errorf("numbered pages = %v, %v, %v", p1, p2, p3)
		}
		s.do("GET", prefix+"/users/bob/user_channels/page?pageNum=0&pageSize=1", bob, nil).wantError(t, http.StatusBadRequest, "", "pageNum")
		s.do("GET", prefix+"/sdk/user/alice/user_channels/list", bob, nil).wantError(t, http.StatusForbidden, "", "own account")
	})
}
