// Reminders, read analytics, receipt policy and the user's settings over the fake server: what
// the SDK sends, what it refuses before sending, and onReminder firing once per reminder whether
// it came live, from sync after login, or both.
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { statusCode } from '../src/errors';
import { FakeSocket, latest, newConn, NO_REPLY, openConn, settle } from './fake';

const G = '987654321098765432';
const M = '123456789012345678';

const reminder = (id: string, seq: number, from = 'alice') => ({ id, seq, groupId: G, msgId: M, from, at: 1764000600000 + seq });

beforeEach(() => FakeSocket.reset());
afterEach(() => vi.useRealTimers());

describe('onReminder', () => {
  it('a live push fires once in both shapes, and is confirmed with a debounced sync', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'setInterval', 'clearInterval'] });
    const c = await openConn();
    const v4: any[] = [];
    const v3: any[] = [];
    c.addEventHandler('h', { onReminder: (e) => v4.push(e) });
    c.listen({ onReminder: (e) => v3.push(e) });
    const s = latest();
    const before = s.ops('sync').length;
    s.push('receipt.reminder', reminder('900000000000000001', 7));
    s.push('receipt.reminder', reminder('900000000000000001', 7)); // the same reminder twice (two nodes)
    expect(v4).toEqual([{ id: '900000000000000001', type: 'remind', chatType: 'groupChat', from: 'alice', to: G, mid: M, time: 1764000600007 }]);
    expect(v3).toEqual([{ id: '900000000000000001', mid: M, from: 'alice', to: G, time: '1764000600007' }]);
    await vi.advanceTimersByTimeAsync(1000);
    await settle();
    expect(s.ops('sync').length).toBeGreaterThan(before);
    c.close();
  });

  it('reminders from sync after login fire once; their live copies fire nothing more; they are not messages', async () => {
    const items = [
      { ...reminder('900000000000000002', 3), type: 'remind' },
      { ...reminder('900000000000000003', 4, 'bob'), type: 'remind' },
    ];
    FakeSocket.handlers.sync = (d) => (d.ack < 4 ? { messages: items, next: 4, more: false } : { messages: [], next: 4, more: false });
    const got: any[] = [];
    const text = vi.fn();
    const c = newConn();
    c.addEventHandler('h', { onReminder: (e) => got.push(e), onTextMessage: text, onCustomMessage: text });
    await c.open({ user: 'carol', accessToken: 'tok' });
    await settle();
    expect(got.map((e) => [e.id, e.from, e.to, e.mid])).toEqual([
      ['900000000000000002', 'alice', G, M],
      ['900000000000000003', 'bob', G, M],
    ]);
    latest().push('receipt.reminder', reminder('900000000000000003', 4, 'bob'));
    expect(got.length).toBe(2);
    expect(text).not.toHaveBeenCalled();
    c.close();
  });

  it('a handler that throws is reported through onError, and the reminder is not fired again', async () => {
    const c = await openConn();
    const onError = vi.fn();
    let n = 0;
    c.addEventHandler('h', {
      onReminder: () => {
        n++;
        throw new Error('boom');
      },
      onError,
    });
    latest().push('receipt.reminder', reminder('900000000000000004', 9));
    latest().push('receipt.reminder', reminder('900000000000000004', 9));
    expect(n).toBe(1);
    expect(onError.mock.calls[0][0]).toMatchObject({ type: statusCode.WEBIM_CONNCTION_CALLBACK_INNER_ERROR });
    c.close();
  });
});

