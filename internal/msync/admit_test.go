package msync_test

import (
	"context"
	"io"
	"net/http"
	"path/filepath"
	"strings"
	"testing"

	"github.com/coder/websocket"

	"seen/internal/admit"
	"seen/internal/msync"
	"seen/internal/ws"
)

// capsEnv is one node (SQLite: admission touches no store) whose
// endpoints share an admission with caps's limits, keyed by the
// X-Test-Addr header of each request.
func capsEnv(t *testing.T, caps ws.Config) *env {
	t.Helper()
	caps.ClientAddr = func(r *http.Request) string { return r.Header.Get("X-Test-Addr") }
	return newEnvWith(t, msync.Config{AppKey: appKey}, caps, "sqlite:"+filepath.Join(t.TempDir(), "seen.db"))
}

// dialFrom opens a connection to url from addr, sending nothing. It
// returns the HTTP status (101 when upgraded), the refusal's body, and
// the connection (nil when refused), closed when the test ends.
func dialFrom(t *testing.T, url, addr string) (int, string, *websocket.Conn) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), wait)
	defer cancel()
	c, resp, err := websocket.Dial(ctx, url, &websocket.DialOptions{HTTPHeader: http.Header{"X-Test-Addr": {addr}}})
	if err == nil {
		t.Cleanup(func() { c.CloseNow() })
		return resp.StatusCode, "", c
	}
	if resp == nil {
		t.Fatalf("dial %s from %s: %v", url, addr, err)
	}
	body, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, strings.TrimSpace(string(body)), nil
}

// refusedFrom checks that a connection to url from addr is refused
// before the upgrade with status and reason.
func refusedFrom(t *testing.T, url, addr string, status int, reason string) {
	t.Helper()
	if got, body, _ := dialFrom(t, url, addr); got != status || body != reason {
		t.Errorf("dial %s from %s = HTTP %d %q, want %d %q", url, addr, got, body, status, reason)
	}
}

// admittedFrom opens an unauthenticated connection to url from addr and
// fails the test unless it is upgraded.
func admittedFrom(t *testing.T, url, addr string) *websocket.Conn {
	t.Helper()
	got, body, c := dialFrom(t, url, addr)
	if got != http.StatusSwitchingProtocols {
		t.Fatalf("dial %s from %s = HTTP %d %q, want 101", url, addr, got, body)
	}
	return c
}

// provisionedFrom connects and provisions as name from addr.
func (e *env) provisionedFrom(addr, name, token, res string) *mclient {
	e.t.Helper()
	c, p := provisionFrom(e.t, addr, e.ms, appKey, name, token, res)
	if p.GetStatus().GetErrorCode() != 0 {
		e.t.Fatalf("provision %s from %s: %v", name, addr, p.GetStatus())
	}
	return c
}

// TestAdmitPerAddr: connections from one address, provisioned or not,
// are capped (429); other addresses are not affected, and a closed
// connection gives its place back.
func TestAdmitPerAddr(t *testing.T) {
	e := capsEnv(t, ws.Config{MaxConnsPerAddr: 2})
	_, tok := e.user("alice")
	first := e.provisionedFrom("a", "alice", tok, "webim_1")
	e.provisionedFrom("a", "alice", tok, "webim_2")
	refusedFrom(t, e.ms, "a", http.StatusTooManyRequests, admit.ReasonAddrFull)
	admittedFrom(t, e.ms, "b")
	first.close()
	e.ended.waitFor(t, "connections ended", 1)
	admittedFrom(t, e.ms, "a")
}

// TestAdmitUnauthTotal: connections that have not provisioned are capped
// in total (503) whatever their address; a PROVISION gives the place
// back, and so does a close.
func TestAdmitUnauthTotal(t *testing.T) {
	e := capsEnv(t, ws.Config{MaxUnauthConns: 2})
	_, tok := e.user("alice")
	e.provisionedFrom("a", "alice", tok, "webim_1") // provisioned: not counted
	admittedFrom(t, e.ms, "b")
	idle := admittedFrom(t, e.ms, "c")
	refusedFrom(t, e.ms, "d", http.StatusServiceUnavailable, admit.ReasonUnauthFull)
	idle.Close(websocket.StatusNormalClosure, "")
	e.ended.waitFor(t, "connections ended", 1)
	admittedFrom(t, e.ms, "d")
	refusedFrom(t, e.ms, "e", http.StatusServiceUnavailable, admit.ReasonUnauthFull)
}

// TestAdmitReleaseOnProvision: a PROVISION gives back the connection's
// unauthenticated place at once: with room for one, a provisioned
// connection leaves room for the next.
func TestAdmitReleaseOnProvision(t *testing.T) {
	e := capsEnv(t, ws.Config{MaxUnauthConns: 1})
	_, tok := e.user("alice")
	e.provisionedFrom("a", "alice", tok, "webim_1")
	e.provisionedFrom("b", "alice", tok, "webim_2")
	admittedFrom(t, e.ms, "c")
	refusedFrom(t, e.ms, "d", http.StatusServiceUnavailable, admit.ReasonUnauthFull)
}

// TestAdmitUnauthPerAddr: one address's connections that have not
// provisioned are capped (429) below its cap of connections; provisioned
// ones do not count, and a close gives the place back.
func TestAdmitUnauthPerAddr(t *testing.T) {
	e := capsEnv(t, ws.Config{MaxConnsPerAddr: 4, MaxUnauthPerAddr: 1})
	_, tok := e.user("alice")
	idle := admittedFrom(t, e.ms, "a")
	refusedFrom(t, e.ms, "a", http.StatusTooManyRequests, admit.ReasonAddrUnauthFull)
	admittedFrom(t, e.ms, "b")
	idle.Close(websocket.StatusNormalClosure, "")
	e.ended.waitFor(t, "connections ended", 1)
	e.provisionedFrom("a", "alice", tok, "webim_1")
	e.provisionedFrom("a", "alice", tok, "webim_2")
	admittedFrom(t, e.ms, "a")
	refusedFrom(t, e.ms, "a", http.StatusTooManyRequests, admit.ReasonAddrUnauthFull)
}

// TestAdmitShared: seen's connections (/ws) and the SDK's (/websocket)
// from one address share its caps: either endpoint refuses a connection
// over the cap that the other's connections fill, and a closed msync
// connection makes room for a /ws one.
func TestAdmitShared(t *testing.T) {
	e := capsEnv(t, ws.Config{MaxConnsPerAddr: 3, MaxUnauthPerAddr: 1})
	_, tok := e.user("alice")
	admittedFrom(t, e.ws, "a") // not authenticated
	refusedFrom(t, e.ms, "a", http.StatusTooManyRequests, admit.ReasonAddrUnauthFull)
	m1 := e.provisionedFrom("b", "alice", tok, "webim_1")
	e.provisionedFrom("b", "alice", tok, "webim_2")
	admittedFrom(t, e.ws, "b")
	refusedFrom(t, e.ws, "b", http.StatusTooManyRequests, admit.ReasonAddrFull)
	refusedFrom(t, e.ms, "b", http.StatusTooManyRequests, admit.ReasonAddrFull)
	m1.close()
	e.ended.waitFor(t, "connections ended", 1)
	refusedFrom(t, e.ws, "b", http.StatusTooManyRequests, admit.ReasonAddrUnauthFull) // its one unauthenticated place is taken
}
