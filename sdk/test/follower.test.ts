// The stream follower (src/follower.ts): one implementation for both of seen's ordered streams.
// Each case runs against `sync` and `receipt.stats` through a real Connection over the fake
// server (test/fake.ts), whose stream handler is a model of the server's: items after `ack`, at
// most `limit`, `next` the last position given, `more` while items remain.
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { StreamFollower } from '../src/follower';
import { FakeSocket, latest, newConn, NO_REPLY, openConn, Req, settle } from './fake';

/** A model of one server-side stream: items at positions 1..n. */
class StreamModel {
  /** Every ack the client sent, in order. */
  acks: number[] = [];
  constructor(
    readonly key: 'messages' | 'entries',
    readonly items: unknown[],
  ) {}

  answer(d: { ack: number; limit: number }): Record<string, unknown> {
    this.acks.push(d.ack);
    const page = this.items.slice(d.ack, d.ack + d.limit);
    const next = d.ack + page.length;
    return { [this.key]: page, next, more: next < this.items.length };
  }
}

interface StreamCase {
  op: 'sync' | 'receipt.stats';
  limit: number;
  model: (n: number) => StreamModel;
  /** What the app saw, as item ids in the order reported. */
  watch: (c: ReturnType<typeof newConn>) => string[];
}

const id = (i: number) => '1' + String(i).padStart(17, '0');

const cases: StreamCase[] = [
  {
    op: 'sync',
    limit: 100,
    model: (n) =>
      new StreamModel(
        'messages',
        Array.from({ length: n }, (_, i) => ({ id: id(i + 1), localId: 'l' + i, seq: i + 1, type: 'txt', chatType: 'groupChat', from: 'bob', to: 'g1', msg: 'm', time: 1764000000000 + i })),
      ),
    watch: (c) => {
      const seen: string[] = [];
      c.addEventHandler('w', { onTextMessage: (m) => seen.push(m.id) });
      return seen;
    },
  },
  {
    op: 'receipt.stats',
    limit: 500,
    model: (n) => new StreamModel('entries', Array.from({ length: n }, (_, i) => ({ mid: id(i + 1), groupId: 'g1', count: 1, from: 'bob', ackContent: '', timestamp: i }))),
    watch: (c) => {
      const seen: string[] = [];
      c.addEventHandler('w', { onStatisticMessage: (e) => seen.push(...JSON.parse(e.location).group_ack.map((x: { mid: string }) => x.mid)) });
      return seen;
    },
  },
];

const allIds = (n: number) => Array.from({ length: n }, (_, i) => id(i + 1));

beforeEach(() => FakeSocket.reset());
afterEach(() => vi.useRealTimers());

describe.each(cases)('the $op stream', (sc) => {
  it('pages through everything missed, in order, once, and confirms the head', async () => {
    const n = Math.floor(sc.limit * 2.5);
    const model = sc.model(n);
    FakeSocket.handlers[sc.op] = (d) => model.answer(d);
    const c = newConn();
    const seen = sc.watch(c);
    await c.open({ user: 'alice', accessToken: 'tok' });
    await settle();
    expect(model.acks).toEqual([0, sc.limit, 2 * sc.limit, n]);
    expect(seen).toEqual(allIds(n));
    c.close();
  });

  it('resumes after a reconnect from the last confirmed position: no gap, no repeat', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'setInterval', 'clearInterval'] });
    const n = sc.limit * 3;
    const model = sc.model(n);
    let dropAt: number | undefined = 2 * sc.limit;
    FakeSocket.handlers[sc.op] = (d, _req: Req, sock) => {
      if (d.ack === dropAt) {
        // The connection dies before the reply to the third page.
        dropAt = undefined;
        model.acks.push(d.ack);
        sock.serverClose(1006);
        return NO_REPLY;
      }
      return model.answer(d);
    };
    const c = newConn({ random: () => 0 });
    const seen = sc.watch(c);
    await c.open({ user: 'alice', accessToken: 'tok' });
    await settle();
    expect(FakeSocket.all.length).toBe(1);
    await vi.advanceTimersByTimeAsync(1);
    await settle();
    expect(FakeSocket.all.length).toBe(2);
    // The reply to ack 100 confirmed 100; ack 200 was never answered, so the new socket asks
    // again from 100 (not 0, which would repeat, and not 200, which might skip).
    expect(latest().ops(sc.op)[0].data).toEqual({ ack: sc.limit, limit: sc.limit });
    expect(model.acks).toEqual([0, sc.limit, 2 * sc.limit, sc.limit, 2 * sc.limit, n]);
    if (sc.op === 'sync') expect(seen).toEqual(allIds(n));
    else {
      // Statistics are state, not events: a run that failed reports nothing; the full run after
      // the reconnect reports everything it read.
      expect(seen).toEqual(allIds(n).slice(sc.limit));
    }
    c.close();
  });

  it('a page served twice fires nothing twice', async () => {
    const model = sc.model(3);
    let served = 0;
    // The first two answers are the same page (a replayed reply), then the stream goes on.
    FakeSocket.handlers[sc.op] = (d) => (served++ < 2 ? { [model.key]: model.items.slice(0, 2), next: 2, more: true } : model.answer(d));
    const c = newConn();
    const seen = sc.watch(c);
    await c.open({ user: 'alice', accessToken: 'tok' });
    await settle();
    expect(seen).toEqual(allIds(3));
    c.close();
  });

  it('starts over from 0 when the server says the position is beyond its stream', async () => {
    const model = sc.model(2);
    const c = await openConn();
    const seen = sc.watch(c);
    // The server's data was reset: it has 2 items, and our position (5) is beyond them.
    FakeSocket.handlers[sc.op] = (d) => (d.ack > model.items.length ? { error: { code: 110, name: 'bad_request', message: 'ack is beyond the stream head' } } : model.answer(d));
    const follower = (c as any).inbox[sc.op === 'sync' ? 'sync' : 'stats'] as StreamFollower<any, any>;
    follower.position = 5;
    await follower.run(sc.op !== 'sync');
    await settle();
    expect(latest().ops(sc.op).slice(-3).map((r) => r.data.ack)).toEqual([5, 0, 2]);
    expect(follower.position).toBe(2);
    if (sc.op === 'sync') expect(seen).toEqual(allIds(2));
    c.close();
  });
});

describe('StreamFollower', () => {
  it('runs asked for during a run happen once, after it; a full run is chained as its own', async () => {
    const calls: { full: boolean; ack: number }[] = [];
    const replies: ((r: { next: number; more: boolean }) => void)[] = [];
    let run = 0;
    const f = new StreamFollower<{ next: number; more: boolean }, boolean>(
      { op: 'x', limit: 10, begin: (full) => full, page: () => {}, end: (full) => void calls.push({ full, ack: run++ }) },
      <T>() => new Promise<T>((resolve) => replies.push(resolve as (r: { next: number; more: boolean }) => void)),
      (err) => {
        throw err;
      },
      () => 1000,
    );
    const first = f.run();
    void f.run();
    void f.run();
    const full = f.run(true);
    replies.shift()!({ next: 0, more: false });
    await first;
    // One run again for the two plain asks; the full one waits for its turn.
    await settle();
    expect(replies.length).toBe(1);
    replies.shift()!({ next: 0, more: false });
    await settle();
    expect(replies.length).toBe(1);
    replies.shift()!({ next: 0, more: false });
    await full;
    await settle();
    expect(calls.map((x) => x.full)).toEqual([false, false, true]);
    expect(replies.length).toBe(0);
  });
});
