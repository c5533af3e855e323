package server

import (
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io/fs"
	"mime"
	"net/http"
	"path"
	"strconv"
	"strings"
	"time"

	"seen/sdk"
)

// mountWeb serves the browser side of seen: the Web SDK bundle at
// /sdk/webim.js and the demo app at / (a placeholder page when app is
// nil). /api/, /ws, /healthz and /metrics are registered with more
// specific patterns and win over these. Every file is read once, at
// start, and kept with its gzip form: the files are embedded and small.
func mountWeb(mux *http.ServeMux, app fs.FS) error {
	mux.Handle("GET /sdk/webim.js", newAsset("application/javascript; charset=utf-8", sdk.Bundle))
	if app == nil {
		mux.HandleFunc("GET /{$}", placeholder)
		return nil
	}
	files := map[string]*asset{}
	err := fs.WalkDir(app, ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := fs.ReadFile(app, p)
		if err != nil {
			return err
		}
		files["/"+p] = newAsset(mime.TypeByExtension(path.Ext(p)), b)
		return nil
	})
	if err != nil {
		return fmt.Errorf("demo assets: %w", err)
	}
	if index, ok := files["/index.html"]; ok {
		files["/"] = index
		delete(files, "/index.html")
	}
	// "/" without a method: "GET /" would conflict with the method-less
	// "/api/" pattern. Other methods are refused here.
	mux.Handle("/", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			w.Header().Set("Allow", "GET, HEAD")
			http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
			return
		}
		if r.URL.Path == "/index.html" {
			http.Redirect(w, r, "./", http.StatusMovedPermanently)
			return
		}
		a, ok := files[path.Clean(r.URL.Path)]
		if !ok {
			http.NotFound(w, r)
			return
		}
		a.ServeHTTP(w, r)
	}))
	return nil
}

// asset is one embedded file, with its gzip form when that is smaller.
// It is served with an ETag and Cache-Control: no-cache, so browsers
// revalidate cheaply and always run the files of the server they talk
// to, and gzip-encoded to clients that accept it (Vary: Accept-Encoding).
type asset struct {
	ctype    string
	raw, gz  []byte
	etag     string // of raw; the gzip form's is etag with "-gz"
	modified time.Time
}

// newAsset keeps b, served as ctype (sniffed when "").
func newAsset(ctype string, b []byte) *asset {
	if ctype == "" {
		ctype = http.DetectContentType(b)
	}
	sum := sha256.Sum256(b)
	a := &asset{ctype: ctype, raw: b, etag: hex.EncodeToString(sum[:8]), modified: time.Now()}
	var buf bytes.Buffer
	zw, _ := gzip.NewWriterLevel(&buf, gzip.BestCompression)
	_, _ = zw.Write(b)
	_ = zw.Close()
	if buf.Len() < len(b) {
		a.gz = buf.Bytes()
	}
	return a
}

func (a *asset) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	h := w.Header()
	h.Set("Content-Type", a.ctype)
	h.Set("Cache-Control", "no-cache")
	body, etag := a.raw, a.etag
	if a.gz != nil {
		h.Add("Vary", "Accept-Encoding")
		if acceptsGzip(r.Header.Get("Accept-Encoding")) {
			body, etag = a.gz, a.etag+"-gz"
			h.Set("Content-Encoding", "gzip")
		}
	}
	h.Set("ETag", `"`+etag+`"`)
	http.ServeContent(w, r, "", a.modified, bytes.NewReader(body))
}

// acceptsGzip reports whether an Accept-Encoding header accepts gzip
// (listed without q=0, or "*" without q=0).
func acceptsGzip(header string) bool {
	for _, part := range strings.Split(header, ",") {
		coding, params, _ := strings.Cut(strings.TrimSpace(part), ";")
		coding = strings.ToLower(strings.TrimSpace(coding))
		if coding != "gzip" && coding != "x-gzip" && coding != "*" {
			continue
		}
		for _, p := range strings.Split(params, ";") {
			k, v, _ := strings.Cut(strings.TrimSpace(p), "=")
			if q, err := strconv.ParseFloat(strings.TrimSpace(v), 64); strings.EqualFold(strings.TrimSpace(k), "q") && (err != nil || q <= 0) {
				return false
			}
		}
		return true
	}
	return false
}

// securityHeaders sets, on every response, the headers that keep a
// browser from misusing what seen serves: no MIME sniffing, no referrer
// sent to other sites, no framing by another site, and a
// Content-Security-Policy that lets the demo load only its own scripts
// and styles (it has no inline ones) and connect only to this server's
// REST API and WebSocket.
func securityHeaders(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("Referrer-Policy", "no-referrer")
		h.Set("X-Frame-Options", "DENY")
		h.Set("Content-Security-Policy", contentSecurityPolicy(r.Host))
		next.ServeHTTP(w, r)
	})
}

// contentSecurityPolicy is the policy of pages served as host. 'self'
// covers ws:// and wss:// of the same host in current browsers; they are
// listed as well for older ones.
func contentSecurityPolicy(host string) string {
	connect := "'self'"
	if host != "" && !strings.ContainsAny(host, " ;,'\"") {
		connect += " ws://" + host + " wss://" + host
	}
	return "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src " + connect +
		"; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
}

const placeholderPage = `<!doctype html>
<html lang="en">
<head><meta charset="utf-8"><title>seen</title></head>
<body>
<h1>seen is running</h1>
<p>A self-hosted chat server with group read receipts.</p>
<ul>
<li>WebSocket: <code>/ws</code> (docs/protocol.md)</li>
<li>REST API: <code>/api/v1/</code> (docs/rest.md)</li>
<li>Web SDK: <a href="/sdk/webim.js">/sdk/webim.js</a></li>
<li><a href="/healthz">/healthz</a>; metrics: see docs/operations.md</li>
</ul>
</body>
</html>
`

func placeholder(w http.ResponseWriter, _ *http.Request) {
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	_, _ = w.Write([]byte(placeholderPage))
}
