// The seed, verbatim, in a real browser: headless Chromium loads the built UMD bundle from a real
// seen server's /sdk/webim.js, and the code blocks of the seed page (shared/seed/group-read-receipt.md,
// beside the repository) are read at test time and run in the page, where the page, like an app,
// provides what the snippets leave to it.
//
// What the page provides (globals, so the snippet text needs no edit for them):
//   conn, WebIM.conn  the same `new WebIM.connection({ url: origin, apiUrl: origin })`, opened as the user
//   groupId           the group's id (created by the owner through the SDK in the page)
//   message           in a member's page, the message its onTextMessage received
//   msgId             in the owner's page, the server id of the message (message.id at the members)
//
// The only edits to the seed's text (each must match exactly once, or the test fails):
//   1. sendGroupReadMsg: `to: 'username'` -> `to: groupId` (a placeholder: the message goes to the group)
//   2. sendReadMsg:      `to: 'groupId'`  -> `to: groupId` (a placeholder for the group's id)
//   3. sendReadMsg:      the full-width colon after `id` (a syntax error in any JavaScript engine) ->
//      `:`. The seed file stores that colon mojibake-encoded: U+FF1A's UTF-8 bytes read as
//      Windows-1252 and encoded again, `ï¼š`; either spelling is replaced.
// The listener block is two properties of the object given to conn.listen, without the object: the
// page evaluates `({ <first property>, <second property> })` (the block split where the second
// property starts, each part unchanged) and passes each handler the SDK's payload, recording it.
//
// Skipped, with the reason printed, when there is no Chromium at /usr/bin/chromium (or
// CHROMIUM_PATH: apt-get install -y chromium; it never downloads a browser), or when the seed page
// is not beside the repository (a plain clone has no ../shared/): then `make test` passes there.
// SEEN_REQUIRE_SEED=1 turns a missing seed into a failure instead, for CI, where shared/ is beside
// the clone and a skip would hide that the seed no longer runs.
import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildServer, SeenServer, waitFor } from '../integration/server';

const chromiumPath = process.env.CHROMIUM_PATH || '/usr/bin/chromium';
const haveChromium = existsSync(chromiumPath);
if (!haveChromium) console.warn(`seed browser test skipped: no Chromium at ${chromiumPath} (apt-get install -y chromium)`);

const seedPath = fileURLToPath(new URL('../../../../shared/seed/group-read-receipt.md', import.meta.url));
const haveSeed = existsSync(seedPath);
if (!haveSeed) {
  const why = `the seed page is not beside the repository: no ${seedPath} (shared/seed/ sits beside the clone in CI)`;
  if (process.env.SEEN_REQUIRE_SEED === '1') throw new Error(`SEEN_REQUIRE_SEED=1 but ${why}`);
  console.warn(`seed browser test skipped: ${why}`);
}

/** The seed's fenced code blocks, in order. */
function seedBlocks(): string[] {
  const md = readFileSync(seedPath, 'utf8');
  return [...md.matchAll(/^[ \t]*```[^\n]*\n([\s\S]*?)^[ \t]*```[ \t]*$/gm)].map((m) => m[1]);
}

/** replaceOnce replaces `from` in src, which must occur exactly once. */
function replaceOnce(src: string, from: RegExp, to: string, what: string): string {
  const n = src.match(new RegExp(from.source, 'g'))?.length ?? 0;
  if (n !== 1) throw new Error(`substitution "${what}": expected exactly one match of ${from}, found ${n}`);
  return src.replace(from, to);
}

