// A person: one browser context (its own localStorage, so its own device resource) with the test
// page of one vendor and one SDK connection, and the queue of events the page reported.
import { inspect } from 'node:util';

/** How long to wait for an event before failing with what did arrive (not a timed assertion). */
export const eventTimeoutMs = 20000;

export class Person {
  constructor(name, vendor, context, page) {
    this.name = name;
    this.vendor = vendor;
    this.context = context;
    this.page = page;
    /** events are all reported events, in order: {kind, data, used}. */
    this.events = [];
    this.waiters = [];
    this.pageErrors = [];
  }

  /**
   * open starts a context on the vendor's page and creates the connection with seen's
   * WebSocket (/websocket) and REST base (apiUrl), the app key and, with delivery, automatic
   * delivery receipts. A context of its own is a device of its own. With clock, the page runs on
   * Playwright's fake clock (time flows, and context.clock.fastForward jumps ahead).
   */
  static async open(browser, pageBase, vendor, seenUrl, name, { appKey = 'seen#demo', delivery = false, clock = false } = {}) {
    const context = await browser.newContext();
    if (clock) await context.clock.install();
    const page = await context.newPage();
    const p = new Person(name, vendor, context, page);
    page.on('pageerror', (e) => p.pageErrors.push(e));
    await page.exposeFunction('__report', (kind, json) => p.push(kind, JSON.parse(json)));
    await page.goto(`${pageBase}/${vendor.name}.html`);
    await page.evaluate((o) => window.compat.init(o), { appKey, url: vendor.wsUrl(seenUrl), apiUrl: seenUrl, delivery });
    return p;
  }

  push(kind, data) {
    const ev = { kind, data, used: false };
    this.events.push(ev);
    for (const w of [...this.waiters]) {
      if (!ev.used && w.match(ev)) {
        ev.used = true;
        this.waiters.splice(this.waiters.indexOf(w), 1);
        w.resolve(ev.data);
      }
    }
  }

  /**
   * next resolves with the data of the first unused event of kind (e.g. "listen:onReadMessage")
   * that pred accepts, waiting for one if none came yet. It fails after eventTimeoutMs with the
   * events that did arrive.
   */
  next(kind, pred = () => true) {
    const match = (ev) => ev.kind === kind && pred(ev.data);
    const ev = this.events.find((e) => !e.used && match(e));
    if (ev) {
      ev.used = true;
      return Promise.resolve(ev.data);
    }
    return new Promise((resolve, reject) => {
      const w = { match, resolve };
      const t = setTimeout(() => {
        this.waiters.splice(this.waiters.indexOf(w), 1);
        const got = this.events.map((e) => `${e.kind} ${JSON.stringify(e.data).slice(0, 300)}`).join('\n  ');
        reject(new Error(`${this.vendor.name} ${this.name}: no ${kind} (matching) came; events so far:\n  ${got}`));
      }, eventTimeoutMs);
      w.resolve = (d) => {
        clearTimeout(t);
        resolve(d);
      };
      this.waiters.push(w);
    });
  }

  /** both waits for the same event through listen and addEventHandler, e.g. both("onReadMessage"). */
  async both(name, pred) {
    return Promise.all([this.next(`listen:${name}`, pred), this.next(`handler:${name}`, pred)]);
  }

  /** run evaluates fn(arg) in the page (globals: conn, WebIM, compat) and returns {ok, value|error}. */
  run(fn, arg) {
    return this.page.evaluate(([src, a]) => window.compat.run(src, a), [fn.toString(), arg ?? null]);
  }

  /** ok is run, and fails unless fn resolved. */
  async ok(what, fn, arg) {
    const r = await this.run(fn, arg);
    if (!r.ok) throw new Error(`${this.vendor.name} ${this.name}: ${what} failed: ${inspect(r.error, { depth: 5 })}`);
    return r.value;
  }

  /** fails is run, and fails unless fn rejected; it returns the error. */
  async fails(what, fn, arg) {
    const r = await this.run(fn, arg);
    if (r.ok) throw new Error(`${this.vendor.name} ${this.name}: ${what} should have failed, got ${inspect(r.value, { depth: 5 })}`);
    return r.error;
  }

  async close() {
    await this.context.close();
  }
}
