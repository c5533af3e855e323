import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { Connection, resolveUrls } from '../src/connection';
import { statusCode, WebIMError } from '../src/errors';
import WebIM from '../src/index';
import { deviceIdKey } from '../src/ids';
import { FakeSocket, latest, newConn, NO_REPLY, openConn, settle } from './fake';

const fakeTimers = () => vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'setInterval', 'clearInterval', 'Date'] });

const gmsg = (id: string, seq: number, extra: object = {}) => ({
  id, localId: 'l' + id, seq, type: 'txt', chatType: 'groupChat', from: 'bob', to: 'g1', msg: 'm' + id, msgConfig: { allowGroupAck: true }, time: 1764000000000 + seq, ...extra,
});

beforeEach(() => FakeSocket.reset());
afterEach(() => {
  vi.useRealTimers();
});

describe('urls', () => {
  it('default to the page origin', () => {
    expect(resolveUrls({}, { protocol: 'https:', origin: 'https://chat.example', host: 'chat.example' })).toEqual({ wsUrl: 'wss://chat.example/ws', apiUrl: 'https://chat.example' });
    expect(resolveUrls({}, { protocol: 'http:', origin: 'http://localhost:8080', host: 'localhost:8080' })).toEqual({ wsUrl: 'ws://localhost:8080/ws', apiUrl: 'http://localhost:8080' });
  });
  it('accept the http base or the full ws url', () => {
    expect(resolveUrls({ url: 'https://chat.example' })).toEqual({ wsUrl: 'wss://chat.example/ws', apiUrl: 'https://chat.example' });
    expect(resolveUrls({ url: 'ws://h:1/ws', apiUrl: 'http://h:2/' })).toEqual({ wsUrl: 'ws://h:1/ws', apiUrl: 'http://h:2' });
    expect(resolveUrls({ url: 'wss://h' }).wsUrl).toBe('wss://h/ws');
    expect(resolveUrls({ url: '//im.example/ws' }).wsUrl).toBe('wss://im.example/ws');
  });
  it('accept and ignore unknown vendor options', () => {
    const c = new WebIM.connection({ url: 'ws://h/ws', isHttpDNS: false, isDebug: true, https: true, appKey: 'org#app' });
    expect(c).toBeInstanceOf(Connection);
  });
});

describe('open', () => {
  it('logs in over REST, authenticates the socket and fires onOpened / onConnected', async () => {
    const fetch = vi.fn(async (url: string, init: any) => {
      expect(url).toBe('http://seen.test/api/v1/token');
      expect(JSON.parse(init.body)).toEqual({ username: 'alice', password: 'pw' });
      return new Response(JSON.stringify({ access_token: 'tok1', expires_in: 86400, user: 'alice' }), { status: 200 });
    });
    const c = newConn({ fetch: fetch as any });
    const events: string[] = [];
    c.listen({ onOpened: () => events.push('opened') });
    c.addEventHandler('h', { onConnected: () => events.push('connected') });
    const r = await c.open({ user: 'alice', pwd: 'pw' });
    expect(r).toEqual({ accessToken: 'tok1', duration: 86400 });
    expect(latest().ops('auth')[0].data).toEqual({ token: 'tok1', device: 'web-test', version: 1 });
    expect(events).toEqual(['opened', 'connected']);
    expect(c.isOpened()).toBe(true);
  });

  it('rejects with the REST error as { type, message, data }', async () => {
    const fetch = async () => new Response(JSON.stringify({ error: { code: 202, name: 'unauthorized', message: 'wrong username or password' } }), { status: 401 });
    const c = newConn({ fetch: fetch as any });
    const onError = vi.fn();
    c.addEventHandler('h', { onError });
    const err = await c.open({ user: 'alice', pwd: 'bad' }).catch((e) => e);
    expect(err).toBeInstanceOf(WebIMError);
    expect(err.type).toBe(statusCode.USER_AUTHENTICATION_FAILED);
    expect(err.data).toMatchObject({ name: 'unauthorized', status: 401 });
  });

  it('rejects when auth is refused, and calls v3 callbacks', async () => {
    FakeSocket.handlers.auth = () => ({ error: { code: 108, name: 'token_expired', message: 'expired' } });
    const c = newConn();
    const error = vi.fn();
    const err = await c.open({ user: 'alice', accessToken: 'old', error }).catch((e) => e);
    expect(err.type).toBe(108);
    expect(error).toHaveBeenCalledWith(err);
    expect(c.isOpened()).toBe(false);
  });

  it('a second open() while the first is connecting replaces it quietly: the first rejects with REQUEST_ABORT, the second session works', async () => {
    FakeSocket.autoOpen = false;
    FakeSocket.handlers['msg.send'] = (d) => ({ localId: d.localId, id: '42', time: 1, seq: 1 });
    const c = newConn();
    const onError = vi.fn();
    c.listen({ onError });
    const first = c.open({ user: 'alice', accessToken: 'tok' });
    const second = c.open({ user: 'alice', accessToken: 'tok' });
    expect((await first.catch((e) => e)).type).toBe(statusCode.REQUEST_ABORT);
    expect(FakeSocket.all).toHaveLength(2);
    FakeSocket.all[1].serverOpen();
    await second;
    await settle();
    // The first open's failure did not end the second session.
    expect(c.isOpened()).toBe(true);
    expect((await c.send(WebIM.message.create({ type: 'txt', to: 'bob', msg: 'x' }))).serverMsgId).toBe('42');
    expect(onError).not.toHaveBeenCalled();
    c.close();
  });

  it('needs a password or a token', async () => {
    const err = await newConn().open({ user: 'alice' }).catch((e) => e);
    expect(err.type).toBe(statusCode.WEBIM_CONNCTION_TOKEN_NOT_ASSIGN_ERROR);
  });

  it('registerUser posts the account', async () => {
    const fetch = vi.fn(async () => new Response(JSON.stringify({ username: 'bob' }), { status: 201 }));
    const r = await newConn({ fetch: fetch as any }).registerUser({ username: 'bob', password: 'pw' });
    expect(r.data.username).toBe('bob');
    expect((fetch.mock.calls[0] as unknown[])[0]).toBe('http://seen.test/api/v1/users');
  });
});

