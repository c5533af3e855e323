// Contract tests: replay internal/protocol/testdata/golden.json, the frames the Go server is
// tested against. Every request the SDK builds must equal the golden request for its op; every
// golden reply, error and push must become the right result or event.
import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import type { Connection } from '../src/connection';
import WebIM from '../src/index';
import { FakeSocket, latest, newConn, openConn, settle } from './fake';

const goldenPath = fileURLToPath(new URL('../../internal/protocol/testdata/golden.json', import.meta.url));

interface Golden {
  name: string;
  frame: any;
}

let golden: Map<string, any>;

beforeAll(() => {
  if (!existsSync(goldenPath)) throw new Error(`golden frames missing: ${goldenPath} (written by the protocol package)`);
  const list = JSON.parse(readFileSync(goldenPath, 'utf8')) as Golden[];
  golden = new Map(list.map((g) => [g.name, g.frame]));
});

const G = '987654321098765432';
const M = '123456789012345678';

/** A driver makes the SDK send one golden request; check looks at what it returned for the golden reply. */
interface Driver {
  run: (c: Connection) => Promise<any>;
  check?: (result: any, reply: any) => void;
  /** Which request of the op to compare (sync and stats loops send several). */
  pick?: number;
  /** The golden reply to answer with; default `<op>.reply`. */
  reply?: string;
}

