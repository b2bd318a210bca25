import { expect } from 'chai';
import { api, APP, APP2, classicToken, type Harness, startSandbox, tokenOf } from './helpers';
import { API_V3_KEY, decrypt, jsapiBody, MCHID, merchantKeys, type NotifyServer, SERIAL, startNotifyServer, v3 } from './pay-helpers';

const UPLOAD = '/wxa/sec/order/upload_shipping_info';
const MANAGED = '/wxa/sec/order/is_trade_managed';
const OPENID = 'oUpF8uMuAJO_M2pxb1Q9zNjWeS6o';

function shipping(orderKey: Record<string, unknown>, over: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    order_key: orderKey,
    logistics_type: 1,
    delivery_mode: 1,
    shipping_list: [{ tracking_no: 'SF1234567890', express_company: 'SF', item_desc: 'Tea x1', contact: { receiver_contact: '189****1234' } }],
    upload_time: '2024-01-01T10:00:00.120+08:00',
    payer: { openid: OPENID },
    ...over,
  };
}

describe('sandbox: mini-program order shipping and the pay admin API', function () {
  this.timeout(10_000);
  let h: Harness;
  let notify: NotifyServer;
  let token: string;

  beforeEach(async () => {
    h = await startSandbox();
    notify = await startNotifyServer();
    h.sb.pay.registerMerchant({ mchid: MCHID, serialNo: SERIAL, merchantPublicKey: merchantKeys().publicKeyPem, apiV3Key: API_V3_KEY });
    token = tokenOf(await classicToken(h));
  });
  afterEach(async () => {
    await h.close();
    await notify.close();
  });

  it('upload_shipping_info: unpaid 10060004, unknown 10060001, paid ok and recorded; one re-upload, then 10060003', async () => {
    expect((await v3(h, 'POST', '/v3/pay/transactions/jsapi', jsapiBody('S0000001', notify.url))).status).to.equal(200);
    const byOutTradeNo = { order_number_type: 1, mchid: MCHID, out_trade_no: 'S0000001' };
    expect((await api(h, UPLOAD, token, shipping(byOutTradeNo))).errcode).to.equal(10060004);
    expect((await api(h, UPLOAD, token, shipping({ ...byOutTradeNo, out_trade_no: 'S0000404' }))).errcode).to.equal(10060001);
    await h.sb.pay.payOrder(MCHID, 'S0000001');
    const transactionId = h.sb.pay.order(MCHID, 'S0000001')?.transaction_id as string;

    const other = tokenOf(await classicToken(h, APP2));
    expect((await api(h, UPLOAD, other, shipping(byOutTradeNo))).errcode).to.equal(10060001); // another mini program's order

    const body = shipping({ order_number_type: 2, transaction_id: transactionId });
    expect(await api(h, UPLOAD, token, body)).to.deep.equal({ errcode: 0, errmsg: 'ok' });
    const uploads = h.sb.pay.shippingUploads();
    expect(uploads).to.have.length(1);
    expect(uploads[0]).to.deep.include({ appid: APP.appid, mchid: MCHID, out_trade_no: 'S0000001', transaction_id: transactionId, body });

    expect((await api(h, UPLOAD, token, shipping(byOutTradeNo, { logistics_type: 4, shipping_list: [{ item_desc: 'Tea x1' }] }))).errcode).to.equal(0);
    const third = await api(h, UPLOAD, token, shipping(byOutTradeNo));
    expect(third.errcode).to.equal(10060003);
    expect(h.sb.pay.shippingUploads()).to.have.length(2);
    expect(h.sb.calls(UPLOAD, APP.appid)).to.equal(5);
  });

  it('upload_shipping_info validates its body and needs a valid token', async () => {
    await v3(h, 'POST', '/v3/pay/transactions/jsapi', jsapiBody('S0000002', notify.url));
    await h.sb.pay.payOrder(MCHID, 'S0000002');
    const key = { order_number_type: 1, mchid: MCHID, out_trade_no: 'S0000002' };
    const bad: [Record<string, unknown>, number][] = [
      [{ logistics_type: 5 }, 47001],
      [{ delivery_mode: 3 }, 268485224],
      [{ shipping_list: [] }, 47001],
      [{ shipping_list: [{ item_desc: 'a' }, { item_desc: 'b' }] }, 268485228],
      [{ shipping_list: [{ item_desc: 'no tracking' }] }, 47001],
      [{ upload_time: '2024-01-01 10:00:00' }, 268485216],
      [{ payer: { openid: 'someone-else' } }, 40003],
      [{ order_key: { order_number_type: 3 } }, 47001],
    ];
    for (const [over, code] of bad) expect((await api(h, UPLOAD, token, shipping(key, over))).errcode, JSON.stringify(over)).to.equal(code);
    expect((await api(h, UPLOAD, 'bad-token', shipping(key))).errcode).to.equal(40001);
    expect(h.sb.pay.shippingUploads()).to.deep.equal([]);
  });

  it('is_trade_managed: true by default, settable per appid (programmatically and over admin HTTP)', async () => {
    expect(await api(h, MANAGED, token, { appid: APP.appid })).to.deep.equal({ errcode: 0, errmsg: 'ok', is_trade_managed: true });
    h.sb.pay.setTradeManaged(APP.appid, false);
    expect((await api(h, MANAGED, token, { appid: APP.appid })).is_trade_managed).to.equal(false);
    const r = await h.http.post('/__sandbox/pay/trade-managed', { appid: APP.appid, managed: true });
    expect(r.status).to.equal(200);
    expect((await api(h, MANAGED, token, { appid: APP.appid })).is_trade_managed).to.equal(true);
    expect((await h.http.post('/__sandbox/pay/trade-managed', { appid: APP.appid })).status).to.equal(400);
  });

  it('admin HTTP: register, pay, notifications, resend, refund success, shipping records', async () => {
    const reg = await h.http.post('/__sandbox/pay/merchants', {
      mchid: '1900000200',
      serialNo: 'ABC123',
      merchantPublicKey: merchantKeys().publicKeyPem,
      apiV3Key: API_V3_KEY,
      mode: 'both',
    });
    expect(reg.status).to.equal(201);
    expect(reg.data.publicKeyId).to.match(/^PUB_KEY_ID_\d+$/);
    expect(reg.data.certificates).to.have.length(1);
    expect((await h.http.post('/__sandbox/pay/merchants', { mchid: '1', serialNo: 'x', merchantPublicKey: 'nope', apiV3Key: API_V3_KEY })).status).to.equal(400);

    await v3(h, 'POST', '/v3/pay/transactions/jsapi', jsapiBody('S0000010', notify.url));
    expect((await h.http.post('/__sandbox/pay/orders/S0000404/pay', { mchid: MCHID })).status).to.equal(404);
    notify.answers.push(503);
    const paid = await h.http.post('/__sandbox/pay/orders/S0000010/pay', { mchid: MCHID });
    expect(paid.status).to.equal(200);
    expect(paid.data).to.include({ eventType: 'TRANSACTION.SUCCESS', delivered: false });
    expect(JSON.parse(decrypt(JSON.parse(paid.data.body).resource)).out_trade_no).to.equal('S0000010');
    expect((await h.http.post('/__sandbox/pay/orders/S0000010/pay', { mchid: MCHID })).status).to.equal(400); // already paid

    const list = await h.http.get('/__sandbox/pay/notifications');
    expect(list.data.notifications.map((n: { id: string }) => n.id)).to.deep.equal([paid.data.id]);
    const resent = await h.http.post(`/__sandbox/pay/notifications/${paid.data.id}/resend`);
    expect(resent.status).to.equal(200);
    expect(resent.data.attempts.map((a: { status: number }) => a.status)).to.deep.equal([503, 200]);
    expect((await h.http.post('/__sandbox/pay/notifications/nope/resend')).status).to.equal(404);

    const refund = await v3(h, 'POST', '/v3/refund/domestic/refunds', {
      out_trade_no: 'S0000010',
      out_refund_no: 'RS0000010',
      notify_url: notify.url,
      amount: { refund: 100, total: 1200, currency: 'CNY' },
    });
    expect(refund.status).to.equal(200);
    const ok = await h.http.post('/__sandbox/pay/refunds/RS0000010/succeed');
    expect(ok.status).to.equal(200);
    expect(ok.data.refund.status).to.equal('SUCCESS');
    expect(ok.data.notification.eventType).to.equal('REFUND.SUCCESS');
    expect((await h.http.post('/__sandbox/pay/refunds/RS0000010/succeed')).status).to.equal(400);
    expect((await h.http.post('/__sandbox/pay/refunds/RS0000404/succeed')).status).to.equal(404);

    const tx = h.sb.pay.order(MCHID, 'S0000010')?.transaction_id;
    await api(h, UPLOAD, token, shipping({ order_number_type: 2, transaction_id: tx }));
    const ship = await h.http.get('/__sandbox/pay/shipping');
    expect(ship.data.uploads).to.have.length(1);
    expect(ship.data.uploads[0].transaction_id).to.equal(tx);

    const fault = await h.http.post('/__sandbox/faults', { endpoint: '/v3/certificates', payError: { status: 500, code: 'SYSTEM_ERROR' } });
    expect(fault.status).to.equal(201);
    expect(h.sb.pendingFaults()[0].payError).to.deep.equal({ status: 500, code: 'SYSTEM_ERROR' });
  });
});