describe('catching up', () => {
  it('syncs missed messages after open, in both shapes, and confirms the last next', async () => {
    const pages = [
      { messages: [gmsg('100000000000000001', 1), gmsg('100000000000000002', 2)], next: 2, more: true },
      { messages: [gmsg('100000000000000003', 3)], next: 3, more: false },
      { messages: [], next: 3, more: false },
    ];
    let i = 0;
    FakeSocket.handlers.sync = () => pages[i++];
    const v4: any[] = [];
    const v3: any[] = [];
    const c = newConn();
    c.addEventHandler('h', { onTextMessage: (m) => v4.push(m) });
    c.listen({ onTextMessage: (m) => v3.push(m) });
    await c.open({ user: 'alice', accessToken: 'tok' });
    await settle();
    expect(latest().ops('sync').map((r) => r.data)).toEqual([{ ack: 0, limit: 100 }, { ack: 2, limit: 100 }, { ack: 3, limit: 100 }]);
    expect(v4.map((m) => m.id)).toEqual(['100000000000000001', '100000000000000002', '100000000000000003']);
    expect(v4[0]).toEqual({ id: '100000000000000001', type: 'txt', chatType: 'groupChat', from: 'bob', to: 'g1', msg: 'm100000000000000001', ext: {}, time: 1764000000001, msgConfig: { allowGroupAck: true } });
    expect(v3[0]).toEqual({ id: '100000000000000001', type: 'groupchat', from: 'bob', to: 'g1', data: 'm100000000000000001', ext: {}, time: '1764000000001', msgConfig: { allowGroupAck: true } });
  });

  it('sends its own requests (the streams too) through conn.request, so a wrapper sees them all', async () => {
    FakeSocket.handlers.sync = () => ({ messages: [], next: 0, more: false });
    FakeSocket.handlers['receipt.stats'] = () => ({ entries: [], next: 0, more: false });
    const c = newConn();
    const seenOps: string[] = [];
    const request = c.request.bind(c);
    c.request = ((op: string, data: unknown) => {
      seenOps.push(op);
      return request(op, data);
    }) as typeof c.request;
    await c.open({ user: 'alice', accessToken: 'tok' });
    await settle();
    expect(seenOps).toContain('sync');
    expect(seenOps).toContain('receipt.stats');
  });

  it('dedupes live pushes against sync and confirms pushes with a debounced sync', async () => {
    fakeTimers();
    const c = await openConn();
    const got: string[] = [];
    c.addEventHandler('h', { onTextMessage: (m) => got.push(m.id), onCustomMessage: (m) => got.push('c' + m.id) });
    const s = latest();
    s.push('msg', gmsg('200000000000000001', 5));
    s.push('msg', gmsg('200000000000000001', 5));
    s.push('msg', { ...gmsg('200000000000000002', 6), type: 'custom', customEvent: 'vote', customExts: { a: 'b' } });
    expect(got).toEqual(['200000000000000001', 'c200000000000000002']);
    const before = s.ops('sync').length;
    FakeSocket.handlers.sync = (d) => (d.ack < 6 ? { messages: [gmsg('200000000000000001', 5), gmsg('200000000000000002', 6)], next: 6, more: false } : { messages: [], next: 6, more: false });
    await vi.advanceTimersByTimeAsync(999);
    expect(s.ops('sync').length).toBe(before);
    await vi.advanceTimersByTimeAsync(1);
    await settle();
    expect(s.ops('sync').slice(before).map((r) => r.data.ack)).toEqual([0, 6]);
    expect(got).toEqual(['200000000000000001', 'c200000000000000002']);
  });

  it('fires onStatisticMessage once with every entry after login', async () => {
    const pages = [
      { entries: [{ mid: '300000000000000001', groupId: 'g1', count: 2, from: 'bob', ackContent: '{}', timestamp: 1 }], next: 4, more: true },
      { entries: [{ mid: '300000000000000002', groupId: 'g1', count: 7, from: 'carol', ackContent: '', timestamp: 2 }], next: 9, more: false },
      { entries: [], next: 9, more: false },
    ];
    let i = 0;
    FakeSocket.handlers['receipt.stats'] = () => pages[i++];
    const stats = vi.fn();
    const c = newConn();
    c.addEventHandler('h', { onStatisticMessage: stats });
    await c.open({ user: 'alice', accessToken: 'tok' });
    await settle();
    expect(latest().ops('receipt.stats').map((r) => r.data)).toEqual([{ ack: 0, limit: 500 }, { ack: 4, limit: 500 }, { ack: 9, limit: 500 }]);
    expect(stats).toHaveBeenCalledTimes(1);
    const arg = stats.mock.calls[0][0];
    expect(arg.operation).toBe(0);
    expect(JSON.parse(arg.location)).toEqual({
      group_ack: [
        { mid: '300000000000000001', groupId: 'g1', count: 2, from: 'bob', ackContent: '{}', timestamp: 1 },
        { mid: '300000000000000002', groupId: 'g1', count: 7, from: 'carol', ackContent: '', timestamp: 2 },
      ],
    });
  });

  it('starts over when its position is beyond the stream (server data reset)', async () => {
    const c = await openConn();
    FakeSocket.handlers.sync = (d) => (d.ack > 0 ? { error: { code: 110, name: 'bad_request', message: 'ack 9 is beyond the stream head' } } : { messages: [gmsg('100000000000000009', 1)], next: 0, more: false });
    (c as any).inbox.sync.position = 9;
    const got: string[] = [];
    c.addEventHandler('h', { onTextMessage: (m) => got.push(m.id) });
    latest().push('msg', gmsg('100000000000000008', 1));
    await (c as any).inbox.sync.run();
    await settle();
    expect(latest().ops('sync').slice(-2).map((r) => r.data.ack)).toEqual([9, 0]);
    expect(got).toEqual(['100000000000000008', '100000000000000009']);
    c.close();
  });

  it('does not fire onStatisticMessage when nothing changed', async () => {
    const stats = vi.fn();
    const c = newConn();
    c.listen({ onStatisticMessage: stats });
    await c.open({ user: 'alice', accessToken: 'tok' });
    await settle();
    expect(stats).not.toHaveBeenCalled();
  });
});

