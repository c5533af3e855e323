// check-dist fails when the committed demo/dist is not what the sources build to.
//
// seen embeds demo/dist in its binary (demo/embed.go), so `go run ./cmd/seen` needs no Node;
// this check keeps that copy honest. It builds into a temporary directory and compares file by
// file. Fix a failure with `npm run build` and commit demo/dist.
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'vite';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const dist = path.join(root, 'dist');

function files(dir, base = dir) {
  let out = [];
  for (const name of readdirSync(dir)) {
    const p = path.join(dir, name);
    if (statSync(p).isDirectory()) out = out.concat(files(p, base));
    else out.push(path.relative(base, p));
  }
  return out.sort();
}

const tmp = mkdtempSync(path.join(tmpdir(), 'seen-demo-dist-'));
try {
  await build({ root, logLevel: 'warn', build: { outDir: tmp, emptyOutDir: true } });
  const want = files(tmp);
  let have = [];
  try {
    have = files(dist);
  } catch {
    // no dist at all: everything is missing
  }
  const problems = [];
  for (const f of want) {
    if (!have.includes(f)) problems.push(`missing: dist/${f}`);
    else if (!readFileSync(path.join(tmp, f)).equals(readFileSync(path.join(dist, f)))) problems.push(`stale: dist/${f}`);
  }
  for (const f of have) if (!want.includes(f)) problems.push(`extra: dist/${f}`);
  if (problems.length) {
    console.error(`demo/dist does not match the sources:\n  ${problems.join('\n  ')}\nRun \`npm run build\` in demo/ and commit demo/dist.`);
    process.exitCode = 1;
  } else {
    console.log(`demo/dist is up to date (${want.length} files).`);
  }
} finally {
  rmSync(tmp, { recursive: true, force: true });
}
