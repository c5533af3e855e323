import { beforeEach, describe, expect, it, vi } from 'vitest';
import WebIM from '../src/index';
import { FakeSocket, latest, NO_REPLY, openConn, settle } from './fake';

const okAll = (d: any) => ({ results: d.items.map((it: any, i: number) => ({ msgId: it.msgId, ok: true, counted: true, count: i + 1 })) });

beforeEach(() => FakeSocket.reset());

function readMsg(conn: any, id: string, to: string, ackContent?: string) {
  const msg = new WebIM.message('read', conn.getUniqueId());
  msg.set({ id, to, msgConfig: { allowGroupAck: true }, ackContent });
  msg.setChatType('groupChat');
  return msg;
}

describe('read batching', () => {
  it('coalesces reads of the same tick per group into one receipt.ack', async () => {
    FakeSocket.handlers['receipt.ack'] = okAll;
    const c = await openConn();
    const ps = [
      c.send(readMsg(c, '900000000000000001', 'g1', '{}').body),
      c.send(readMsg(c, '900000000000000002', 'g1').body),
      c.send(readMsg(c, '900000000000000003', 'g2').body),
      c.send(readMsg(c, '900000000000000001', 'g1').body), // repeat: one item
    ];
    const rs = await Promise.all(ps);
    const acks = latest().ops('receipt.ack');
    expect(acks.map((a) => a.data)).toEqual([
      { groupId: 'g1', items: [{ msgId: '900000000000000001', ackContent: '{}' }, { msgId: '900000000000000002' }] },
      { groupId: 'g2', items: [{ msgId: '900000000000000003' }] },
    ]);
    expect(rs.map((r) => r.count)).toEqual([1, 2, 1, 1]);
    expect(c.acked.has('900000000000000002')).toBe(true);
  });

  it('splits more than 100 items', async () => {
    FakeSocket.handlers['receipt.ack'] = okAll;
    const c = await openConn();
    const ps = [];
    for (let i = 0; i < 150; i++) ps.push(c.send(readMsg(c, String(910000000000000000n + BigInt(i)), 'g1').body));
    await Promise.all(ps);
    expect(latest().ops('receipt.ack').map((a) => a.data.items.length)).toEqual([100, 50]);
  });

  it('settles each send from its own item result', async () => {
    FakeSocket.handlers['receipt.ack'] = (d) => ({
      results: [
        { msgId: d.items[0].msgId, ok: true, counted: true, count: 5 },
        { msgId: d.items[1].msgId, ok: false, counted: false, error: { code: 54, name: 'not_allowed', message: 'message did not ask for read receipts' } },
      ],
    });
    const c = await openConn();
    const success = vi.fn();
    const fail = vi.fn();
    const a = readMsg(c, '920000000000000001', 'g1');
    a.set({ success });
    const b = readMsg(c, '920000000000000002', 'g1');
    b.set({ fail });
    c.send(a.body);
    c.send(b.body);
    await settle();
    expect(success).toHaveBeenCalledWith('920000000000000001', '');
    expect(fail.mock.calls[0][0]).toMatchObject({ type: 54, data: { name: 'not_allowed', msgId: '920000000000000002' } });
    expect(latest().ops('receipt.ack').length).toBe(1);
  });

  it('a failed request fails every item', async () => {
    FakeSocket.handlers['receipt.ack'] = () => ({ error: { code: 602, name: 'not_member', message: 'not a member' } });
    const c = await openConn();
    const rs = await Promise.allSettled([c.send(readMsg(c, '930000000000000001', 'g1').body), c.send(readMsg(c, '930000000000000002', 'g1').body)]);
    expect(rs.map((r) => (r as PromiseRejectedResult).reason.type)).toEqual([602, 602]);
  });
});

