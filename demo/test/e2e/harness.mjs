// Test harness: a real seen server (built from this repo) and headless Chromium.
//
// seen serves the SDK at /sdk/webim.js and this demo (demo/dist, embedded) at /. Before that
// is wired, DEMO_E2E_PROXY=1 puts a small static server in front of seen that serves demo/dist
// and sdk/dist/webim.js itself and forwards /api, /ws and /healthz.
import { spawn, execFileSync } from 'node:child_process';
import { copyFileSync, createReadStream, existsSync, mkdirSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';
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

// The sessions the scenarios share: seen, the demo and Chromium, and one browser context a person.

export const dwellMs = 1000; // the demo's read-tracker dwell (src/components/ChatView.tsx)
export const timeout = 15000;
export const password = 'correct horse battery';

/**
 * useSession registers before/after hooks that start seen (behind a proxy with DEMO_E2E_PROXY=1)
 * and a headless Chromium, and stop them again. The object it returns is filled in by then:
 * seen, base (the demo's address), browser, and people (name -> { context, page, errors }).
 */
export function useSession() {
  const s = {
    seen: undefined,
    proxy: undefined,
    browser: undefined,
    base: undefined,
    people: {},
    /** person opens a browser context for name, creates the account and waits until they are in. */
    async person(name, viewport = { width: 1280, height: 800 }) {
      const context = await s.browser.newContext({ viewport, baseURL: s.base });
      const page = await context.newPage();
      page.setDefaultTimeout(timeout);
      const errors = [];
      page.on('pageerror', (e) => errors.push(e));
      await page.goto('/');
      await submitLogin(page, name, { button: 'Create account' });
      await waitLoggedIn(page, name);
      s.people[name] = { context, page, errors };
      return page;
    },
    /** token logs name in through the REST API and returns the access token. */
    async token(name) {
      return (await api(s.seen.url, 'POST', '/api/v1/token', { username: name, password })).access_token;
    },
  };
  before(async () => {
    s.seen = await startSeen();
    s.base = s.seen.url;
    if (!(await servesDemo(s.seen.url))) {
      if (process.env.DEMO_E2E_PROXY !== '1') {
        throw new Error(`seen at ${s.seen.url} does not serve /sdk/webim.js and the demo at /; wire them (see demo/README.md) or run with DEMO_E2E_PROXY=1`);
      }
      s.proxy = await startProxy(s.seen.url);
      s.base = s.proxy.url;
      console.log(`# DEMO_E2E_PROXY: demo/dist and sdk/dist served by a test proxy at ${s.base}`);
    }
    s.browser = await launchBrowser();
  });
  after(async () => {
    await s.browser?.close();
    await s.proxy?.stop();
    await s.seen?.stop();
  });
  return s;
}

/**
 * scenario runs fn as one test whose steps (t.test) are its subtests. The steps build on each
 * other: after a failure the rest are skipped instead of piling up timeouts.
 */
export function scenario(name, fn) {
  return test(name, async (top) => {
    let failed = false;
    const t = {
      test: (stepName, step) =>
        top.test(stepName, { skip: failed && 'an earlier step failed' }, async (s) => {
          try {
            await step(s);
          } catch (err) {
            failed = true;
            throw err;
          }
        }),
    };
    await fn(t);
  });
}

/** shot saves a screenshot to test-results (and, for the README's, with UPDATE_SCREENSHOTS=1 to screenshots/). */
export async function shot(page, name, readme = false) {
  mkdirSync(resultsDir, { recursive: true });
  const file = path.join(resultsDir, `${name}.png`);
  await page.screenshot({ path: file });
  if (readme && process.env.UPDATE_SCREENSHOTS === '1') {
    mkdirSync(path.join(demoDir, 'screenshots'), { recursive: true });
    copyFileSync(file, path.join(demoDir, 'screenshots', `${name}.png`));
  }
}

/** submitLogin fills in the login form and presses its button (it does not wait for the result). */
export async function submitLogin(page, name, { password: pw = password, button = 'Log in' } = {}) {
  await page.getByLabel('Username').fill(name);
  await page.getByLabel('Password').fill(pw);
  await page.getByRole('button', { name: button }).click();
}

function waitLoggedIn(page, name) {
  return page.getByTestId('me').filter({ hasText: name }).waitFor();
}

/** logIn logs name in on the page's login form and waits until they are in. */
export async function logIn(page, name) {
  await submitLogin(page, name);
  await waitLoggedIn(page, name);
}

/** logOut logs out and waits for the login form. */
export async function logOut(page) {
  await page.getByRole('button', { name: 'Log out' }).click();
  await page.getByRole('button', { name: 'Log in' }).waitFor();
}

/** reloadAs reloads the page and waits until name is in again (the session survives it). */
export async function reloadAs(page, name) {
  await page.reload();
  await waitLoggedIn(page, name);
}

export function conv(page, name) {
  return page.locator('nav a.conv', { has: page.locator('.conv-name', { hasText: new RegExp(`^${name}`) }) });
}

export function message(page, text) {
  return page.locator('li.msg', { hasText: text });
}

export async function openConv(page, name) {
  await conv(page, name).click();
  await page.locator('.chat-head h1', { hasText: name }).waitFor();
}

/** createGroup creates a group from the page's New group dialog, waits until it is open, and returns its id. */
export async function createGroup(page, name, members) {
  await page.getByRole('button', { name: 'New group' }).click();
  const d = page.getByRole('dialog', { name: 'New group' });
  await d.getByLabel('Group name').fill(name);
  await d.getByLabel('Members').fill(members.join(', '));
  await d.getByRole('button', { name: 'Create group' }).click();
  await page.locator('.chat-head h1', { hasText: name }).waitFor();
  return decodeURIComponent(/#\/group\/(.+)$/.exec(page.url())[1]);
}

/** sendText sends text in the open chat (asking for read receipts if told) and waits until it is sent. */
export async function sendText(page, text, { receipts = false } = {}) {
  const box = page.locator('.composer textarea');
  await box.fill(text);
  if (receipts) await page.getByLabel('Request read receipts').check();
  await box.press('Enter');
  await message(page, text).and(page.locator('[data-status="sent"]')).last().waitFor();
}

export async function receiptText(page, text) {
  return (await message(page, text).getByTestId('receipt').textContent()).replace(/^\W+/, '').replace(/\..*$/, '').trim();
}

export async function waitReceipt(page, text, want) {
  const r = message(page, text).getByTestId('receipt');
  await waitFor(`"${text}" to show "${want}"`, async () => (await receiptText(page, text)) === want, timeout);
  return r;
}
