// Package demo holds seen's demo web app: a chat client built only on the public Web SDK
// (/sdk/webim.js) that shows off group read receipts.
//
// The app's sources are in src/ (Preact and TypeScript, built with Vite); the built files are
// committed in dist/ and embedded here, so `go run ./cmd/seen` serves the app without Node.
// `npm test` in this directory fails when dist/ is stale against the sources.
package demo

import "embed"

// Assets holds the built app: dist/index.html and dist/assets/. Serve it with
// fs.Sub(Assets, "dist") at /; the page loads the SDK from /sdk/webim.js.
//
//go:embed all:dist
var Assets embed.FS
