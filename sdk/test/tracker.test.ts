// @vitest-environment happy-dom
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { AckItem } from '../src/batch';
import type { AckResultItem } from '../src/protocol';
import { ReadTracker, TrackerHost } from '../src/tracker';
import { WebIMError } from '../src/errors';

class FakeIO {
  static last: FakeIO;
  targets = new Set<Element>();
  options: any;
  constructor(public cb: (entries: any[]) => void, options: any) {
    this.options = options;
    FakeIO.last = this;
  }
  observe(el: Element) { this.targets.add(el); }
  unobserve(el: Element) { this.targets.delete(el); }
  disconnect() { this.targets.clear(); }
  show(el: Element, ratio: number) { this.cb([{ target: el, isIntersecting: ratio > 0, intersectionRatio: ratio }]); }
}

class FakeDoc {
  visibilityState: 'visible' | 'hidden' = 'visible';
  listeners = new Set<() => void>();
  addEventListener(_: string, f: () => void) { this.listeners.add(f); }
  removeEventListener(_: string, f: () => void) { this.listeners.delete(f); }
  set(v: 'visible' | 'hidden') { this.visibilityState = v; for (const f of this.listeners) f(); }
}

class Host implements TrackerHost {
  user = 'alice';
  acked = new Set<string>();
  calls: { groupId: string; items: AckItem[] }[] = [];
  fail?: WebIMError;
  ackGroup(groupId: string, items: AckItem[]): Promise<AckResultItem>[] {
    this.calls.push({ groupId, items });
    return items.map((it) => {
      if (this.fail) return Promise.reject(this.fail);
      this.acked.add(it.msgId);
      return Promise.resolve({ msgId: it.msgId, ok: true, counted: true, count: 1 });
    });
  }
}

const msg = (id: string, extra: object = {}) => ({ id, type: 'txt', chatType: 'groupChat', from: 'bob', to: 'g1', msg: 'x', msgConfig: { allowGroupAck: true }, ...extra });
const el = () => document.createElement('div');

let host: Host;
let doc: FakeDoc;
let tracker: ReadTracker;

beforeEach(() => {
  vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'Date'] });
  host = new Host();
  doc = new FakeDoc();
  tracker = new ReadTracker(host, { dwellMs: 1000, IntersectionObserver: FakeIO as any, document: doc as any });
});
afterEach(() => {
  tracker.dispose();
  vi.useRealTimers();
});

