package server

import (
	"net/http"
)

// mountWeb serves the browser side of seen.
//
// MOUNT POINT: the embedded Web SDK bundle (GET /sdk/webim.js, from sdk/)
// and the demo app (GET /, from demo/) are served from here once they
// are built; until then / answers a placeholder page. Keep /api/, /ws,
// /healthz and /metrics out of this handler's way: they are registered
// with more specific patterns.
func mountWeb(mux *http.ServeMux) {
	mux.HandleFunc("GET /{$}", placeholder)
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
<li><a href="/healthz">/healthz</a> and <a href="/metrics">/metrics</a></li>
</ul>
<p>The demo app will be served here.</p>
</body>
</html>
`

func placeholder(w http.ResponseWriter, _ *http.Request) {
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	_, _ = w.Write([]byte(placeholderPage))
}
