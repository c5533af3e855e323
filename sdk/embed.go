// Package sdk holds seen's Web SDK, a TypeScript client compatible with the
// Easemob / Agora Chat WebIM API. The TypeScript sources live in src/ and
// are built with npm (see README.md); this package only embeds the built
// UMD bundle so that the server can serve it at /sdk/webim.js.
package sdk

import _ "embed"

// Bundle is the built UMD bundle, dist/webim.js. It defines the global
// WebIM. A Vitest test fails when it is stale with respect to src/.
//
//go:embed dist/webim.js
var Bundle []byte
