// The session through each vendor SDK: token expiry (onTokenWillExpire at 80% of the token's
// life, onTokenExpired at its end, on the page's fake clock) and the kick when the password
// changes. seen runs with a one-minute token and checks live tokens every second.
import assert from 'node:assert/strict';
import { after, before, describe } from 'node:test';
import { launchBrowser, startPageServer, startSeen } from '../lib/harness.mjs';
import { Person } from '../lib/person.mjs';
import { flow } from '../lib/steps.mjs';
import { only, vendors } from '../lib/vendors.mjs';

const password = 'correct horse battery';

let seen;
let pages;
let browser;

before(async () => {
  seen = await startSeen(['--token-ttl', '1m', '--token-check-interval', '1s']);
  pages = await startPageServer(seen.url);
  browser = await launchBrowser();
});

after(async () => {
  await browser?.close();
  await pages?.stop();
  await seen?.stop();
});

const login = (a) => conn.open({ user: a.user, pwd: a.pwd });

for (const vendor of only(vendors)) {
  describe(`session through ${vendor.name}@${vendor.version}`, () => {
    const step = flow();
    const tag = `${vendor.name.slice(0, 2)}${process.pid}`;
    const u = { tim: `tim-${tag}`, pat: `pat-${tag}` };
    const p = {};

    after(async () => {
      for (const x of Object.values(p)) await x.close();
    });

    step('token expiry: onTokenWillExpire at 80%, then onTokenExpired', async () => {
      p.tim = await Person.open(browser, pages.url, vendor, seen.url, u.tim, { clock: true });
      await p.tim.ok('registerUser', (a) => conn.registerUser(a), { username: u.tim, password });
      const r = await p.tim.ok('open', login, { user: u.tim, pwd: password });
      assert.ok(r.duration > 0 && r.duration <= 60, `duration ${r.duration} is the token's life in seconds`);
      await p.tim.next('handler:onConnected');
      await p.tim.context.clock.fastForward(50_000);
      await p.tim.both('onTokenWillExpire');
      await p.tim.context.clock.fastForward(11_000);
      await p.tim.both('onTokenExpired');
    });

    step('a password change kicks the session: onError 216', async () => {
      p.pat = await Person.open(browser, pages.url, vendor, seen.url, u.pat);
      await p.pat.ok('registerUser', (a) => conn.registerUser(a), { username: u.pat, password });
      const r = await p.pat.ok('open', login, { user: u.pat, pwd: password });
      await p.pat.next('handler:onConnected');
      const res = await fetch(`${seen.url}/api/v1/me/password`, {
        method: 'PUT',
        headers: { 'Content-Type': 'application/json', Authorization: `Bearer ${r.accessToken}` },
        body: JSON.stringify({ oldPassword: password, newPassword: 'battery staple horse' }),
      });
      assert.equal(res.status, 204, await res.text());
      const e = await p.pat.next('handler:onError', (x) => x.type === 216);
      assert.equal(e.type, 216, 'WEBIM_CONNCTION_USER_KICKED_BY_CHANGE_PASSWORD');
    });
  });
}