describe('remindUnreadMembers', () => {
  it('sends receipt.remind and resolves { reminded, skipped, at, nextAt }; users names a subset', async () => {
    FakeSocket.handlers['receipt.remind'] = (d) => ({ reminded: d.users ? 1 : 12, skipped: d.users ? ['bob'] : [], at: 1764000600000, nextAt: 1764001200000 });
    const c = await openConn();
    const success = vi.fn();
    const all = await c.remindUnreadMembers({ groupId: G, msgId: M, success });
    expect(all).toEqual({ type: 0, data: { reminded: 12, skipped: [], at: 1764000600000, nextAt: 1764001200000 } });
    expect(success).toHaveBeenCalledWith(all);
    const some = await c.remindUnreadMembers({ groupId: G, msgId: M, users: ['bob', 'carol'] });
    expect(some.data).toMatchObject({ reminded: 1, skipped: ['bob'] });
    expect(latest().ops('receipt.remind').map((r) => r.data)).toEqual([
      { groupId: G, msgId: M },
      { groupId: G, msgId: M, users: ['bob', 'carol'] },
    ]);
    c.close();
  });

  it('reports the rate limit with the server code and message', async () => {
    const message = `message ${M} was reminded at 10:42; reminders are limited to one per 10m0s (remind-interval)`;
    FakeSocket.handlers['receipt.remind'] = () => ({ error: { code: 50, name: 'limit_exceeded', message } });
    const c = await openConn();
    const error = vi.fn();
    const err = await c.remindUnreadMembers({ groupId: G, msgId: M, error }).catch((e) => e);
    expect(err).toMatchObject({ type: statusCode.LIMIT_EXCEEDED, message, data: { name: 'limit_exceeded' } });
    expect(error).toHaveBeenCalledWith(err);
    c.close();
  });

  it('refuses missing ids and an empty or non-list users before sending anything', async () => {
    const c = await openConn();
    for (const opts of [{ groupId: G }, { msgId: M }, { groupId: G, msgId: M, users: [] }, { groupId: G, msgId: M, users: 'bob' }]) {
      const err = await c.remindUnreadMembers(opts as any).catch((e) => e);
      expect(err).toMatchObject({ type: statusCode.REQUEST_PARAMETER_ERROR });
    }
    expect(latest().ops('receipt.remind')).toEqual([]);
    c.close();
  });

  it('is not resent after a drop (a reminder is not idempotent), even with queueWhileDisconnected', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'setInterval', 'clearInterval', 'Date'] });
    FakeSocket.handlers['receipt.remind'] = () => NO_REPLY;
    const c = await openConn({ queueWhileDisconnected: true, random: () => 0.5 });
    const p = c.remindUnreadMembers({ groupId: G, msgId: M }).catch((e) => e);
    await settle();
    latest().serverClose(1001);
    await vi.advanceTimersByTimeAsync(500);
    await settle();
    expect(FakeSocket.all.length).toBe(2);
    expect(await p).toMatchObject({ type: statusCode.WEBIM_CONNCTION_DISCONNECTED });
    expect(latest().ops('receipt.remind')).toEqual([]);
    c.close();
  });
});

describe('getGroupMsgUnreadUser', () => {
  it('carries how often and when each member was reminded (the reminders map holds only those reminded)', async () => {
    FakeSocket.handlers['receipt.unread'] = () => ({ total: 2, users: ['bob', 'carol'], reminders: { bob: { reminded: 2, remindedAt: 1764000600000 } }, cursor: '', isLast: true });
    const c = await openConn();
    const r = await c.getGroupMsgUnreadUser({ groupId: G, msgId: M });
    expect(r.data).toEqual({
      total: 2,
      userlist: ['bob', 'carol'],
      users: [
        { username: 'bob', reminded: 2, remindedAt: 1764000600000 },
        { username: 'carol', reminded: 0, remindedAt: 0 },
      ],
      is_last: true,
      next_key: '',
    });
    c.close();
  });
});

describe('getGroupMsgReadAnalytics', () => {
  it('sends receipt.analytics; times not reached are null; the count feeds the monotonic counts', async () => {
    FakeSocket.handlers['receipt.analytics'] = () => ({
      msgId: M, sentAt: 1764000000000, eligible: 10, count: 6, unread: 4, to50: 60000, to90: null, toAll: null,
      histogram: [{ upTo: 60000, count: 5 }, { upTo: 300000, count: 1 }, { upTo: null, count: 0 }],
    });
    FakeSocket.handlers['receipt.counts'] = () => ({ counts: { [M]: 2 } });
    const c = await openConn();
    const r = await c.getGroupMsgReadAnalytics({ groupId: G, msgId: M });
    expect(r).toEqual({
      type: 0,
      data: { msgId: M, sentAt: 1764000000000, eligible: 10, count: 6, unread: 4, to50: 60000, to90: null, toAll: null, histogram: [{ upTo: 60000, count: 5 }, { upTo: 300000, count: 1 }, { upTo: null, count: 0 }] },
    });
    expect(latest().ops('receipt.analytics')[0].data).toEqual({ groupId: G, msgId: M });
    // A stale count from elsewhere never lowers what analytics reported.
    expect((await c.getGroupMsgReadCount({ groupId: G, msgIds: [M] })).data[M]).toBe(6);
    expect(await c.getGroupMsgReadAnalytics({ groupId: G } as any).catch((e) => e.type)).toBe(statusCode.REQUEST_PARAMETER_ERROR);
    c.close();
  });
});

