package server

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"io/fs"
	"net/http"
	"time"

	"seen/sdk"
)

// mountWeb serves the browser side of seen: the Web SDK bundle at
// /sdk/webim.js and the demo app at / (a placeholder page when app is
// nil). /api/, /ws, /healthz and /metrics are registered with more
// specific patterns and win over these.
func mountWeb(mux *http.ServeMux, app fs.FS) {
	mux.Handle("GET /sdk/webim.js", bundle("application/javascript; charset=utf-8", sdk.Bundle))
	if app == nil {
		mux.HandleFunc("GET /{$}", placeholder)
		return
	}
	// "/" without a method: "GET /" would conflict with the method-less
	// "/api/" pattern. Other methods are refused here.
	files := noCache(http.FileServerFS(app))
	mux.Handle("/", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			w.Header().Set("Allow", "GET, HEAD")
			http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
			return
		}
		files.ServeHTTP(w, r)
	}))
}

// bundle serves an embedded file with an ETag, so browsers revalidate
// cheaply and always run the SDK of the server they talk to.
func bundle(ctype string, b []byte) http.Handler {
	sum := sha256.Sum256(b)
	etag := `"` + hex.EncodeToString(sum[:8]) + `"`
	start := time.Now()
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", ctype)
		w.Header().Set("Cache-Control", "no-cache")
		w.Header().Set("ETag", etag)
		http.ServeContent(w, r, "", start, bytes.NewReader(b))
	})
}

// noCache makes browsers revalidate the demo's files: they are small and
// change with the server.
func noCache(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "no-cache")
		h.ServeHTTP(w, r)
	})
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
<li><a href="/healthz">/healthz</a> and <a href="/metrics">/metrics</a></li>
</ul>
</body>
</html>
`

func placeholder(w http.ResponseWriter, _ *http.Request) {
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	_, _ = w.Write([]byte(placeholderPage))
}