const drivers: Record<string, Driver> = {
  'msg.send.request': {
    run: (c) => {
      const m = new WebIM.message('txt', '17640000000001');
      m.set({ msg: 'hello', to: G, chatType: 'groupChat', ext: { color: 'red' } });
      m.body.msgConfig = { allowGroupAck: true };
      return c.send(m.body);
    },
    check: (r, reply) => expect(r).toMatchObject({ localMsgId: '17640000000001', serverMsgId: reply.id, message: { id: reply.id, time: reply.time } }),
  },
  'msg.send.request.custom': {
    run: (c) => c.send(WebIM.message.create({ type: 'custom', chatType: 'singleChat', to: 'bob', id: '17640000000002', customEvent: 'vote', customExts: { choice: 'a' } })),
  },
  'sync.request': {
    run: async () => undefined,
    pick: 1,
  },
  'history.request': {
    run: (c) => c.getHistoryMessages({ targetId: G, chatType: 'groupChat', cursor: '41', pageSize: 20, searchDirection: 'up' }),
    check: (r, reply) => {
      expect(r.cursor).toBe(reply.cursor);
      expect(r.isLast).toBe(reply.isLast);
      expect(r.messages[0]).toEqual({ id: '123456789012345600', type: 'txt', chatType: 'groupChat', from: 'carol', to: G, msg: 'morning', ext: {}, time: 1763999990000 });
    },
  },
  'history.request.single': {
    run: (c) => c.getHistoryMessages({ targetId: 'bob', chatType: 'singleChat', pageSize: 3 }),
    reply: 'history.reply.single',
    check: (r) => {
      expect(r.messages.map((m: any) => [m.id, m.isRead, m.isDelivered])).toEqual([
        ['123456789012345603', false, false],
        ['123456789012345602', false, true],
        ['123456789012345601', true, true],
      ]);
    },
  },
  'conv.list.request': {
    run: (c) => c.getServerConversations({ pageSize: 20 }),
    check: (r) => {
      expect(r.data.conversations.map((x: any) => [x.conversationId, x.conversationType, x.unReadCount, x.lastMessage.id])).toEqual([
        [G, 'groupChat', 2, M],
        ['bob', 'singleChat', 1, '123456789012345679'],
      ]);
    },
  },
  'conv.ack.request': {
    run: (c) => c.send(WebIM.message.create({ type: 'channel', chatType: 'groupChat', to: G })),
    check: (r) => expect(r.receiptsCounted).toBe(3),
  },
  'receipt.ack.request': {
    run: (c) => {
      const a = WebIM.message.create({ type: 'read', chatType: 'groupChat', to: G, id: M, ackContent: '{"emoji":"ok"}' });
      const b = new WebIM.message('read', c.getUniqueId());
      b.set({ id: '123456789012345600', to: G });
      b.setChatType('groupChat');
      return Promise.allSettled([c.send(a), c.send(b.body)]);
    },
    check: (r) => {
      expect(r[0]).toMatchObject({ status: 'fulfilled', value: { counted: true, count: 5 } });
      expect(r[1].status).toBe('rejected');
      expect(r[1].reason).toMatchObject({ type: 54, message: 'message 123456789012345600 did not ask for read receipts', data: { name: 'not_allowed' } });
    },
  },
  'receipt.read.request': { run: (c) => c.send(WebIM.message.create({ type: 'read', chatType: 'singleChat', to: 'bob', id: '123456789012345679' })) },
  'receipt.delivered.request': { run: (c) => c.send(WebIM.message.create({ type: 'delivery', to: 'bob', id: '123456789012345679' })) },
  'receipt.readers.request': {
    run: (c) => c.getGroupMsgReadUser({ msgId: M, groupId: G, pageSize: 50 }),
    check: (r) =>
      expect(r).toEqual({
        type: 0,
        data: {
          ackmid: M, total: 120, userlist: ['bob', 'carol'],
          users: [{ username: 'bob', time: 1764000001000, ackContent: '' }, { username: 'carol', time: 1764000002000, ackContent: '{"emoji":"ok"}' }],
          is_last: false, next_key: '1764000002000.17', timestamp: expect.any(Number),
        },
      }),
  },
  'receipt.readers.request.desc': {
    run: (c) => c.getGroupMsgReadUser({ msgId: M, groupId: G, pageSize: 2, cursor: '1764000009000.21', order: 'desc' }),
    reply: 'receipt.readers.reply.desc',
    check: (r) => {
      expect(r.data.userlist).toEqual(['carol', 'bob']);
      expect(r.data.users[0]).toEqual({ username: 'carol', time: 1764000008000, ackContent: '{"emoji":"ok"}' });
      expect(r.data).toMatchObject({ total: 120, is_last: false, next_key: '1764000007000.12' });
    },
  },
  'receipt.unread.request': {
    run: (c) => c.getGroupMsgUnreadUser({ msgId: M, groupId: G, cursor: '17', pageSize: 100 }),
    check: (r) => {
      const never = (username: string) => ({ username, reminded: 0, remindedAt: 0 });
      expect(r).toEqual({ type: 0, data: { total: 3, userlist: ['dave', 'erin', 'frank'], users: ['dave', 'erin', 'frank'].map(never), is_last: true, next_key: '' } });
    },
  },
  'receipt.counts.request': {
    run: (c) => c.getGroupMsgReadCount({ groupId: G, msgIds: [M, '123456789012345680'] }),
    check: (r) => expect(r).toEqual({ type: 0, data: { [M]: 5, '123456789012345680': 0 } }),
  },
  'receipt.counts.request.unread': {
    run: (c) => c.getGroupMsgReadCount({ groupId: G, msgIds: [M, '123456789012345680'], withUnread: true }),
    reply: 'receipt.counts.reply.unread',
    check: (r) => expect(r).toEqual({ type: 0, data: { [M]: 5, '123456789012345680': 0 }, unread: { [M]: 3, '123456789012345680': 8 } }),
  },
  'receipt.stats.request': { run: async () => undefined, pick: 0 },
  'receipt.remind.request': {
    run: (c) => c.remindUnreadMembers({ groupId: G, msgId: M }),
    check: (r) => expect(r).toEqual({ type: 0, data: { reminded: 1, skipped: ['erin'], at: 1764000600000, nextAt: 1764001200000 } }),
  },
  'receipt.remind.request.users': {
    run: (c) => c.remindUnreadMembers({ groupId: G, msgId: M, users: ['dave', 'erin'] }),
    reply: 'receipt.remind.reply',
    check: (r) => expect(r.data).toMatchObject({ reminded: 1, skipped: ['erin'] }),
  },
  'receipt.analytics.request': {
    run: (c) => c.getGroupMsgReadAnalytics({ groupId: G, msgId: M }),
    check: (r, reply) => {
      expect(r).toEqual({ type: 0, data: { ...reply } });
      expect(r.data.to90).toBe(null);
      expect(r.data.histogram.at(-1)).toEqual({ upTo: null, count: 0 });
    },
  },
  'group.policy.request': {
    run: (c) => c.getGroupReceiptPolicy({ groupId: G }),
    check: (r) => expect(r).toEqual({ type: 0, data: { request: 'admins', visibility: 'admins', lists: true } }),
  },
  'group.setPolicy.request': {
    run: (c) => c.setGroupReceiptPolicy({ groupId: G, request: 'all', visibility: 'members', lists: false }),
    check: (r) => expect(r).toEqual({ type: 0, data: { request: 'all', visibility: 'members', lists: false } }),
  },
  'group.setPolicy.request.one': {
    run: (c) => c.setGroupReceiptPolicy({ groupId: G, visibility: 'sender' }),
    reply: 'group.setPolicy.reply',
  },
  'user.settings.request': {
    run: (c) => c.getUserSettings(),
    check: (r) => expect(r).toEqual({ type: 0, data: { sendReadReceipts: true } }),
  },
  'user.setSettings.request': {
    run: (c) => c.setUserSettings({ sendReadReceipts: false }),
    check: (r) => expect(r).toEqual({ type: 0, data: { sendReadReceipts: false } }),
  },
  'group.create.request': {
    run: (c) => c.createGroup({ data: { groupname: 'team', desc: 'the team', public: true, maxusers: 500, members: ['bob', 'carol'], approval: false, allowinvites: true, inviteNeedConfirm: false, ext: { topic: 'x' } } }),
    check: (r) => expect(r.data.groupid).toBe(G),
  },
  'group.info.request': {
    run: (c) => c.getGroupInfo({ groupId: G }),
    check: (r) => expect(r.data[0]).toMatchObject({ id: G, name: 'team', owner: 'alice', maxusers: 100000, affiliations_count: 3, public: false }),
  },
  'group.add.request': {
    run: (c) => c.inviteUsersToGroup({ groupId: G, users: ['dave', 'erin'] }),
    check: (r) => expect(r.data.map((x: any) => x.user)).toEqual(['dave']),
  },
  'group.remove.request': { run: (c) => c.removeGroupMember({ groupId: G, username: 'dave' }) },
  'group.setAdmin.request': { run: (c) => c.setAdmin({ groupId: G, username: 'bob' }) },
  'group.removeAdmin.request': { run: (c) => c.removeAdmin({ groupId: G, username: 'bob' }) },
  'group.transfer.request': { run: (c) => c.changeGroupOwner({ groupId: G, newOwner: 'bob' }) },
  'group.leave.request': { run: (c) => c.leaveGroup({ groupId: G }) },
  'group.destroy.request': { run: (c) => c.destroyGroup({ groupId: G }) },
  'group.members.request': {
    run: (c) => c.getGroupMembers({ groupId: G, limit: 2 }),
    check: (r) => expect(r.data).toEqual({ members: [{ owner: 'alice', username: 'alice', role: 'owner', joinedAt: 1764000000000 }, { member: 'bob', username: 'bob', role: 'admin', joinedAt: 1764000000000 }], cursor: '40.2' }),
  },
  'group.admins.request': { run: (c) => c.getGroupAdmin({ groupId: G }), check: (r) => expect(r.data).toEqual(['alice', 'bob']) },
  'group.mine.request': {
    run: (c) => c.getJoinedGroups({ pageNum: 0, pageSize: 100 }),
    check: (r) => expect(r.data[0]).toMatchObject({ groupid: G, groupname: 'team' }),
  },
};

