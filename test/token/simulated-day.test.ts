import { expect } from 'chai';
import { ManualClock } from '../../src/kernel/clock';
import { createSandbox, type Sandbox, type SandboxServer } from '../../src/sandbox';
import type { Tenant } from '../../src/tenancy/tenant';
import { tokenInstance, type TokenInstance } from '../support/token-rig';
import { makeTenant } from '../support/tenant-fixtures';

const DAY_S = 86_400;

function asTenant(apiBase: string, tokenMode: 'stable' | 'classic'): Tenant {
  const f = makeTenant({ apiBase, tokenMode });
  return { ...f, credential: 'appsecret', apiBase, rules: [], createdAt: new Date(), updatedAt: new Date() };
}

/**
 * The refresher against the sandbox on one fake clock: two instances share Redis, requests come at
 * a steady rate through a simulated day of 7200 s tokens.
 */
describe('token refresh through a simulated day', function () {
  this.timeout(120_000);
  let clock: ManualClock;
  let sandbox: Sandbox;
  let sbx: SandboxServer;
  let a: TokenInstance;
  let b: TokenInstance;

  beforeEach(async () => {
    clock = new ManualClock(Date.UTC(2026, 0, 1, 0, 0, 0));
    sandbox = createSandbox({ clock, tokenTtlSeconds: 7200 });
    sbx = await sandbox.listen(0, '127.0.0.1');
    a = await tokenInstance(clock);
    b = await tokenInstance(clock);
  });
  afterEach(async () => {
    await a.close();
    await b.close();
    await sbx.close();
  });

  for (const mode of ['stable', 'classic'] as const) {
    it(`${mode}: at most one token call per token lifetime, and no request fails`, async () => {
      const tenant = asTenant(sbx.url, mode);
      sandbox.registerApp({ appid: tenant.appid, secret: tenant.secret as string });
      const api = mode === 'stable' ? '/cgi-bin/stable_token' : '/cgi-bin/token';
      const stepS = 30;
      let failures = 0;
      let requests = 0;
      for (let t = 0; t < DAY_S; t += stepS) {
        const inst = (t / stepS) % 2 === 0 ? a : b;
        try {
          const r = await inst.clients.for(tenant).json('/wxa/generatescheme', { body: {} });
          if (r.errcode !== 0) failures++;
        } catch {
          failures++;
        }
        requests++;
        // Let a background renewal started by this request finish before time moves on.
        await new Promise((res) => setImmediate(res));
        await new Promise((res) => setTimeout(res, 1));
        clock.advance(stepS * 1000);
      }
      const tokenCalls = sandbox.calls(api, tenant.appid);
      expect(requests).to.equal(DAY_S / stepS);
      expect(failures).to.equal(0);
      // One lifetime is 7200 s; renewal happens 300 s early, so a day holds at most 13 renewals.
      expect(tokenCalls).to.be.at.most(Math.ceil(DAY_S / (7200 - 300)));
      expect(tokenCalls).to.be.at.least(Math.floor(DAY_S / 7200));
      // No request ever used a token that WeChat refused.
      expect(sandbox.calls('/wxa/generatescheme', tenant.appid)).to.equal(requests);
    });
  }

  it('WeChat down while the token is still valid: the valid token keeps being served, renewal retries', async () => {
    const tenant = asTenant(sbx.url, 'stable');
    sandbox.registerApp({ appid: tenant.appid, secret: tenant.secret as string });
    const first = await a.tokens.get(tenant);
    clock.advance(6950 * 1000); // inside the renewal window, 250 s before the hard expiry
    sandbox.injectFault({ endpoint: '/cgi-bin/stable_token', errcode: -1, times: 100 });
    for (let i = 0; i < 20; i++) {
      const t = await a.tokens.get(tenant);
      expect(t.accessToken).to.equal(first.accessToken);
      await new Promise((res) => setTimeout(res, 5));
      clock.advance(2000);
    }
    sandbox.clearFaults();
    clock.advance(60_000);
    await a.tokens.get(tenant);
    // The renewal runs in the background: give it up to 5 s of real time (a busy machine is slow).
    let renewed = await a.tokens.get(tenant);
    for (const until = Date.now() + 5000; renewed.accessToken === first.accessToken && Date.now() < until; renewed = await a.tokens.get(tenant)) {
      await new Promise((res) => setTimeout(res, 20));
    }
    expect(renewed.accessToken).not.to.equal(first.accessToken);
  });

  it('callers never receive a token past its hard expiry', async () => {
    const tenant = asTenant(sbx.url, 'classic');
    sandbox.registerApp({ appid: tenant.appid, secret: tenant.secret as string });
    const first = await a.tokens.get(tenant);
    sandbox.injectFault({ endpoint: '/cgi-bin/token', errcode: -1, times: 1000 });
    clock.advance((7200 - 59) * 1000);
    let err: unknown;
    try {
      await a.tokens.get(tenant);
    } catch (e) {
      err = e;
    }
    expect(err).to.be.instanceOf(Error);
    expect(first.expiresAt).to.be.lessThan(clock.now());
  });
});
