// The core chat of an app built on the vendor SDK (issue 11), through each unmodified package:
// single and group text and custom messages, several devices of one user, delivery, read and
// conversation receipts in a single chat, offline messages on login, history, the conversation
// list with unread counts, group management over REST, and a clear error (not a hang) from a
// feature seen does not offer.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { launchBrowser, startPageServer, startSeen } from '../lib/harness.mjs';
import { Person } from '../lib/person.mjs';
import { flow } from '../lib/steps.mjs';
import { only, seenSdk, vendors } from '../lib/vendors.mjs';

const password = 'correct horse battery';

let seen;
let pages;
let browser;

before(async () => {
  seen = await startSeen();
  pages = await startPageServer(seen.url);
  browser = await launchBrowser();
});

after(async () => {
  await browser?.close();
  await pages?.stop();
  await seen?.stop();
});

const login = (a) => conn.open({ user: a.user, pwd: a.pwd });
const send = (a) => compat.send(a);
// getJoinedGroups({pageNum, pageSize}): the vendor's d.ts counts pages from 1 (from 0 only with
// needRole or needAffiliations, a REST path seen does not serve); seen's own SDK counts from 0.
const joinedGroups = (a) => conn.getJoinedGroups({ pageNum: a.first, pageSize: 20 });
const names = (list) => list.map((x) => (typeof x === 'string' ? x : (x.userId ?? x.member ?? x.owner ?? x.username))).sort();