describe('readTracker', () => {
  it('acks a message that stayed at least half visible for dwellMs', async () => {
    const a = el();
    tracker.observe(a, msg('1'));
    expect(FakeIO.last.options.threshold).toContain(0.5);
    FakeIO.last.show(a, 0.6);
    await vi.advanceTimersByTimeAsync(999);
    expect(host.calls).toEqual([]);
    await vi.advanceTimersByTimeAsync(1 + 50);
    expect(host.calls).toEqual([{ groupId: 'g1', items: [{ msgId: '1' }] }]);
    expect(FakeIO.last.targets.has(a)).toBe(false);
  });

  it('does not ack below 50% or when scrolled away before dwellMs', async () => {
    const a = el();
    tracker.observe(a, msg('1'));
    FakeIO.last.show(a, 0.4);
    await vi.advanceTimersByTimeAsync(2000);
    FakeIO.last.show(a, 0.9);
    await vi.advanceTimersByTimeAsync(600);
    FakeIO.last.show(a, 0);
    await vi.advanceTimersByTimeAsync(600);
    FakeIO.last.show(a, 0.9); // the dwell starts over
    await vi.advanceTimersByTimeAsync(600);
    expect(host.calls).toEqual([]);
    await vi.advanceTimersByTimeAsync(450);
    expect(host.calls.length).toBe(1);
  });

  it('pauses while the page is hidden', async () => {
    const a = el();
    tracker.observe(a, msg('1'));
    FakeIO.last.show(a, 1);
    await vi.advanceTimersByTimeAsync(700);
    doc.set('hidden');
    await vi.advanceTimersByTimeAsync(10000);
    expect(host.calls).toEqual([]);
    doc.set('visible');
    await vi.advanceTimersByTimeAsync(299);
    expect(host.calls).toEqual([]);
    await vi.advanceTimersByTimeAsync(1 + 50);
    expect(host.calls.length).toBe(1);
  });

  it('does not start while the page is hidden', async () => {
    doc.visibilityState = 'hidden';
    const a = el();
    tracker.observe(a, msg('1'));
    FakeIO.last.show(a, 1);
    await vi.advanceTimersByTimeAsync(5000);
    expect(host.calls).toEqual([]);
  });

  it('batches: one ack per group per flush', async () => {
    const els = Array.from({ length: 5 }, el);
    els.forEach((e, i) => tracker.observe(e, msg(String(i + 1), { to: i < 3 ? 'g1' : 'g2' })));
    els.forEach((e) => FakeIO.last.show(e, 1));
    await vi.advanceTimersByTimeAsync(1050);
    expect(host.calls).toEqual([
      { groupId: 'g1', items: [{ msgId: '1' }, { msgId: '2' }, { msgId: '3' }] },
      { groupId: 'g2', items: [{ msgId: '4' }, { msgId: '5' }] },
    ]);
  });

  it('skips own messages, messages without receipts, single chats and acked messages; never acks twice', async () => {
    const mine = el(), plain = el(), single = el(), v3 = el(), twice = el();
    host.acked.add('9');
    tracker.observe(mine, msg('1', { from: 'alice' }));
    tracker.observe(plain, msg('2', { msgConfig: undefined }));
    tracker.observe(single, msg('3', { chatType: 'singleChat' }));
    tracker.observe(twice, msg('9'));
    // The v3 shape works too.
    tracker.observe(v3, { id: '4', type: 'groupchat', from: 'bob', to: 'g1', data: 'x', msgConfig: { allowGroupAck: true } });
    expect(FakeIO.last.targets.size).toBe(1);
    FakeIO.last.show(v3, 1);
    await vi.advanceTimersByTimeAsync(1050);
    expect(host.calls).toEqual([{ groupId: 'g1', items: [{ msgId: '4' }] }]);
    // Shown again in another element: already acked.
    const again = el();
    tracker.observe(again, msg('4'));
    expect(FakeIO.last.targets.has(again)).toBe(false);
  });

  it('retries after a transient failure, gives up after a permanent one', async () => {
    const a = el(), b = el();
    host.fail = new WebIMError(16, 'disconnected');
    tracker.observe(a, msg('1'));
    FakeIO.last.show(a, 1);
    await vi.advanceTimersByTimeAsync(1050);
    expect(host.calls.length).toBe(1);
    host.fail = undefined;
    await vi.advanceTimersByTimeAsync(1050);
    expect(host.calls.length).toBe(2);
    host.fail = new WebIMError(602, 'not a member');
    tracker.observe(b, msg('2'));
    FakeIO.last.show(b, 1);
    await vi.advanceTimersByTimeAsync(1050);
    await vi.advanceTimersByTimeAsync(5000);
    expect(host.calls.length).toBe(3);
    expect(FakeIO.last.targets.has(b)).toBe(false);
  });

  it('onAck: once per message when its ack is settled; tracker.acked holds the results', async () => {
    const results: [string, any][] = [];
    tracker.dispose();
    tracker = new ReadTracker(host, { dwellMs: 1000, IntersectionObserver: FakeIO as any, document: doc as any, onAck: (mid, r) => results.push([mid, r]) });
    const a = el(), b = el(), c = el(), d = el();
    // Accepted.
    tracker.observe(a, msg('1'));
    FakeIO.last.show(a, 1);
    await vi.advanceTimersByTimeAsync(1050);
    expect(results).toEqual([['1', { counted: true, count: 1 }]]);
    // Transient: not settled, tried again; then accepted.
    host.fail = new WebIMError(16, 'disconnected');
    tracker.observe(b, msg('2'));
    FakeIO.last.show(b, 1);
    await vi.advanceTimersByTimeAsync(1050);
    expect(results.length).toBe(1);
    host.fail = undefined;
    await vi.advanceTimersByTimeAsync(1050);
    expect(results[1]).toEqual(['2', { counted: true, count: 1 }]);
    // Refused for good (sent before the reader joined): settled with the error.
    const refused = new WebIMError(54, 'you joined group g1 after message 3 was sent', { name: 'not_allowed' });
    host.fail = refused;
    tracker.observe(c, msg('3'));
    FakeIO.last.show(c, 1);
    await vi.advanceTimersByTimeAsync(1050);
    expect(results[2]).toEqual(['3', { counted: false, error: refused }]);
    host.fail = undefined;
    // Acknowledged on the connection before (another tracker): reported when observed.
    host.acked.add('4');
    tracker.observe(d, msg('4'));
    await vi.advanceTimersByTimeAsync(0);
    expect(results[3]).toEqual(['4', { counted: false }]);
    expect(FakeIO.last.targets.has(d)).toBe(false);
    // Never twice, whatever is observed again.
    for (const id of ['1', '2', '3', '4']) tracker.observe(el(), msg(id));
    await vi.advanceTimersByTimeAsync(5000);
    expect(results.length).toBe(4);
    expect(host.calls.length).toBe(4);
    expect([...tracker.acked.keys()]).toEqual(['1', '2', '3', '4']);
    expect(tracker.acked.get('3')?.error?.type).toBe(54);
  });

  it('onAck: a handler that throws breaks nothing', async () => {
    tracker.dispose();
    const spy = vi.spyOn(console, 'error').mockImplementation(() => {});
    tracker = new ReadTracker(host, { dwellMs: 10, IntersectionObserver: FakeIO as any, document: doc as any, onAck: () => { throw new Error('boom'); } });
    const a = el(), b = el();
    tracker.observe(a, msg('1'));
    tracker.observe(b, msg('2'));
    FakeIO.last.show(a, 1);
    FakeIO.last.show(b, 1);
    await vi.advanceTimersByTimeAsync(100);
    expect(tracker.acked.size).toBe(2);
    expect(spy).toHaveBeenCalledTimes(2);
    spy.mockRestore();
  });

  it('unobserve and dispose stop the clock', async () => {
    const a = el(), b = el();
    tracker.observe(a, msg('1'));
    tracker.observe(b, msg('2'));
    FakeIO.last.show(a, 1);
    FakeIO.last.show(b, 1);
    tracker.unobserve(a);
    await vi.advanceTimersByTimeAsync(500);
    tracker.dispose();
    await vi.advanceTimersByTimeAsync(5000);
    expect(host.calls).toEqual([]);
    expect(doc.listeners.size).toBe(0);
  });
});

