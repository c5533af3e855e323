// Two seen nodes sharing one PostgreSQL schema and a NATS bus: a member on node A acks, the
// sender on node B sees the count live and lists the reader. Skipped unless both
// SEEN_TEST_POSTGRES_URL and SEEN_TEST_NATS_URL are set (make test sets them when those servers
// answer on 127.0.0.1).
import assert from 'node:assert/strict';
import { after, before, describe } from 'node:test';
import { launchBrowser, startPageServer, startSeen } from '../lib/harness.mjs';
import { Person } from '../lib/person.mjs';
import { flow } from '../lib/steps.mjs';
import { natsUrl, postgresSchema, postgresUrl } from '../lib/stores.mjs';
import { only, seenSdk, vendors } from '../lib/vendors.mjs';

const password = 'correct horse battery';
const skip = postgresUrl && natsUrl ? false : 'SEEN_TEST_POSTGRES_URL and SEEN_TEST_NATS_URL must both be set';

describe('two nodes', { skip }, () => {
  let schema;
  const node = {};
  let browser;

  before(async () => {
    schema = postgresSchema();
    for (const name of ['a', 'b']) {
      const n = await startSeen(['--postgres', schema.dsn, '--nats', natsUrl, '--node-id', `compat-${name}`]);
      node[name] = { seen: n, pages: await startPageServer(n.url) };
    }
    browser = await launchBrowser();
  });

  after(async () => {
    await browser?.close();
    for (const n of Object.values(node)) {
      await n.pages.stop();
      await n.seen.stop();
    }
    schema?.drop();
  });

  // seen's own SDK first, as the control.
  for (const vendor of only([seenSdk, ...vendors])) {
    describe(`${vendor.name}@${vendor.version}: member on node A, sender on node B`, () => {
      const step = flow();
      const tag = `${vendor.name.slice(0, 2)}${process.pid}`;
      const u = { owner: `boss-${tag}`, member: `mia-${tag}` };
      const p = {};
      let gid;
      let mid;

      after(async () => {
        for (const x of Object.values(p)) await x.close();
      });

      step('the sender logs in on node B, the member on node A', async () => {
        p.owner = await Person.open(browser, node.b.pages.url, vendor, node.b.seen.url, u.owner);
        p.member = await Person.open(browser, node.a.pages.url, vendor, node.a.seen.url, u.member);
        for (const [k, user] of [['owner', u.owner], ['member', u.member]]) {
          await p[k].ok('registerUser', (a) => conn.registerUser(a), { username: user, password });
          await p[k].ok('open', (a) => conn.open({ user: a.user, pwd: a.pwd }), { user, pwd: password });
          await p[k].next('handler:onConnected');
        }
      });

      step('a receipt-requesting group text from node B reaches node A', async () => {
        const g = await p.owner.ok('createGroupVNext', (a) => conn.createGroupVNext({ groupName: 'nodes', members: a.members, inviteNeedConfirm: false }), { members: [u.member] });
        gid = g.data.groupId;
        const r = await p.owner.ok('send', (a) => compat.send(a), { type: 'txt', chatType: 'groupChat', to: gid, msg: 'across nodes', msgConfig: { allowGroupAck: true } });
        mid = r.serverMsgId;
        const m = await p.member.next('handler:onTextMessage', (x) => x.id === mid);
        assert.equal(m.msgConfig?.allowGroupAck, true);
      });

      step("the member's ack on node A: the sender on node B sees the count and the reader", async () => {
        await p.member.ok('read ack', (a) => compat.send(a), { type: 'read', chatType: 'groupChat', to: gid, id: mid, ackContent: 'from A' });
        const [l, h] = await p.owner.both('onReadMessage', (x) => x.mid === mid);
        for (const x of [l, h]) assert.equal(x.groupReadCount?.[mid], 1);
        const readers = await p.owner.ok('getGroupMsgReadUser', (a) => conn.getGroupMsgReadUser({ groupId: a.gid, msgId: a.mid }), { gid, mid });
        assert.deepEqual(readers.data.userlist, [u.member]);
      });
    });
  }
});
