package httpapi_test

import (
	"fmt"
	"net/http/httptest"
	"net/netip"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"seen/internal/chat"
	"seen/internal/chat/chattest"
	"seen/internal/httpapi"
)

func withLimits(l httpapi.Limits, c *chattest.Clock) harnessOpt {
	return func(_ *chat.Config, a *httpapi.Config, _ *chat.Deps) {
		a.Limits = l
		a.Now = c.Now
	}
}

func limits(f func(*httpapi.Limits)) httpapi.Limits {
	l := httpapi.DefaultLimits()
	f(&l)
	return l
}

func loginReq(name, pw string) req {
	return req{method: "POST", path: "/api/v1/token", body: map[string]string{"username": name, "password": pw}}
}

// TestLoginThrottledPerAccount: after LoginPerAccount wrong passwords
// the account answers 429 rate_limited with Retry-After, even to the
// right password, until the window regains an attempt.
func TestLoginThrottledPerAccount(t *testing.T) {
	clk := chattest.NewClock(time.Unix(1_000_000, 0))
	h := newHarness(t, withLimits(limits(func(l *httpapi.Limits) {
		l.LoginPerAccount, l.LoginWindow = 5, 5*time.Minute // one attempt regained per minute
	}), clk))
	h.user("alice")
	for range 5 {
		h.wantErr(401, "unauthorized", loginReq("alice", "wrong"))
	}
	r := h.wantErr(429, "rate_limited", loginReq("Alice", "password"))
	if got := r.header.Get("Retry-After"); got != "60" {
		t.Errorf("Retry-After = %q, want 60 (one attempt regained per minute)", got)
	}
	if msg := r.body["error"].(map[string]any)["message"].(string); !strings.Contains(msg, "account") {
		t.Errorf("message %q does not say the account is throttled", msg)
	}
	h.wantErr(429, "rate_limited", loginReq("alice", "wrong"))
	// Other accounts from the same address are not affected.
	h.user("bob")

	clk.Add(59 * time.Second)
	h.wantErr(429, "rate_limited", loginReq("alice", "password"))
	clk.Add(time.Second)
	h.login("alice", "password")
}

// TestLoginThrottledPerAddress: failures over many accounts from one
// address exhaust the address's budget.
func TestLoginThrottledPerAddress(t *testing.T) {
	clk := chattest.NewClock(time.Unix(1_000_000, 0))
	h := newHarness(t, withLimits(limits(func(l *httpapi.Limits) {
		l.LoginPerAccount, l.LoginPerAddr, l.LoginWindow = 100, 10, 10*time.Minute
	}), clk))
	h.user("carol")
	for i := range 10 {
		h.wantErr(401, "unauthorized", loginReq(fmt.Sprintf("nobody%d", i), "password"))
	}
	r := h.wantErr(429, "rate_limited", loginReq("carol", "password"))
	if got := r.header.Get("Retry-After"); got != "60" {
		t.Errorf("Retry-After = %q, want 60", got)
	}
	clk.Add(time.Minute)
	h.login("carol", "password")
	// A success does not spend: the regained attempt is still there.
	h.login("carol", "password")
}

// TestLoginThrottleConcurrent: parallel guesses get no more than the
// budget through to the password check.
func TestLoginThrottleConcurrent(t *testing.T) {
	clk := chattest.NewClock(time.Unix(1_000_000, 0))
	h := newHarness(t, withLimits(limits(func(l *httpapi.Limits) { l.LoginPerAccount = 5 }), clk))
	h.user("gina")
	codes := make(chan int, 40)
	var wg sync.WaitGroup
	for range 40 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			codes <- h.do(loginReq("gina", "wrong")).status
		}()
	}
	wg.Wait()
	close(codes)
	got := map[int]int{}
	for c := range codes {
		got[c]++
	}
	if diff := cmp.Diff(map[int]int{401: 5, 429: 35}, got); diff != "" {
		t.Errorf("40 parallel wrong logins, statuses (-want +got):\n%s", diff)
	}
}

// TestLoginLimitOff: 0 turns a limit off.
func TestLoginLimitOff(t *testing.T) {
	clk := chattest.NewClock(time.Unix(1_000_000, 0))
	h := newHarness(t, withLimits(limits(func(l *httpapi.Limits) { l.LoginPerAccount, l.LoginPerAddr = 0, 0 }), clk))
	h.user("dave")
	for range 30 {
		h.wantErr(401, "unauthorized", loginReq("dave", "wrong"))
	}
	h.login("dave", "password")
}

