package httpapi

import (
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"strconv"
	"strings"
	"time"

	"seen/internal/chat"
	"seen/internal/limit"
)

// Limits are the REST API's abuse limits. A count of 0 turns that limit
// off. docs/operations.md ("Limits") lists them with their flags.
type Limits struct {
	// MaxBodyBytes is the largest request body; a larger one gets
	// 413 too_large.
	MaxBodyBytes int64
	// LoginPerAccount is how many failed logins one account may take per
	// LoginWindow (regained steadily), from all addresses together;
	// LoginPerAddr the same for one client address, over all accounts.
	// Over either, POST /token answers 429 rate_limited with Retry-After,
	// without checking the password.
	LoginPerAccount int
	LoginPerAddr    int
	LoginWindow     time.Duration
	// RegisterPerAddr is how many registrations (POST /users, accepted
	// or not) one client address may make per RegisterWindow.
	RegisterPerAddr int
	RegisterWindow  time.Duration
	// MaxKeys bounds the accounts and addresses each limiter tracks
	// (memory); idle ones are dropped first.
	MaxKeys int
}

// DefaultLimits returns the defaults.
func DefaultLimits() Limits {
	return Limits{
		MaxBodyBytes:    MaxBodyBytes,
		LoginPerAccount: 10,
		LoginPerAddr:    100,
		LoginWindow:     15 * time.Minute,
		RegisterPerAddr: 30,
		RegisterWindow:  time.Hour,
		MaxKeys:         limit.DefaultMaxKeys,
	}
}

// Validate reports the first invalid limit, named as its flag.
func (l Limits) Validate() error {
	switch {
	case l.MaxBodyBytes < 1024:
		return fmt.Errorf("max-body-bytes %d is under 1024", l.MaxBodyBytes)
	case l.LoginPerAccount < 0 || l.LoginPerAddr < 0 || l.RegisterPerAddr < 0:
		return errors.New("login-limit-account, login-limit-addr and register-limit-addr must be 0 (off) or more")
	case (l.LoginPerAccount > 0 || l.LoginPerAddr > 0) && l.LoginWindow <= 0:
		return errors.New("login-limit-window must be positive")
	case l.RegisterPerAddr > 0 && l.RegisterWindow <= 0:
		return errors.New("register-limit-window must be positive")
	case l.MaxKeys < 1:
		return fmt.Errorf("limit-max-keys %d is under 1", l.MaxKeys)
	}
	return nil
}

// limiters are the API's keyed limiters.
type limiters struct {
	loginAccount, loginAddr, register *limit.Limiter
}

func newLimiters(l Limits, now func() time.Time) limiters {
	mk := func(n int, w time.Duration) *limit.Limiter {
		return limit.New(limit.Config{N: n, Window: w, MaxKeys: l.MaxKeys, Now: now})
	}
	return limiters{
		loginAccount: mk(l.LoginPerAccount, l.LoginWindow),
		loginAddr:    mk(l.LoginPerAddr, l.LoginWindow),
		register:     mk(l.RegisterPerAddr, l.RegisterWindow),
	}
}

// rateLimited is a rate_limited error that tells the client when to
// retry (the Retry-After header).
type rateLimited struct {
	err   *chat.Error
	after time.Duration
}

func (e *rateLimited) Error() string { return e.err.Error() }
func (e *rateLimited) Unwrap() error { return e.err }

func tooMany(after time.Duration, format string, args ...any) error {
	return &rateLimited{err: chat.Errorf(chat.CodeRateLimited, format, args...), after: after}
}

// retryAfter is the Retry-After value of err, in whole seconds (at
// least 1), or "" when err is not a rate_limited error with a delay.
func retryAfter(err error) string {
	var rl *rateLimited
	if !errors.As(err, &rl) || rl.after <= 0 {
		return ""
	}
	secs := int64((rl.after + time.Second - 1) / time.Second)
	return strconv.FormatInt(secs, 10)
}

// clientAddr is the address the per-address limits count.
func (a *API) clientAddr(r *http.Request) string { return ClientAddr(r, a.cfg.TrustedProxies) }

// ClientAddr is the address of the client that sent r: the host of the
// TCP peer, unless that peer is one of the trusted proxies; then the
// X-Forwarded-For header is read from the right (each proxy appends the
// address it got the request from), skipping trusted proxies, and the
// first address that is not one is the client. Without trusted proxies
// the header is ignored (anyone can send it), so behind a reverse proxy
// every client has the proxy's address. The result is the key of the
// per-address limits (limit.AddrKey): an IPv6 client counts by its /64.
func ClientAddr(r *http.Request, trusted []netip.Prefix) string {
	return limit.AddrKey(clientHost(r, trusted))
}

