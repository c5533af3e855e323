package wsconn

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"path"
	"strings"

	"github.com/gobwas/ws"
)

// Upgrade accepts a WebSocket handshake on w/r and hijacks the connection.
// Origin is checked like coder/websocket's AcceptOptions.OriginPatterns: no Origin header,
// or an Origin whose host equals r.Host (case-insensitive), or one matching a pattern with
// path.Match (on the host, or on scheme://host when the pattern has "://"): else 403.
// A bad handshake gets gobwas/ws's response and body: 400 for a bad header, 426 for a wrong
// version, 405 for a method other than GET, 505 for HTTP/1.0, 500 when the connection cannot
// be hijacked. No compression, no subprotocols. On failure the HTTP error is written and err
// returned.
//
// After Upgrade returns, nothing of net/http's per-connection state stays
// referenced: bytes the hijacked reader had buffered are copied into the Conn.
func Upgrade(w http.ResponseWriter, r *http.Request, originPatterns []string) (*Conn, error) {
	if err := checkOrigin(r, originPatterns); err != nil {
		http.Error(w, err.Error(), http.StatusForbidden)
		return nil, err
	}
	nc, rw, _, err := ws.HTTPUpgrader{}.Upgrade(r, w)
	if err != nil {
		if nc != nil {
			_ = nc.Close()
		}
		return nil, fmt.Errorf("wsconn: upgrade: %w", err)
	}
	var pending []byte
	if n := rw.Reader.Buffered(); n > 0 {
		b, _ := rw.Reader.Peek(n)
		pending = append([]byte(nil), b...)
	}
	return newConn(nc, false, pending), nil
}

// checkOrigin is coder/websocket's authenticateOrigin.
func checkOrigin(r *http.Request, patterns []string) error {
	origin := r.Header.Get("Origin")
	if origin == "" {
		return nil
	}
	u, err := url.Parse(origin)
	if err != nil {
		return fmt.Errorf("wsconn: bad Origin header %q", origin)
	}
	if strings.EqualFold(r.Host, u.Host) {
		return nil
	}
	for _, p := range patterns {
		target := u.Host
		if strings.Contains(p, "://") {
			target = u.Scheme + "://" + u.Host
		}
		ok, err := path.Match(strings.ToLower(p), strings.ToLower(target))
		if err != nil {
			return fmt.Errorf("wsconn: bad origin pattern %q: %w", p, err)
		}
		if ok {
			return nil
		}
	}
	return fmt.Errorf("wsconn: origin %q is not authorized for host %q", u.Host, r.Host)
}

// Dial opens a client connection (frames masked) to a ws:// URL, with header, within ctx
// (the dial and the handshake both bounded by ctx). localAddr, if not nil, is the source
// address (bench: 127.0.0.x to spread ephemeral ports).
func Dial(ctx context.Context, url string, header http.Header, localAddr net.Addr) (*Conn, error) {
	if !strings.HasPrefix(url, "ws://") {
		return nil, errors.New("wsconn: dial: only ws:// URLs")
	}
	nd := net.Dialer{LocalAddr: localAddr}
	d := ws.Dialer{NetDial: nd.DialContext}
	if len(header) > 0 {
		d.Header = ws.HandshakeHeaderHTTP(header)
	}
	nc, br, _, err := d.Dial(ctx, url)
	if err != nil {
		return nil, fmt.Errorf("wsconn: dial %s: %w", url, err)
	}
	var pending []byte
	if br != nil {
		if n := br.Buffered(); n > 0 {
			b, _ := br.Peek(n)
			pending = append([]byte(nil), b...)
		}
		ws.PutReader(br)
	}
	return newConn(nc, true, pending), nil
}