describe('receipt pushes', () => {
  it('onReadMessage in both shapes; counts never go backwards', async () => {
    const c = await openConn();
    const v4: any[] = [];
    const v3: any[] = [];
    c.addEventHandler('h', { onReadMessage: (m) => v4.push(m) });
    c.listen({ onReadMessage: (m) => v3.push(m) });
    const s = latest();
    s.push('receipt', { mid: '400000000000000001', groupId: 'g1', count: 5, from: 'bob', ackContent: '{}', timestamp: 1764000000000 });
    s.push('receipt', { mid: '400000000000000001', groupId: 'g1', count: 4, from: 'carol', ackContent: '', timestamp: 1764000000001 });
    expect(v4[0]).toEqual({ id: expect.stringMatching(/^\d+$/), type: 'read', from: 'bob', to: 'g1', mid: '400000000000000001', groupReadCount: { '400000000000000001': 5 }, ackContent: '{}', time: 1764000000000 });
    expect(v4[1].groupReadCount).toEqual({ '400000000000000001': 5 });
    expect(v3[0]).toEqual({ mid: '400000000000000001', groupReadCount: { '400000000000000001': 5 }, ackContent: '{}', from: 'bob', to: 'g1' });
    s.push('read', { mid: '400000000000000009', from: 'bob', to: 'alice', timestamp: 1 });
    expect(v4[2]).toEqual({ id: expect.any(String), type: 'read', from: 'bob', to: 'alice', mid: '400000000000000009', time: 1 });
    expect(v4[2].groupReadCount).toBeUndefined();
  });

  it('delivery, channel and group pushes', async () => {
    const c = await openConn();
    const ev: Record<string, any[]> = { d: [], ch: [], g: [], g3: [] };
    c.addEventHandler('h', { onDeliveredMessage: (m) => ev.d.push(m), onChannelMessage: (m) => ev.ch.push(m), onGroupEvent: (m) => ev.g.push(m) });
    c.listen({ onGroupChange: (m) => ev.g3.push(m) });
    const s = latest();
    s.push('delivery', { mid: '5', from: 'bob', to: 'alice', timestamp: 1 });
    s.push('channel', { chatType: 'singleChat', from: 'bob', to: 'alice', timestamp: 2 });
    s.push('group', { groupId: 'g1', op: 'memberPresence', actor: 'alice', users: ['dave'], groupName: 'team', timestamp: 3 });
    expect(ev.d[0]).toMatchObject({ type: 'delivery', from: 'bob', to: 'alice', mid: '5' });
    expect(ev.ch[0]).toMatchObject({ type: 'channel', chatType: 'singleChat', from: 'bob', to: 'alice' });
    expect(ev.g[0]).toMatchObject({ operation: 'memberPresence', id: 'g1', name: 'team', from: 'alice', userId: 'dave' });
    expect(ev.g3[0]).toMatchObject({ type: 'memberPresence', gid: 'g1', from: 'alice' });
  });

  it('stored single-chat receipts from sync fire the push events once, deduped by id', async () => {
    fakeTimers();
    const receipt = (id: string, seq: number, type: string, mid?: string) => ({ id, localId: `${type}:x`, seq, type, chatType: 'singleChat', from: 'bob', to: 'alice', ...(mid ? { mid } : {}), time: 1764000000000 + seq });
    const missed = [receipt('800000000000000001', 1, 'delivery', '700000000000000001'), receipt('800000000000000002', 2, 'read', '700000000000000001'), receipt('800000000000000003', 3, 'channel')];
    FakeSocket.handlers.sync = (d) => (d.ack < 3 ? { messages: missed, next: 3, more: false } : { messages: [], next: 3, more: false });
    FakeSocket.handlers['receipt.delivered'] = () => ({});
    const v4: Record<string, any[]> = { read: [], delivery: [], channel: [] };
    const v3: any[] = [];
    const c = newConn({ delivery: true });
    c.addEventHandler('h', { onReadMessage: (m) => v4.read.push(m), onDeliveredMessage: (m) => v4.delivery.push(m), onChannelMessage: (m) => v4.channel.push(m) });
    c.listen({ onReadMessage: (m) => v3.push(m) });
    await c.open({ user: 'alice', accessToken: 'tok' });
    await settle();
    expect(v4.delivery).toEqual([{ id: '800000000000000001', type: 'delivery', from: 'bob', to: 'alice', mid: '700000000000000001', time: 1764000000001 }]);
    expect(v4.read).toEqual([{ id: '800000000000000002', type: 'read', from: 'bob', to: 'alice', mid: '700000000000000001', time: 1764000000002 }]);
    expect(v4.channel).toEqual([{ id: '800000000000000003', type: 'channel', chatType: 'singleChat', from: 'bob', to: 'alice', time: 1764000000003 }]);
    expect(v3).toEqual([{ id: '800000000000000002', mid: '700000000000000001', from: 'bob', to: 'alice', time: '1764000000002' }]);
    // The live copies of the same receipts (a push that raced the sync) fire nothing more.
    const s = latest();
    s.push('read', { id: '800000000000000002', seq: 2, mid: '700000000000000001', from: 'bob', to: 'alice', timestamp: 1764000000002 });
    s.push('delivery', { id: '800000000000000001', seq: 1, mid: '700000000000000001', from: 'bob', to: 'alice', timestamp: 1764000000001 });
    s.push('channel', { id: '800000000000000003', seq: 3, chatType: 'singleChat', from: 'bob', to: 'alice', timestamp: 1764000000003 });
    expect([v4.read.length, v4.delivery.length, v4.channel.length]).toEqual([1, 1, 1]);
    // Receipts are not messages: no delivery receipt is sent for them.
    expect(s.ops('receipt.delivered')).toEqual([]);
  });

  it('a live receipt push, then the same receipt from sync: one event, confirmed by a debounced sync', async () => {
    fakeTimers();
    const c = await openConn();
    const got: any[] = [];
    c.addEventHandler('h', { onReadMessage: (m) => got.push(m) });
    const s = latest();
    s.push('read', { id: '810000000000000001', seq: 7, mid: '700000000000000002', from: 'bob', to: 'alice', timestamp: 5 });
    expect(got).toEqual([{ id: '810000000000000001', type: 'read', from: 'bob', to: 'alice', mid: '700000000000000002', time: 5 }]);
    const before = s.ops('sync').length;
    FakeSocket.handlers.sync = (d) =>
      d.ack < 7 ? { messages: [{ id: '810000000000000001', localId: 'read:700000000000000002', seq: 7, type: 'read', chatType: 'singleChat', from: 'bob', to: 'alice', mid: '700000000000000002', time: 5 }], next: 7, more: false } : { messages: [], next: 7, more: false };
    await vi.advanceTimersByTimeAsync(1000);
    await settle();
    expect(s.ops('sync').slice(before).map((r) => r.data.ack)).toEqual([0, 7]);
    expect(got.length).toBe(1);
  });
});