func clientHost(r *http.Request, trusted []netip.Prefix) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		host = r.RemoteAddr
	}
	if len(trusted) == 0 {
		return host
	}
	peer, err := netip.ParseAddr(host)
	if err != nil || !isTrusted(peer, trusted) {
		return host
	}
	hops := strings.Split(strings.Join(r.Header.Values("X-Forwarded-For"), ","), ",")
	for i := len(hops) - 1; i >= 0; i-- {
		hop, err := netip.ParseAddr(strings.TrimSpace(hops[i]))
		if err != nil {
			break // garbage: the hops left of it are not to be believed
		}
		hop = hop.Unmap()
		if !isTrusted(hop, trusted) {
			return hop.String()
		}
		host = hop.String()
	}
	return host
}

func isTrusted(a netip.Addr, trusted []netip.Prefix) bool {
	a = a.Unmap()
	for _, p := range trusted {
		if p.Contains(a) {
			return true
		}
	}
	return false
}

// ParseTrustedProxies parses a list of addresses and CIDR prefixes
// ("10.0.0.0/8", "127.0.0.1").
func ParseTrustedProxies(list []string) ([]netip.Prefix, error) {
	out := make([]netip.Prefix, 0, len(list))
	for _, s := range list {
		if p, err := netip.ParsePrefix(s); err == nil {
			out = append(out, p.Masked())
			continue
		}
		a, err := netip.ParseAddr(s)
		if err != nil {
			return nil, fmt.Errorf("trusted-proxies: %q is not an IP address or CIDR prefix", s)
		}
		a = a.Unmap()
		out = append(out, netip.PrefixFrom(a, a.BitLen()))
	}
	return out, nil
}

// accountKey is the per-account key of a login name: its normalized
// form, or "" for a name no account can have (only the address limit
// applies then, so junk names cannot fill the map).
func accountKey(username string) string {
	name, err := chat.NormalizeName(username)
	if err != nil {
		return ""
	}
	return name
}

// startLogin takes one attempt from the address's and the account's
// budgets, or refuses the login when either is used up. Taking before
// the password is checked (rather than counting failures after) bounds
// the guesses in flight too: a thousand parallel guesses get no more
// than the budget. loginDone gives the attempt back unless it failed.
func (a *API) startLogin(account, addr string) error {
	if ok, after := a.limits.loginAddr.Allow(addr); !ok {
		return tooMany(after, "too many failed logins from this address; retry in %s", roundUp(after))
	}
	if account == "" {
		return nil
	}
	if ok, after := a.limits.loginAccount.Allow(account); !ok {
		a.limits.loginAddr.Refund(addr)
		return tooMany(after, "too many failed logins for this account; retry in %s", roundUp(after))
	}
	return nil
}

// loginDone settles an attempt that startLogin let through: a wrong
// password or unknown user keeps it spent; anything else (success, a
// server error) gives it back.
func (a *API) loginDone(account, addr string, err error) {
	if chat.ErrorCode(err) == chat.CodeUnauthorized {
		return
	}
	a.limits.loginAddr.Refund(addr)
	if account != "" {
		a.limits.loginAccount.Refund(account)
	}
}

// checkRegister counts a registration attempt of addr.
func (a *API) checkRegister(addr string) error {
	if ok, after := a.limits.register.Allow(addr); !ok {
		return tooMany(after, "too many registrations from this address; retry in %s", roundUp(after))
	}
	return nil
}

func roundUp(d time.Duration) time.Duration {
	return ((d + time.Second - 1) / time.Second) * time.Second
}

// The limits as a service to the other REST surface on the same port
// (internal/emrest, the vendor SDK's REST API): it calls these, so both
// APIs share one set of budgets and one notion of the client address.

// StartLogin takes one attempt of r's client address and of username's
// account from the login budgets (Limits.LoginPerAccount, LoginPerAddr),
// or refuses it with rate_limited. done settles the attempt with the
// login's outcome: only a wrong password keeps it spent.
func (a *API) StartLogin(r *http.Request, username string) (done func(error), err error) {
	account, addr := accountKey(username), a.clientAddr(r)
	if err := a.startLogin(account, addr); err != nil {
		return nil, err
	}
	return func(err error) { a.loginDone(account, addr, err) }, nil
}

// CheckRegister counts a registration attempt of r's client address
// (Limits.RegisterPerAddr), or refuses it with rate_limited.
func (a *API) CheckRegister(r *http.Request) error { return a.checkRegister(a.clientAddr(r)) }

// RetryAfter is the Retry-After header value of a rate_limited error from
// StartLogin or CheckRegister, in whole seconds, or "".
func (a *API) RetryAfter(err error) string { return retryAfter(err) }

// MaxBodyBytes is the largest request body (Limits.MaxBodyBytes).
func (a *API) MaxBodyBytes() int64 { return a.cfg.Limits.MaxBodyBytes }