describe('conn.readTracker', () => {
  it('sends one receipt.ack through the connection', async () => {
    vi.useRealTimers();
    const { FakeSocket, latest, openConn, settle } = await import('./fake');
    FakeSocket.reset();
    FakeSocket.handlers['receipt.ack'] = (d: any) => ({ results: d.items.map((it: any) => ({ msgId: it.msgId, ok: true, counted: true, count: 1 })) });
    const c = await openConn();
    const t = c.readTracker({ dwellMs: 10, flushMs: 5, IntersectionObserver: FakeIO as any, document: doc as any });
    const a = el(), b = el();
    t.observe(a, msg('123456789012345678'));
    t.observe(b, msg('123456789012345679'));
    FakeIO.last.show(a, 1);
    FakeIO.last.show(b, 0.5);
    await new Promise((r) => setTimeout(r, 40));
    await settle();
    expect(latest().ops('receipt.ack').map((r) => r.data)).toEqual([{ groupId: 'g1', items: [{ msgId: '123456789012345678' }, { msgId: '123456789012345679' }] }]);
    expect(c.acked.has('123456789012345679')).toBe(true);
    t.dispose();
    c.close();
  });

  it('onAck gets the per-item result of the server: counted, or refused with its error', async () => {
    vi.useRealTimers();
    const { FakeSocket, openConn, settle } = await import('./fake');
    FakeSocket.reset();
    FakeSocket.handlers['receipt.ack'] = (d: any) => ({
      results: d.items.map((it: any) =>
        it.msgId.endsWith('8')
          ? { msgId: it.msgId, ok: true, counted: true, count: 3 }
          : { msgId: it.msgId, ok: false, counted: false, error: { code: 54, name: 'not_allowed', message: 'you joined group g1 after message was sent' } },
      ),
    });
    const c = await openConn();
    const got = new Map<string, any>();
    const t = c.readTracker({ dwellMs: 10, flushMs: 5, IntersectionObserver: FakeIO as any, document: doc as any, onAck: (mid, r) => got.set(mid, r) });
    const a = el(), b = el();
    t.observe(a, msg('123456789012345678'));
    t.observe(b, msg('123456789012345679'));
    FakeIO.last.show(a, 1);
    FakeIO.last.show(b, 1);
    await new Promise((r) => setTimeout(r, 40));
    await settle();
    expect(got.get('123456789012345678')).toEqual({ counted: true, count: 3 });
    expect(got.get('123456789012345679')).toMatchObject({ counted: false, error: { type: 54, data: { name: 'not_allowed' } } });
    expect(c.acked.has('123456789012345679')).toBe(false);
    t.dispose();
    c.close();
  });
});