describe('sending', () => {
  it('v3: success(localId, serverMsgId) after the server stored it', async () => {
    FakeSocket.handlers['msg.send'] = (d) => ({ localId: d.localId, id: '123456789012345678', time: 1764000000000, seq: 42 });
    const c = await openConn();
    const success = vi.fn();
    const m = new WebIM.message('txt', c.getUniqueId());
    m.set({ msg: 'hi', to: 'g1', chatType: 'groupChat', success, fail: () => {} });
    m.body.msgConfig = { allowGroupAck: true };
    c.send(m.body);
    await settle();
    expect(latest().ops('msg.send')[0].data).toEqual({ localId: m.id, type: 'txt', chatType: 'groupChat', to: 'g1', msg: 'hi', msgConfig: { allowGroupAck: true } });
    expect(success).toHaveBeenCalledWith(m.id, '123456789012345678');
  });

  it('v3: fail(err) with the server code', async () => {
    FakeSocket.handlers['msg.send'] = () => ({ error: { code: 603, name: 'permission_denied', message: 'only the group owner and admins may request read receipts' } });
    const c = await openConn();
    const fail = vi.fn();
    const m = new WebIM.message('txt', c.getUniqueId());
    m.set({ msg: 'hi', to: 'g1', chatType: 'groupChat', msgConfig: { allowGroupAck: true }, fail });
    c.send(m.body);
    await settle();
    expect(fail.mock.calls[0][0]).toMatchObject({ type: 603, message: 'only the group owner and admins may request read receipts', data: { name: 'permission_denied' } });
  });

  it('v4: send resolves { localMsgId, serverMsgId, message }', async () => {
    FakeSocket.handlers['msg.send'] = (d) => ({ localId: d.localId, id: '123456789012345678', time: 1764000000000, seq: 42 });
    const c = await openConn();
    const m = WebIM.message.create({ type: 'txt', chatType: 'singleChat', to: 'bob', msg: 'hi', ext: { k: 'v' } });
    const r = await c.send(m);
    expect(r.localMsgId).toBe(m.id);
    expect(r.serverMsgId).toBe('123456789012345678');
    expect(r.message).toMatchObject({ id: '123456789012345678', from: 'alice', to: 'bob', msg: 'hi', time: 1764000000000 });
    expect(latest().ops('msg.send')[0].data.ext).toEqual({ k: 'v' });
  });

  it('single-chat read, delivery and channel', async () => {
    for (const op of ['receipt.read', 'receipt.delivered']) FakeSocket.handlers[op] = () => ({});
    FakeSocket.handlers['conv.ack'] = () => ({ receiptsCounted: 3 });
    const c = await openConn();
    await c.send(WebIM.message.create({ type: 'read', chatType: 'singleChat', to: 'bob', id: '600000000000000001' }));
    await c.send(WebIM.message.create({ type: 'delivery', to: 'bob', id: '600000000000000002' }));
    const r = await c.send(WebIM.message.create({ type: 'channel', chatType: 'groupChat', to: 'g1' }));
    const s = latest();
    expect(s.ops('receipt.read')[0].data).toEqual({ to: 'bob', msgId: '600000000000000001' });
    expect(s.ops('receipt.delivered')[0].data).toEqual({ to: 'bob', msgId: '600000000000000002' });
    expect(s.ops('conv.ack')[0].data).toEqual({ chatType: 'groupChat', to: 'g1' });
    expect(r.receiptsCounted).toBe(3);
  });

  it('getGroupMsgReadUser: order is asc or desc; getGroupMsgReadCount: withUnread per 100 ids', async () => {
    FakeSocket.handlers['receipt.counts'] = (d: any) => ({
      counts: Object.fromEntries(d.msgIds.map((id: string) => [id, 1])),
      ...(d.withUnread ? { unread: Object.fromEntries(d.msgIds.map((id: string) => [id, 2])) } : {}),
    });
    const c = await openConn();
    const bad = await c.getGroupMsgReadUser({ msgId: '1', groupId: '2', order: 'newest' as any }).catch((e) => e);
    expect(bad).toMatchObject({ type: WebIM.statusCode.REQUEST_PARAMETER_ERROR });
    expect(latest().ops('receipt.readers')).toEqual([]);
    const ids = Array.from({ length: 150 }, (_, i) => String(1000 + i));
    const r = await c.getGroupMsgReadCount({ groupId: '2', msgIds: ids, withUnread: true });
    expect(latest().ops('receipt.counts').map((x) => [x.data.msgIds.length, x.data.withUnread])).toEqual([[100, true], [50, true]]);
    expect(Object.keys(r.data).length).toBe(150);
    expect(Object.keys(r.unread!).length).toBe(150);
    expect(r.unread!['1149']).toBe(2);
    const plain = await c.getGroupMsgReadCount({ groupId: '2', msgIds: ['1000'] });
    expect(plain).toEqual({ type: 0, data: { '1000': 1 } });
    expect(latest().ops('receipt.counts')[2].data).toEqual({ groupId: '2', msgIds: ['1000'] });
    c.close();
  });

  it('unsupported types fail with a parameter error', async () => {
    const c = await openConn();
    const err = await c.send({ id: '1', type: 'img', to: 'bob' } as any).catch((e) => e);
    expect(err.type).toBe(statusCode.REQUEST_PARAMETER_ERROR);
    const room = await c.send(WebIM.message.create({ type: 'txt', chatType: 'chatRoom', to: 'r1', msg: 'x' })).catch((e) => e);
    expect(room.type).toBe(statusCode.REQUEST_PARAMETER_ERROR);
    expect(latest().ops('msg.send')).toEqual([]);
  });

  it('before open: fails with WEBIM_CONNECTION_CLOSED', async () => {
    const c = newConn();
    const err = await c.send(WebIM.message.create({ type: 'txt', to: 'bob', msg: 'x' })).catch((e) => e);
    expect(err.type).toBe(statusCode.WEBIM_CONNECTION_CLOSED);
  });

  it('sends delivery receipts automatically with delivery: true', async () => {
    FakeSocket.handlers['receipt.delivered'] = () => ({});
    const c = await openConn({ delivery: true });
    latest().push('msg', { ...gmsg('700000000000000001', 1), chatType: 'singleChat', to: 'alice', msgConfig: undefined });
    await settle();
    expect(latest().ops('receipt.delivered')[0].data).toEqual({ to: 'bob', msgId: '700000000000000001' });
  });
});