for (const vendor of only([seenSdk, ...vendors])) {
  describe(`core flows through ${vendor.name}@${vendor.version}`, () => {
    const step = flow();
    const tag = `${vendor.name.slice(0, 2)}${process.pid}`;
    const u = { a: `ann-${tag}`, b: `bob-${tag}`, c: `cat-${tag}` };
    const p = {};
    const first = vendor === seenSdk ? 0 : 1;
    let gid;

    after(async () => {
      for (const x of Object.values(p)) await x.close();
    });

    step('register; ann logs in on two devices, bob (with delivery receipts) on one', async () => {
      const reg = await Person.open(browser, pages.url, vendor, seen.url, 'registrar');
      p.reg = reg;
      for (const name of Object.values(u)) await reg.ok(`registerUser ${name}`, (a) => conn.registerUser(a), { username: name, password });
      p.a1 = await Person.open(browser, pages.url, vendor, seen.url, `${u.a} (device 1)`);
      p.a2 = await Person.open(browser, pages.url, vendor, seen.url, `${u.a} (device 2)`);
      p.b = await Person.open(browser, pages.url, vendor, seen.url, u.b, { delivery: true });
      for (const [k, user] of [['a1', u.a], ['a2', u.a], ['b', u.b]]) {
        await p[k].ok('open', login, { user, pwd: password });
        await p[k].next('handler:onConnected');
      }
    });

    let toBob;
    step('a single text: bob receives it; ann gets the delivery receipt', async () => {
      toBob = await p.a1.ok('send', send, { type: 'txt', chatType: 'singleChat', to: u.b, msg: 'hello bob', ext: { k: 'v' } });
      assert.match(toBob.serverMsgId, /^\d+$/);
      const [l, h] = await p.b.both('onTextMessage', (m) => m.id === toBob.serverMsgId);
      assert.equal(h.msg, 'hello bob');
      assert.equal(l.data, 'hello bob');
      assert.equal(h.chatType, 'singleChat');
      assert.equal(h.from, u.a);
      assert.equal(h.to, u.b);
      assert.deepEqual(h.ext, { k: 'v' });
      const d = await p.a1.next('handler:onDeliveredMessage', (m) => m.mid === toBob.serverMsgId);
      assert.equal(d.from, u.b);
    });

    step("bob's reply reaches both of ann's devices", async () => {
      const r = await p.b.ok('send', send, { type: 'txt', chatType: 'singleChat', to: u.a, msg: 'hi ann' });
      for (const dev of [p.a1, p.a2]) {
        const m = await dev.next('handler:onTextMessage', (x) => x.id === r.serverMsgId);
        assert.equal(m.msg, 'hi ann');
        assert.equal(m.from, u.b);
      }
    });

    step('single-chat read receipt and conversation ack: onReadMessage (no groupReadCount), onChannelMessage', async () => {
      await p.b.ok('read ack', send, { type: 'read', chatType: 'singleChat', to: u.a, id: toBob.serverMsgId });
      const [l, h] = await p.a1.both('onReadMessage', (m) => m.mid === toBob.serverMsgId);
      for (const m of [l, h]) {
        assert.equal(m.from, u.b);
        assert.equal(m.groupReadCount, undefined);
      }
      await p.b.ok('channel ack', send, { type: 'channel', chatType: 'singleChat', to: u.a });
      const c = await p.a1.next('handler:onChannelMessage');
      assert.equal(c.from, u.b);
    });

    step('a custom message', async () => {
      const r = await p.a1.ok('send custom', send, { type: 'custom', chatType: 'singleChat', to: u.b, customEvent: 'poke', customExts: { strength: '3' } });
      const m = await p.b.next('handler:onCustomMessage', (x) => x.id === r.serverMsgId);
      assert.equal(m.customEvent, 'poke');
      assert.deepEqual(m.customExts, { strength: '3' });
    });

    let toCat;
    step('offline messages: cat logs in and receives what ann sent meanwhile', async () => {
      toCat = await p.a1.ok('send', send, { type: 'txt', chatType: 'singleChat', to: u.c, msg: 'while you were away' });
      p.c = await Person.open(browser, pages.url, vendor, seen.url, u.c);
      await p.c.ok('open', login, { user: u.c, pwd: password });
      const m = await p.c.next('handler:onTextMessage', (x) => x.id === toCat.serverMsgId);
      assert.equal(m.msg, 'while you were away');
    });

    step('history: getHistoryMessages has the message', async () => {
      const r = await p.c.ok('getHistoryMessages', (a) => conn.getHistoryMessages({ targetId: a.peer, chatType: 'singleChat', pageSize: 20 }), { peer: u.a });
      const m = r.messages.find((x) => x.id === toCat.serverMsgId);
      assert.ok(m, `history has ${toCat.serverMsgId}: ${JSON.stringify(r).slice(0, 500)}`);
      assert.equal(m.msg, 'while you were away');
    });

    step('conversation list: unread 1, then 0 after the conversation ack', async () => {
      const list = () => p.c.ok('getServerConversations', () => conn.getServerConversations({ pageSize: 20, cursor: '' }));
      let conv = (await list()).data.conversations.find((x) => x.conversationId === u.a);
      assert.ok(conv, 'a conversation with ann');
      assert.equal(conv.conversationType, 'singleChat');
      assert.equal(conv.unReadCount, 1);
      await p.c.ok('channel ack', send, { type: 'channel', chatType: 'singleChat', to: u.a });
      conv = (await list()).data.conversations.find((x) => x.conversationId === u.a);
      assert.equal(conv.unReadCount, 0);
    });

    step('group management: create, info, members, invite, admins, remove', async () => {
      const r = await p.a1.ok('createGroupVNext', (a) => conn.createGroupVNext({ groupName: 'team', description: 'core', members: a.members, isPublic: false, needApprovalToJoin: false, allowMemberToInvite: false, inviteNeedConfirm: false, maxMemberCount: 200 }), { members: [u.b] });
      gid = r.data.groupId;
      const info = await p.a1.ok('getGroupInfo', (a) => conn.getGroupInfo({ groupId: a.gid }), { gid });
      assert.equal(info.data[0].id, gid);
      assert.equal(info.data[0].owner, u.a);
      assert.equal(info.data[0].name, 'team');
      await p.a1.ok('inviteUsersToGroup', (a) => conn.inviteUsersToGroup({ groupId: a.gid, users: [a.user] }), { gid, user: u.c });
      const members = await p.a1.ok('getGroupMembers', (a) => conn.getGroupMembers({ groupId: a.gid, limit: 50 }), { gid });
      assert.deepEqual(names(members.data.members), [u.a, u.b, u.c].sort());
      await p.a1.ok('setAdmin', (a) => conn.setAdmin({ groupId: a.gid, username: a.user }), { gid, user: u.b });
      // Whether the owner is listed among the admins differs between servers: bob's place is what counts.
      const admins = async () => names((await p.a1.ok('getGroupAdmin', (a) => conn.getGroupAdmin({ groupId: a.gid }), { gid })).data);
      assert.ok((await admins()).includes(u.b), 'bob is an admin');
      await p.a1.ok('removeAdmin', (a) => conn.removeAdmin({ groupId: a.gid, username: a.user }), { gid, user: u.b });
      assert.ok(!(await admins()).includes(u.b), 'bob is no longer an admin');
      await p.a1.ok('removeGroupMember', (a) => conn.removeGroupMember({ groupId: a.gid, username: a.user }), { gid, user: u.c });
      const joined = await p.c.ok('getJoinedGroups', joinedGroups, { first });
      assert.ok(!joined.data.some((g) => (g.groupid ?? g.groupId) === gid), 'cat is no longer in the group');
    });

    step('group text and custom messages reach the member', async () => {
      const t = await p.a1.ok('send', send, { type: 'txt', chatType: 'groupChat', to: gid, msg: 'hello team' });
      const m = await p.b.next('handler:onTextMessage', (x) => x.id === t.serverMsgId);
      assert.equal(m.chatType, 'groupChat');
      assert.equal(m.to, gid);
      const c = await p.a1.ok('send custom', send, { type: 'custom', chatType: 'groupChat', to: gid, customEvent: 'vote', customExts: { option: 'a' } });
      const mc = await p.b.next('handler:onCustomMessage', (x) => x.id === c.serverMsgId);
      assert.equal(mc.customEvent, 'vote');
    });

    step('my groups, leave and destroy', async () => {
      const joined = await p.b.ok('getJoinedGroups', joinedGroups, { first });
      assert.ok(joined.data.some((g) => (g.groupid ?? g.groupId) === gid), "bob's groups have the group");
      await p.b.ok('leaveGroup', (a) => conn.leaveGroup({ groupId: a.gid }), { gid });
      const after = await p.b.ok('getJoinedGroups', joinedGroups, { first });
      assert.ok(!after.data.some((g) => (g.groupid ?? g.groupId) === gid), 'bob left');
      await p.a1.ok('destroyGroup', (a) => conn.destroyGroup({ groupId: a.gid }), { gid });
      await p.a1.fails('getGroupInfo of a destroyed group', (a) => conn.getGroupInfo({ groupId: a.gid }), { gid });
    });

    step('a feature seen does not offer (chat rooms) fails with an error, not a hang', async () => {
      const err = await p.a1.fails('joinChatRoom', () => conn.joinChatRoom({ roomId: '1' }));
      assert.ok(err, 'an error');
      assert.doesNotMatch(String(err.message), /timeout/i, JSON.stringify(err));
    });

    step('no page errors', () => {
      for (const x of Object.values(p)) assert.deepEqual(x.pageErrors.map(String), [], x.name);
    });
  });
}

// Before any session: what the REST side answers a page with the wrong app key.
for (const vendor of only(vendors)) {
  describe(`${vendor.name}@${vendor.version} with a wrong app key`, () => {
    let page;
    after(() => page?.close());

    test('registerUser is refused with a clear error, not a hang', async () => {
      page = await Person.open(browser, pages.url, vendor, seen.url, 'wrong app key', { appKey: 'other#app' });
      const err = await page.fails('registerUser under other#app', (a) => conn.registerUser(a), { username: `wrong-${process.pid}`, password });
      assert.match(JSON.stringify(err), /app key|organization_application_not_found/i, JSON.stringify(err));
    });
  });
}
