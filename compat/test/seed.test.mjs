// The seed flow (../shared/seed/group-read-receipt.md) through each unmodified vendor SDK.
//
// An owner and two members, each in their own browser context on a page of another origin than
// seen. The owner creates a group with both members and sends a text asking for read receipts;
// the members receive it, one acks while the owner is online (onReadMessage with the live count
// through listen and addEventHandler), the other while the owner is away (onStatisticMessage
// after the owner logs in again); the owner lists the readers; a plain member asking for
// receipts is refused with seen's reason, not left to the SDK's send timeout.
import assert from 'node:assert/strict';
import { after, before, describe } from 'node:test';
import { launchBrowser, startPageServer, startSeen } from '../lib/harness.mjs';
import { Person } from '../lib/person.mjs';
import { flow } from '../lib/steps.mjs';
import { stores } from '../lib/stores.mjs';
import { only, seenSdk, vendors } from '../lib/vendors.mjs';

const password = 'correct horse battery';

// On each store, seen's own SDK runs the same flow first, as the control.
for (const store of stores) {
  describe(`on ${store.name}`, () => {
    let seen;
    let pages;
    let browser;
    let cleanup;

    before(async () => {
      const s = store.start();
      cleanup = s.cleanup;
      seen = await startSeen(s.args);
      pages = await startPageServer(seen.url);
      browser = await launchBrowser();
    });

    after(async () => {
      await browser?.close();
      await pages?.stop();
      await seen?.stop();
      cleanup?.();
    });

    for (const vendor of only([seenSdk, ...vendors])) {
      describe(`seed flow through ${vendor.name}@${vendor.version}`, () => {
        const step = flow();
        const tag = `${vendor.name.slice(0, 2)}${store.name.slice(0, 2).toLowerCase()}${process.pid}`;
        const names = { owner: `owner-${tag}`, m1: `member1-${tag}`, m2: `member2-${tag}` };
        const p = {};
        const text = `who read this? (${vendor.name})`;
        let gid;
        let mid;
        let m2Token;

        after(async () => {
          for (const x of Object.values(p)) await x.close();
        });

        step('each person opens the page and registers', async () => {
          for (const [role, name] of Object.entries(names)) {
            p[role] = await Person.open(browser, pages.url, vendor, seen.url, name);
            await p[role].ok('registerUser', (a) => conn.registerUser({ username: a.username, password: a.password }), { username: name, password });
          }
        });

        step('owner and member 1 log in with a password: onOpened and onConnected', async () => {
          for (const role of ['owner', 'm1']) {
            const r = await p[role].ok('open', (a) => conn.open({ user: a.user, pwd: a.pwd }), { user: names[role], pwd: password });
            assert.equal(typeof r.accessToken, 'string', 'open resolves with the access token');
            await Promise.all([p[role].next('listen:onOpened'), p[role].next('handler:onConnected')]);
          }
        });

        step('member 2 logs in with a password, closes, and logs in again with the token', async () => {
          const r = await p.m2.ok('open', (a) => conn.open({ user: a.user, pwd: a.pwd }), { user: names.m2, pwd: password });
          m2Token = r.accessToken;
          await p.m2.next('handler:onConnected');
          await p.m2.ok('close', () => conn.close());
          await p.m2.next('handler:onDisconnected');
          await p.m2.ok('open with token', (a) => conn.open({ user: a.user, accessToken: a.token }), { user: names.m2, token: m2Token });
          await p.m2.next('handler:onConnected');
        });

        step('owner creates a group with both members (createGroupVNext)', async () => {
          const r = await p.owner.ok(
            'createGroupVNext',
            (a) => conn.createGroupVNext({ groupName: 'receipts', description: 'seed', members: a.members, isPublic: false, needApprovalToJoin: false, allowMemberToInvite: false, inviteNeedConfirm: false, maxMemberCount: 200 }),
            { members: [names.m1, names.m2] }
          );
          gid = r.data.groupId;
          assert.match(String(gid), /^\d+$/, 'group ids are decimal strings');
        });

        step('owner sends a group text with msgConfig.allowGroupAck: success(localId, serverMsgId)', async () => {
          // The seed's own snippet (v3 style; the vendor calls success only on a v3 message).
          const r = await p.owner.ok(
            'send',
            async (a) => {
              const id = conn.getUniqueId();
              const msg = new WebIM.message('txt', id);
              msg.set({
                msg: a.text,
                to: a.gid,
                chatType: 'groupChat',
                success: (localId, serverMsgId) => compat.report('success', { localId, serverMsgId }),
                fail: (e) => compat.report('fail', e),
              });
              msg.body.msgConfig = { allowGroupAck: true };
              const res = await conn.send(msg.body);
              return { id, localMsgId: res.localMsgId, serverMsgId: res.serverMsgId };
            },
            { gid, text }
          );
          const ok = await p.owner.next('success');
          assert.equal(ok.localId, r.id, 'success gets the local id');
          assert.equal(ok.serverMsgId, r.serverMsgId, 'success gets the server id the promise has');
          assert.equal(r.localMsgId, r.id);
          assert.match(r.serverMsgId, /^\d+$/, 'server ids are decimal strings');
          mid = r.serverMsgId;
        });

        step('both members receive it with msgConfig.allowGroupAck', async () => {
          for (const role of ['m1', 'm2']) {
            const [l, h] = await p[role].both('onTextMessage', (m) => m.id === mid);
            for (const m of [l, h]) {
              assert.equal(m.from, names.owner);
              assert.equal(m.to, gid);
              assert.equal(m.msgConfig?.allowGroupAck, true, 'msgConfig.allowGroupAck');
            }
            assert.equal(h.msg, text);
            assert.equal(h.chatType, 'groupChat');
            assert.equal(l.data, text);
          }
        });

        step("member 1 acks with ackContent: the owner's onReadMessage has groupReadCount[mid] 1", async () => {
          await p.m1.ok('read ack', (a) => conn.send(WebIM.message.create({ type: 'read', chatType: 'groupChat', id: a.mid, to: a.gid, ackContent: a.content })), {
            mid,
            gid,
            content: JSON.stringify({ by: names.m1 }),
          });
          const [l, h] = await p.owner.both('onReadMessage', (m) => m.mid === mid);
          for (const m of [l, h]) {
            assert.equal(m.groupReadCount?.[mid], 1, 'groupReadCount[mid]');
            assert.equal(m.from, names.m1);
            assert.equal(m.to, gid);
            assert.equal(m.ackContent, JSON.stringify({ by: names.m1 }));
          }
        });

        step('owner logs out; member 2 acks; owner logs in again: onStatisticMessage has the count', async () => {
          await p.owner.ok('close', () => conn.close());
          await p.owner.next('handler:onDisconnected');
          await p.m2.ok('read ack', (a) => conn.send(WebIM.message.create({ type: 'read', chatType: 'groupChat', id: a.mid, to: a.gid, ackContent: '{}' })), { mid, gid });
          await p.owner.ok('open', (a) => conn.open({ user: a.user, pwd: a.pwd }), { user: names.owner, pwd: password });
          const [l, h] = await p.owner.both('onStatisticMessage');
          for (const s of [l, h]) {
            const acks = JSON.parse(s.location).group_ack ?? [];
            const e = acks.find((x) => x.mid === mid);
            assert.ok(e, `group_ack has an entry for ${mid}: ${s.location}`);
            assert.equal(e.count, 2);
          }
        });

        step('getGroupMsgReadUser lists both readers', async () => {
          const r = await p.owner.ok('getGroupMsgReadUser', (a) => conn.getGroupMsgReadUser({ groupId: a.gid, msgId: a.mid }), { gid, mid });
          assert.equal(r.data.total, 2);
          assert.deepEqual([...r.data.userlist].sort(), [names.m1, names.m2].sort());
        });

        step('a plain member asking for receipts is refused with the reason, not a timeout', async () => {
          const err = await p.m1.fails('send with allowGroupAck', (a) => conn.send(WebIM.message.create({ type: 'txt', chatType: 'groupChat', to: a.gid, msg: 'me too?', msgConfig: { allowGroupAck: true } })), { gid });
          assert.match(String(err.message), /only the group owner and admins may request read receipts/, JSON.stringify(err));
        });

        step('no page errors', () => {
          for (const x of Object.values(p)) assert.deepEqual(x.pageErrors.map(String), [], x.name);
        });
      });
    }
  });
}
