package admit

import (
	"net/http"
	"net/http/httptest"
	"testing"
)

// admitN admits n connections from addr, failing the test on a refusal.
func admitN(t *testing.T, a *Admission, addr string, n int) []*Slot {
	t.Helper()
	var ss []*Slot
	for i := range n {
		s, status, reason := a.Admit(addr)
		if s == nil {
			t.Fatalf("Admit(%s) #%d = %d %q, want admitted", addr, i+1, status, reason)
		}
		ss = append(ss, s)
	}
	return ss
}

// refused checks that the next connection from addr is refused with
// status and reason.
func refused(t *testing.T, a *Admission, addr string, status int, reason string) {
	t.Helper()
	s, st, r := a.Admit(addr)
	if s != nil || st != status || r != reason {
		t.Fatalf("Admit(%s) = %v %d %q, want refused %d %q", addr, s, st, r, status, reason)
	}
}

func TestCaps(t *testing.T) {
	a := New(Config{MaxConnsPerAddr: 3, MaxUnauthConns: 4, MaxUnauthPerAddr: 2})
	x := admitN(t, a, "x", 2)
	refused(t, a, "x", http.StatusTooManyRequests, ReasonAddrUnauthFull)
	x[0].Authenticated()
	x[0].Authenticated() // counts once
	x = append(x, admitN(t, a, "x", 1)...)
	x[1].Authenticated()
	x[2].Authenticated()
	refused(t, a, "x", http.StatusTooManyRequests, ReasonAddrFull)
	y := admitN(t, a, "y", 2)
	admitN(t, a, "z", 2)
	refused(t, a, "w", http.StatusServiceUnavailable, ReasonUnauthFull)
	y[0].Release() // an unauthenticated place back
	refused(t, a, "x", http.StatusTooManyRequests, ReasonAddrFull)
	x[0].Release()
	x[0].Release() // counts once
	admitN(t, a, "x", 1)
	refused(t, a, "x", http.StatusServiceUnavailable, ReasonUnauthFull)
}

// TestReleaseUnauth: the release of a connection that never
// authenticated gives back its unauthenticated place, in total and for
// its address; once every connection is released nothing is counted.
func TestReleaseUnauth(t *testing.T) {
	a := New(Config{MaxConnsPerAddr: 3, MaxUnauthConns: 2, MaxUnauthPerAddr: 1})
	authed := admitN(t, a, "x", 1)[0]
	authed.Authenticated()
	s := admitN(t, a, "x", 1)[0]
	refused(t, a, "x", http.StatusTooManyRequests, ReasonAddrUnauthFull)
	y := admitN(t, a, "y", 1)[0]
	refused(t, a, "z", http.StatusServiceUnavailable, ReasonUnauthFull)
	s.Release()
	s.Release()       // counts once
	s.Authenticated() // after the release: nothing left to give back
	x := admitN(t, a, "x", 1)[0]
	refused(t, a, "z", http.StatusServiceUnavailable, ReasonUnauthFull)
	for _, s := range []*Slot{authed, x, y} {
		s.Release()
	}
	if len(a.addrs) != 0 || a.unauth != 0 {
		t.Errorf("all released: %d addresses, %d unauthenticated; want 0, 0", len(a.addrs), a.unauth)
	}
}

func TestRemoteAddr(t *testing.T) {
	for remote, want := range map[string]string{
		"192.0.2.7:1234":             "192.0.2.7",
		"[2001:db8:1:2:3:4:5:6]:443": "2001:db8:1:2::/64",
		"[::ffff:192.0.2.7]:80":      "192.0.2.7",
		"not-an-address":             "not-an-address",
	} {
		r := httptest.NewRequest("GET", "/", nil)
		r.RemoteAddr = remote
		if got := New(Config{}).ClientAddr(r); got != want {
			t.Errorf("ClientAddr(%s) = %q, want %q", remote, got, want)
		}
	}
}
