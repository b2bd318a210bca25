import { X509Certificate } from 'node:crypto';
import { expect } from 'chai';
import type { RegisteredMerchant } from '../../src/sandbox';
import { type Harness, SEC, startSandbox } from './helpers';
import { API_V3_KEY, decrypt, jsapiBody, MCHID, merchantKeys, type NotifyServer, SERIAL, startNotifyServer, strangerKeys, v3, verifySigned } from './pay-helpers';

const JSAPI = '/v3/pay/transactions/jsapi';
const query = (no: string, mchid = MCHID): string => `/v3/pay/transactions/out-trade-no/${no}?mchid=${mchid}`;
const closeUrl = (no: string): string => `/v3/pay/transactions/out-trade-no/${no}/close`;
const REFUNDS = '/v3/refund/domestic/refunds';

describe('sandbox: WeChat Pay v3', function () {
  this.timeout(10_000);
  let h: Harness;
  let notify: NotifyServer;
  let reg: RegisteredMerchant;

  beforeEach(async () => {
    h = await startSandbox();
    notify = await startNotifyServer();
    reg = h.sb.pay.registerMerchant({ mchid: MCHID, serialNo: SERIAL, merchantPublicKey: merchantKeys().publicKeyPem, apiV3Key: API_V3_KEY });
  });
  afterEach(async () => {
    await h.close();
    await notify.close();
  });

  async function prepay(no: string, over: Record<string, unknown> = {}): Promise<string> {
    const r = await v3(h, 'POST', JSAPI, jsapiBody(no, notify.url, over));
    expect(r.status, r.raw).to.equal(200);
    return r.data.prepay_id;
  }

  describe('request signatures', () => {
    it('accepts a signed JSAPI prepay and signs the answer with the platform public key', async () => {
      expect(reg.publicKeyId).to.match(/^PUB_KEY_ID_\d+$/);
      expect(reg.certificates).to.deep.equal([]);
      const r = await v3(h, 'POST', JSAPI, jsapiBody('T0000001', notify.url));
      expect(r.status).to.equal(200);
      expect(r.data.prepay_id).to.match(/^wx\w{20,}$/);
      expect(r.headers['wechatpay-serial']).to.equal(reg.publicKeyId);
      expect(r.headers['wechatpay-timestamp']).to.equal(String(Math.floor(h.clock.now() / 1000)));
      expect(r.headers['request-id']).to.be.a('string').and.not.equal('');
      expect(r.headers['content-type']).to.match(/^application\/json/);
      expect(verifySigned(r.headers, r.raw, reg.publicKey)).to.equal(true);
      expect(verifySigned(r.headers, r.raw.replace('wx', 'xx'), reg.publicKey)).to.equal(false);
    });

    it('answers 401 SIGN_ERROR, signed, for a wrong key, a wrong serial, a stale timestamp or a changed body', async () => {
      const body = jsapiBody('T0000002', notify.url);
      const cases = [
        await v3(h, 'POST', JSAPI, body, { key: strangerKeys().privateKey }),
        await v3(h, 'POST', JSAPI, body, { serial: 'DEADBEEF' }),
        await v3(h, 'POST', JSAPI, body, { timestamp: Math.floor(h.clock.now() / 1000) - 301 }),
        await v3(h, 'POST', JSAPI, body, { timestamp: Math.floor(h.clock.now() / 1000) + 301 }),
        await v3(h, 'POST', JSAPI, body, { sentBody: JSON.stringify({ ...body, amount: { total: 1 } }) }),
        await v3(h, 'GET', query('T0000002'), undefined, { key: strangerKeys().privateKey }),
      ];
      for (const r of cases) {
        expect(r.status, r.raw).to.equal(401);
        expect(r.data.code).to.equal('SIGN_ERROR');
        expect(r.data.message).to.be.a('string').and.not.equal('');
        expect(verifySigned(r.headers, r.raw, reg.publicKey)).to.equal(true);
      }
      // a timestamp 299 s off is still accepted
      const ok = await v3(h, 'POST', JSAPI, body, { timestamp: Math.floor(h.clock.now() / 1000) - 299 });
      expect(ok.status).to.equal(200);
    });

    it('answers 401 for a missing Authorization header and 400 MCH_NOT_EXISTS for an unknown mchid', async () => {
      const bare = await h.http.post(JSAPI, jsapiBody('T0000003', notify.url));
      expect(bare.status).to.equal(401);
      expect(bare.data.code).to.equal('SIGN_ERROR');
      const unknown = await v3(h, 'POST', JSAPI, jsapiBody('T0000003', notify.url, { mchid: '1900000999' }), { mchid: '1900000999' });
      expect(unknown.status).to.equal(400);
      expect(unknown.data.code).to.equal('MCH_NOT_EXISTS');
      expect(unknown.headers['wechatpay-signature']).to.be.a('string');
    });
  });

  describe('orders', () => {
    it('prepay is idempotent for identical parameters; changed parameters are a duplicate out_trade_no', async () => {
      const first = await prepay('T0000010');
      expect(await prepay('T0000010')).to.equal(first);
      const dup = await v3(h, 'POST', JSAPI, jsapiBody('T0000010', notify.url, { amount: { total: 1300, currency: 'CNY' } }));
      expect(dup.status).to.equal(400);
      expect(dup.data).to.deep.equal({ code: 'INVALID_REQUEST', message: '201 商户订单号重复' });
    });

    it('validates the prepay body with 400 PARAM_ERROR', async () => {
      const bad: Record<string, unknown>[] = [
        { amount: { total: 0 } },
        { amount: { total: 1.5 } },
        { amount: { total: 100, currency: 'USD' } },
        { payer: {} },
        { description: '' },
        { out_trade_no: 'x' },
        { notify_url: 'not a url' },
        { notify_url: 'https://example.com/n?x=1' },
        { time_expire: '2024-01-01 10:00:00' },
        { mchid: '1900000110' },
        { appid: undefined },
      ];
      for (const over of bad) {
        const r = await v3(h, 'POST', JSAPI, jsapiBody('T0000011', notify.url, over));
        expect(r.status, JSON.stringify(over)).to.equal(400);
        expect(r.data.code, JSON.stringify(over)).to.equal('PARAM_ERROR');
      }
      const malformed = await v3(h, 'POST', JSAPI, undefined, { sentBody: '' });
      expect(malformed.status).to.equal(400);
      expect(malformed.data.code).to.equal('PARAM_ERROR');
      expect(h.sb.pay.order(MCHID, 'T0000011')).to.equal(undefined);
    });

    it('queries by out_trade_no; unknown is 404 ORDER_NOT_EXIST', async () => {
      await prepay('T0000020', { time_expire: '2024-01-01T10:00:00+08:00' });
      const q = await v3(h, 'GET', query('T0000020'));
      expect(q.status).to.equal(200);
      expect(q.data).to.deep.equal({
        appid: 'wx00000000000000a1',
        mchid: MCHID,
        out_trade_no: 'T0000020',
        trade_type: 'JSAPI',
        trade_state: 'NOTPAY',
        trade_state_desc: '订单未支付',
        attach: 'cart=7',
        payer: { openid: 'oUpF8uMuAJO_M2pxb1Q9zNjWeS6o' },
        amount: { total: 1200, currency: 'CNY', payer_currency: 'CNY' },
      });
      expect(verifySigned(q.headers, q.raw, reg.publicKey)).to.equal(true);
      const missing = await v3(h, 'GET', query('T0000404'));
      expect(missing.status).to.equal(404);
      expect(missing.data.code).to.equal('ORDER_NOT_EXIST');
      const noMchid = await v3(h, 'GET', '/v3/pay/transactions/out-trade-no/T0000020');
      expect(noMchid.status).to.equal(400);
      expect(noMchid.data.code).to.equal('PARAM_ERROR');
    });

    it('close answers a signed 204; a closed order cannot be prepaid again', async () => {
      await prepay('T0000030');
      const c = await v3(h, 'POST', closeUrl('T0000030'), { mchid: MCHID });
      expect(c.status).to.equal(204);
      expect(c.raw).to.equal('');
      expect(verifySigned(c.headers, '', reg.publicKey)).to.equal(true);
      expect((await v3(h, 'GET', query('T0000030'))).data.trade_state).to.equal('CLOSED');
      const again = await v3(h, 'POST', JSAPI, jsapiBody('T0000030', notify.url));
      expect(again.status).to.equal(400);
      expect(again.data.code).to.equal('ORDER_CLOSED');
      expect((await v3(h, 'POST', closeUrl('T0000404'), { mchid: MCHID })).data.code).to.equal('ORDER_NOT_EXIST');
    });
  });

  describe('payment and notifications', () => {
    it('payOrder posts TRANSACTION.SUCCESS, signed, whose resource decrypts to the transaction', async () => {
      await prepay('T0000040');
      h.clock.advance(30 * SEC);
      const rec = await h.sb.pay.payOrder(MCHID, 'T0000040');
      expect(notify.received).to.have.length(1);
      const got = notify.received[0];
      expect(got.headers['content-type']).to.equal('application/json');
      expect(got.headers['wechatpay-signature-type']).to.equal('WECHATPAY2-SHA256-RSA2048');
      expect(got.headers['wechatpay-serial']).to.equal(reg.publicKeyId);
      expect(got.headers['wechatpay-timestamp']).to.equal(String(Math.floor(h.clock.now() / 1000)));
      expect(verifySigned(got.headers, got.body, reg.publicKey)).to.equal(true);
      const event = JSON.parse(got.body);
      expect(event).to.include({ id: rec.id, event_type: 'TRANSACTION.SUCCESS', resource_type: 'encrypt-resource', summary: '支付成功' });
      expect(event.create_time).to.match(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\+08:00$/);
      expect(event.resource).to.include({ original_type: 'transaction', algorithm: 'AEAD_AES_256_GCM', associated_data: 'transaction' });
      expect(event.resource.nonce).to.have.length(12);
      const tx = JSON.parse(decrypt(event.resource));
      const q = await v3(h, 'GET', query('T0000040'));
      expect(tx).to.deep.equal(q.data);
      expect(tx).to.include({ trade_state: 'SUCCESS', trade_state_desc: '支付成功', bank_type: 'OTHERS', success_time: '2024-01-01T08:00:30+08:00' });
      expect(tx.transaction_id).to.match(/^4200\d{24}$/);
      expect(tx.amount).to.deep.equal({ total: 1200, payer_total: 1200, currency: 'CNY', payer_currency: 'CNY' });
      expect(rec).to.include({ url: notify.url, eventType: 'TRANSACTION.SUCCESS', body: got.body, delivered: true });
      expect(rec.attempts.map((a) => a.status)).to.deep.equal([200]);
      expect(h.sb.pay.notifications().map((n) => n.id)).to.deep.equal([rec.id]);

      const paidAgain = await v3(h, 'POST', JSAPI, jsapiBody('T0000040', notify.url));
      expect(paidAgain.status).to.equal(400);
      expect(paidAgain.data.code).to.equal('ORDERPAID');
      const close = await v3(h, 'POST', closeUrl('T0000040'), { mchid: MCHID });
      expect(close.data.code).to.equal('ORDERPAID');
      let threw = false;
      await h.sb.pay.payOrder(MCHID, 'T0000040').catch(() => (threw = true));
      expect(threw).to.equal(true);
    });

    it('records a non-2xx answer; resend posts the same body with a fresh nonce and signature', async () => {
      await prepay('T0000050');
      notify.answers.push(500);
      const first = await h.sb.pay.payOrder(MCHID, 'T0000050', { payerTotal: 1000 });
      expect(first.delivered).to.equal(false);
      expect(first.attempts[0]).to.include({ status: 500 });
      expect(first.attempts[0].responseBody).to.contain('not now');
      h.clock.advance(15 * SEC);
      const second = await h.sb.pay.resendNotification(first.id);
      expect(second.delivered).to.equal(true);
      expect(second.attempts.map((a) => a.status)).to.deep.equal([500, 200]);
      expect(notify.received).to.have.length(2);
      const [a, b] = notify.received;
      expect(b.body).to.equal(a.body);
      expect(b.headers['wechatpay-nonce']).to.not.equal(a.headers['wechatpay-nonce']);
      expect(Number(b.headers['wechatpay-timestamp']) - Number(a.headers['wechatpay-timestamp'])).to.equal(15);
      expect(verifySigned(b.headers, b.body, reg.publicKey)).to.equal(true);
      expect(JSON.parse(decrypt(JSON.parse(b.body).resource)).amount.payer_total).to.equal(1000);
    });

    it('records an unreachable notify_url as status 0', async () => {
      const url = notify.url;
      await notify.close();
      await prepay('T0000055', { notify_url: url });
      const rec = await h.sb.pay.payOrder(MCHID, 'T0000055');
      expect(rec.attempts[0].status).to.equal(0);
      expect(rec.delivered).to.equal(false);
      notify = await startNotifyServer(); // for afterEach
    });
  });

  describe('refunds', () => {
    it('refunds a paid order, idempotently, within what was paid; succeedRefund posts REFUND.SUCCESS', async () => {
      await prepay('T0000060');
      const refund = (no: string, refundAmount: number, extra: Record<string, unknown> = {}) =>
        v3(h, 'POST', REFUNDS, {
          out_trade_no: 'T0000060',
          out_refund_no: no,
          reason: 'sold out',
          notify_url: notify.url,
          amount: { refund: refundAmount, total: 1200, currency: 'CNY' },
          ...extra,
        });

      const unpaid = await refund('R0000001', 200);
      expect(unpaid.status).to.equal(404);
      expect(unpaid.data.code).to.equal('RESOURCE_NOT_EXISTS');

      await h.sb.pay.payOrder(MCHID, 'T0000060');
      const r1 = await refund('R0000001', 200);
      expect(r1.status, r1.raw).to.equal(200);
      expect(verifySigned(r1.headers, r1.raw, reg.publicKey)).to.equal(true);
      expect(r1.data).to.include({ out_refund_no: 'R0000001', out_trade_no: 'T0000060', channel: 'ORIGINAL', status: 'PROCESSING', user_received_account: '支付用户零钱' });
      expect(r1.data.transaction_id).to.equal(h.sb.pay.order(MCHID, 'T0000060')?.transaction_id);
      expect(r1.data.amount).to.include({ total: 1200, refund: 200, payer_total: 1200, payer_refund: 200, currency: 'CNY' });
      expect((await refund('R0000001', 200)).data.refund_id).to.equal(r1.data.refund_id);
      const changed = await refund('R0000001', 300);
      expect(changed.status).to.equal(400);
      expect(changed.data.code).to.equal('INVALID_REQUEST');
      const tooMuch = await refund('R0000002', 1001);
      expect(tooMuch.status).to.equal(400);
      expect(tooMuch.data).to.deep.equal({ code: 'INVALID_REQUEST', message: '申请退款金额超过订单可退金额' });
      const noCurrency = await refund('R0000003', 1, { amount: { refund: 1, total: 1200 } });
      expect(noCurrency.data.code).to.equal('PARAM_ERROR');
      expect((await v3(h, 'GET', query('T0000060'))).data.trade_state).to.equal('REFUND');

      const q = await v3(h, 'GET', `${REFUNDS}/R0000001`);
      expect(q.status).to.equal(200);
      expect(q.data).to.deep.equal(r1.data);
      const unknown = await v3(h, 'GET', `${REFUNDS}/R0000404`);
      expect(unknown.status).to.equal(404);
      expect(unknown.data.code).to.equal('RESOURCE_NOT_EXISTS');

      h.clock.advance(60 * SEC);
      const rec = await h.sb.pay.succeedRefund('R0000001');
      expect(rec?.eventType).to.equal('REFUND.SUCCESS');
      const got = notify.received[notify.received.length - 1];
      expect(verifySigned(got.headers, got.body, reg.publicKey)).to.equal(true);
      const event = JSON.parse(got.body);
      expect(event).to.include({ event_type: 'REFUND.SUCCESS', summary: '退款成功' });
      expect(event.resource).to.include({ original_type: 'refund', associated_data: 'refund' });
      expect(JSON.parse(decrypt(event.resource))).to.deep.equal({
        mchid: MCHID,
        out_trade_no: 'T0000060',
        transaction_id: r1.data.transaction_id,
        out_refund_no: 'R0000001',
        refund_id: r1.data.refund_id,
        refund_status: 'SUCCESS',
        success_time: '2024-01-01T08:01:00+08:00',
        user_received_account: '支付用户零钱',
        amount: { total: 1200, refund: 200, payer_total: 1200, payer_refund: 200 },
      });
      const after = await v3(h, 'GET', `${REFUNDS}/R0000001`);
      expect(after.data).to.include({ status: 'SUCCESS', success_time: '2024-01-01T08:01:00+08:00' });
      expect(h.sb.pay.refund('R0000001')?.status).to.equal('SUCCESS');
    });

    it('a refund without notify_url succeeds without a notification', async () => {
      await prepay('T0000065');
      await h.sb.pay.payOrder(MCHID, 'T0000065');
      const r = await v3(h, 'POST', REFUNDS, { out_trade_no: 'T0000065', out_refund_no: 'R0000065', amount: { refund: 1200, total: 1200, currency: 'CNY' } });
      expect(r.status).to.equal(200);
      expect(await h.sb.pay.succeedRefund('R0000065')).to.equal(undefined);
      expect(h.sb.pay.notifications()).to.have.length(1);
    });
  });

  describe('platform certificates and signing serials', () => {
    it('publicKey mode: /v3/certificates is 404 RESOURCE_NOT_EXISTS', async () => {
      const r = await v3(h, 'GET', '/v3/certificates');
      expect(r.status).to.equal(404);
      expect(r.data.code).to.equal('RESOURCE_NOT_EXISTS');
    });

    it('certificate mode: answers signed under the certificate serial; the download decrypts to that certificate', async () => {
      const c = h.sb.pay.registerMerchant({ mchid: MCHID, serialNo: SERIAL, merchantPublicKey: merchantKeys().publicKeyPem, apiV3Key: API_V3_KEY, mode: 'certificate' });
      expect(c.certificates).to.have.length(1);
      const certSerial = c.certificates[0].serialNo;
      expect(new X509Certificate(c.certificates[0].pem).serialNumber.toUpperCase()).to.equal(certSerial);
      const r = await v3(h, 'GET', '/v3/certificates');
      expect(r.status, r.raw).to.equal(200);
      expect(r.headers['wechatpay-serial']).to.equal(certSerial);
      expect(verifySigned(r.headers, r.raw, c.certificates[0].pem)).to.equal(true);
      expect(verifySigned(r.headers, r.raw, c.publicKey)).to.equal(false);
      const [entry] = r.data.data;
      expect(entry.serial_no).to.equal(certSerial);
      expect(entry.effective_time).to.match(/\+08:00$/);
      expect(entry.encrypt_certificate).to.include({ algorithm: 'AEAD_AES_256_GCM', associated_data: 'certificate' });
      const pem = decrypt(entry.encrypt_certificate);
      expect(pem).to.contain('-----BEGIN CERTIFICATE-----');
      expect(new X509Certificate(pem).serialNumber.toUpperCase()).to.equal(certSerial);
    });

    it('both mode: the certificate signs until setSigningSerial switches to the public key (answers and notifications)', async () => {
      const b = h.sb.pay.registerMerchant({ mchid: MCHID, serialNo: SERIAL, merchantPublicKey: merchantKeys().publicKeyPem, apiV3Key: API_V3_KEY, mode: 'both' });
      const certSerial = b.certificates[0].serialNo;
      const r1 = await v3(h, 'POST', JSAPI, jsapiBody('T0000070', notify.url));
      expect(r1.headers['wechatpay-serial']).to.equal(certSerial);
      expect(verifySigned(r1.headers, r1.raw, b.certificates[0].pem)).to.equal(true);
      h.sb.pay.setSigningSerial(MCHID, 'publicKey');
      const r2 = await v3(h, 'GET', query('T0000070'));
      expect(r2.headers['wechatpay-serial']).to.equal(b.publicKeyId);
      expect(verifySigned(r2.headers, r2.raw, b.publicKey)).to.equal(true);
      await h.sb.pay.payOrder(MCHID, 'T0000070');
      expect(notify.received[0].headers['wechatpay-serial']).to.equal(b.publicKeyId);
      expect(verifySigned(notify.received[0].headers, notify.received[0].body, b.publicKey)).to.equal(true);
      expect((await v3(h, 'GET', '/v3/certificates')).status).to.equal(200);
    });
  });

  describe('faults and counters', () => {
    it('a payError fault answers its status and code, signed; an errcode fault is SYSTEM_ERROR or FREQUENCY_LIMITED; calls count under the mchid', async () => {
      h.sb.injectFault({ endpoint: JSAPI, payError: { status: 429, code: 'FREQUENCY_LIMITED', message: '频率超限' }, times: 1 });
      h.sb.injectFault({ endpoint: JSAPI, errcode: -1, times: 1 });
      h.sb.injectFault({ endpoint: '/v3/pay/transactions/out-trade-no/{out_trade_no}', errcode: 45011, times: 1 });
      const a = await v3(h, 'POST', JSAPI, jsapiBody('T0000080', notify.url));
      expect(a.status).to.equal(429);
      expect(a.data).to.deep.equal({ code: 'FREQUENCY_LIMITED', message: '频率超限' });
      expect(verifySigned(a.headers, a.raw, reg.publicKey)).to.equal(true);
      const b = await v3(h, 'POST', JSAPI, jsapiBody('T0000080', notify.url));
      expect(b.status).to.equal(500);
      expect(b.data.code).to.equal('SYSTEM_ERROR');
      const c = await v3(h, 'GET', query('T0000080'));
      expect(c.status).to.equal(429);
      expect(h.sb.pay.order(MCHID, 'T0000080')).to.equal(undefined);
      await prepay('T0000080');
      expect(h.sb.calls(JSAPI, MCHID)).to.equal(3);
      expect(h.sb.calls('/v3/pay/transactions/out-trade-no/{out_trade_no}')).to.equal(1);
    });

    it('a delay fault delays a /v3 call, then handles it', async () => {
      h.sb.injectFault({ endpoint: JSAPI, delayMs: 120, times: 1 });
      const t0 = Date.now();
      await prepay('T0000081');
      expect(Date.now() - t0).to.be.at.least(110);
    });
  });
});
