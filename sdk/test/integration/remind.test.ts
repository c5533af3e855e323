// Integration tests of reminders, read analytics, the receipt policy and the privacy switch,
// against a real seen server (built from ../cmd/seen). Skipped, with the reason printed, only when
// the server binary cannot be built.
import { expect, it } from 'vitest';
import WebIM from '../../src/index';
import type { Connection } from '../../src/connection';
import type { ReminderEvent } from '../../src/types';
import { describeSeen } from './fixture';
import { waitFor } from './server';

/** group creates a group of owner with members and sends one receipt-requesting message. */
async function noticeIn(owner: Connection, members: string[]): Promise<{ groupId: string; mid: string }> {
  const g = await owner.createGroupVNext({ groupName: 'notices', members, isPublic: false });
  const groupId = g.data.groupId;
  const r = await owner.send(WebIM.message.create({ type: 'txt', chatType: 'groupChat', to: groupId, msg: 'fire drill at 15:00', msgConfig: { allowGroupAck: true } }));
  return { groupId, mid: r.serverMsgId };
}

await describeSeen('reminders, analytics, policy and privacy against a real seen server', ({ users, login }) => {
  it('remind: live to an online member, from sync to one who logs in later, once each; the rate limit is named', async () => {
    const [alice, bob, carol] = await users('alice', 'bob', 'carol');
    const a = await login(alice);
    const bobGot: ReminderEvent[] = [];
    const bob3: unknown[] = [];
    const b = await login(bob, { onReminder: (e) => bobGot.push(e) });
    b.listen({ onReminder: (e) => bob3.push(e) });
    const { groupId, mid } = await noticeIn(a, [bob, carol]);

    const r = await a.remindUnreadMembers({ groupId, msgId: mid });
    expect(r.data).toMatchObject({ reminded: 2, skipped: [] });
    expect(r.data.nextAt).toBeGreaterThan(r.data.at);
    await waitFor(() => bobGot.length > 0, 'bob to get the reminder live');
    expect(bobGot[0]).toMatchObject({ type: 'remind', chatType: 'groupChat', from: alice, to: groupId, mid, time: r.data.at });
    expect(bob3[0]).toMatchObject({ mid, from: alice, to: groupId, time: String(r.data.at) });

    // The unread list says who was reminded, how often and when.
    const unread = await a.getGroupMsgUnreadUser({ groupId, msgId: mid });
    expect(unread.data.users.map((u) => [u.username, u.reminded, u.remindedAt]).sort()).toEqual([
      [bob, 1, r.data.at],
      [carol, 1, r.data.at],
    ]);

    // Again within the interval: refused, naming the limit; nothing more reaches bob.
    const again = await a.remindUnreadMembers({ groupId, msgId: mid }).catch((e) => e);
    expect(again).toMatchObject({ type: WebIM.statusCode.LIMIT_EXCEEDED, data: { name: 'limit_exceeded' } });
    expect(again.message).toMatch(/remind-interval/);

    // carol was offline: the reminder comes from sync on login, once.
    const carolGot: ReminderEvent[] = [];
    const c1 = await login(carol, { onReminder: (e) => carolGot.push(e) }, { deviceId: `web-${carol}-1` });
    await waitFor(() => carolGot.length > 0, 'carol to get the reminder from sync');
    expect(carolGot).toEqual([{ id: expect.stringMatching(/^\d+$/), type: 'remind', chatType: 'groupChat', from: alice, to: groupId, mid, time: r.data.at }]);
    expect(carolGot[0].id).not.toBe(bobGot[0].id); // each member's reminder is their own

    // The first device confirmed it: after a reconnect on the same device it does not come back.
    await new Promise((res) => setTimeout(res, 600));
    c1.close();
    const after: ReminderEvent[] = [];
    const c1b = await login(carol, { onReminder: (e) => after.push(e), onTextMessage: () => {} }, { deviceId: `web-${carol}-1` });
    await c1b.getServerConversations({ pageSize: 5 }); // a round trip after the catch-up started
    await new Promise((res) => setTimeout(res, 500));
    expect(after).toEqual([]);
    expect(bobGot.length).toBe(1);
  });

  it('remind: a plain member may not; named users who read it already are skipped', async () => {
    const [alice, bob, carol] = await users('alice', 'bob', 'carol');
    const a = await login(alice);
    const b = await login(bob);
    const { groupId, mid } = await noticeIn(a, [bob, carol]);
    const denied = await b.remindUnreadMembers({ groupId, msgId: mid }).catch((e) => e);
    expect(denied).toMatchObject({ type: WebIM.statusCode.PERMISSION_DENIED });
    await b.send(WebIM.message.create({ type: 'read', chatType: 'groupChat', to: groupId, id: mid }));
    const r = await a.remindUnreadMembers({ groupId, msgId: mid, users: [bob, carol] });
    expect(r.data).toMatchObject({ reminded: 1, skipped: [bob] });
  });

  it('analytics: time to 50% and all, the distribution, and read by all on the pushes', async () => {
    const [alice, bob, carol] = await users('alice', 'bob', 'carol');
    const reads: { count: number; readByAll?: boolean; eligible?: number }[] = [];
    const a = await login(alice, { onReadMessage: (e) => reads.push({ count: e.groupReadCount![e.mid], readByAll: e.readByAll, eligible: e.eligible }) });
    const b = await login(bob);
    const c = await login(carol);
    const { groupId, mid } = await noticeIn(a, [bob, carol]);
    const before = await a.getGroupMsgReadAnalytics({ groupId, msgId: mid });
    expect(before.data).toMatchObject({ msgId: mid, eligible: 2, count: 0, unread: 2, to50: null, to90: null, toAll: null });
    await b.send(WebIM.message.create({ type: 'read', chatType: 'groupChat', to: groupId, id: mid }));
    await c.send(WebIM.message.create({ type: 'read', chatType: 'groupChat', to: groupId, id: mid }));
    await waitFor(() => reads.some((r) => r.readByAll), 'a receipt push with readByAll');
    expect(reads.at(-1)).toMatchObject({ count: 2, eligible: 2, readByAll: true });
    const after = await a.getGroupMsgReadAnalytics({ groupId, msgId: mid });
    expect(after.data).toMatchObject({ eligible: 2, count: 2, unread: 0 });
    for (const k of ['to50', 'to90', 'toAll'] as const) expect(after.data[k]).toEqual(expect.any(Number));
    expect(after.data.to50!).toBeLessThanOrEqual(after.data.toAll!);
    expect(after.data.histogram.reduce((s, x) => s + x.count, 0)).toBe(2);
    expect(after.data.histogram.at(-1)!.upTo).toBe(null);
    const counts = await a.getGroupMsgReadCount({ groupId, msgIds: [mid], withUnread: true });
    expect(counts).toMatchObject({ data: { [mid]: 2 }, unread: { [mid]: 0 }, eligible: { [mid]: 2 } });
  });

  it('policy: members may be allowed to ask and to see; counts only refuses the lists', async () => {
    const [alice, bob] = await users('alice', 'bob');
    const a = await login(alice);
    const events: { operation: string; from: string; id: string }[] = [];
    const b = await login(bob, { onGroupEvent: (e) => events.push(e) });
    const g = await a.createGroupVNext({ groupName: 'board', members: [bob], isPublic: false });
    const groupId = g.data.groupId;
    expect((await b.getGroupReceiptPolicy({ groupId })).data).toEqual({ request: 'admins', visibility: 'admins', lists: true });
    const denied = await b.setGroupReceiptPolicy({ groupId, request: 'all' }).catch((e) => e);
    expect(denied).toMatchObject({ type: WebIM.statusCode.PERMISSION_DENIED });
    const set = await a.setGroupReceiptPolicy({ groupId, request: 'all', visibility: 'members' });
    expect(set.data).toEqual({ request: 'all', visibility: 'members', lists: true });
    // The members hear of it: a group event, so that apps read the policy again.
    await waitFor(() => events.some((e) => e.operation === 'updateInfo'), 'the updateInfo group event');
    expect(events.find((e) => e.operation === 'updateInfo')).toMatchObject({ id: groupId, from: alice });
    expect((await b.getGroupInfo({ groupId })).data[0].receiptPolicy).toEqual(set.data);

    // bob may now ask for receipts, and alice's receipts are his to see.
    const mine = await b.send(WebIM.message.create({ type: 'txt', chatType: 'groupChat', to: groupId, msg: 'from a member', msgConfig: { allowGroupAck: true } }));
    await a.send(WebIM.message.create({ type: 'read', chatType: 'groupChat', to: groupId, id: mine.serverMsgId }));
    const { serverMsgId: hers } = await a.send(WebIM.message.create({ type: 'txt', chatType: 'groupChat', to: groupId, msg: 'notice', msgConfig: { allowGroupAck: true } }));
    expect((await b.getGroupMsgReadCount({ groupId, msgIds: [hers] })).data[hers]).toBe(0);
    expect((await b.getGroupMsgReadUser({ groupId, msgId: mine.serverMsgId })).data.userlist).toEqual([alice]);

    await a.setGroupReceiptPolicy({ groupId, lists: false });
    const refused = await b.getGroupMsgReadUser({ groupId, msgId: mine.serverMsgId }).catch((e) => e);
    expect(refused).toMatchObject({ type: WebIM.statusCode.PERMISSION_DENIED });
    expect((await b.getGroupMsgReadCount({ groupId, msgIds: [mine.serverMsgId] })).data[mine.serverMsgId]).toBe(1);
    const bad = await a.setGroupReceiptPolicy({ groupId, visibility: 'everyone' as never }).catch((e) => e);
    expect(bad).toMatchObject({ type: WebIM.statusCode.REQUEST_PARAMETER_ERROR });
  });

  it('privacy: a member with read receipts off is not counted, not eligible, not reminded, but still sees receipts', async () => {
    const [alice, bob, carol] = await users('alice', 'bob', 'carol');
    const a = await login(alice);
    const b = await login(bob);
    const carolGot: ReminderEvent[] = [];
    const c = await login(carol, { onReminder: (e) => carolGot.push(e) });
    expect((await c.getUserSettings()).data).toEqual({ sendReadReceipts: true });
    expect((await c.setUserSettings({ sendReadReceipts: false })).data).toEqual({ sendReadReceipts: false });
    expect((await c.getUserSettings()).data.sendReadReceipts).toBe(false);

    const { groupId, mid } = await noticeIn(a, [bob, carol]);
    const ack = await c.send(WebIM.message.create({ type: 'read', chatType: 'groupChat', to: groupId, id: mid }));
    expect(ack).toMatchObject({ counted: false });
    const counts = await a.getGroupMsgReadCount({ groupId, msgIds: [mid], withUnread: true });
    expect(counts).toMatchObject({ data: { [mid]: 0 }, unread: { [mid]: 1 }, eligible: { [mid]: 1 } });
    expect((await a.getGroupMsgUnreadUser({ groupId, msgId: mid })).data.userlist).toEqual([bob]);
    const r = await a.remindUnreadMembers({ groupId, msgId: mid, users: [bob, carol] });
    expect(r.data).toMatchObject({ reminded: 1, skipped: [carol] });

    // Not reciprocal: carol still sees who read her own messages.
    await a.setAdmin({ groupId, username: carol });
    const own = await c.send(WebIM.message.create({ type: 'txt', chatType: 'groupChat', to: groupId, msg: 'mine', msgConfig: { allowGroupAck: true } }));
    await b.send(WebIM.message.create({ type: 'read', chatType: 'groupChat', to: groupId, id: own.serverMsgId }));
    expect((await c.getGroupMsgReadUser({ groupId, msgId: own.serverMsgId })).data.userlist).toEqual([bob]);
    expect(carolGot).toEqual([]);
  });
});
