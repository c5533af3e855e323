// Integration tests against a real seen server (built from ../cmd/seen). They are skipped, with
// the reason printed, only when the server binary cannot be built.
import WebSocket from 'ws';
import { expect, it } from 'vitest';
import WebIM from '../../src/index';
import type { Connection } from '../../src/connection';
import { describeSeen } from './fixture';
import { waitFor } from './server';

/**
 * tracked is a `ws` WebSocket that records its instances and can run a hook right after the auth
 * frame went out (before any reply can come): the tests reach every state of a connection with it.
 */
function tracked() {
  const sockets: WebSocket[] = [];
  const hooks: { afterAuthSent?: () => void } = {};
  class Tracked extends WebSocket {
    constructor(url: string) {
      super(url);
      sockets.push(this);
    }
    override send(data: any, ...rest: any[]): void {
      (super.send as any)(data, ...rest);
      if (hooks.afterAuthSent && JSON.parse(String(data)).op === 'auth') queueMicrotask(hooks.afterAuthSent);
    }
  }
  return { WebSocket: Tracked, sockets, hooks };
}

/**
 * closed resolves once a socket has emitted 'close' (an 'error' of the `ws` package comes before
 * it). It listens to 'close' only: an 'error' with no listener of the SDK's must still throw.
 */
async function closed(ws: WebSocket): Promise<void> {
  if (ws.readyState !== WebSocket.CLOSED) await new Promise((r) => ws.once('close', r));
}

