import { expect } from 'chai';
import { freePort } from '../../src/devstack/ports';
import { SecretBox } from '../../src/tenancy/secret-box';
import { MerchantRepository } from '../../src/merchants/merchant-repository';
import { parseMerchantDefinition } from '../../src/merchants/merchant';
import { startHarness, type Harness, type TenantHandle } from '../support/harness';
import { runTenantsCli, startGateway, TEST_SECRETS_KEY } from '../support/gateway-process';
import { WebhookReceiver } from '../support/webhook-receiver';
import { request } from '../support/http';
import { makeMerchant, paySignValid, ShiftedClock, sleep, writeJsonFile, type TestMerchant } from './pay-helpers';
import { DEFAULT_SHARDS, tenantKeys } from '../../src/delivery/webhook-keys';

describe('WeChat Pay (gateway processes + sandbox)', function () {
  this.timeout(120_000);
  const clock = new ShiftedClock();
  let h: Harness;
  let hook: WebhookReceiver;
  let M1: TestMerchant;
  let M2: TestMerchant;
  /** Two mini programs of one merchant, and one of another merchant. */
  let A: TenantHandle;
  let C: TenantHandle;
  let B: TenantHandle;
  let publicBase = '';
  let seq = 0;
  const no = (p = 'T') => `${p}${Date.now()}${++seq}`;

  before(async () => {
    const port = await freePort();
    publicBase = `http://127.0.0.1:${port}`;
    h = await startHarness(1, { PORT: String(port), PUBLIC_BASE_URL: publicBase }, { clock });
    // A second instance: notifications and orders are shared state, not per process.
    h.fleet.push(await startGateway({ LOG_LEVEL: 'info', PUBLIC_BASE_URL: publicBase }));
    hook = new WebhookReceiver('webhook-secret-0123456789');
    await hook.start();
    M1 = makeMerchant(h.sandbox, 'publicKey', h.sbx.url);
    M2 = makeMerchant(h.sandbox, 'publicKey', h.sbx.url);
    // The first merchant goes through the CLI, its private key from the environment.
    const cli = await runTenantsCli(['merchants', 'apply', writeJsonFile({ ...M1.file, privateKey: 'env:TEST_MCH_KEY' })], { TEST_MCH_KEY: M1.privateKeyPem });
    expect(cli.code, cli.stderr).to.equal(0);
    expect(cli.stdout).to.match(new RegExp(`${M1.mchid} created`));
    await new MerchantRepository(h.stores.conn, new SecretBox(TEST_SECRETS_KEY)).upsert(parseMerchantDefinition(M2.file, 'test', { allowPrivateUrls: true }));
    const webhook = { url: hook.url, secret: 'webhook-secret-0123456789' };
    A = await h.tenant({ pay: { mchid: M1.mchid }, webhook });
    C = await h.tenant({ pay: { mchid: M1.mchid }, webhook });
    B = await h.tenant({ pay: { mchid: M2.mchid }, webhook });
  });
  after(async () => {
    await h.close();
    await hook.stop();
  });
  afterEach(() => {
    clock.offsetMs = 0;
  });

  const order = (t: TenantHandle, outTradeNo: string, extra: Record<string, unknown> = {}, gateway = 0) =>
    h.req('POST', `/${t.appid}/pay/orders`, { auth: t.key, gateway, json: { outTradeNo, description: 'Coffee', amount: { total: 1200 }, payer: { openid: 'o-payer-1' }, ...extra } });
  const get = (t: TenantHandle, path: string, gateway = 0) => h.req('GET', `/${t.appid}/pay${path}`, { auth: t.key, gateway });
  const eventsFor = (appid: string, kind: string, key: string, value: string) =>
    hook.deliveries.filter((d) => d.body.appid === appid && d.body.message.kind === kind && (d.body.message as Record<string, unknown>)[key] === value);
  /** Waits until the event has been delivered, then a little longer, so that a second copy would have arrived too. */
  const settled = async (appid: string, kind: string, key: string, value: string) => {
    const deadline = Date.now() + 10_000;
    while (eventsFor(appid, kind, key, value).length === 0 && Date.now() < deadline) await sleep(25);
    await sleep(500);
    return eventsFor(appid, kind, key, value);
  };
  /** Posts a recorded notification again, byte for byte with its last headers, to any URL. */
  const replay = (n: { body: string; headers: Record<string, string> }, url: string) =>
    request(url, {
      method: 'POST',
      headers: { ...Object.fromEntries(Object.entries(n.headers).filter(([k]) => k.toLowerCase() !== 'content-type')), 'content-type': 'application/json' },
      body: n.body,
      timeoutMs: 10_000,
    });

  it('order -> wx.requestPayment parameters signed by the merchant -> payment notification -> SUCCESS -> webhook once', async () => {
    const outTradeNo = no();
    const r = await order(A, outTradeNo, { attach: 'cart=42' });
    expect(r.status, r.text).to.equal(201);
    expect(r.json).to.include({ outTradeNo, state: 'NOTPAY' });
    const p = r.json.payment as Record<string, string>;
    expect(p).to.include({ appId: A.appid, signType: 'RSA', package: `prepay_id=${r.json.prepayId as string}` });
    expect(p.timeStamp).to.match(/^\d{10}$/);
    expect(paySignValid(p, M1.publicKey), 'paySign verifies with the merchant public key').to.equal(true);
    const upstream = h.sandbox.pay.order(M1.mchid, outTradeNo);
    expect(upstream).to.include({ appid: A.appid, trade_state: 'NOTPAY', attach: 'cart=42' });
    expect(upstream?.payer.openid).to.equal('o-payer-1');

    const n = await h.sandbox.pay.payOrder(M1.mchid, outTradeNo);
    expect(n.url).to.equal(`${publicBase}/${A.appid}/pay/notify`);
    expect(n.attempts.map((a) => a.status)).to.deep.equal([204]);
    const stored = await get(A, `/orders/${outTradeNo}`, 1);
    expect(stored.status).to.equal(200);
    expect(stored.json).to.include({ state: 'SUCCESS', transactionId: h.sandbox.pay.order(M1.mchid, outTradeNo)?.transaction_id, payerTotal: 1200 });

    const events = await settled(A.appid, 'pay.transaction', 'outTradeNo', outTradeNo);
    expect(events).to.have.length(1);
    expect(events[0]?.signatureValid).to.equal(true);
    expect(events[0]?.body.message).to.deep.include({ state: 'SUCCESS' });
    expect((events[0]?.body.message.transaction as Record<string, unknown>).out_trade_no).to.equal(outTradeNo);

    // WeChat Pay re-sends for a day: five more times (one straight to the other instance) change nothing.
    for (let i = 0; i < 4; i++) expect((await h.sandbox.pay.resendNotification(n.id)).attempts.at(-1)?.status).to.equal(204);
    const last = h.sandbox.pay.notifications().find((x) => x.id === n.id)!;
    const r2 = await replay(last, `${h.url(1)}/${A.appid}/pay/notify`);
    expect(r2.status).to.equal(204);
    expect(await settled(A.appid, 'pay.transaction', 'outTradeNo', outTradeNo)).to.have.length(1);
    expect((await get(A, `/orders/${outTradeNo}`)).json.state).to.equal('SUCCESS');
  });

  it('the same notification on two instances at once moves the order once and queues one event', async () => {
    const outTradeNo = no();
    expect((await order(A, outTradeNo)).status).to.equal(201);
    clock.offsetMs = -10 * 60_000; // the sandbox's own delivery arrives stale and is refused...
    const n = await h.sandbox.pay.payOrder(M1.mchid, outTradeNo);
    expect(n.attempts[0]?.status).to.equal(401);
    clock.offsetMs = 0;
    // ...then WeChat Pay's retry is accepted, and copies of it reach both instances in parallel.
    expect((await h.sandbox.pay.resendNotification(n.id)).attempts.at(-1)?.status).to.equal(204);
    const again = h.sandbox.pay.notifications().find((x) => x.id === n.id)!;
    const answers = await Promise.all([0, 1, 0, 1].map((g) => replay(again, `${h.url(g)}/${A.appid}/pay/notify`)));
    expect(answers.map((a) => a.status)).to.deep.equal([204, 204, 204, 204]);
    expect(await settled(A.appid, 'pay.transaction', 'outTradeNo', outTradeNo)).to.have.length(1);
  });

  it('a forged, stale or other-merchant notification is refused with FAIL and changes nothing', async () => {
    const outTradeNo = no();
    expect((await order(A, outTradeNo)).status).to.equal(201);
    const url = `${h.url()}/${A.appid}/pay/notify`;

    // Stale: signed ten minutes ago (WeChat Pay's own limit is five).
    clock.offsetMs = -10 * 60_000;
    const stale = await h.sandbox.pay.payOrder(M1.mchid, outTradeNo);
    clock.offsetMs = 0;
    const staleAnswer = stale.attempts[0]!;
    expect(staleAnswer.status).to.equal(401);
    expect(JSON.parse(staleAnswer.responseBody)).to.deep.include({ code: 'FAIL' });
    expect(JSON.parse(staleAnswer.responseBody).error.code).to.equal('PAY_NOTIFY_UNVERIFIED');

    // Forged: a signed notification whose body was changed afterwards.
    const tampered = { ...stale, body: stale.body.replace('"TRANSACTION.SUCCESS"', '"TRANSACTION.SUCCESS" ') };
    await h.sandbox.pay.resendNotification(stale.id);
    const fresh = h.sandbox.pay.notifications().find((x) => x.id === stale.id)!;
    // The resend above was accepted; the order is now paid. Forgeries from here on must change nothing.
    expect(fresh.attempts.at(-1)?.status).to.equal(204);
    const forged = await replay({ body: tampered.body, headers: fresh.headers }, url);
    expect(forged.status).to.equal(401);
    expect(forged.json).to.deep.include({ code: 'FAIL' });
    const noHeaders = await request(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: fresh.body, timeoutMs: 5000 });
    expect([noHeaders.status, noHeaders.json.code, noHeaders.json.error.code]).to.deep.equal([401, 'FAIL', 'PAY_NOTIFY_UNVERIFIED']);

    // Another merchant's genuine notification, posted to A's URL: its resource is not A's merchant's.
    const other = no('B');
    expect((await order(B, other)).status).to.equal(201);
    const nb = await h.sandbox.pay.payOrder(M2.mchid, other);
    expect(nb.attempts[0]?.status).to.equal(204);
    const cross = await replay(nb, url);
    expect(cross.status).to.be.oneOf([400, 401]);
    expect(cross.json.code).to.equal('FAIL');
    expect(eventsFor(A.appid, 'pay.transaction', 'outTradeNo', other)).to.have.length(0);

    // Nothing leaked into the logs: no key material, no APIv3 key.
    for (const g of h.fleet) {
      expect(g.output()).to.not.include(M1.apiV3Key);
      expect(g.output()).to.not.include(M1.privateKeyPem.split('\n')[1] as string);
    }
    expect(h.fleet[0]?.output()).to.match(/"reason":"stale"/);
    const metrics = await request(`${h.url()}/metrics`, { timeoutMs: 5000 });
    expect(metrics.text).to.match(new RegExp(`wxgate_pay_notifications_total\\{appid="${A.appid}",kind="transaction",outcome="PAY_NOTIFY_UNVERIFIED"\\} [1-9]`));
    expect(metrics.text).to.match(new RegExp(`wxgate_pay_notifications_total\\{appid="${A.appid}",kind="transaction",outcome="moved"\\} [1-9]`));
  });

  it('one merchant serves two mini programs: each notification lands on its own URL, and never on the other', async () => {
    const a = no('A');
    const c = no('C');
    expect((await order(A, a)).status).to.equal(201);
    expect((await order(C, c)).status).to.equal(201);
    const na = await h.sandbox.pay.payOrder(M1.mchid, a);
    const nc = await h.sandbox.pay.payOrder(M1.mchid, c);
    expect(na.url).to.equal(`${publicBase}/${A.appid}/pay/notify`);
    expect(nc.url).to.equal(`${publicBase}/${C.appid}/pay/notify`);
    expect([na.attempts[0]?.status, nc.attempts[0]?.status]).to.deep.equal([204, 204]);
    expect((await get(A, `/orders/${a}`)).json.state).to.equal('SUCCESS');
    expect((await get(C, `/orders/${c}`)).json.state).to.equal('SUCCESS');
    // C's genuine notification at A's URL: same merchant, valid signature, but not A's order.
    const cross = await replay(
      h.sandbox.pay.notifications().find((x) => x.id === nc.id)!,
      `${h.url()}/${A.appid}/pay/notify`,
    );
    expect([cross.status, cross.json.code, cross.json.error.code]).to.deep.equal([400, 'FAIL', 'PAY_NOTIFY_MISMATCH']);
    // And A cannot read C's order.
    expect((await get(A, `/orders/${c}`)).json.error.code).to.equal('ORDER_NOT_FOUND');
    expect(await settled(C.appid, 'pay.transaction', 'outTradeNo', c)).to.have.length(1);
    expect(eventsFor(A.appid, 'pay.transaction', 'outTradeNo', c)).to.have.length(0);
  });

  it('creating the same outTradeNo again is idempotent; other content is 409 ORDER_CONFLICT', async () => {
    const outTradeNo = no();
    const first = await order(A, outTradeNo);
    const again = await order(A, outTradeNo, {}, 1);
    expect([first.status, again.status]).to.deep.equal([201, 201]);
    expect(again.json.prepayId).to.equal(first.json.prepayId);
    expect(paySignValid(again.json.payment as Record<string, string>, M1.publicKey)).to.equal(true);
    const conflict = await order(A, outTradeNo, { amount: { total: 1300 } });
    expect([conflict.status, conflict.json.error.code]).to.deep.equal([409, 'ORDER_CONFLICT']);
    expect(h.sandbox.pay.order(M1.mchid, outTradeNo)?.amount.total).to.equal(1200);
  });

  it('a user session creates orders it pays, never for another openid', async () => {
    const user = await h.newUser(A.appid, 'payer');
    const outTradeNo = no();
    const r = await h.req('POST', `/${A.appid}/pay/orders`, { auth: user.token, json: { outTradeNo, description: 'Tea', amount: { total: 300 } } });
    expect(r.status, r.text).to.equal(201);
    expect(h.sandbox.pay.order(M1.mchid, outTradeNo)?.payer.openid).to.equal(user.openid);
    const other = await h.req('POST', `/${A.appid}/pay/orders`, {
      auth: user.token,
      json: { outTradeNo: no(), description: 'Tea', amount: { total: 300 }, payer: { openid: 'o-someone-else' } },
    });
    expect([other.status, other.json.error.code]).to.deep.equal([403, 'PAYER_MISMATCH']);
    const keyWithoutPayer = await h.req('POST', `/${A.appid}/pay/orders`, { auth: A.key, json: { outTradeNo: no(), description: 'Tea', amount: { total: 300 } } });
    expect([keyWithoutPayer.status, keyWithoutPayer.json.error.code]).to.deep.equal([400, 'INVALID_BODY']);
  });

  it('refund round trip: refund -> PROCESSING -> refund notification -> SUCCESS, order REFUND, webhook once', async () => {
    const outTradeNo = no();
    expect((await order(A, outTradeNo)).status).to.equal(201);
    await h.sandbox.pay.payOrder(M1.mchid, outTradeNo);
    const outRefundNo = no('R');
    const body = { outRefundNo, amount: { refund: 500, total: 1200 }, reason: 'broken cup' };
    const r = await h.req('POST', `/${A.appid}/pay/orders/${outTradeNo}/refunds`, { auth: A.key, json: body });
    expect(r.status, r.text).to.equal(201);
    expect(r.json).to.include({ outRefundNo, status: 'PROCESSING', reason: 'broken cup' });
    expect(r.json.refundId).to.equal(h.sandbox.pay.refund(outRefundNo, M1.mchid)?.refund_id);
    const again = await h.req('POST', `/${A.appid}/pay/orders/${outTradeNo}/refunds`, { auth: A.key, json: body, gateway: 1 });
    expect([again.status, again.json.refundId]).to.deep.equal([201, r.json.refundId]);
    const conflict = await h.req('POST', `/${A.appid}/pay/orders/${outTradeNo}/refunds`, { auth: A.key, json: { ...body, amount: { refund: 600, total: 1200 } } });
    expect([conflict.status, conflict.json.error.code]).to.deep.equal([409, 'ORDER_CONFLICT']);

    const n = await h.sandbox.pay.succeedRefund(outRefundNo, M1.mchid);
    expect(n?.url).to.equal(`${publicBase}/${A.appid}/pay/refund-notify`);
    expect(n?.attempts[0]?.status).to.equal(204);
    await h.sandbox.pay.resendNotification(n!.id);
    const got = await get(A, `/orders/${outTradeNo}/refunds/${outRefundNo}`, 1);
    expect(got.json).to.include({ status: 'SUCCESS', outTradeNo });
    expect((await get(A, `/orders/${outTradeNo}`)).json.state).to.equal('REFUND');
    expect(await settled(A.appid, 'pay.refund', 'outRefundNo', outRefundNo)).to.have.length(1);
    // A refund notification is not a payment notification.
    const wrongUrl = await replay(
      h.sandbox.pay.notifications().find((x) => x.id === n!.id)!,
      `${h.url()}/${A.appid}/pay/notify`,
    );
    expect([wrongUrl.status, wrongUrl.json.error.code]).to.deep.equal([400, 'PAY_NOTIFY_MALFORMED']);
  });

  it('refunds of unpaid orders and amounts that do not add up are refused before WeChat Pay is called', async () => {
    const outTradeNo = no();
    expect((await order(A, outTradeNo)).status).to.equal(201);
    const calls = h.sandbox.calls('/v3/refund/domestic/refunds');
    const unpaid = await h.req('POST', `/${A.appid}/pay/orders/${outTradeNo}/refunds`, { auth: A.key, json: { outRefundNo: no('R'), amount: { refund: 1, total: 1200 } } });
    expect([unpaid.status, unpaid.json.error.code]).to.deep.equal([409, 'ORDER_NOT_PAID']);
    await h.sandbox.pay.payOrder(M1.mchid, outTradeNo);
    const wrongTotal = await h.req('POST', `/${A.appid}/pay/orders/${outTradeNo}/refunds`, { auth: A.key, json: { outRefundNo: no('R'), amount: { refund: 1, total: 999 } } });
    expect([wrongTotal.status, wrongTotal.json.error.code]).to.deep.equal([400, 'INVALID_BODY']);
    const tooMuch = await h.req('POST', `/${A.appid}/pay/orders/${outTradeNo}/refunds`, { auth: A.key, json: { outRefundNo: no('R'), amount: { refund: 1300, total: 1200 } } });
    expect([tooMuch.status, tooMuch.json.error.code]).to.deep.equal([400, 'INVALID_BODY']);
    expect(h.sandbox.calls('/v3/refund/domestic/refunds')).to.equal(calls);
  });

  it('shipping information reaches WeChat with the order key, payer and items; trade management is read', async () => {
    const outTradeNo = no();
    expect((await order(A, outTradeNo)).status).to.equal(201);
    const unpaid = await h.req('POST', `/${A.appid}/pay/orders/${outTradeNo}/shipping`, { auth: A.key, json: { logisticsType: 3, shippingList: [{ itemDesc: 'e-book' }] } });
    expect([unpaid.status, unpaid.json.error.code]).to.deep.equal([409, 'ORDER_NOT_PAID']);
    await h.sandbox.pay.payOrder(M1.mchid, outTradeNo);
    const r = await h.req('POST', `/${A.appid}/pay/orders/${outTradeNo}/shipping`, {
      auth: A.key,
      json: { logisticsType: 1, shippingList: [{ trackingNo: 'SF1234567890', expressCompany: 'SF', itemDesc: 'Coffee beans x2', contact: { receiverContact: '189****1234' } }] },
    });
    expect(r.status, r.text).to.equal(200);
    expect(r.json).to.deep.equal({ uploaded: true, outTradeNo });
    const up = h.sandbox.pay.shippingUploads().find((u) => u.out_trade_no === outTradeNo);
    expect(up?.appid).to.equal(A.appid);
    expect(up?.body).to.deep.include({
      order_key: { order_number_type: 1, mchid: M1.mchid, out_trade_no: outTradeNo },
      logistics_type: 1,
      delivery_mode: 1,
      shipping_list: [{ tracking_no: 'SF1234567890', express_company: 'SF', item_desc: 'Coffee beans x2', contact: { receiver_contact: '189****1234' } }],
      payer: { openid: 'o-payer-1' },
    });
    expect(String(up?.body.upload_time)).to.match(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\+08:00$/);

    expect((await get(A, '/trade-management')).json).to.deep.equal({ tradeManaged: true });
    h.sandbox.pay.setTradeManaged(A.appid, false);
    expect((await get(A, '/trade-management')).json).to.deep.equal({ tradeManaged: false });
  });

  it('close: an unpaid order is closed at WeChat Pay and here; a paid one is 409 ORDER_PAID', async () => {
    const outTradeNo = no();
    expect((await order(A, outTradeNo)).status).to.equal(201);
    const close = () => h.req('POST', `/${A.appid}/pay/orders/${outTradeNo}/close`, { auth: A.key });
    const r = await close();
    expect([r.status, r.json.state]).to.deep.equal([200, 'CLOSED']);
    expect(h.sandbox.pay.order(M1.mchid, outTradeNo)?.trade_state).to.equal('CLOSED');
    expect((await close()).json.state).to.equal('CLOSED');
    const reopen = await order(A, outTradeNo);
    expect(reopen.status).to.equal(201);
    expect(reopen.json.state).to.equal('CLOSED');

    const paid = no();
    expect((await order(A, paid)).status).to.equal(201);
    await h.sandbox.pay.payOrder(M1.mchid, paid);
    const refused = await h.req('POST', `/${A.appid}/pay/orders/${paid}/close`, { auth: A.key });
    expect([refused.status, refused.json.error.code]).to.deep.equal([409, 'ORDER_PAID']);
  });

  it('query with sync=true reads WeChat Pay when the notification has not arrived, and forwards the payment once', async () => {
    const outTradeNo = no();
    expect((await order(A, outTradeNo)).status).to.equal(201);
    clock.offsetMs = -10 * 60_000;
    const n = await h.sandbox.pay.payOrder(M1.mchid, outTradeNo);
    clock.offsetMs = 0;
    expect(n.attempts[0]?.status).to.equal(401);
    expect((await get(A, `/orders/${outTradeNo}`)).json.state).to.equal('NOTPAY');
    const synced = await get(A, `/orders/${outTradeNo}?sync=true`, 1);
    expect(synced.status, synced.text).to.equal(200);
    expect(synced.json.state).to.equal('SUCCESS');
    // The notification that finally arrives changes nothing and queues nothing more.
    expect((await h.sandbox.pay.resendNotification(n.id)).attempts.at(-1)?.status).to.equal(204);
    expect(await settled(A.appid, 'pay.transaction', 'outTradeNo', outTradeNo)).to.have.length(1);
  });

  describe('platform certificates', () => {
    it('a merchant without a public key is verified with the downloaded certificates, fetched once for the fleet', async () => {
      const M3 = makeMerchant(h.sandbox, 'certificate', h.sbx.url);
      await new MerchantRepository(h.stores.conn, new SecretBox(TEST_SECRETS_KEY)).upsert(parseMerchantDefinition(M3.file, 'test', { allowPrivateUrls: true }));
      const D = await h.tenant({ pay: { mchid: M3.mchid } });
      const before = h.sandbox.calls('/v3/certificates');
      const nos = [no('D'), no('D'), no('D'), no('D')];
      const created = await Promise.all(nos.map((n, i) => order(D, n, {}, i % 2)));
      expect(created.map((r) => r.status)).to.deep.equal([201, 201, 201, 201]);
      expect(h.sandbox.calls('/v3/certificates') - before).to.equal(1);
      const n = await h.sandbox.pay.payOrder(M3.mchid, nos[0] as string);
      expect(n.attempts[0]?.status).to.equal(204);
      expect((await get(D, `/orders/${nos[0] as string}`)).json.state).to.equal('SUCCESS');
      // D has no webhook: nothing is queued for it (a queue nobody reads would only fill dead letters).
      const k = tenantKeys(D.appid, DEFAULT_SHARDS);
      expect(await h.redis.exists(k.dead, k.parked)).to.equal(0);
      expect(((await h.redis.xrange(k.stream, '-', '+')) as [string, string[]][]).filter(([, f]) => f.includes(D.appid))).to.have.length(0);
    });

    it('a merchant migrating to public-key mode is verified by whichever key the serial names', async () => {
      const M4 = makeMerchant(h.sandbox, 'both', h.sbx.url);
      await new MerchantRepository(h.stores.conn, new SecretBox(TEST_SECRETS_KEY)).upsert(parseMerchantDefinition(M4.file, 'test', { allowPrivateUrls: true }));
      const E = await h.tenant({ pay: { mchid: M4.mchid } });
      for (const use of ['certificate', 'publicKey'] as const) {
        h.sandbox.pay.setSigningSerial(M4.mchid, use);
        const outTradeNo = no('E');
        const r = await order(E, outTradeNo);
        expect(r.status, `${use}: ${r.text}`).to.equal(201);
        const n = await h.sandbox.pay.payOrder(M4.mchid, outTradeNo);
        expect(n.attempts[0]?.status, use).to.equal(204);
        expect((await get(E, `/orders/${outTradeNo}`)).json.state).to.equal('SUCCESS');
      }
    });
  });
});