const opOf = (name: string) => name.replace(/\.(request|reply|error)(\..*)?$/, '');

beforeEach(() => FakeSocket.reset());

describe('golden requests and replies', () => {
  it('every golden request has a driver', () => {
    const requests = [...golden.keys()].filter((n) => /\.request(\.|$)/.test(n));
    const missing = requests.filter((n) => !drivers[n] && !['auth.request', 'ping.request'].includes(n));
    expect(missing).toEqual([]);
  });

  it('auth: request, reply, error', async () => {
    const req = golden.get('auth.request');
    FakeSocket.handlers.auth = () => golden.get('auth.reply').data;
    const c = newConn({ deviceId: req.data.device });
    await c.open({ user: 'alice', accessToken: req.data.token });
    expect(latest().ops('auth')[0]).toEqual({ ...req, id: latest().ops('auth')[0].id });
    expect(c.user).toBe('alice');
    c.close();

    FakeSocket.reset();
    FakeSocket.handlers.auth = () => ({ error: golden.get('auth.error').error });
    const err = await newConn().open({ user: 'alice', accessToken: 'x' }).catch((e) => e);
    expect(err).toMatchObject({ type: 202, message: 'unknown or revoked access token', data: { name: 'unauthorized' } });
  });

  it('ping: request and error', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'setInterval', 'clearInterval'] });
    try {
      FakeSocket.handlers.ping = () => ({ error: golden.get('ping.error').error });
      const c = await openConn();
      await vi.advanceTimersByTimeAsync(20000);
      const ping = latest().ops('ping')[0];
      expect({ op: ping.op, data: ping.data }).toEqual({ op: 'ping', data: golden.get('ping.request').data });
      expect(c.isOpened()).toBe(true); // a refused ping is still an answer
      c.close();
    } finally {
      vi.useRealTimers();
    }
  });

  for (const name of Object.keys(drivers)) {
    it(name, async () => {
      const req = golden.get(name);
      expect(req, `golden frame ${name}`).toBeDefined();
      const op = req.op as string;
      const d = drivers[name];
      const reply = golden.get(d.reply ?? `${op}.reply`);
      expect(reply, `golden reply ${d.reply ?? `${op}.reply`}`).toBeDefined();
      if (op === 'sync') {
        let n = 0;
        FakeSocket.handlers.sync = () => (n++ === 0 ? { messages: [], next: 41, more: true } : reply.data);
      } else if (op !== 'receipt.stats') {
        FakeSocket.handlers[op] = () => reply.data;
      }
      const c = await openConn();
      const result = await d.run(c);
      await settle();
      const sent = latest().ops(op)[d.pick ?? 0];
      expect(sent, `the SDK sent no ${op}`).toBeDefined();
      expect({ op: sent.op, data: sent.data }).toEqual({ op: req.op, data: req.data });
      d.check?.(result, reply.data);

      // The golden error of the op, as the SDK reports it.
      const errFrame = golden.get(`${op}.error`);
      if (!errFrame || op === 'sync' || op === 'receipt.stats') return;
      FakeSocket.handlers[op] = () => ({ error: errFrame.error });
      const got = await d.run(c).then(
        (r) => (Array.isArray(r) ? r.find((x: any) => x.status === 'rejected')?.reason : r),
        (e) => e,
      );
      expect(got).toMatchObject({ type: errFrame.error.code, message: errFrame.error.message, data: { name: errFrame.error.name } });
      c.close();
    });
  }

  it('sync reply: messages delivered in both shapes; sync error reported through onError', async () => {
    const reply = golden.get('sync.reply').data;
    let n = 0;
    FakeSocket.handlers.sync = () => (n++ === 0 ? reply : { messages: [], next: reply.next, more: false });
    const txt: any[] = [];
    const custom3: any[] = [];
    const c = newConn();
    c.addEventHandler('h', { onTextMessage: (m) => txt.push(m) });
    c.listen({ onCustomMessage: (m) => custom3.push(m) });
    await c.open({ user: 'alice', accessToken: 't' });
    await settle();
    expect(txt).toEqual([{ id: M, type: 'txt', chatType: 'groupChat', from: 'alice', to: G, msg: 'hello', ext: {}, time: 1764000000000, msgConfig: { allowGroupAck: true }, readCount: 3 }]);
    expect(custom3).toEqual([{ id: '123456789012345679', type: 'chat', from: 'bob', to: 'alice', customEvent: 'vote', customExts: { choice: 'a' }, params: { choice: 'a' }, ext: { k: 1 }, time: '1764000000500' }]);
    expect(latest().ops('sync').map((r) => r.data.ack)).toEqual([0, 57]);
    c.close();

    FakeSocket.reset();
    FakeSocket.handlers.sync = () => ({ error: golden.get('sync.error').error });
    const onError = vi.fn();
    const c2 = newConn();
    c2.addEventHandler('h', { onError });
    await c2.open({ user: 'alice', accessToken: 't' });
    await settle();
    expect(onError.mock.calls[0][0]).toMatchObject({ type: 110, data: { name: 'bad_request' } });
    c2.close();
  });

  it('receipt.stats reply: one onStatisticMessage', async () => {
    const reply = golden.get('receipt.stats.reply').data;
    let n = 0;
    FakeSocket.handlers['receipt.stats'] = () => (n++ === 0 ? reply : { entries: [], next: reply.next, more: false });
    const stats = vi.fn();
    const c = newConn();
    c.listen({ onStatisticMessage: stats });
    await c.open({ user: 'alice', accessToken: 't' });
    await settle();
    expect(stats).toHaveBeenCalledTimes(1);
    expect(JSON.parse(stats.mock.calls[0][0].location).group_ack).toEqual(reply.entries);
    expect(latest().ops('receipt.stats').map((r) => r.data.ack)).toEqual([0, 9]);
    c.close();
  });

  it('the other golden errors of the new ops, as the SDK reports them', async () => {
    const cases: [string, string, (c: Connection) => Promise<unknown>][] = [
      ['receipt.remind', 'receipt.remind.error.permission', (c) => c.remindUnreadMembers({ groupId: G, msgId: M })],
      ['group.setPolicy', 'group.setPolicy.error.permission', (c) => c.setGroupReceiptPolicy({ groupId: G, lists: false })],
    ];
    const c = await openConn();
    for (const [op, name, run] of cases) {
      const e = golden.get(name).error;
      FakeSocket.handlers[op] = () => ({ error: e });
      expect(await run(c).catch((x) => x), name).toMatchObject({ type: e.code, message: e.message, data: { name: e.name } });
    }
    c.close();
  });

  it('group.info.reply.policy: getGroupInfo carries the receipt policy', async () => {
    FakeSocket.handlers['group.info'] = () => golden.get('group.info.reply.policy').data;
    const c = await openConn();
    const r = await c.getGroupInfo({ groupId: G });
    expect(r.data[0]).toMatchObject({ id: G, name: 'team', receiptPolicy: { request: 'admins', visibility: 'members', lists: false } });
    // Without it (older servers, group.info.reply) there is no receiptPolicy.
    FakeSocket.handlers['group.info'] = () => golden.get('group.info.reply').data;
    expect((await c.getGroupInfo({ groupId: G })).data[0].receiptPolicy).toBeUndefined();
    c.close();
  });

  it('receipt.unread.reply.reminders: each member with how often and when last reminded', async () => {
    FakeSocket.handlers['receipt.unread'] = () => golden.get('receipt.unread.reply.reminders').data;
    const c = await openConn();
    const r = await c.getGroupMsgUnreadUser({ groupId: G, msgId: M });
    expect(r.data.userlist).toEqual(['dave', 'erin', 'frank']);
    expect(r.data.users).toEqual([
      { username: 'dave', reminded: 2, remindedAt: 1764000600000 },
      { username: 'erin', reminded: 0, remindedAt: 0 },
      { username: 'frank', reminded: 1, remindedAt: 1764000000000 },
    ]);
    c.close();
  });

  it('sync.reply.remind -> onReminder once, the same as push.receipt.reminder; not a message', async () => {
    const reply = golden.get('sync.reply.remind').data;
    let n = 0;
    FakeSocket.handlers.sync = () => (n++ === 0 ? reply : { messages: [], next: reply.next, more: false });
    const got: any[] = [];
    const got3: any[] = [];
    const text = vi.fn();
    const c = newConn();
    c.addEventHandler('h', { onReminder: (e) => got.push(e), onTextMessage: text, onCustomMessage: text });
    c.listen({ onReminder: (e) => got3.push(e) });
    await c.open({ user: 'dave', accessToken: 't' });
    await settle();
    const item = reply.messages[0];
    expect(got).toEqual([{ id: item.id, type: 'remind', chatType: 'groupChat', from: 'alice', to: G, mid: M, time: 1764000600000 }]);
    expect(got3).toEqual([{ id: item.id, mid: M, from: 'alice', to: G, time: '1764000600000' }]);
    latest().frame(golden.get('push.receipt.reminder'));
    expect(got.length).toBe(1);
    expect(text).not.toHaveBeenCalled();
    c.close();
  });

  it('receipt.counts.reply.eligible: the eligible readers of each message', async () => {
    FakeSocket.handlers['receipt.counts'] = () => golden.get('receipt.counts.reply.eligible').data;
    const c = await openConn();
    const r = await c.getGroupMsgReadCount({ groupId: G, msgIds: [M, '123456789012345680'], withUnread: true });
    expect(r).toEqual({ type: 0, data: { [M]: 8, '123456789012345680': 0 }, unread: { [M]: 0, '123456789012345680': 8 }, eligible: { [M]: 8, '123456789012345680': 8 } });
    c.close();
  });

  it('receipt.stats.reply.eligible: entries carry eligible and readByAll', async () => {
    const reply = golden.get('receipt.stats.reply.eligible').data;
    let n = 0;
    FakeSocket.handlers['receipt.stats'] = () => (n++ === 0 ? reply : { entries: [], next: reply.next, more: false });
    const stats = vi.fn();
    const c = newConn();
    c.addEventHandler('h', { onStatisticMessage: stats });
    await c.open({ user: 'alice', accessToken: 't' });
    await settle();
    const got = JSON.parse(stats.mock.calls[0][0].location).group_ack;
    expect(got).toEqual([{ ...reply.entries[0] }, { ...reply.entries[1], readByAll: false }]);
    c.close();
  });

  it('every golden reply is replayed by one of the tests', () => {
    const replayed = new Set(['receipt.counts.reply.eligible', 'receipt.stats.reply.eligible', 'auth.reply', 'ping.reply', 'sync.reply', 'sync.reply.receipts', 'sync.reply.remind', 'receipt.stats.reply', 'group.info.reply.policy', 'receipt.unread.reply.reminders']);
    for (const [name, d] of Object.entries(drivers)) replayed.add(d.reply ?? `${golden.get(name).op}.reply`);
    const replies = [...golden.keys()].filter((n) => /\.reply(\.|$)/.test(n));
    expect(replies.filter((n) => !replayed.has(n))).toEqual([]);
  });

  it('an unknown op error keeps its code', () => {
    const e = golden.get('unknown.error').error;
    expect(e.code).toBe(WebIM.statusCode.BAD_REQUEST);
  });
});