await describeSeen('against a real seen server', (seen) => {
  const { connection, users, login, loginV3 } = seen;

  it('the seed flow, v3 style: receipts live, offline statistics, readers and unread members', async () => {
    const [alice, bob, carol, dave] = await users('alice', 'bob', 'carol', 'dave');
    const deviceId = `web-${alice}`;
    const aliceReads: any[] = [];
    const conn = await loginV3(alice, { onReadMessage: (m: any) => aliceReads.push(m) }, { deviceId });
    (WebIM as any).conn = conn;
    const created = await conn.createGroup({ data: { groupname: 'team', desc: 'the team', members: [bob, carol, dave], public: false, approval: false, allowinvites: false, inviteNeedConfirm: false, maxusers: 200 } });
    const groupId = created.data.groupid;
    expect(groupId).toMatch(/^\d+$/);

    const bobGot: any[] = [];
    const carolGot: any[] = [];
    const bobConn = await loginV3(bob, { onTextMessage: (m: any) => bobGot.push(m) });
    const carolConn = await loginV3(carol, { onTextMessage: (m: any) => carolGot.push(m) });

    // The seed's sendGroupReadMsg, with the group as `to`.
    const sent: string[] = [];
    const failed: any[] = [];
    {
      let id = conn.getUniqueId();
      let msg = new WebIM.message('txt', id);
      msg.set({
        msg: 'message content',
        to: groupId,
        chatType: 'groupChat',
        success: function (id: string, serverMsgId: string) {
          sent.push(serverMsgId);
        },
        fail: function (e: any) {
          failed.push(e);
        },
      });
      msg.body.msgConfig = { allowGroupAck: true };
      conn.send(msg.body);
    }
    await waitFor(() => sent.length + failed.length > 0, 'the send to settle');
    expect(failed).toEqual([]);
    const mid = sent[0];
    expect(mid).toMatch(/^\d+$/);

    await waitFor(() => bobGot.length > 0 && carolGot.length > 0, 'bob and carol to get the message');
    const message = bobGot[0];
    expect(message).toMatchObject({ id: mid, type: 'groupchat', from: alice, to: groupId, data: 'message content', msgConfig: { allowGroupAck: true } });

    // A plain member may not ask for receipts.
    const refused = await bobConn.send(WebIM.message.create({ type: 'txt', chatType: 'groupChat', to: groupId, msg: 'x', msgConfig: { allowGroupAck: true } })).catch((e) => e);
    expect(refused).toMatchObject({ type: WebIM.statusCode.PERMISSION_DENIED });

    // The seed's sendReadMsg, from bob.
    {
      let msg = new WebIM.message('read', bobConn.getUniqueId());
      msg.set({ id: message.id, to: groupId, msgConfig: { allowGroupAck: true }, ackContent: JSON.stringify({}) });
      msg.setChatType('groupChat');
      bobConn.send(msg.body);
    }
    await waitFor(() => aliceReads.length > 0, 'alice to see the read live');
    expect(aliceReads[0]).toMatchObject({ mid, groupReadCount: { [mid]: 1 }, from: bob, to: groupId, ackContent: '{}' });

    // alice goes away; carol reads meanwhile; alice logs in again on the same device.
    conn.close();
    await carolConn.send(WebIM.message.create({ type: 'read', chatType: 'groupChat', to: groupId, id: carolGot[0].id, ackContent: 'seen it' }));
    const stats: any[] = [];
    const conn2 = await loginV3(alice, { onStatisticMessage: (m: any) => stats.push(m) }, { deviceId });
    await waitFor(() => stats.length > 0, 'onStatisticMessage after login');
    await new Promise((r) => setTimeout(r, 300));
    expect(stats.length).toBe(1);
    expect(stats[0].operation).toBe(0);
    const groupAck = JSON.parse(stats[0].location).group_ack;
    // (seen) eligible: bob, carol and dave could read it when it was sent; two of them have.
    expect(groupAck).toContainEqual({ mid, groupId, count: 2, from: carol, ackContent: 'seen it', timestamp: expect.any(Number), eligible: 3, readByAll: false });

    const readers = await conn2.getGroupMsgReadUser({ msgId: mid, groupId });
    expect(readers.type).toBe(0);
    expect(readers.data.total).toBe(2);
    expect([...readers.data.userlist].sort()).toEqual([bob, carol].sort());
    expect(readers.data.users.find((u: any) => u.username === carol)).toMatchObject({ ackContent: 'seen it', time: expect.any(Number) });
    const unread = await conn2.getGroupMsgUnreadUser({ msgId: mid, groupId, pageSize: 50 });
    expect(unread.data).toMatchObject({ total: 1, userlist: [dave], is_last: true });
    const counts = await conn2.getGroupMsgReadCount({ groupId, msgIds: [mid] });
    expect(counts.data[mid]).toBe(2);
    expect(counts.unread).toBeUndefined();
    // (seen) Newest first, a page at a time: carol read after bob.
    const newest = await conn2.getGroupMsgReadUser({ msgId: mid, groupId, pageSize: 1, order: 'desc' });
    expect(newest.data).toMatchObject({ total: 2, userlist: [carol], is_last: false });
    const older = await conn2.getGroupMsgReadUser({ msgId: mid, groupId, pageSize: 1, order: 'desc', cursor: newest.data.next_key });
    expect(older.data).toMatchObject({ userlist: [bob], is_last: true });
    // (seen) "Read by 2 of 3" in one request.
    const totals = await conn2.getGroupMsgReadCount({ groupId, msgIds: [mid], withUnread: true });
    expect(totals).toEqual({ type: 0, data: { [mid]: 2 }, unread: { [mid]: 1 }, eligible: { [mid]: 3 } });
    delete (WebIM as any).conn;
  });

  it('v4 style: promises, v4 payloads, history, conversations, groups', async () => {
    const [alice, bob] = await users('alice', 'bob');
    const reads: any[] = [];
    const a = await login(alice, { onReadMessage: (m: any) => reads.push(m) });
    const bobGot: any[] = [];
    const b = await login(bob, { onTextMessage: (m: any) => bobGot.push(m) });
    const g = await a.createGroupVNext({ groupName: 'v4 team', description: 'd', members: [bob], isPublic: false, maxUsers: 50 });
    const groupId = g.data.groupId;
    const r = await a.send(WebIM.message.create({ type: 'txt', chatType: 'groupChat', to: groupId, msg: 'hello v4', msgConfig: { allowGroupAck: true }, ext: { k: 'v' } }));
    expect(r.serverMsgId).toMatch(/^\d+$/);
    await waitFor(() => bobGot.length > 0, 'bob to get the message');
    expect(bobGot[0]).toMatchObject({ id: r.serverMsgId, type: 'txt', chatType: 'groupChat', from: alice, to: groupId, msg: 'hello v4', ext: { k: 'v' }, msgConfig: { allowGroupAck: true }, time: expect.any(Number) });

    const conv = await b.getServerConversations({ pageSize: 20 });
    expect(conv.data.conversations.find((c: any) => c.conversationId === groupId)).toMatchObject({ conversationType: 'groupChat', unReadCount: 1 });

    const ack = await b.send(WebIM.message.create({ type: 'read', chatType: 'groupChat', to: groupId, id: r.serverMsgId }));
    expect(ack).toMatchObject({ counted: true, count: 1 });
    await waitFor(() => reads.length > 0, 'the v4 onReadMessage');
    expect(reads[0]).toMatchObject({ type: 'read', from: bob, to: groupId, mid: r.serverMsgId, groupReadCount: { [r.serverMsgId]: 1 } });

    await b.send(WebIM.message.create({ type: 'channel', chatType: 'groupChat', to: groupId }));
    const conv2 = await b.getServerConversations({ pageSize: 20 });
    expect(conv2.data.conversations.find((c: any) => c.conversationId === groupId)!.unReadCount).toBe(0);

    const history = await b.getHistoryMessages({ targetId: groupId, chatType: 'groupChat', pageSize: 10, searchDirection: 'up' });
    expect(history.messages.map((m: any) => m.id)).toContain(r.serverMsgId);
    const mine = await a.getHistoryMessages({ targetId: groupId, chatType: 'groupChat', pageSize: 10 });
    expect(mine.messages.find((m: any) => m.id === r.serverMsgId)).toMatchObject({ readCount: 1 });

    const joined = await b.getJoinedGroups({ pageNum: 0, pageSize: 20 });
    expect(joined.data.map((x: any) => x.groupid)).toContain(groupId);
    const info = await b.getGroupInfo({ groupId });
    expect(info.data[0]).toMatchObject({ id: groupId, name: 'v4 team', owner: alice });
    await a.setAdmin({ groupId, username: bob });
    expect((await a.getGroupAdmin({ groupId })).data).toContain(bob);
    await a.removeAdmin({ groupId, username: bob });
    const members = await a.getGroupMembers({ groupId, limit: 10 });
    expect(members.data.members.map((m: any) => m.username).sort()).toEqual([alice, bob].sort());
    await b.leaveGroup({ groupId });
    await a.destroyGroup({ groupId });
    const gone = await a.getGroupInfo({ groupId }).catch((e) => e);
    expect(gone.type).toBe(WebIM.statusCode.GROUP_NOT_FOUND);
  });

  it('single chat: delivery and read receipts, conversation ack', async () => {
    const [alice, bob] = await users('alice', 'bob');
    const ev: Record<string, any[]> = { delivered: [], read: [], channel: [] };
    const a = await login(alice, { onDeliveredMessage: (m: any) => ev.delivered.push(m), onReadMessage: (m: any) => ev.read.push(m), onChannelMessage: (m: any) => ev.channel.push(m) });
    const got: any[] = [];
    const b = await login(bob, { onTextMessage: (m: any) => got.push(m) }, { delivery: true });
    const r = await a.send(WebIM.message.create({ type: 'txt', chatType: 'singleChat', to: bob, msg: 'hi bob' }));
    await waitFor(() => got.length > 0, 'bob to get it');
    await waitFor(() => ev.delivered.length > 0, 'the delivery receipt');
    expect(ev.delivered[0]).toMatchObject({ type: 'delivery', from: bob, to: alice, mid: r.serverMsgId });
    await b.send(WebIM.message.create({ type: 'read', chatType: 'singleChat', to: alice, id: r.serverMsgId }));
    await waitFor(() => ev.read.length > 0, 'the read receipt');
    expect(ev.read[0]).toMatchObject({ type: 'read', from: bob, to: alice, mid: r.serverMsgId });
    expect(ev.read[0].groupReadCount).toBeUndefined();
    await b.send(WebIM.message.create({ type: 'channel', chatType: 'singleChat', to: alice }));
    await waitFor(() => ev.channel.length > 0, 'the channel ack');
    expect(ev.channel[0]).toMatchObject({ type: 'channel', from: bob, to: alice });
  });

  it('history carries the read state of my single-chat messages: isRead / isDelivered', async () => {
    const [alice, bob] = await users('alice', 'bob');
    const a = await login(alice);
    const b = await login(bob);
    const sent: string[] = [];
    for (const msg of ['read', 'delivered', 'nothing']) sent.push((await a.send(WebIM.message.create({ type: 'txt', chatType: 'singleChat', to: bob, msg }))).serverMsgId);
    await b.send(WebIM.message.create({ type: 'read', chatType: 'singleChat', to: alice, id: sent[0] }));
    await b.send(WebIM.message.create({ type: 'delivery', to: alice, id: sent[1] }));
    const state = async (c: Connection, peer: string) =>
      (await c.getHistoryMessages({ targetId: peer, chatType: 'singleChat', searchDirection: 'down' })).messages.map((m: any) => [m.msg, m.isRead, m.isDelivered]);
    expect(await state(a, bob)).toEqual([
      ['read', true, true],
      ['delivered', false, true],
      ['nothing', false, false],
    ]);
    // The receiver's view has no such fields on the messages it got.
    expect(await state(b, alice)).toEqual([
      ['read', undefined, undefined],
      ['delivered', undefined, undefined],
      ['nothing', undefined, undefined],
    ]);
    // A conversation ack reads them all.
    await b.send(WebIM.message.create({ type: 'channel', chatType: 'singleChat', to: alice }));
    expect(await state(a, bob)).toEqual([
      ['read', true, true],
      ['delivered', true, true],
      ['nothing', true, true],
    ]);
  });

  it('single-chat receipts sent while the sender was offline arrive after reconnecting, once each', async () => {
    const [alice, bob] = await users('alice', 'bob');
    const deviceId = `web-${alice}`;
    const a = await login(alice, {}, { deviceId });
    const got: any[] = [];
    const b = await login(bob, { onTextMessage: (m: any) => got.push(m) });
    const r = await a.send(WebIM.message.create({ type: 'txt', chatType: 'singleChat', to: bob, msg: 'read me later' }));
    await waitFor(() => got.length > 0, 'bob to get it');
    a.close();

    await b.send(WebIM.message.create({ type: 'read', chatType: 'singleChat', to: alice, id: r.serverMsgId }));
    await b.send(WebIM.message.create({ type: 'delivery', to: alice, id: r.serverMsgId }));
    await b.send(WebIM.message.create({ type: 'channel', chatType: 'singleChat', to: alice }));
    // Repeats from bob store nothing new.
    await b.send(WebIM.message.create({ type: 'read', chatType: 'singleChat', to: alice, id: r.serverMsgId }));
    await b.send(WebIM.message.create({ type: 'channel', chatType: 'singleChat', to: alice }));

    const ev: Record<string, any[]> = { read: [], delivered: [], channel: [] };
    const handlers = { onReadMessage: (m: any) => ev.read.push(m), onDeliveredMessage: (m: any) => ev.delivered.push(m), onChannelMessage: (m: any) => ev.channel.push(m) };
    const a2 = await login(alice, handlers, { deviceId });
    await waitFor(() => ev.read.length > 0 && ev.delivered.length > 0 && ev.channel.length > 0, 'the receipts through sync');
    await new Promise((res) => setTimeout(res, 800));
    expect(ev.read).toEqual([{ id: expect.stringMatching(/^\d+$/), type: 'read', from: bob, to: alice, mid: r.serverMsgId, time: expect.any(Number) }]);
    expect(ev.delivered).toEqual([{ id: expect.stringMatching(/^\d+$/), type: 'delivery', from: bob, to: alice, mid: r.serverMsgId, time: expect.any(Number) }]);
    expect(ev.channel).toEqual([{ id: expect.stringMatching(/^\d+$/), type: 'channel', chatType: 'singleChat', from: bob, to: alice, time: expect.any(Number) }]);
    // The history and the conversation list show the message only.
    const h = await a2.getHistoryMessages({ targetId: bob, chatType: 'singleChat' });
    expect(h.messages.map((m: any) => m.id)).toEqual([r.serverMsgId]);
    const convs = await a2.getServerConversations();
    expect(convs.data.conversations.map((x: any) => [x.conversationId, x.lastMessage.id, x.unReadCount])).toEqual([[bob, r.serverMsgId, 0]]);

    // Confirmed: a "reload" of the same device does not bring them again.
    a2.close();
    const again: any[] = [];
    await login(alice, { onReadMessage: (m: any) => again.push(m), onDeliveredMessage: (m: any) => again.push(m), onChannelMessage: (m: any) => again.push(m) }, { deviceId });
    await new Promise((res) => setTimeout(res, 800));
    expect(again).toEqual([]);
  });

  it('missed messages arrive through sync after login, once', async () => {
    const [alice, bob] = await users('alice', 'bob');
    const a = await login(alice);
    for (let i = 0; i < 3; i++) await a.send(WebIM.message.create({ type: 'txt', chatType: 'singleChat', to: bob, msg: `m${i}` }));
    const got: any[] = [];
    const deviceId = `web-${bob}`;
    const b = await login(bob, { onTextMessage: (m: any) => got.push(m) }, { deviceId });
    await waitFor(() => got.length === 3, 'three missed messages');
    expect(got.map((m) => m.msg)).toEqual(['m0', 'm1', 'm2']);
    // A live one, confirmed by the debounced sync, then a "reload": nothing comes twice.
    await a.send(WebIM.message.create({ type: 'txt', chatType: 'singleChat', to: bob, msg: 'live' }));
    await waitFor(() => got.length === 4, 'the live message');
    await new Promise((r) => setTimeout(r, 800));
    b.close();
    const again: any[] = [];
    await login(bob, { onTextMessage: (m: any) => again.push(m) }, { deviceId });
    await new Promise((r) => setTimeout(r, 800));
    expect(again).toEqual([]);
  });

  it('serves the committed bundle at /sdk/webim.js', async (ctx) => {
    const r = await fetch(`${seen.server.url}/sdk/webim.js`);
    if (r.status === 404) {
      console.warn('GET /sdk/webim.js is 404: the server does not serve the embedded bundle yet');
      ctx.skip();
    }
    const { readFileSync } = await import('node:fs');
    const committed = readFileSync(new URL('../../dist/webim.js', import.meta.url), 'utf8');
    expect(r.status).toBe(200);
    expect(await r.text()).toBe(committed);
  });

  it('close() is quiet in every state: idle, logging in, connecting, authenticating, open, waiting to reconnect, closed', async () => {
    const [alice] = await users('alice');
    const errors: any[] = [];
    let closes = 0;
    const handlers = { onError: (e: any) => errors.push(e), onClosed: () => closes++ };
    const abort = WebIM.statusCode.REQUEST_ABORT;

    // Never opened.
    const idle = connection();
    idle.listen(handlers);
    idle.close();
    idle.close();
    expect(closes).toBe(0);

    // Logging in (the REST token request in flight): open() rejects once it is back, and no
    // socket is ever made.
    let t = tracked();
    const login = connection({ WebSocket: t.WebSocket });
    login.listen(handlers);
    const p1 = login.open({ user: alice, pwd: 'secret-pw' });
    login.close();
    expect((await p1.catch((e) => e)).type).toBe(abort);
    expect(t.sockets).toHaveLength(0);
    expect(login.isOpened()).toBe(false);

    // Connecting (the WebSocket handshake under way). The `ws` package reports closing a socket
    // that is still connecting as an 'error' event: it must not escape as an uncaught error.
    const token = (await login.open({ user: alice, pwd: 'secret-pw' })).accessToken;
    login.close();
    t = tracked();
    const connecting = connection({ WebSocket: t.WebSocket });
    connecting.listen(handlers);
    const p2 = connecting.open({ user: alice, accessToken: token });
    expect(t.sockets.map((s) => s.readyState)).toEqual([WebSocket.CONNECTING]);
    connecting.close();
    expect((await p2.catch((e) => e)).type).toBe(abort);
    await closed(t.sockets[0]);
    expect(connecting.isOpened()).toBe(false);

    // Authenticating (the auth frame sent, no reply yet).
    t = tracked();
    const authenticating = connection({ WebSocket: t.WebSocket });
    authenticating.listen(handlers);
    t.hooks.afterAuthSent = () => authenticating.close();
    expect((await authenticating.open({ user: alice, accessToken: token }).catch((e) => e)).type).toBe(abort);
    await closed(t.sockets[0]);
    expect(authenticating.isOpened()).toBe(false);

    // Open, then closed twice: onClosed once.
    t = tracked();
    const open = connection({ WebSocket: t.WebSocket });
    let openCloses = 0;
    open.listen({ ...handlers, onClosed: () => openCloses++ });
    await open.open({ user: alice, accessToken: token });
    open.close();
    await closed(t.sockets[0]);
    open.close();
    expect(openCloses).toBe(1);

    // Waiting to reconnect (the socket dropped; a long backoff wait), and then reconnecting (the
    // new socket still connecting).
    for (const reconnect of [false, true]) {
      t = tracked();
      const waiting = connection({ WebSocket: t.WebSocket, reconnectBaseMs: 60000, reconnectMaxMs: 60000, random: () => 0.99 });
      let reconnecting = 0;
      waiting.listen({ ...handlers, onReconnecting: () => reconnecting++ });
      await waiting.open({ user: alice, accessToken: token });
      t.sockets[0].terminate();
      await waitFor(() => reconnecting === 1, 'onReconnecting');
      if (reconnect) {
        waiting.reconnectNow();
        expect(t.sockets.map((s) => s.readyState)).toEqual([WebSocket.CLOSED, WebSocket.CONNECTING]);
      }
      waiting.close();
      await closed(t.sockets[t.sockets.length - 1]);
      // Nothing is waiting any more: reconnectNow has nothing to cut short.
      waiting.reconnectNow();
      expect(t.sockets).toHaveLength(reconnect ? 2 : 1);
      expect(waiting.isOpened()).toBe(false);
    }

    expect(errors).toEqual([]);
  });

  it('reconnects after the server restarts', async () => {
    const [alice, bob] = await users('alice', 'bob');
    const ev: string[] = [];
    const got: any[] = [];
    const a = await login(alice, { onReconnecting: () => ev.push('reconnecting'), onConnected: () => ev.push('connected'), onDisconnected: () => ev.push('disconnected'), onTextMessage: (m: any) => got.push(m) });
    expect(ev).toEqual(['connected']);
    await seen.server.stop();
    await waitFor(() => ev.includes('reconnecting'), 'onReconnecting');
    const offline = await a.send(WebIM.message.create({ type: 'txt', chatType: 'singleChat', to: bob, msg: 'x' })).catch((e) => e);
    expect(offline.type).toBe(WebIM.statusCode.WEBIM_CONNCTION_DISCONNECTED);
    await seen.server.run();
    await waitFor(() => ev.filter((e) => e === 'connected').length === 2, 'the reconnect', 20000);
    expect(ev).not.toContain('disconnected');
    const b = await login(bob);
    await b.send(WebIM.message.create({ type: 'txt', chatType: 'singleChat', to: alice, msg: 'after restart' }));
    await waitFor(() => got.length > 0, 'a message after the restart');
    expect(got[0].msg).toBe('after restart');
  });
});