describe('connection life', () => {
  it('sends while reconnecting fail fast with WEBIM_CONNCTION_DISCONNECTED', async () => {
    fakeTimers();
    const c = await openConn({ random: () => 0.5 });
    const reconnecting = vi.fn();
    c.addEventHandler('h', { onReconnecting: reconnecting });
    FakeSocket.autoOpen = false;
    latest().serverClose(1006);
    expect(reconnecting).toHaveBeenCalledTimes(1);
    const err = await c.send(WebIM.message.create({ type: 'txt', to: 'bob', msg: 'x' })).catch((e) => e);
    expect(err.type).toBe(16);
    c.close();
  });

  it('pending requests fail with WEBIM_CONNCTION_DISCONNECTED when the socket drops', async () => {
    fakeTimers();
    FakeSocket.handlers['msg.send'] = () => NO_REPLY;
    const c = await openConn();
    const p = c.send(WebIM.message.create({ type: 'txt', to: 'bob', msg: 'x' })).catch((e) => e);
    await settle();
    latest().serverClose(4009);
    expect((await p).type).toBe(16);
    c.close();
  });

  it('queueWhileDisconnected: sends wait for the reconnect, in-flight idempotent requests are resent', async () => {
    fakeTimers();
    let answer = false;
    FakeSocket.handlers['msg.send'] = (d) => (answer ? { localId: d.localId, id: '800000000000000001', time: 1, seq: 1 } : NO_REPLY);
    const c = await openConn({ queueWhileDisconnected: true, random: () => 0.5 });
    const inflight = c.send(WebIM.message.create({ type: 'txt', to: 'bob', msg: 'a' }));
    await settle();
    latest().serverClose(1001);
    const queued = c.send(WebIM.message.create({ type: 'txt', to: 'bob', msg: 'b' }));
    answer = true;
    await vi.advanceTimersByTimeAsync(500);
    await settle();
    expect(FakeSocket.all.length).toBe(2);
    expect((await inflight).serverMsgId).toBe('800000000000000001');
    expect((await queued).serverMsgId).toBe('800000000000000001');
    expect(latest().ops('msg.send').map((r) => r.data.msg)).toEqual(['a', 'b']);
    c.close();
  });

  it('reconnects with backoff and full jitter, re-authenticates with the token, and catches up', async () => {
    fakeTimers();
    const c = await openConn({ random: () => 0.999 });
    const events: string[] = [];
    c.addEventHandler('h', { onReconnecting: () => events.push('reconnecting'), onConnected: () => events.push('connected'), onDisconnected: () => events.push('disconnected') });
    FakeSocket.autoOpen = false;
    latest().serverClose(1001); // attempt 1: up to 1 s
    expect(FakeSocket.all.length).toBe(1);
    await vi.advanceTimersByTimeAsync(998);
    expect(FakeSocket.all.length).toBe(1);
    await vi.advanceTimersByTimeAsync(1);
    expect(FakeSocket.all.length).toBe(2);
    latest().serverClose(1006); // attempt 2: up to 2 s
    await vi.advanceTimersByTimeAsync(1997);
    expect(FakeSocket.all.length).toBe(2);
    await vi.advanceTimersByTimeAsync(1);
    expect(FakeSocket.all.length).toBe(3);
    FakeSocket.autoOpen = true;
    latest().serverOpen();
    await settle();
    expect(events).toEqual(['reconnecting', 'reconnecting', 'connected']);
    expect(latest().ops('auth')[0].data.token).toBe('tok');
    expect(latest().ops('sync').length).toBeGreaterThan(0);
    expect(latest().ops('receipt.stats').length).toBeGreaterThan(0);
    c.close();
  });

  it("the browser's online event skips the backoff wait and reconnects at once", async () => {
    fakeTimers();
    const w = new EventTarget();
    (globalThis as { window?: unknown }).window = w;
    try {
      const c = await openConn({ random: () => 0.999 });
      FakeSocket.autoOpen = false;
      latest().serverClose(1006); // waits up to 1 s
      expect(FakeSocket.all.length).toBe(1);
      w.dispatchEvent(new Event('online'));
      await settle();
      expect(FakeSocket.all.length).toBe(2); // at once, not after the backoff
      FakeSocket.autoOpen = true;
      latest().serverOpen();
      await settle();
      c.reconnectNow(); // connected: nothing to do
      expect(FakeSocket.all.length).toBe(2);
      c.close();
      w.dispatchEvent(new Event('online')); // closed: the listener is gone
      await settle();
      expect(FakeSocket.all.length).toBe(2);
    } finally {
      delete (globalThis as { window?: unknown }).window;
    }
  });

  it('4001 / 4002: no reconnect, onError with the token error, onClosed', async () => {
    fakeTimers();
    for (const code of [4001, 4002]) {
      FakeSocket.reset();
      const c = await openConn();
      const onError = vi.fn();
      const onClosed = vi.fn();
      c.listen({ onError, onClosed });
      latest().serverClose(code, 'token revoked');
      await vi.advanceTimersByTimeAsync(60000);
      expect(FakeSocket.all.length).toBe(1);
      expect(onError.mock.calls[0][0]).toMatchObject({ type: 202, data: { closeCode: code } });
      expect(onClosed).toHaveBeenCalledTimes(1);
      expect(c.isOpened()).toBe(false);
    }
  });

  it('gives up after autoReconnectNumMax attempts', async () => {
    fakeTimers();
    const c = await openConn({ autoReconnectNumMax: 2, random: () => 0 });
    const onError = vi.fn();
    const onDisconnected = vi.fn();
    c.addEventHandler('h', { onError, onDisconnected });
    FakeSocket.autoOpen = false;
    latest().serverClose(1006);
    await vi.advanceTimersByTimeAsync(1);
    latest().serverClose(1006);
    await vi.advanceTimersByTimeAsync(1);
    latest().serverClose(1006);
    await vi.advanceTimersByTimeAsync(1);
    expect(FakeSocket.all.length).toBe(3);
    expect(onError.mock.calls[0][0].type).toBe(16);
    expect(onDisconnected).toHaveBeenCalledTimes(1);
  });

  it('pings every heartBeatWait and treats two missed pongs as a dead connection', async () => {
    fakeTimers();
    const c = await openConn({ heartBeatWait: 1000, random: () => 0 });
    const s = latest();
    await vi.advanceTimersByTimeAsync(1000);
    expect(s.ops('ping').length).toBe(1);
    expect(s.ops('ping')[0].data).toEqual({});
    FakeSocket.handlers.ping = () => NO_REPLY;
    await vi.advanceTimersByTimeAsync(1000); // ping 2: answered? no
    await vi.advanceTimersByTimeAsync(1000); // ping 3, 2 missed
    expect(FakeSocket.all.length).toBe(1);
    await vi.advanceTimersByTimeAsync(1000); // dead: reconnect
    await vi.advanceTimersByTimeAsync(1);
    await settle();
    expect(s.closedByClient).toBeDefined();
    expect(FakeSocket.all.length).toBe(2);
    c.close();
  });

  it('close(): onClosed, pending requests aborted, no reconnect', async () => {
    fakeTimers();
    FakeSocket.handlers['msg.send'] = () => NO_REPLY;
    const c = await openConn();
    const onClosed = vi.fn();
    c.listen({ onClosed });
    const p = c.send(WebIM.message.create({ type: 'txt', to: 'bob', msg: 'x' })).catch((e) => e);
    await settle();
    c.close();
    expect((await p).type).toBe(statusCode.REQUEST_ABORT);
    expect(onClosed).toHaveBeenCalledTimes(1);
    expect(latest().closedByClient?.code).toBe(1000);
    await vi.advanceTimersByTimeAsync(60000);
    expect(FakeSocket.all.length).toBe(1);
  });
});

