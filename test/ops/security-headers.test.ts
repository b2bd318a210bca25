import { expect } from 'chai';
import { pushSignature } from '../../src/protocol/signature';
import { startHarness, type Harness, type Res } from '../support/harness';

/** koa-helmet runs first in buildApp: every answer carries the security headers, errors and the portal's text included. */
describe('ops: security headers on every response', function () {
  this.timeout(60_000);
  let h: Harness;

  before(async () => {
    h = await startHarness(1);
  });
  after(async () => {
    await h?.close();
  });

  const expectSecurityHeaders = (r: Res, what: string) => {
    expect(r.headers.get('x-content-type-options'), what).to.equal('nosniff');
    expect(r.headers.get('x-frame-options'), what).to.equal('SAMEORIGIN');
    expect(r.headers.get('strict-transport-security'), what).to.equal('max-age=31536000; includeSubDomains');
    expect(r.headers.get('content-security-policy'), what).to.equal("default-src 'none';base-uri 'none';form-action 'none';frame-ancestors 'none'");
    // The platform's authorize link must send the gateway's origin to WeChat (which checks it).
    expect(r.headers.get('referrer-policy'), what).to.equal('strict-origin-when-cross-origin');
    expect(r.headers.get('x-powered-by'), what).to.equal(null);
  };

  it('on a JSON route (/healthz)', async () => {
    const r = await h.req('GET', '/healthz');
    expect(r.status).to.equal(200);
    expectSecurityHeaders(r, '/healthz');
  });

  it('on error answers (404 NOT_FOUND, 404 for an unknown tenant, 401 from the portal)', async () => {
    const notFound = await h.req('GET', '/healthz/nope');
    expect(notFound.status).to.equal(404);
    expectSecurityHeaders(notFound, 'no route');
    const noTenant = await h.req('GET', '/wx0123456789abcdef/portal');
    expect(noTenant.status).to.be.within(400, 499);
    expectSecurityHeaders(noTenant, 'unknown tenant');
    const { t } = await h.tenant();
    const timestamp = String(Math.floor(Date.now() / 1000));
    const forged = await h.req('GET', `/${t.appid}/portal?${new URLSearchParams({ signature: '0'.repeat(40), timestamp, nonce: '1', echostr: 'x' }).toString()}`);
    expect(forged.status).to.equal(401);
    expectSecurityHeaders(forged, 'forged portal verification');
  });

  it("on text routes (the portal's URL verification, /metrics)", async () => {
    const { t } = await h.tenant();
    const timestamp = String(Math.floor(Date.now() / 1000));
    const nonce = '424242';
    const ok = await h.req('GET', `/${t.appid}/portal?${new URLSearchParams({ signature: pushSignature(t.token, timestamp, nonce), timestamp, nonce, echostr: 'echo-sec' }).toString()}`);
    expect(ok.status, ok.text).to.equal(200);
    expect(ok.text).to.equal('echo-sec');
    expect(ok.headers.get('content-type')).to.match(/^text\/plain/);
    expectSecurityHeaders(ok, 'portal verification');
    const metrics = await h.req('GET', '/metrics');
    expect(metrics.status).to.equal(200);
    expect(metrics.text).to.contain('wxgate_store_up{store="redis"} 1').and.to.contain('wxgate_store_up{store="mongodb"} 1');
    expectSecurityHeaders(metrics, '/metrics');
  });
});
