// Test harness: a real seen server (built from this repo) and headless Chromium.
//
// seen serves the SDK at /sdk/webim.js and this demo (demo/dist, embedded) at /. Before that
// is wired, DEMO_E2E_PROXY=1 puts a small static server in front of seen that serves demo/dist
// and sdk/dist/webim.js itself and forwards /api, /ws and /healthz.
import { spawn, execFileSync } from 'node:child_process';
import { createReadStream, existsSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';

export const demoDir = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
export const repoRoot = path.resolve(demoDir, '..');
export const resultsDir = path.join(demoDir, 'test-results');

/** freePort asks the kernel for an unused TCP port. */
export function freePort() {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.unref();
    s.on('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
}

async function waitFor(what, f, timeoutMs = 60000) {
  const deadline = Date.now() + timeoutMs;
  let last;
  for (;;) {
    try {
      if (await f()) return;
    } catch (err) {
      last = err;
    }
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}${last ? `: ${last.message}` : ''}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/**
 * startSeen builds seen from the repo once (or takes SEEN_BIN) and runs it on a free port with a fresh data
 * directory. restart() stops and starts it again on the same port and data (a server restart,
 * as clients see it).
 */
export async function startSeen() {
  const work = mkdtempSync(path.join(tmpdir(), 'seen-demo-e2e-'));
  let bin = process.env.SEEN_BIN;
  if (!bin) {
    bin = path.join(work, 'seen');
    execFileSync('go', ['build', '-o', bin, './cmd/seen'], { cwd: repoRoot, stdio: 'inherit' });
  }
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const data = path.join(work, 'data');
  let proc;
  const logs = [];

  async function up() {
    proc = spawn(bin, ['serve', '--addr', `127.0.0.1:${port}`, '--data', data, '--password-cost', '4'], { cwd: repoRoot, stdio: ['ignore', 'pipe', 'pipe'] });
    const keep = (b) => {
      logs.push(b.toString());
      if (logs.length > 400) logs.splice(0, 200);
    };
    proc.stdout.on('data', keep);
    proc.stderr.on('data', keep);
    const p = proc;
    let exited = false;
    p.once('exit', () => (exited = true));
    await waitFor('seen /healthz', async () => {
      if (exited) return true; // reported below, at once
      const r = await fetch(`${url}/healthz`);
      return r.status === 200;
    });
    if (exited) throw new Error(`seen exited (${p.exitCode}) before it was ready:\n${logs.join('')}`);
  }

  async function down() {
    const p = proc;
    if (!p || p.exitCode !== null) return;
    const exited = new Promise((r) => p.once('exit', r));
    p.kill('SIGTERM');
    const t = setTimeout(() => p.kill('SIGKILL'), 10000);
    await exited;
    clearTimeout(t);
  }

  try {
    await up();
  } catch (err) {
    await down();
    rmSync(work, { recursive: true, force: true });
    throw err;
  }
  return {
    url,
    port,
    logs,
    stop: async () => {
      await down();
      rmSync(work, { recursive: true, force: true });
    },
    restart: async () => {
      await down();
      await up();
    },
    down,
    up,
  };
}

/** servesDemo reports whether seen itself serves the SDK and this demo. */
export async function servesDemo(url) {
  try {
    const sdk = await fetch(`${url}/sdk/webim.js`);
    const page = await fetch(`${url}/`);
    return sdk.status === 200 && page.status === 200 && (await page.text()).includes('seen-demo');
  } catch {
    return false;
  }
}

const types = { '.html': 'text/html; charset=utf-8', '.js': 'text/javascript; charset=utf-8', '.css': 'text/css; charset=utf-8', '.png': 'image/png', '.svg': 'image/svg+xml' };

/**
 * startProxy serves demo/dist and sdk/dist/webim.js and forwards everything else (REST, the
 * WebSocket, /healthz) to seen. Only for the time before seen serves them itself.
 */
export async function startProxy(target) {
  const t = new URL(target);
  const file = (p) => {
    if (p === '/sdk/webim.js') return path.join(repoRoot, 'sdk/dist/webim.js');
    if (p === '/' || p === '/index.html') return path.join(demoDir, 'dist/index.html');
    if (p.startsWith('/assets/')) {
      const f = path.join(demoDir, 'dist', path.normalize(p).replace(/^(\.\.[/\\])+/, ''));
      return f.startsWith(path.join(demoDir, 'dist')) ? f : undefined;
    }
    return undefined;
  };
  const server = http.createServer((req, res) => {
    const p = new URL(req.url, 'http://x').pathname;
    const f = file(p);
    if (f) {
      if (!existsSync(f) || !statSync(f).isFile()) {
        res.writeHead(404).end('not found');
        return;
      }
      res.writeHead(200, { 'Content-Type': types[path.extname(f)] ?? 'application/octet-stream', 'Cache-Control': 'no-store' });
      createReadStream(f).pipe(res);
      return;
    }
    const up = http.request({ host: t.hostname, port: t.port, method: req.method, path: req.url, headers: { ...req.headers, host: t.host } }, (r) => {
      res.writeHead(r.statusCode ?? 502, r.headers);
      r.pipe(res);
    });
    up.on('error', () => res.writeHead(502).end('seen is not answering'));
    req.pipe(up);
  });
  // WebSocket upgrades: pipe raw bytes both ways, with seen's own origin (it checks Origin).
  server.on('upgrade', (req, socket, head) => {
    const up = net.connect(Number(t.port), t.hostname, () => {
      const headers = { ...req.headers, host: t.host, origin: t.origin };
      let raw = `${req.method} ${req.url} HTTP/1.1\r\n`;
      for (const [k, v] of Object.entries(headers)) for (const x of [].concat(v)) raw += `${k}: ${x}\r\n`;
      up.write(raw + '\r\n');
      if (head?.length) up.write(head);
      up.pipe(socket);
      socket.pipe(up);
    });
    const end = () => {
      up.destroy();
      socket.destroy();
    };
    up.on('error', end);
    socket.on('error', end);
    up.on('close', end);
    socket.on('close', end);
  });
  const port = await freePort();
  await new Promise((r) => server.listen(port, '127.0.0.1', r));
  return {
    url: `http://127.0.0.1:${port}`,
    stop: () =>
      new Promise((r) => {
        server.closeAllConnections?.();
        server.close(() => r());
      }),
  };
}

/** launchBrowser starts the system Chromium headless; never downloads one. */
export async function launchBrowser() {
  const executablePath = process.env.CHROMIUM_PATH || '/usr/bin/chromium';
  if (!existsSync(executablePath)) throw new Error(`no Chromium at ${executablePath}: apt-get install -y chromium (or set CHROMIUM_PATH)`);
  return chromium.launch({
    executablePath,
    headless: true,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
}

/** api calls seen's REST API (the tests' oracle; the demo itself only uses the SDK). */
export async function api(base, method, p, body, token) {
  const headers = { Accept: 'application/json' };
  if (body !== undefined) headers['Content-Type'] = 'application/json';
  if (token) headers.Authorization = `Bearer ${token}`;
  const r = await fetch(base + p, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
  const text = await r.text();
  const json = text ? JSON.parse(text) : undefined;
  if (!r.ok) throw new Error(`${method} ${p}: HTTP ${r.status} ${text}`);
  return json;
}

export { waitFor };