// TestRegistrationLimit: one address may register RegisterPerAddr
// accounts per window, refused attempts included.
func TestRegistrationLimit(t *testing.T) {
	clk := chattest.NewClock(time.Unix(1_000_000, 0))
	h := newHarness(t, withLimits(limits(func(l *httpapi.Limits) {
		l.RegisterPerAddr, l.RegisterWindow = 3, 3*time.Hour
	}), clk))
	reg := func(name string) req {
		return req{method: "POST", path: "/api/v1/users", body: map[string]string{"username": name, "password": "password"}}
	}
	h.must(201, reg("u1"))
	h.wantErr(409, "user_exists", reg("u1")) // counts too
	h.must(201, reg("u2"))
	r := h.wantErr(429, "rate_limited", reg("u3"))
	if got := r.header.Get("Retry-After"); got != "3600" {
		t.Errorf("Retry-After = %q, want 3600", got)
	}
	h.wantErr(401, "unauthorized", loginReq("u3", "password")) // not created
	// The admin API is not limited.
	h.must(201, req{method: "POST", path: "/api/v1/admin/users", token: adminToken,
		body: []map[string]string{{"username": "u4", "password": "password"}}})
	clk.Add(time.Hour)
	h.must(201, reg("u3"))
	h.wantErr(429, "rate_limited", reg("u5"))
}

// TestClosedRegistration: with registration closed only the admin API
// creates users.
func TestClosedRegistration(t *testing.T) {
	h := newHarness(t, closedRegistration())
	h.wantErr(403, "registration_closed", req{method: "POST", path: "/api/v1/users", body: map[string]string{"username": "eve", "password": "password"}})
	h.must(201, req{method: "POST", path: "/api/v1/admin/users", token: adminToken,
		body: []map[string]string{{"username": "eve", "password": "password"}}})
	h.login("eve", "password")
}

// TestBodyLimit: the configured body limit, declared or not, gives 413
// too_large naming the limit.
func TestBodyLimit(t *testing.T) {
	clk := chattest.NewClock(time.Unix(1_000_000, 0))
	h := newHarness(t, withLimits(limits(func(l *httpapi.Limits) { l.MaxBodyBytes = 2048 }), clk))
	tok := h.user("frank")
	big := `{"chatType":"singleChat","to":"frank","type":"txt","msg":"` + strings.Repeat("x", 3000) + `"}`
	for _, body := range []any{big, chunked(big)} {
		r := h.wantErr(413, "too_large", req{method: "POST", path: "/api/v1/messages", token: tok, body: body})
		if msg, _ := r.body["error"].(map[string]any)["message"].(string); !strings.Contains(msg, "2048") {
			t.Errorf("message %q does not name the limit 2048", msg)
		}
	}
	small := `{"localId":"l1","chatType":"singleChat","to":"frank","type":"txt","msg":"` + strings.Repeat("x", 1000) + `"}`
	h.must(200, req{method: "POST", path: "/api/v1/messages", token: tok, body: small})
}

func TestLimitsValidate(t *testing.T) {
	for _, tc := range []struct {
		name string
		f    func(*httpapi.Limits)
		want string
	}{
		{"small body", func(l *httpapi.Limits) { l.MaxBodyBytes = 10 }, "max-body-bytes"},
		{"negative", func(l *httpapi.Limits) { l.LoginPerAccount = -1 }, "login-limit-account"},
		{"no login window", func(l *httpapi.Limits) { l.LoginWindow = 0 }, "login-limit-window"},
		{"no register window", func(l *httpapi.Limits) { l.RegisterWindow = 0 }, "register-limit-window"},
		{"no keys", func(l *httpapi.Limits) { l.MaxKeys = 0 }, "limit-max-keys"},
	} {
		err := limits(tc.f).Validate()
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: Validate = %v, want an error naming %s", tc.name, err, tc.want)
		}
	}
	if err := httpapi.DefaultLimits().Validate(); err != nil {
		t.Errorf("DefaultLimits().Validate() = %v", err)
	}
}