describe('the seed page, unchanged', () => {
  it('runs against seen', async () => {
    let serverMsgId = '';
    FakeSocket.handlers['msg.send'] = (d) => ({ localId: d.localId, id: (serverMsgId = '123456789012345678'), time: 1764000000000, seq: 42 });
    FakeSocket.handlers['receipt.ack'] = okAll;
    FakeSocket.handlers['receipt.readers'] = () => ({ total: 1, users: [{ username: 'bob', time: 1764000001000, ackContent: '{}' }], cursor: '', isLast: true });
    const conn = await openConn();
    const WebIMg: any = WebIM;
    WebIMg.conn = conn;
    const log: string[] = [];
    const console = { log: (s: unknown) => log.push(String(s)) };

    // --- sendGroupReadMsg, verbatim but for `console` ---
    const sendGroupReadMsg = () => {
      let id = conn.getUniqueId(); // Generate local message id
      let msg = new WebIM.message('txt', id); // Create text message
      msg.set({
        msg: 'message content', // Message content
        to: 'username', // The recipient of the message (user id)
        chatType: 'groupChat', // Set to group chat
        success: function (id: string, serverMsgId: string) {
          console.log('send private text Success');
        },
        fail: function (e: unknown) {
          console.log('Send private text error');
        },
      });
      msg.body.msgConfig = { allowGroupAck: true }; // read receipt is required to set this message
      conn.send(msg.body);
    };
    sendGroupReadMsg();
    await settle();
    expect(log).toEqual(['send private text Success']);
    expect(latest().ops('msg.send')[0].data).toMatchObject({ chatType: 'groupChat', to: 'username', msgConfig: { allowGroupAck: true } });

    // --- sendReadMsg, with `id:` for the full-width colon ---
    const message = { id: serverMsgId };
    const sendReadMsg = () => {
      let msg = new WebIM.message('read', WebIMg.conn.getUniqueId());
      msg.set({
        id: message.id, // The id of the message that needs to send the read receipt
        to: 'groupId',
        msgConfig: { allowGroupAck: true },
        ackContent: JSON.stringify({}), // Receipt content
      });
      msg.setChatType('groupChat');
      WebIMg.conn.send(msg.body);
    };
    sendReadMsg();
    await settle();
    expect(latest().ops('receipt.ack')[0].data).toEqual({ groupId: 'groupId', items: [{ msgId: '123456789012345678', ackContent: '{}' }] });

    // --- the handlers ---
    const seen: any[] = [];
    conn.listen({
      onReadMessage: (message: any) => {
        const { mid } = message;
        const msg: any = { id: mid };
        if (message.groupReadCount) {
          msg.groupReadCount = message.groupReadCount[message.mid];
        }
        seen.push(msg);
      },
      onStatisticMessage: (message: any) => {
        let statisticMsg = message.location && JSON.parse(message.location);
        let groupAck = statisticMsg.group_ack || [];
        seen.push(groupAck);
      },
    });
    latest().push('receipt', { mid: '123456789012345678', groupId: 'groupId', count: 1, from: 'bob', ackContent: '{}', timestamp: 1 });
    expect(seen).toEqual([{ id: '123456789012345678', groupReadCount: 1 }]);

    // --- getGroupMsgReadUser ---
    const res = await WebIMg.conn.getGroupMsgReadUser({ msgId: '123456789012345678', groupId: 'groupId' });
    expect(res).toMatchObject({ type: 0, data: { ackmid: '123456789012345678', total: 1, userlist: ['bob'], users: [{ username: 'bob', time: 1764000001000, ackContent: '{}' }], is_last: true, next_key: '' } });
    delete WebIMg.conn;
  });

  it('a send that is never answered does not break later sends', async () => {
    FakeSocket.handlers['msg.send'] = () => NO_REPLY;
    const c = await openConn();
    c.send(WebIM.message.create({ type: 'txt', to: 'bob', msg: 'x' })).catch(() => {});
    expect(latest().ops('msg.send').length).toBe(1);
  });
});
