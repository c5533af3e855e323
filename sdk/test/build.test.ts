// The committed bundles and declarations must be what the sources build to: the Go server embeds
// dist/webim.js, and the demo type-checks against dist/types.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { gzipSync } from 'node:zlib';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const root = fileURLToPath(new URL('..', import.meta.url));

describe('dist', () => {
  it('is not stale: a fresh build gives the committed bytes (run `npm run build` to fix)', () => {
    const out = mkdtempSync(path.join(tmpdir(), 'seen-sdk-'));
    try {
      execFileSync(process.execPath, [path.join(root, 'build.mjs'), out], { cwd: root, stdio: 'pipe' });
      for (const f of ['webim.js', 'webim.mjs']) {
        const fresh = readFileSync(path.join(out, f), 'utf8');
        const committed = readFileSync(path.join(root, 'dist', f), 'utf8');
        expect(committed === fresh, `dist/${f} is stale: run npm run build`).toBe(true);
      }
    } finally {
      rmSync(out, { recursive: true, force: true });
    }
  });

  it('has fresh declarations: dist/types is what tsc writes (apps and the demo type against it)', () => {
    const out = mkdtempSync(path.join(tmpdir(), 'seen-sdk-types-'));
    try {
      execFileSync(path.join(root, 'node_modules/.bin/tsc'), ['-p', 'tsconfig.build.json', '--outDir', out], { cwd: root, stdio: 'pipe' });
      const fresh = readdirSync(out).sort();
      expect(readdirSync(path.join(root, 'dist/types')).sort(), 'dist/types has other files: run npm run build').toEqual(fresh);
      for (const f of fresh) {
        const same = readFileSync(path.join(out, f), 'utf8') === readFileSync(path.join(root, 'dist/types', f), 'utf8');
        expect(same, `dist/types/${f} is stale: run npm run build`).toBe(true);
      }
    } finally {
      rmSync(out, { recursive: true, force: true });
    }
  });

  it('types the public API: no any in the declarations but the payload of vendor handlers seen never calls', () => {
    const found: string[] = [];
    for (const f of readdirSync(path.join(root, 'dist/types'))) {
      const code = readFileSync(path.join(root, 'dist/types', f), 'utf8').replace(/\/\*[\s\S]*?\*\//g, '').replace(/\/\/.*$/gm, '');
      for (const line of code.split('\n')) {
        if (/\bany\b/.test(line) && !/^export type VendorHandler = \(e: any\) => void;$/.test(line.trim())) found.push(`${f}: ${line.trim()}`);
      }
    }
    expect(found).toEqual([]);
  });

  it('stays small: the UMD bundle is under 48 KB minified and 16 KB gzipped (the sizes are printed)', () => {
    const src = readFileSync(path.join(root, 'dist/webim.js'));
    const gz = gzipSync(src, { level: 9 }).length;
    console.log(`dist/webim.js: ${src.length} bytes, ${gz} gzipped`);
    expect(src.length).toBeLessThan(48 * 1024);
    expect(gz).toBeLessThan(16 * 1024);
  });

  it('defines WebIM as a UMD bundle', () => {
    const src = readFileSync(path.join(root, 'dist/webim.js'), 'utf8');
    const root_: any = {};
    new Function('define', 'module', 'self', 'globalThis', src).call(root_, undefined, undefined, undefined, root_);
    expect(typeof root_.WebIM.connection).toBe('function');
    expect(typeof root_.WebIM.message).toBe('function');
    expect(typeof root_.WebIM.message.create).toBe('function');
    expect(root_.WebIM.statusCode.PERMISSION_DENIED).toBe(603);
  });
});