describe('history', () => {
  it("my single-chat messages carry the peer's read state as isRead / isDelivered", async () => {
    const at = 1764000000000;
    const smsg = (id: string, seq: number, from: string, extra: object = {}) => ({ id, seq, type: 'txt', chatType: 'singleChat', from, to: from === 'alice' ? 'bob' : 'alice', msg: 'm' + id, time: at + seq, ...extra });
    FakeSocket.handlers.history = () => ({
      messages: [smsg('13', 13, 'alice'), smsg('12', 12, 'alice', { isDelivered: true }), smsg('11', 11, 'bob'), smsg('10', 10, 'alice', { isRead: true, isDelivered: true })],
      cursor: '10',
      isLast: true,
    });
    const c = await openConn();
    const r = await c.getHistoryMessages({ targetId: 'bob', chatType: 'singleChat' });
    expect(r.messages.map((m: any) => [m.id, m.from, m.isRead, m.isDelivered])).toEqual([
      ['13', 'alice', false, false],
      ['12', 'alice', false, true],
      ['11', 'bob', undefined, undefined],
      ['10', 'alice', true, true],
    ]);
    c.close();
  });
});

describe('device id', () => {
  it('is kept in localStorage under seen.deviceId', () => {
    const store = new Map<string, string>();
    (globalThis as any).localStorage = { getItem: (k: string) => store.get(k) ?? null, setItem: (k: string, v: string) => store.set(k, v) };
    try {
      const a = new Connection({ url: 'ws://h/ws' });
      const b = new Connection({ url: 'ws://h/ws' });
      expect(a.deviceId).toMatch(/^web-[0-9a-f]{16}$/);
      expect(b.deviceId).toBe(a.deviceId);
      expect(store.get(deviceIdKey)).toBe(a.deviceId);
    } finally {
      delete (globalThis as any).localStorage;
    }
  });
  it('falls back to a random id without localStorage', () => {
    const a = new Connection({ url: 'ws://h/ws' });
    const b = new Connection({ url: 'ws://h/ws' });
    expect(a.deviceId).not.toBe(b.deviceId);
  });
});
