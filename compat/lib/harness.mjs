// Test harness: a real seen (built from this repo), a test page on another origin that loads an
// unmodified vendor bundle from node_modules, and headless Chromium driving it.
//
// seen runs on 127.0.0.1; the page is served from http://localhost:<other port>, so every REST
// call is a cross-origin request with a CORS preflight and the WebSocket carries a foreign Origin,
// as for an app on its own site. seen's default --allowed-origins (localhost:*) admits the page.
import { execFileSync, spawn } from 'node:child_process';
import { createReadStream, existsSync, mkdtempSync, rmSync } from 'node:fs';
import http from 'node:http';
import { tmpdir } from 'node:os';
import path from 'node:path';
import readline from 'node:readline';
import { chromium } from 'playwright-core';
import { compatDir, repoRoot, seenSdk, vendors } from './vendors.mjs';

const servingLine = /seen is serving at (\S+)/;

let built;

/** seenBinary builds seen once per test process into a temp dir (or takes SEEN_BIN). */
function seenBinary() {
  if (process.env.SEEN_BIN) return process.env.SEEN_BIN;
  if (!built) {
    const dir = mkdtempSync(path.join(tmpdir(), 'seen-compat-bin-'));
    built = { dir, bin: path.join(dir, 'seen') };
    execFileSync('go', ['build', '-o', built.bin, './cmd/seen'], { cwd: repoRoot, stdio: 'inherit' });
    process.once('exit', () => rmSync(dir, { recursive: true, force: true }));
  }
  return built.bin;
}

/**
 * startSeen runs seen on a free port (--addr 127.0.0.1:0) with a fresh --data directory and
 * extra flags args, and resolves once it logs its "seen is serving at" line. It has no other
 * flags: the vendor protocol must work with none.
 */
export async function startSeen(args = []) {
  const work = mkdtempSync(path.join(tmpdir(), 'seen-compat-'));
  const logs = [];
  const proc = spawn(seenBinary(), ['serve', '--addr', '127.0.0.1:0', '--data', path.join(work, 'data'), '--password-cost', '4', ...args], {
    cwd: work,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const keep = (line) => {
    logs.push(line);
    if (logs.length > 2000) logs.splice(0, 1000);
  };
  readline.createInterface({ input: proc.stderr }).on('line', keep);
  const url = await new Promise((resolve, reject) => {
    readline.createInterface({ input: proc.stdout }).on('line', (line) => {
      keep(line);
      const m = servingLine.exec(line);
      if (m) resolve(m[1]);
    });
    proc.once('exit', (code) => reject(new Error(`seen exited (${code}) before it was serving:\n${logs.join('\n')}`)));
  });
  const stop = async () => {
    if (proc.exitCode === null && proc.signalCode === null) {
      const exited = new Promise((r) => proc.once('exit', r));
      proc.kill('SIGTERM');
      const t = setTimeout(() => proc.kill('SIGKILL'), 10000);
      await exited;
      clearTimeout(t);
    }
    rmSync(work, { recursive: true, force: true });
  };
  return { url: url.replace(/\/$/, ''), logs, stop };
}

const pageTypes = { '.html': 'text/html; charset=utf-8', '.js': 'text/javascript; charset=utf-8' };

/** page is the HTML of a test page: the SDK's script, then page/client.js. */
function page(name, script) {
  return `<!doctype html><meta charset="utf-8"><title>${name} against seen</title>\n<script src="${script}"></script>\n<script src="/client.js"></script>\n`;
}

/**
 * startPageServer serves the test pages on http://localhost:<port>: /<vendor>.html loads that
 * vendor's bundle straight from compat/node_modules (at /vendor/<vendor>.js) and then
 * page/client.js. Nothing of the vendor's code is copied: it is read from the installed package.
 * /seen-sdk.html loads seen's own SDK from seenUrl.
 */
export async function startPageServer(seenUrl) {
  const files = new Map([['/client.js', path.join(compatDir, 'page', 'client.js')]]);
  const pages = new Map([[`/${seenSdk.name}.html`, page(seenSdk.name, seenSdk.script(seenUrl))]]);
  for (const v of vendors) {
    files.set(v.script, v.bundlePath);
    pages.set(`/${v.name}.html`, page(v.name, v.script));
  }
  const server = http.createServer((req, res) => {
    const p = new URL(req.url, 'http://x').pathname;
    if (pages.has(p)) {
      res.writeHead(200, { 'Content-Type': pageTypes['.html'], 'Cache-Control': 'no-store' }).end(pages.get(p));
      return;
    }
    const f = files.get(p);
    if (!f || !existsSync(f)) {
      res.writeHead(404).end('not found');
      return;
    }
    res.writeHead(200, { 'Content-Type': pageTypes[path.extname(f)], 'Cache-Control': 'no-store' });
    createReadStream(f).pipe(res);
  });
  await new Promise((r) => server.listen(0, '127.0.0.1', r));
  return {
    url: `http://localhost:${server.address().port}`,
    stop: () =>
      new Promise((r) => {
        server.closeAllConnections?.();
        server.close(() => r());
      }),
  };
}

/**
 * launchBrowser starts the system Chromium headless; it never downloads one. localhost maps to
 * 127.0.0.1, where the page server listens.
 */
export async function launchBrowser() {
  const executablePath = process.env.CHROMIUM_PATH || '/usr/bin/chromium';
  if (!existsSync(executablePath)) throw new Error(`no Chromium at ${executablePath}: apt-get install -y chromium (or set CHROMIUM_PATH)`);
  return chromium.launch({
    executablePath,
    headless: true,
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      '--host-resolver-rules=MAP localhost 127.0.0.1',
    ],
  });
}
