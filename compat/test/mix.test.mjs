// One service, two protocols: people on a vendor SDK (msync at /websocket) and on seen's own SDK
// (seen's protocol at /ws) in the same group and the same single chat, and one user online
// through both at once. Messages, reads and counts are the same on both sides.
import assert from 'node:assert/strict';
import { after, before, describe } from 'node:test';
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

for (const vendor of only(vendors)) {
  describe(`${vendor.name}@${vendor.version} and seen's own SDK together`, () => {
    const step = flow();
    const tag = `${vendor.name.slice(0, 2)}${process.pid}`;
    // sam uses seen's SDK; vic the vendor's; dua is online through both at once.
    const u = { sam: `sam-${tag}`, vic: `vic-${tag}`, dua: `dua-${tag}` };
    const p = {};
    let gid;
    let mid;

    after(async () => {
      for (const x of Object.values(p)) await x.close();
    });

    step('register and log in: sam on seen, vic on the vendor SDK, dua on both', async () => {
      p.sam = await Person.open(browser, pages.url, seenSdk, seen.url, u.sam);
      p.vic = await Person.open(browser, pages.url, vendor, seen.url, u.vic);
      p.duaSeen = await Person.open(browser, pages.url, seenSdk, seen.url, `${u.dua} (seen)`);
      p.duaVendor = await Person.open(browser, pages.url, vendor, seen.url, `${u.dua} (vendor)`);
      await p.sam.ok('registerUser', (a) => conn.registerUser(a), { username: u.sam, password });
      await p.vic.ok('registerUser', (a) => conn.registerUser(a), { username: u.vic, password });
      await p.duaVendor.ok('registerUser', (a) => conn.registerUser(a), { username: u.dua, password });
      for (const [k, user] of [['sam', u.sam], ['vic', u.vic], ['duaSeen', u.dua], ['duaVendor', u.dua]]) {
        await p[k].ok('open', login, { user, pwd: password });
        await p[k].next('handler:onConnected');
      }
    });

    step('a single text from the vendor SDK arrives on seen, and the reply on both of dua\'s devices', async () => {
      const r = await p.vic.ok('send', send, { type: 'txt', chatType: 'singleChat', to: u.sam, msg: 'from the vendor SDK' });
      const m = await p.sam.next('handler:onTextMessage', (x) => x.id === r.serverMsgId);
      assert.equal(m.msg, 'from the vendor SDK');
      assert.equal(m.from, u.vic);
      const back = await p.sam.ok('send', send, { type: 'txt', chatType: 'singleChat', to: u.dua, msg: 'to both of you' });
      for (const dev of [p.duaSeen, p.duaVendor]) {
        const x = await dev.next('handler:onTextMessage', (y) => y.id === back.serverMsgId);
        assert.equal(x.msg, 'to both of you');
      }
    });

    step("sam's group receipt text reaches vic and both of dua's devices", async () => {
      const g = await p.sam.ok('createGroupVNext', (a) => conn.createGroupVNext({ groupName: 'mix', members: a.members, inviteNeedConfirm: false }), { members: [u.vic, u.dua] });
      gid = g.data.groupId;
      const r = await p.sam.ok('send', send, { type: 'txt', chatType: 'groupChat', to: gid, msg: 'read me', msgConfig: { allowGroupAck: true } });
      mid = r.serverMsgId;
      for (const dev of [p.vic, p.duaSeen, p.duaVendor]) {
        const m = await dev.next('handler:onTextMessage', (x) => x.id === mid);
        assert.equal(m.msgConfig?.allowGroupAck, true, dev.name);
      }
    });

    step("acks from the vendor SDK and from seen's count once each: sam sees 1, then 2", async () => {
      await p.vic.ok('read ack', send, { type: 'read', chatType: 'groupChat', to: gid, id: mid, ackContent: 'vic' });
      let r = await p.sam.next('handler:onReadMessage', (m) => m.mid === mid);
      assert.equal(r.groupReadCount[mid], 1);
      await p.duaSeen.ok('read ack', send, { type: 'read', chatType: 'groupChat', to: gid, id: mid, ackContent: 'dua' });
      r = await p.sam.next('handler:onReadMessage', (m) => m.mid === mid);
      assert.equal(r.groupReadCount[mid], 2);
      // dua acking again from the other protocol does not count twice.
      await p.duaVendor.ok('read ack again', send, { type: 'read', chatType: 'groupChat', to: gid, id: mid, ackContent: 'dua again' });
      const readers = await p.sam.ok('getGroupMsgReadUser', (a) => conn.getGroupMsgReadUser({ groupId: a.gid, msgId: a.mid }), { gid, mid });
      assert.equal(readers.data.total, 2);
      assert.deepEqual([...readers.data.userlist].sort(), [u.vic, u.dua].sort());
    });

    step("a vendor-side owner: seen's ack counts live on both of dua's devices, and the vendor SDK lists the reader", async () => {
      const g = await p.duaVendor.ok('createGroupVNext', (a) => conn.createGroupVNext({ groupName: 'mix2', members: a.members, inviteNeedConfirm: false }), { members: [u.sam] });
      const r = await p.duaVendor.ok('send', send, { type: 'txt', chatType: 'groupChat', to: g.data.groupId, msg: 'vendor owner', msgConfig: { allowGroupAck: true } });
      await p.sam.next('handler:onTextMessage', (x) => x.id === r.serverMsgId);
      await p.sam.ok('read ack', send, { type: 'read', chatType: 'groupChat', to: g.data.groupId, id: r.serverMsgId });
      for (const dev of [p.duaVendor, p.duaSeen]) {
        const m = await dev.next('handler:onReadMessage', (x) => x.mid === r.serverMsgId);
        assert.equal(m.groupReadCount[r.serverMsgId], 1, dev.name);
      }
      const readers = await p.duaVendor.ok('getGroupMsgReadUser', (a) => conn.getGroupMsgReadUser({ groupId: a.gid, msgId: a.mid }), { gid: g.data.groupId, mid: r.serverMsgId });
      assert.deepEqual(readers.data.userlist, [u.sam]);
    });

    step('no page errors', () => {
      for (const x of Object.values(p)) assert.deepEqual(x.pageErrors.map(String), [], x.name);
    });
  });
}
