import { randomBytes } from 'node:crypto';
import { expect } from 'chai';
import { startHarness, type Harness } from '../support/harness';
import { runTenantsCli } from '../support/gateway-process';
import { request } from '../support/http';
import { writeTenantFiles } from '../support/tenant-fixtures';

const hex = (n: number) => randomBytes(n).toString('hex');
const platform = (name: string) => ({ componentAppid: 'wx' + hex(8), name, secret: hex(16), token: 'tok' + hex(4), aesKey: randomBytes(32).toString('base64').slice(0, 43) });

describe('platform: the public authorization page is rate limited per platform, across instances', function () {
  this.timeout(90_000);
  let h: Harness;
  const A = platform('Limited platform');
  const B = platform('Other platform');

  const authorize = (p: typeof A, gateway: number) => request(`${h.url(gateway)}/platform/${p.componentAppid}/authorize`, { headers: { accept: 'application/json' }, timeoutMs: 20_000 });

  before(async () => {
    // PUBLIC_BASE_URL only names where WeChat would send the admin back; nothing calls it here.
    h = await startHarness(2, { PUBLIC_BASE_URL: 'http://127.0.0.1:1', RATE_LIMIT_PLATFORM_AUTHORIZE: '3/min' });
    for (const p of [A, B]) h.sandbox.platform.registerPlatform({ ...p, eventUrl: `${h.url(0)}/platform/${p.componentAppid}/events` });
    const [file] = writeTenantFiles([
      { ...A, apiBase: h.sbx.url },
      { ...B, apiBase: h.sbx.url },
    ]);
    const cli = await runTenantsCli(['platforms', 'apply', file as string]);
    expect(cli.code, cli.stderr).to.equal(0);
    for (const p of [A, B]) expect((await h.sandbox.platform.sendTicket(p.componentAppid)).body).to.equal('success');
  });
  after(async () => {
    h?.sandbox.platform.close();
    await h?.close();
  });

  it('the allowance is shared by both gateways; beyond it 429 RATE_LIMITED with Retry-After; another platform is not affected', async () => {
    for (const g of [0, 1, 0]) {
      const r = await authorize(A, g);
      expect(r.status, r.text).to.equal(200);
    }
    for (const g of [1, 0]) {
      const r = await authorize(A, g);
      expect([r.status, r.json?.error?.code], r.text).to.deep.equal([429, 'RATE_LIMITED']);
      expect(Number(r.headers.get('retry-after'))).to.be.within(1, 60);
      expect(r.text).to.not.match(/\.js:\d+|\n\s*at /);
    }
    expect((await authorize(B, 1)).status).to.equal(200);
  });
});
