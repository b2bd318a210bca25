import { expect } from 'chai';
import { buildPush, samplePush, toXml } from '../../src/sandbox/push-simulator';
import { pushSignature } from '../../src/protocol/signature';
import { startHarness, type Harness } from '../support/harness';
import { request } from '../support/http';
import { WebhookReceiver } from '../support/webhook-receiver';
import type { TenantFixture } from '../support/tenant-fixtures';

const WEBHOOK_SECRET = 'forged-push-secret-0123456789';

/** Issue 8 item 1: a signed query seen anywhere cannot carry a forged body, whatever the method or mode. */
describe('portal: forged pushes on a seen signed query', function () {
  this.timeout(60_000);
  let h: Harness;
  let hook: WebhookReceiver;
  let t: TenantFixture;
  let strict: TenantFixture;

  before(async () => {
    h = await startHarness(2);
    hook = new WebhookReceiver(WEBHOOK_SECRET);
    await hook.start();
    t = (await h.tenant({ msgFormat: 'xml', webhook: { url: hook.url, secret: WEBHOOK_SECRET } })).t;
    strict = (await h.tenant({ msgFormat: 'xml', pushEncryption: 'required' })).t;
  });
  after(async () => {
    await h.close();
    await hook.stop();
  });

  const post = (gw: number, appid: string, query: Record<string, string>, body: string) =>
    request(`${h.url(gw)}/${appid}/portal?${new URLSearchParams(query).toString()}`, { method: 'POST', body, headers: { 'content-type': 'text/xml' } });
  const forged = (fromUser: string) => toXml(samplePush('text', { fromUser, content: 'forged order: refund everything' }));

  it('the signed query of a real encrypted push, reused as a plain push with another body, is 401 REPLAYED_PUSH on every instance and never forwarded', async () => {
    const real = buildPush(t, samplePush('text', { fromUser: 'o-real-enc', content: 'hello' }), { format: 'xml', mode: 'safe' });
    const ok = await post(0, t.appid, real.query, real.body);
    expect(ok.status, ok.text).to.equal(200);
    const { signature, timestamp, nonce } = real.query as { signature: string; timestamp: string; nonce: string };
    for (const gw of [0, 1]) {
      const r = await post(gw, t.appid, { signature, timestamp, nonce }, forged('o-attacker-1'));
      expect(r.status, r.text).to.equal(401);
      expect(r.json.error.code).to.equal('REPLAYED_PUSH');
    }
    // The real one is delivered; the forged one never is.
    await hook.waitFor(1, 10_000);
    await new Promise((r) => setTimeout(r, 500));
    expect(hook.deliveries.map((d) => d.body.message.fromUser)).to.not.include('o-attacker-1');
    // WeChat's own retry of the real push (same query, same body) is still answered.
    expect((await post(1, t.appid, real.query, real.body)).status).to.equal(200);
  });

  it('the signed query of a URL verification (GET), reused for a plain POST, is 401 REPLAYED_PUSH', async () => {
    const timestamp = String(Math.floor(Date.now() / 1000));
    const nonce = '424242';
    const signature = pushSignature(t.token, timestamp, nonce);
    const verify = await request(`${h.url(0)}/${t.appid}/portal?${new URLSearchParams({ signature, timestamp, nonce, echostr: 'abc' }).toString()}`);
    expect(verify.status).to.equal(200);
    expect(verify.text).to.equal('abc');
    const r = await post(1, t.appid, { signature, timestamp, nonce }, forged('o-attacker-2'));
    expect(r.status, r.text).to.equal(401);
    expect(r.json.error.code).to.equal('REPLAYED_PUSH');
    // The verification itself may be repeated as it was (WeChat retries), not with another echostr.
    expect((await request(`${h.url(1)}/${t.appid}/portal?${new URLSearchParams({ signature, timestamp, nonce, echostr: 'abc' }).toString()}`)).status).to.equal(200);
    const other = await request(`${h.url(1)}/${t.appid}/portal?${new URLSearchParams({ signature, timestamp, nonce, echostr: 'other' }).toString()}`);
    expect(other.json.error.code).to.equal('REPLAYED_PUSH');
  });

  it('the signed query of a plain push, reused in encrypted mode, is 401 REPLAYED_PUSH', async () => {
    const plain = buildPush(t, samplePush('text', { fromUser: 'o-plain-1', content: 'hi' }), { format: 'xml', mode: 'plain' });
    expect((await post(0, t.appid, plain.query, plain.body)).status).to.equal(200);
    const enc = buildPush(t, samplePush('text', { fromUser: 'o-attacker-3', content: 'x' }), {
      format: 'xml',
      mode: 'safe',
      timestamp: Number(plain.query.timestamp),
      nonce: plain.query.nonce,
    });
    const r = await post(1, t.appid, enc.query, enc.body);
    expect(r.status, r.text).to.equal(401);
    expect(r.json.error.code).to.equal('REPLAYED_PUSH');
  });

  it('pushEncryption "required": a plain push is 401 ENCRYPTION_REQUIRED; safe and compatible pushes are accepted', async () => {
    const plain = buildPush(strict, samplePush('text', { fromUser: 'o-strict', content: 'hi' }), { format: 'xml', mode: 'plain' });
    const refused = await post(0, strict.appid, plain.query, plain.body);
    expect(refused.status, refused.text).to.equal(401);
    expect(refused.json.error.code).to.equal('ENCRYPTION_REQUIRED');
    // encrypt_type=aes without msg_signature is not encrypted enough either.
    const safe = buildPush(strict, samplePush('text', { fromUser: 'o-strict', content: 'hi' }), { format: 'xml', mode: 'safe' });
    const { msg_signature: _dropped, ...noMsgSig } = safe.query;
    expect((await post(0, strict.appid, noMsgSig, safe.body)).json.error.code).to.equal('ENCRYPTION_REQUIRED');
    expect((await post(0, strict.appid, safe.query, safe.body)).status).to.equal(200);
    const compatible = buildPush(strict, samplePush('text', { fromUser: 'o-strict-2', content: 'hi' }), { format: 'xml', mode: 'compatible' });
    expect((await post(1, strict.appid, compatible.query, compatible.body)).status).to.equal(200);
  });
});