/** The seed snippets as the pages run them. */
function seedSnippets() {
  const blocks = seedBlocks();
  expect(blocks).toHaveLength(4);
  const [groupRead, read, listeners, readUser] = blocks;
  expect(groupRead).toContain('sendGroupReadMsg = () =>');
  expect(read).toContain('sendReadMsg = () =>');
  expect(listeners).toMatch(/^onReadMessage:/m);
  expect(readUser).toContain('WebIM.conn.getGroupMsgReadUser(');

  const sendGroupReadMsg = replaceOnce(groupRead, /to: 'username'/, 'to: groupId', "to: 'username' -> groupId");
  let sendReadMsg = replaceOnce(read, /to: 'groupId'/, 'to: groupId', "to: 'groupId' -> groupId");
  sendReadMsg = replaceOnce(sendReadMsg, /(?<=\bid)(?:：|ï¼š)(?=message\.id)/, ':', 'the full-width colon after id');

  // Split the listener block where its second property starts (a property name at the start of a
  // line); each part stays as written, the page joins them into one object literal.
  const lines = listeners.split('\n');
  const starts = lines.flatMap((l, i) => (/^[A-Za-z_$][\w$]*:/.test(l) ? [i] : []));
  expect(starts.map((i) => lines[i].split(':')[0])).toEqual(['onReadMessage', 'onStatisticMessage']);
  const first = lines.slice(0, starts[1]).join('\n');
  const second = lines.slice(starts[1]).join('\n');
  // (The comma goes on a line of its own: the first part ends with a line comment.)
  const seedListeners = `window.seedListeners = ({\n${first}\n,\n${second}\n});`;

  return { sendGroupReadMsg, sendReadMsg, seedListeners, getGroupMsgReadUser: readUser };
}

let server: SeenServer;
let browser: Browser;
const pwd = 'secret-pw';

type Logged = { text: string; args: unknown[] };

/** A browser tab on seen's origin with the bundle loaded and `conn` opened as user. */
class Tab {
  logs: Logged[] = [];
  pageErrors: string[] = [];
  private constructor(readonly page: Page) {}

  static async open(context: BrowserContext, user: string, listenersSrc: string): Promise<Tab> {
    const page = await context.newPage();
    const tab = new Tab(page);
    page.on('console', async (m) => {
      const args = await Promise.all(m.args().map((a) => a.jsonValue().catch(() => undefined)));
      tab.logs.push({ text: m.text(), args });
    });
    page.on('pageerror', (e) => tab.pageErrors.push(String(e)));
    // A same-origin document: seen serves /healthz; the page's content is then replaced, keeping
    // the origin, with one that loads the bundle the server embeds.
    await page.goto(`${server.url}/healthz`);
    await page.setContent('<!doctype html><html><head><title>seed</title><script src="/sdk/webim.js"></script></head><body></body></html>');
    expect(await page.evaluate(() => typeof (window as any).WebIM?.connection)).toBe('function');
    await page.addScriptTag({ content: listenersSrc });
    expect(tab.pageErrors).toEqual([]);
    expect(await page.evaluate(() => Object.keys((window as any).seedListeners ?? {}))).toEqual(['onReadMessage', 'onStatisticMessage']);
    await page.evaluate(
      async ({ origin, user, pwd }) => {
        const w = window as any;
        const WebIM = w.WebIM;
        w.conn = WebIM.conn = new WebIM.connection({ url: origin, apiUrl: origin });
        const log = (w.seenLog = { texts: [] as any[], reads: [] as any[], stats: [] as any[], errors: [] as any[], threw: [] as string[], closed: 0 });
        // Each seed handler gets the SDK's payload as is; the page records it (and any throw).
        const call = (name: string, m: any) => {
          try {
            w.seedListeners[name](m);
          } catch (e) {
            log.threw.push(`${name}: ${e}`);
            throw e;
          }
        };
        w.conn.listen({
          onTextMessage: (m: any) => log.texts.push(m),
          onReadMessage: (m: any) => (log.reads.push(m), call('onReadMessage', m)),
          onStatisticMessage: (m: any) => (log.stats.push(m), call('onStatisticMessage', m)),
          onError: (e: any) => log.errors.push({ type: e.type, message: e.message }),
          onClosed: () => log.closed++,
        });
        await w.conn.open({ user, pwd });
      },
      { origin: server.url, user, pwd },
    );
    return tab;
  }

  /** run adds a classic script to the page (snippets assign their functions as globals). */
  async run(src: string): Promise<void> {
    await this.page.addScriptTag({ content: src });
  }

  log(): Promise<any> {
    return this.page.evaluate(() => (window as any).seenLog);
  }

  /** until waits, without a fixed sleep, for pred over the page's record. */
  async until(pred: string, what: string, timeout = 10000): Promise<void> {
    try {
      await this.page.waitForFunction(`(() => { const log = window.seenLog; return ${pred}; })()`, undefined, { timeout, polling: 50 });
    } catch (e) {
      throw new Error(`timed out waiting for ${what}: ${JSON.stringify(await this.log())}\n${e}`);
    }
  }
}

