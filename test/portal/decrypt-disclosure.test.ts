import { expect } from 'chai';
import { msgSignature, pushSignature } from '../../src/protocol/signature';
import { Stores } from '../support/fleet';
import { makeTenant, type TenantFixture } from '../support/tenant-fixtures';
import { startGateway, type GatewayProcess } from '../support/gateway-process';
import { expectErrorBody, logLines, pollUntil, request, stopAll } from '../support/gateway-helpers';

/** Which decryption step failed would help a padding-oracle prober: it goes to the log, not the answer. */
describe('portal: DECRYPT_FAILED tells the caller nothing more', function () {
  this.timeout(30_000);
  let stores: Stores;
  let gw: GatewayProcess | undefined;
  let t: TenantFixture;

  before(async () => {
    stores = await Stores.open();
    t = makeTenant();
    await stores.seed(t);
    gw = await startGateway({ LOG_LEVEL: 'info' });
  });
  after(async () => {
    await stopAll([gw]);
    await stores.close();
  });

  it('a correctly signed push whose ciphertext does not decrypt: 400 DECRYPT_FAILED without details; the reason is logged', async () => {
    const timestamp = String(Math.floor(Date.now() / 1000));
    const nonce = '12345';
    // Valid base64, two AES blocks, but not encrypted under the tenant's key.
    const encrypt = Buffer.alloc(32, 1).toString('base64');
    const query = new URLSearchParams({
      signature: pushSignature(t.token, timestamp, nonce),
      timestamp,
      nonce,
      encrypt_type: 'aes',
      msg_signature: msgSignature(t.token, timestamp, nonce, encrypt),
    });
    const r = await request(`${gw!.url}/${t.appid}/portal?${query}`, {
      method: 'POST',
      headers: { 'content-type': 'text/xml', 'x-request-id': 'decrypt-failed-1' },
      body: `<xml><ToUserName><![CDATA[gh_test]]></ToUserName><Encrypt><![CDATA[${encrypt}]]></Encrypt></xml>`,
    });
    // Exactly {"error":{"code","message"}}: no details.reason.
    expectErrorBody(r, 400, 'DECRYPT_FAILED');
    const logged = () => logLines(gw!).filter((l) => l.reqId === 'decrypt-failed-1' && l.msg === 'request refused');
    await pollUntil(async () => logged().length === 1, { withinMs: 3000, what: 'the refusal in the log' });
    expect(logged()[0]).to.include({ code: 'DECRYPT_FAILED', appid: t.appid });
    expect(logged()[0]!.reason).to.be.a('string').and.not.equal('');
  });
});