describe('golden pushes', () => {
  async function pushOne(name: string, handlers: Record<string, any>, v3: Record<string, any> = {}) {
    const c = await openConn();
    c.addEventHandler('h', handlers);
    c.listen(v3);
    latest().frame(golden.get(name));
    return c;
  }

  it('push.msg -> onTextMessage', async () => {
    const f = vi.fn();
    const g = vi.fn();
    await pushOne('push.msg', { onTextMessage: f }, { onTextMessage: g });
    expect(f.mock.calls[0][0]).toEqual({ id: M, type: 'txt', chatType: 'groupChat', from: 'alice', to: G, msg: 'hello', ext: { color: 'red' }, time: 1764000000000, msgConfig: { allowGroupAck: true } });
    expect(g.mock.calls[0][0]).toEqual({ id: M, type: 'groupchat', from: 'alice', to: G, data: 'hello', ext: { color: 'red' }, time: '1764000000000', msgConfig: { allowGroupAck: true } });
  });

  it('push.receipt -> onReadMessage with groupReadCount', async () => {
    const f = vi.fn();
    const g = vi.fn();
    await pushOne('push.receipt', { onReadMessage: f }, { onReadMessage: g });
    expect(f.mock.calls[0][0]).toEqual({ id: expect.stringMatching(/^\d+$/), type: 'read', from: 'bob', to: G, mid: M, groupReadCount: { [M]: 5 }, ackContent: '{}', time: 1764000000000 });
    expect(g.mock.calls[0][0]).toEqual({ mid: M, groupReadCount: { [M]: 5 }, ackContent: '{}', from: 'bob', to: G });
  });

  it('push.receipt.readByAll -> onReadMessage with eligible and readByAll, in both shapes', async () => {
    const f = vi.fn();
    const g = vi.fn();
    await pushOne('push.receipt.readByAll', { onReadMessage: f }, { onReadMessage: g });
    expect(f.mock.calls[0][0]).toEqual({ id: expect.stringMatching(/^\d+$/), type: 'read', from: 'bob', to: G, mid: M, groupReadCount: { [M]: 8 }, ackContent: '', time: 1764000000000, eligible: 8, readByAll: true });
    expect(g.mock.calls[0][0]).toMatchObject({ mid: M, groupReadCount: { [M]: 8 }, eligible: 8, readByAll: true });
  });

  it('push.read -> onReadMessage without groupReadCount, with the stored receipt id', async () => {
    const f = vi.fn();
    await pushOne('push.read', { onReadMessage: f });
    expect(f.mock.calls[0][0]).toEqual({ id: golden.get('push.read').data.id, type: 'read', from: 'bob', to: 'alice', mid: '123456789012345679', time: 1764000000000 });
  });

  it('push.delivery -> onDeliveredMessage', async () => {
    const f = vi.fn();
    await pushOne('push.delivery', { onDeliveredMessage: f });
    expect(f.mock.calls[0][0]).toEqual({ id: golden.get('push.delivery').data.id, type: 'delivery', from: 'bob', to: 'alice', mid: '123456789012345679', time: 1764000000000 });
  });

  it('push.channel -> onChannelMessage', async () => {
    const f = vi.fn();
    await pushOne('push.channel', { onChannelMessage: f });
    expect(f.mock.calls[0][0]).toEqual({ id: golden.get('push.channel').data.id, type: 'channel', chatType: 'singleChat', from: 'bob', to: 'alice', time: 1764000000000 });
  });

  it('sync.reply.receipts -> the same events as push.read, push.delivery and push.channel, once', async () => {
    const reply = golden.get('sync.reply.receipts').data;
    let n = 0;
    FakeSocket.handlers.sync = () => (n++ === 0 ? reply : { messages: [], next: reply.next, more: false });
    const ev: Record<string, any[]> = { read: [], delivery: [], channel: [], read3: [] };
    const c = newConn();
    c.addEventHandler('h', { onReadMessage: (m) => ev.read.push(m), onDeliveredMessage: (m) => ev.delivery.push(m), onChannelMessage: (m) => ev.channel.push(m) });
    c.listen({ onReadMessage: (m) => ev.read3.push(m) });
    await c.open({ user: 'alice', accessToken: 't' });
    await settle();
    const [d, r, ch] = reply.messages;
    expect(ev.delivery).toEqual([{ id: d.id, type: 'delivery', from: 'bob', to: 'alice', mid: d.mid, time: d.time }]);
    expect(ev.read).toEqual([{ id: r.id, type: 'read', from: 'bob', to: 'alice', mid: r.mid, time: r.time }]);
    expect(ev.read3).toEqual([{ id: r.id, mid: r.mid, from: 'bob', to: 'alice', time: String(r.time) }]);
    expect(ev.channel).toEqual([{ id: ch.id, type: 'channel', chatType: 'singleChat', from: 'bob', to: 'alice', time: ch.time }]);
    // The golden pushes are the live copies of these receipts: nothing fires twice.
    for (const name of ['push.read', 'push.delivery', 'push.channel']) latest().frame(golden.get(name));
    expect([ev.read.length, ev.delivery.length, ev.channel.length]).toEqual([1, 1, 1]);
    c.close();
  });

  it('push.group.updateInfo (the receipt policy changed) -> onGroupEvent / onGroupChange with operation updateInfo', async () => {
    const f = vi.fn();
    const g = vi.fn();
    const c = await pushOne('push.group.updateInfo', { onGroupEvent: f }, { onGroupChange: g });
    expect(f.mock.calls[0][0]).toEqual({ operation: 'updateInfo', id: G, name: 'team', from: 'alice', to: 'alice', userId: undefined, users: [], time: 1764000000000 });
    expect(g.mock.calls[0][0]).toMatchObject({ type: 'updateInfo', gid: G, from: 'alice', users: [] });
    c.close();
  });

  it('push.receipt.reminder -> onReminder in both shapes', async () => {
    const f = vi.fn();
    const g = vi.fn();
    await pushOne('push.receipt.reminder', { onReminder: f }, { onReminder: g });
    const d = golden.get('push.receipt.reminder').data;
    expect(f.mock.calls[0][0]).toEqual({ id: d.id, type: 'remind', chatType: 'groupChat', from: 'alice', to: G, mid: M, time: 1764000600000 });
    expect(g.mock.calls[0][0]).toEqual({ id: d.id, mid: M, from: 'alice', to: G, time: '1764000600000' });
  });

  it('push.conv.read -> onConversationRead', async () => {
    const f = vi.fn();
    await pushOne('push.conv.read', { onConversationRead: f });
    expect(f.mock.calls[0][0]).toEqual({ chatType: 'groupChat', to: G, seq: 57 });
  });

  it('push.group and push.group.destroy -> onGroupEvent / onGroupChange', async () => {
    const f = vi.fn();
    const g = vi.fn();
    const c = await pushOne('push.group', { onGroupEvent: f }, { onGroupChange: g });
    latest().frame(golden.get('push.group.destroy'));
    expect(f.mock.calls[0][0]).toEqual({ operation: 'memberPresence', id: G, name: 'team', from: 'alice', to: 'alice', userId: 'dave', users: ['dave'], time: 1764000000000 });
    expect(f.mock.calls[1][0]).toMatchObject({ operation: 'destroy', id: G, users: [] });
    expect(g.mock.calls[0][0]).toMatchObject({ type: 'memberPresence', gid: G, from: 'alice' });
    c.close();
  });

  it('push.resync -> the sync and receipt.stats loops run again', async () => {
    const c = await openConn();
    await settle();
    const syncs = latest().ops('sync').length;
    const stats = latest().ops('receipt.stats').length;
    latest().frame(golden.get('push.resync'));
    await settle();
    expect(latest().ops('sync').length).toBeGreaterThan(syncs);
    expect(latest().ops('receipt.stats').length).toBeGreaterThan(stats);
    c.close();
  });

  it('every golden push is handled by one of the tests above', () => {
    const pushes = [...golden.keys()].filter((n) => n.startsWith('push.'));
    expect(pushes.sort()).toEqual(['push.channel', 'push.conv.read', 'push.delivery', 'push.group', 'push.group.destroy', 'push.group.updateInfo', 'push.msg', 'push.read', 'push.receipt', 'push.receipt.readByAll', 'push.receipt.reminder', 'push.resync']);
  });
});

void opOf;