async function register(...names: string[]): Promise<string[]> {
  const tag = `${Date.now().toString(36)}${Math.random().toString(36).slice(2, 6)}`;
  const out = names.map((n) => `${n}-${tag}`);
  for (const username of out) {
    const r = await fetch(`${server.url}/api/v1/users`, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ username, password: pwd }) });
    if (!r.ok) throw new Error(`register ${username}: ${r.status} ${await r.text()}`);
  }
  return out;
}

async function restToken(username: string): Promise<string> {
  const r = await fetch(`${server.url}/api/v1/token`, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ username, password: pwd }) });
  if (!r.ok) throw new Error(`log in ${username}: ${r.status} ${await r.text()}`);
  return ((await r.json()) as any).access_token;
}

describe.skipIf(!haveChromium || !haveSeed)('the seed in Chromium, from /sdk/webim.js', () => {
  beforeAll(async () => {
    const built = await buildServer();
    if (!built.bin) throw new Error(`cannot run seen: ${built.why}`);
    server = await SeenServer.start(built.bin);
    browser = await chromium.launch({
      executablePath: chromiumPath,
      headless: true,
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
    });
  });
  afterAll(async () => {
    await browser?.close();
    await server?.destroy();
  });

  it('sendGroupReadMsg, sendReadMsg, onReadMessage, onStatisticMessage and getGroupMsgReadUser run verbatim', { timeout: 60000 }, async () => {
    const seed = seedSnippets();
    const [owner, m1, m2, m3] = await register('owner', 'm1', 'm2', 'm3');
    // One context per user: separate storage, so each is its own browser (and seen device).
    // bypassCSP: the page stands in for an app's own page, which runs the snippets as inline
    // scripts; seen's responses carry a Content-Security-Policy for seen's own pages that forbids
    // inline scripts, and the test page borrows seen's origin (for /sdk/webim.js and the API).
    const ctx = await Promise.all([owner, m1, m2, m3].map(() => browser.newContext({ bypassCSP: true })));
    const [ownerCtx, m1Ctx, m2Ctx, m3Ctx] = ctx;
    try {
      let ownerTab = await Tab.open(ownerCtx, owner, seed.seedListeners);
      const groupId: string = await ownerTab.page.evaluate(async (members) => {
        const w = window as any;
        const r = await w.WebIM.conn.createGroup({ data: { groupname: 'seed', desc: 'the seed group', members, public: false, approval: false, allowinvites: false, inviteNeedConfirm: false, maxusers: 200 } });
        return r.data.groupid;
      }, [m1, m2, m3]);
      expect(groupId).toMatch(/^\d+$/);
      const members = await Promise.all([m1Ctx, m2Ctx, m3Ctx].map((c, i) => Tab.open(c, [m1, m2, m3][i], seed.seedListeners)));
      const setGroup = (t: Tab) => t.page.evaluate((g) => ((window as any).groupId = g), groupId);
      for (const t of [ownerTab, ...members]) await setGroup(t);

      // The owner: the seed's sendGroupReadMsg, as written (to: the group).
      await ownerTab.run(seed.sendGroupReadMsg);
      await ownerTab.page.evaluate(() => (window as any).sendGroupReadMsg());
      await waitFor(() => ownerTab.logs.some((l) => l.text === 'send private text Success' || l.text === 'Send private text error'), "the seed's success or fail callback");
      expect(ownerTab.logs.map((l) => l.text)).toContain('send private text Success');

      for (const t of members) await t.until('log.texts.length > 0', 'the message at a member');
      const received = await Promise.all(members.map(async (t) => (await t.log()).texts));
      for (const texts of received) expect(texts).toHaveLength(1);
      const mid: string = received[0][0].id;
      expect(mid).toMatch(/^\d+$/);
      received.forEach((texts) =>
        expect(texts[0]).toMatchObject({ id: mid, type: 'groupchat', from: owner, to: groupId, data: 'message content', msgConfig: { allowGroupAck: true } }),
      );

      // Two members, online with the owner: `message` is what onTextMessage received; the seed's
      // sendReadMsg. The owner's onReadMessage sees groupReadCount[mid] rise to 2.
      const ack = async (t: Tab) => {
        await t.page.evaluate(() => ((window as any).message = (window as any).seenLog.texts[0]));
        await t.run(seed.sendReadMsg);
        await t.page.evaluate(() => (window as any).sendReadMsg());
      };
      await ack(members[0]);
      await ownerTab.until('log.reads.length >= 1', 'the first onReadMessage');
      await ack(members[1]);
      await ownerTab.until('log.reads.some((m) => m.groupReadCount && m.groupReadCount[m.mid] === 2)', 'groupReadCount 2');
      const reads = (await ownerTab.log()).reads;
      // What the seed's handler computes: msg.groupReadCount = message.groupReadCount[message.mid].
      expect(reads.map((m: any) => m.groupReadCount[m.mid])).toEqual([1, 2]);
      expect(reads.map((m: any) => m.mid)).toEqual([mid, mid]);
      expect(reads.map((m: any) => m.from)).toEqual([m1, m2]);
      expect(reads[1]).toMatchObject({ to: groupId, ackContent: '{}' });

      // The owner goes away; the third member acknowledges meanwhile.
      await ownerTab.page.evaluate(() => (window as any).WebIM.conn.close());
      await ownerTab.until('log.closed > 0', 'onClosed');
      const ownerFirst = await ownerTab.log();
      const ownerFirstErrors = ownerTab.pageErrors;
      await ownerTab.page.close();
      await ack(members[2]);
      // seen's read count, asked through REST as the owner (the test's oracle; it does not touch
      // the browser's device), tells when the ack has been counted.
      const token = await restToken(owner);
      const count = async () => {
        const r = await fetch(`${server.url}/api/v1/groups/${groupId}/receipts/counts?msgIds=${mid}`, { headers: { Authorization: `Bearer ${token}` } });
        return ((await r.json()) as any).counts?.[mid];
      };
      const deadline = Date.now() + 10000;
      while ((await count()) !== 3) {
        if (Date.now() > deadline) throw new Error('the third read was not counted');
        await new Promise((r) => setTimeout(r, 50)); // poll interval
      }

      // The owner comes back (a new tab of the same browser: the same seen device): one
      // onStatisticMessage with the message at count 3.
      ownerTab = await Tab.open(ownerCtx, owner, seed.seedListeners);
      await ownerTab.until('log.stats.length > 0', 'onStatisticMessage after login');
      const again = await ownerTab.log();
      expect(again.stats).toHaveLength(1);
      expect(again.stats[0].operation).toBe(0);
      // What the seed's handler computes: JSON.parse(message.location).group_ack || [].
      const groupAck = (again.stats[0].location && JSON.parse(again.stats[0].location)).group_ack || [];
      // (seen) eligible and readByAll: all three members could read it, and all three have.
      expect(groupAck).toContainEqual({ mid, groupId, count: 3, from: m3, ackContent: '{}', timestamp: expect.any(Number), eligible: 3, readByAll: true });

      // The seed's getGroupMsgReadUser; its .then logs the result, which the test reads from the console.
      await ownerTab.page.evaluate(({ groupId, mid }) => Object.assign(window, { groupId, msgId: mid }), { groupId, mid });
      await ownerTab.run(seed.getGroupMsgReadUser);
      await waitFor(() => ownerTab.logs.some((l) => (l.args[0] as any)?.data?.userlist), 'the logged getGroupMsgReadUser result');
      const res = ownerTab.logs.find((l) => (l.args[0] as any)?.data?.userlist)!.args[0] as any;
      expect(res.type).toBe(0);
      expect(res.data.total).toBe(3);
      expect([...res.data.userlist].sort()).toEqual([m1, m2, m3].sort());
      expect(res.data.ackmid).toBe(mid);

      // Nothing went wrong on the way: no seed handler threw, no SDK error, no page error.
      for (const l of [ownerFirst, again, ...(await Promise.all(members.map((t) => t.log())))]) {
        expect(l.threw).toEqual([]);
        expect(l.errors).toEqual([]);
      }
      expect(ownerFirstErrors).toEqual([]);
      for (const t of [ownerTab, ...members]) expect(t.pageErrors).toEqual([]);
    } finally {
      await Promise.all(ctx.map((c) => c.close()));
    }
  });
});
