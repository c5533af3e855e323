// Builds the bundles: dist/webim.js (UMD: the global WebIM, AMD, CommonJS) and dist/webim.mjs
// (ESM). The build is deterministic: same sources, same esbuild version, same bytes.
// Usage: node build.mjs [outdir]; npm run build then writes the declarations, dist/types.
import { build } from 'esbuild';
import { rmSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import path from 'node:path';

const here = path.dirname(fileURLToPath(import.meta.url));
const outdir = path.resolve(process.argv[2] ?? path.join(here, 'dist'));

// The declarations (tsc, after this script) are written afresh: none is left from a deleted source.
rmSync(path.join(outdir, 'types'), { recursive: true, force: true });

const common = {
  entryPoints: [path.join(here, 'src/index.ts')],
  absWorkingDir: here,
  bundle: true,
  target: 'es2020',
  legalComments: 'none',
  charset: 'utf8',
  logLevel: 'warning',
  minify: true,
};

const umdHead = `/*! seen Web SDK (WebIM) */
(function (root, factory) {
  if (typeof define === 'function' && define.amd) define([], factory);
  else if (typeof module === 'object' && module.exports) module.exports = factory();
  else root.WebIM = factory();
})(typeof globalThis !== 'undefined' ? globalThis : typeof self !== 'undefined' ? self : this, function () {`;

await build({
  ...common,
  format: 'iife',
  globalName: '__seenWebIM',
  outfile: path.join(outdir, 'webim.js'),
  banner: { js: umdHead },
  footer: { js: 'return __seenWebIM.default;\n});' },
});

await build({
  ...common,
  format: 'esm',
  outfile: path.join(outdir, 'webim.mjs'),
  banner: { js: '/*! seen Web SDK (WebIM) */' },
});