describe('receipt policy', () => {
  it('get and set: only the fields given are sent; the reply is the policy now', async () => {
    let policy = { request: 'admins', visibility: 'admins', lists: true };
    FakeSocket.handlers['group.policy'] = () => policy;
    FakeSocket.handlers['group.setPolicy'] = (d) => (policy = { ...policy, ...Object.fromEntries(Object.entries(d).filter(([k]) => k !== 'group')) });
    const c = await openConn();
    expect(await c.getGroupReceiptPolicy({ groupId: G })).toEqual({ type: 0, data: { request: 'admins', visibility: 'admins', lists: true } });
    const r = await c.setGroupReceiptPolicy({ groupId: G, visibility: 'members', lists: false });
    expect(r.data).toEqual({ request: 'admins', visibility: 'members', lists: false });
    expect(latest().ops('group.setPolicy')[0].data).toEqual({ groupId: G, visibility: 'members', lists: false });
    c.close();
  });

  it('refuses unknown values and an empty change before sending anything', async () => {
    const c = await openConn();
    const bad = [{ groupId: G }, { groupId: G, request: 'everyone' }, { groupId: G, visibility: 'public' }, { groupId: G, lists: 'no' }, { visibility: 'members' }];
    for (const opts of bad) {
      const err = await c.setGroupReceiptPolicy(opts as any).catch((e) => e);
      expect(err, JSON.stringify(opts)).toMatchObject({ type: statusCode.REQUEST_PARAMETER_ERROR });
    }
    expect(await c.getGroupReceiptPolicy({} as any).catch((e) => e.type)).toBe(statusCode.REQUEST_PARAMETER_ERROR);
    expect(latest().ops('group.setPolicy')).toEqual([]);
    expect(latest().ops('group.policy')).toEqual([]);
    c.close();
  });

  it('getGroupInfo carries the receipt policy when the server sends it', async () => {
    FakeSocket.handlers['group.info'] = (d) => ({ groupId: d.groupId, name: 'team', owner: 'alice', receiptPolicy: { request: 'all', visibility: 'members', lists: false } });
    const c = await openConn();
    const r = await c.getGroupInfo({ groupId: G });
    expect(r.data[0].receiptPolicy).toEqual({ request: 'all', visibility: 'members', lists: false });
    c.close();
  });

  it('getJoinedGroups carries it too', async () => {
    FakeSocket.handlers['group.mine'] = () => ({ groups: [{ groupId: G, name: 'team', owner: 'alice', receiptPolicy: { request: 'admins', visibility: 'sender', lists: true } }, { groupId: '1', name: 'old', owner: 'bob' }], cursor: '' });
    const c = await openConn();
    const r = await c.getJoinedGroups({ pageNum: 0, pageSize: 20 });
    expect(r.data.map((g) => g.receiptPolicy)).toEqual([{ request: 'admins', visibility: 'sender', lists: true }, undefined]);
    c.close();
  });
});

describe('user settings', () => {
  it('get and set sendReadReceipts; anything but a boolean is refused', async () => {
    let on = true;
    FakeSocket.handlers['user.settings'] = () => ({ sendReadReceipts: on });
    FakeSocket.handlers['user.setSettings'] = (d) => ({ sendReadReceipts: (on = d.sendReadReceipts) });
    const c = await openConn();
    expect(await c.getUserSettings()).toEqual({ type: 0, data: { sendReadReceipts: true } });
    expect(await c.setUserSettings({ sendReadReceipts: false })).toEqual({ type: 0, data: { sendReadReceipts: false } });
    expect(latest().ops('user.setSettings')[0].data).toEqual({ sendReadReceipts: false });
    expect((await c.getUserSettings()).data.sendReadReceipts).toBe(false);
    for (const v of [undefined, 'false', 0]) {
      expect(await c.setUserSettings({ sendReadReceipts: v } as any).catch((e) => e.type)).toBe(statusCode.REQUEST_PARAMETER_ERROR);
    }
    expect(latest().ops('user.setSettings').length).toBe(1);
    c.close();
  });
});

describe('read by all', () => {
  it('follows the largest count: a late push with a lower count does not take it back', async () => {
    const c = await openConn();
    const got: any[] = [];
    c.addEventHandler('h', { onReadMessage: (e) => got.push(e) });
    const push = (count: number, readByAll?: boolean) => latest().push('receipt', { mid: M, groupId: G, count, from: 'bob', timestamp: 1, eligible: 3, ...(readByAll ? { readByAll } : {}) });
    push(2);
    push(3, true);
    push(2); // from another node, older
    expect(got.map((e) => [e.groupReadCount[M], e.eligible, e.readByAll])).toEqual([
      [2, 3, false],
      [3, 3, true],
      [3, 3, true],
    ]);
    c.close();
  });
});