func TestClientAddr(t *testing.T) {
	trusted, err := httpapi.ParseTrustedProxies([]string{"10.0.0.0/8", "192.168.1.1", "::1"})
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name, remote string
		xff          []string
		trusted      []netip.Prefix
		want         string
	}{
		{"no proxies: the peer", "203.0.113.7:5000", []string{"1.2.3.4"}, nil, "203.0.113.7"},
		{"untrusted peer: header ignored", "203.0.113.7:5000", []string{"1.2.3.4"}, trusted, "203.0.113.7"},
		{"trusted peer", "10.1.2.3:5000", []string{"1.2.3.4"}, trusted, "1.2.3.4"},
		{"spoofed left part ignored", "10.1.2.3:5000", []string{"6.6.6.6, 1.2.3.4"}, trusted, "1.2.3.4"},
		{"chain of proxies", "10.1.2.3:5000", []string{"1.2.3.4, 192.168.1.1", "10.9.9.9"}, trusted, "1.2.3.4"},
		{"ipv6 proxy", "[::1]:5000", []string{"2001:db8::5"}, trusted, "2001:db8::/64"},
		{"ipv6 peer: its /64", "[2001:db8:1:2::1]:5000", nil, nil, "2001:db8:1:2::/64"},
		{"ipv6 peer, same /64", "[2001:db8:1:2:aaaa:bbbb:cccc:dddd]:5000", nil, nil, "2001:db8:1:2::/64"},
		{"ipv6 peer, next /64", "[2001:db8:1:3::1]:5000", nil, nil, "2001:db8:1:3::/64"},
		{"ipv4-mapped peer", "[::ffff:1.2.3.4]:5000", nil, nil, "1.2.3.4"},
		{"ipv4-mapped hop", "10.1.2.3:5000", []string{"::ffff:1.2.3.4"}, trusted, "1.2.3.4"},
		{"untrusted ipv6 peer", "[2001:db8:1:2::1]:5000", []string{"1.2.3.4"}, trusted, "2001:db8:1:2::/64"},
		{"all trusted: the leftmost", "10.1.2.3:5000", []string{"10.0.0.1, 10.0.0.2"}, trusted, "10.0.0.1"},
		{"garbage stops the walk", "10.1.2.3:5000", []string{"1.2.3.4, junk, 10.0.0.2"}, trusted, "10.0.0.2"},
		{"trusted peer, no header", "10.1.2.3:5000", nil, trusted, "10.1.2.3"},
	} {
		r := httptest.NewRequest("GET", "/", nil)
		r.RemoteAddr = tc.remote
		for _, v := range tc.xff {
			r.Header.Add("X-Forwarded-For", v)
		}
		if got := httpapi.ClientAddr(r, tc.trusted); got != tc.want {
			t.Errorf("%s: ClientAddr = %q, want %q", tc.name, got, tc.want)
		}
	}
	if _, err := httpapi.ParseTrustedProxies([]string{"10.0.0.0/33"}); err == nil {
		t.Errorf("ParseTrustedProxies accepted 10.0.0.0/33")
	}
}

// TestRegistrationLimitBehindProxy: behind a trusted proxy each client
// of X-Forwarded-For has its own budget; from anyone else the header
// counts for nothing.
func TestRegistrationLimitBehindProxy(t *testing.T) {
	clk := chattest.NewClock(time.Unix(1_000_000, 0))
	reg := func(name, xff string) req {
		return req{method: "POST", path: "/api/v1/users", header: map[string]string{"X-Forwarded-For": xff},
			body: map[string]string{"username": name, "password": "password"}}
	}
	one := limits(func(l *httpapi.Limits) { l.RegisterPerAddr, l.RegisterWindow = 1, time.Hour })
	h := newHarness(t, withLimits(one, clk), func(_ *chat.Config, a *httpapi.Config, _ *chat.Deps) {
		a.TrustedProxies, _ = httpapi.ParseTrustedProxies([]string{"127.0.0.1", "::1"})
	})
	h.must(201, reg("p1", "198.51.100.1"))
	h.must(201, reg("p2", "198.51.100.2"))
	h.wantErr(429, "rate_limited", reg("p3", "198.51.100.1"))
	// IPv6 clients count by /64: another address of the same /64 does
	// not buy another registration.
	h.must(201, reg("p4", "2001:db8:1:2::1"))
	h.wantErr(429, "rate_limited", reg("p5", "2001:db8:1:2::2"))
	h.must(201, reg("p6", "2001:db8:1:3::1"))

	h = newHarness(t, withLimits(one, clk)) // no trusted proxies
	h.must(201, reg("q1", "198.51.100.1"))
	h.wantErr(429, "rate_limited", reg("q2", "198.51.100.2"))
}
