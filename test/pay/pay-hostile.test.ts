/**
 * Hostile input on the WeChat Pay endpoints: malformed, oversized, forged and replayed requests and
 * notifications. Every refusal is a 4xx JSON error with a stable code (notifications also carry
 * WeChat Pay's `{"code":"FAIL"}`), never a 5xx or a stack trace, and changes nothing. A legitimate
 * replay of a notification is 204 and changes nothing either.
 *
 * The gateway knows one merchant (MX) under a WeChat Pay public key generated here, so the test
 * signs notifications as WeChat Pay would; the sandbox signs its own answers for MX with its
 * platform certificate ("both" mode), which the gateway downloads and trusts as usual.
 */
import http from 'node:http';
import { createPublicKey, generateKeyPairSync, randomBytes, randomUUID, type KeyObject } from 'node:crypto';
import { expect } from 'chai';
import { freePort } from '../../src/devstack/ports';
import { SecretBox } from '../../src/tenancy/secret-box';
import { MerchantRepository } from '../../src/merchants/merchant-repository';
import { parseMerchantDefinition } from '../../src/merchants/merchant';
import { encryptResource, signedHeaders } from '../../src/sandbox/pay/pay-crypto';
import { startHarness, type Harness, type TenantHandle } from '../support/harness';
import { TEST_SECRETS_KEY } from '../support/gateway-process';
import { makeMerchant, type TestMerchant } from './pay-helpers';

const STACK = /at .*\.js:\d+/;
const forgedKey = () => `wxk_${randomBytes(8).toString('hex')}_${randomBytes(32).toString('base64url')}`;
const forgedSession = () => randomBytes(32).toString('base64url');
const nowS = () => Math.floor(Date.now() / 1000);

interface Raw {
  status: number;
  headers: http.IncomingHttpHeaders;
  text: string;
  json: unknown;
}

/** A request exactly as given: the path is not normalised (fetch would resolve `..`), the body may be streamed. */
function raw(base: string, method: string, path: string, headers: Record<string, string>, body?: string | Buffer | string[]): Promise<Raw> {
  const u = new URL(base);
  return new Promise((resolve, reject) => {
    const req = http.request({ host: u.hostname, port: u.port, method, path, headers, timeout: 10_000, agent: false }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8');
        let json: unknown;
        try {
          json = JSON.parse(text);
        } catch {
          json = undefined;
        }
        resolve({ status: res.statusCode ?? 0, headers: res.headers, text, json });
      });
      res.on('error', reject);
    });
    req.on('error', reject);
    req.on('timeout', () => req.destroy(new Error('timeout')));
    if (Array.isArray(body)) {
      // Chunked, without Content-Length: the limit must hold while reading.
      let i = 0;
      const next = () => {
        if (i >= body.length) return req.end();
        if (req.destroyed) return;
        req.write(body[i++], () => setImmediate(next));
      };
      next();
      req.on('error', () => undefined);
    } else req.end(body);
  });
}

describe('WeChat Pay under hostile input (gateway process + sandbox)', function () {
  this.timeout(60_000);
  let h: Harness;
  /** The merchant whose WeChat Pay public key is ours: we sign its notifications. */
  let MX: TestMerchant;
  let M2: TestMerchant;
  let platform: KeyObject;
  let otherKey: KeyObject;
  const platformKeyId = `PUB_KEY_ID_0114${Array.from({ length: 24 }, () => Math.floor(Math.random() * 10)).join('')}`;
  let A: TenantHandle;
  let C: TenantHandle;
  let B: TenantHandle;
  /** Takes no payments. */
  let N: TenantHandle;
  /** Names a merchant that is not applied. */
  let U: TenantHandle;
  let userA: { token: string; openid: string };
  let userB: { token: string; openid: string };
  /** An unpaid order of A, and one of C (same merchant). */
  let orderA = '';
  let orderC = '';
  let seq = 0;
  const no = (p = 'H') => `${p}${Date.now()}${++seq}`;
  const failures: string[] = [];

  before(async () => {
    const port = await freePort();
    h = await startHarness(1, { PORT: String(port), PUBLIC_BASE_URL: `http://127.0.0.1:${port}` });
    ({ privateKey: platform } = generateKeyPairSync('rsa', { modulusLength: 2048 }));
    ({ privateKey: otherKey } = generateKeyPairSync('rsa', { modulusLength: 2048 }));
    const platformPublicPem = createPublicKey(platform).export({ type: 'spki', format: 'pem' }).toString();
    MX = makeMerchant(h.sandbox, 'both', h.sbx.url);
    MX.file = { ...MX.file, publicKeyId: platformKeyId, publicKey: platformPublicPem };
    M2 = makeMerchant(h.sandbox, 'publicKey', h.sbx.url);
    const repo = new MerchantRepository(h.stores.conn, new SecretBox(TEST_SECRETS_KEY));
    for (const m of [MX, M2]) await repo.upsert(parseMerchantDefinition(m.file, 'test', { allowPrivateUrls: true }));
    A = await h.tenant({ pay: { mchid: MX.mchid } });
    C = await h.tenant({ pay: { mchid: MX.mchid } });
    B = await h.tenant({ pay: { mchid: M2.mchid } });
    N = await h.tenant();
    U = await h.tenant({ pay: { mchid: '1234567' } });
    userA = await h.newUser(A.appid, 'hostile-pay-a');
    userB = await h.newUser(B.appid, 'hostile-pay-b');
    orderA = no('A');
    orderC = no('C');
    for (const [t, o] of [
      [A, orderA],
      [C, orderC],
    ] as const) {
      const r = await createOrder(t, o);
      expect(r.status, r.text).to.equal(201);
    }
  });
  after(async () => {
    if (h) await h.close();
  });
  afterEach(() => {
    failures.length = 0;
  });

  const validOrder = (outTradeNo: string, extra: Record<string, unknown> = {}) => ({ outTradeNo, description: 'Coffee', amount: { total: 1200 }, payer: { openid: 'o-payer-1' }, ...extra });
  const createOrder = (t: TenantHandle, outTradeNo: string) => h.req('POST', `/${t.appid}/pay/orders`, { auth: t.key, json: validOrder(outTradeNo) });

  /** Checks a refusal; collects a line per problem so that one run shows every broken case. */
  function check(
    label: string,
    r: { status: number; text: string; json: unknown; headers: Headers | http.IncomingHttpHeaders },
    status: number,
    code: string,
    o: { fail?: boolean; retryAfter?: boolean } = {},
  ): void {
    const j = r.json as { code?: unknown; error?: { code?: unknown; message?: unknown } } | undefined;
    const ct = r.headers instanceof Headers ? r.headers.get('content-type') : r.headers['content-type'];
    const problems: string[] = [];
    if (r.status !== status) problems.push(`status ${r.status} (expected ${status})`);
    if (!/^application\/json/.test(ct ?? '')) problems.push(`content-type ${ct}`);
    if (j?.error?.code !== code) problems.push(`code ${String(j?.error?.code)} (expected ${code})`);
    // WeChat Pay reads `message` beside `code: "FAIL"`; every other answer carries it in `error`.
    const message = o.fail ? (j as { message?: unknown } | undefined)?.message : j?.error?.message;
    if (typeof message !== 'string' || message === '') problems.push('no message');
    if (o.fail && j?.code !== 'FAIL') problems.push('no {"code":"FAIL"} for WeChat Pay');
    if (o.retryAfter) {
      const ra = r.headers instanceof Headers ? r.headers.get('retry-after') : r.headers['retry-after'];
      if (!ra) problems.push('no Retry-After');
    }
    if (STACK.test(r.text)) problems.push('stack trace in the body');
    if (problems.length) failures.push(`${label}: ${problems.join(', ')} -- ${r.text.slice(0, 300)}`);
  }
  const assertNoFailures = () => {
    const f = failures.splice(0);
    expect(f, f.join('\n')).to.deep.equal([]);
  };

  describe('POST /:appid/pay/orders', () => {
    const bad: [string, unknown, string][] = [
      ['unknown field', { ...validOrder('OK123456'), discount: 100 }, 'INVALID_BODY'],
      ['unknown field in amount', { ...validOrder('OK123456'), amount: { total: 1200, payer_total: 1 } }, 'INVALID_BODY'],
      ['unknown field in payer', { ...validOrder('OK123456'), payer: { openid: 'o-1', admin: true } }, 'INVALID_BODY'],
      ['amount 0', validOrder('OK123456', { amount: { total: 0 } }), 'INVALID_BODY'],
      ['amount negative', validOrder('OK123456', { amount: { total: -100 } }), 'INVALID_BODY'],
      ['amount float', validOrder('OK123456', { amount: { total: 12.5 } }), 'INVALID_BODY'],
      ['amount huge', validOrder('OK123456', { amount: { total: 1e10 } }), 'INVALID_BODY'],
      ['amount past 2^53', validOrder('OK123456', { amount: { total: 2 ** 60 } }), 'INVALID_BODY'],
      ['amount a string', validOrder('OK123456', { amount: { total: '1200' } }), 'INVALID_BODY'],
      ['amount null', validOrder('OK123456', { amount: null }), 'INVALID_BODY'],
      ['amount an array', validOrder('OK123456', { amount: [1200] }), 'INVALID_BODY'],
      ['currency USD', validOrder('OK123456', { amount: { total: 1200, currency: 'USD' } }), 'INVALID_BODY'],
      ['outTradeNo too short', validOrder('abc'), 'INVALID_BODY'],
      ['outTradeNo too long', validOrder('x'.repeat(33)), 'INVALID_BODY'],
      ['outTradeNo path traversal', validOrder('../../etc/passwd'), 'INVALID_BODY'],
      ['outTradeNo with spaces', validOrder('a b c d e f'), 'INVALID_BODY'],
      ['outTradeNo with NUL', validOrder('abcdef\u0000gh'), 'INVALID_BODY'],
      ['outTradeNo with a newline', validOrder('abcdefgh\n'), 'INVALID_BODY'],
      ['outTradeNo URL-encoded', validOrder('abc%2F%2E%2Edef'), 'INVALID_BODY'],
      ['outTradeNo unicode', validOrder('订单号订单号订单号'), 'INVALID_BODY'],
      ['outTradeNo a number', validOrder(12345678 as unknown as string), 'INVALID_BODY'],
      ['outTradeNo an operator object', validOrder({ $ne: null } as unknown as string), 'INVALID_BODY'],
      ['outTradeNo missing', { description: 'x', amount: { total: 1 }, payer: { openid: 'o-1' } }, 'INVALID_BODY'],
      ['description empty', validOrder('OK123456', { description: '' }), 'INVALID_BODY'],
      ['description blank', validOrder('OK123456', { description: '    ' }), 'INVALID_BODY'],
      ['description too long', validOrder('OK123456', { description: 'x'.repeat(128) }), 'INVALID_BODY'],
      ['attach too long', validOrder('OK123456', { attach: 'x'.repeat(129) }), 'INVALID_BODY'],
      ['payer openid with bad characters', validOrder('OK123456', { payer: { openid: 'o/../../x' } }), 'INVALID_BODY'],
      ['timeExpire not RFC 3339', validOrder('OK123456', { timeExpire: 'tomorrow' }), 'INVALID_BODY'],
      ['timeExpire without offset', validOrder('OK123456', { timeExpire: '2030-01-01T10:00:00' }), 'INVALID_BODY'],
      ['body an array', [validOrder('OK123456')], 'INVALID_BODY'],
      ['body empty object', {}, 'INVALID_BODY'],
    ];

    it('bad bodies are 400 with the field named, and WeChat Pay is never called', async () => {
      const calls = h.sandbox.calls('/v3/pay/transactions/jsapi');
      for (const [label, body, code] of bad) check(label, await h.req('POST', `/${A.appid}/pay/orders`, { auth: A.key, json: body }), 400, code);
      const raw400: [string, string, string][] = [
        ['malformed JSON', '{"outTradeNo": "OK123456", ', 'MALFORMED_JSON'],
        ['trailing garbage', JSON.stringify(validOrder('OK123456')) + 'x', 'MALFORMED_JSON'],
        ['JSON null', 'null', 'MALFORMED_JSON'],
        ['JSON string', '"OK123456"', 'MALFORMED_JSON'],
        ['__proto__ key', '{"__proto__":{"admin":true},"outTradeNo":"OK123456"}', 'INVALID_BODY'],
      ];
      for (const [label, body, code] of raw400)
        check(label, await h.req('POST', `/${A.appid}/pay/orders`, { auth: A.key, body, headers: { 'content-type': 'application/json' } }), 400, code);
      check(
        'text/plain',
        await h.req('POST', `/${A.appid}/pay/orders`, { auth: A.key, body: JSON.stringify(validOrder('OK123456')), headers: { 'content-type': 'text/plain' } }),
        415,
        'UNSUPPORTED_MEDIA_TYPE',
      );
      check(
        'form-urlencoded',
        await h.req('POST', `/${A.appid}/pay/orders`, { auth: A.key, body: 'outTradeNo=OK123456&amount=1', headers: { 'content-type': 'application/x-www-form-urlencoded' } }),
        415,
        'UNSUPPORTED_MEDIA_TYPE',
      );
      check('no body at all', await h.req('POST', `/${A.appid}/pay/orders`, { auth: A.key }), 400, 'INVALID_BODY');
      check('declared oversize', await h.req('POST', `/${A.appid}/pay/orders`, { auth: A.key, json: validOrder('OK123456', { attach: 'x'.repeat(9000) }) }), 413, 'PAYLOAD_TOO_LARGE');
      const chunks = ['{"outTradeNo":"OK123456","attach":"', ...Array.from({ length: 20 }, () => 'x'.repeat(1024)), '"}'];
      check(
        'chunked oversize',
        await raw(h.url(), 'POST', `/${A.appid}/pay/orders`, { 'content-type': 'application/json', authorization: `Bearer ${A.key}` }, chunks),
        413,
        'PAYLOAD_TOO_LARGE',
      );
      expect(h.sandbox.calls('/v3/pay/transactions/jsapi')).to.equal(calls);
      assertNoFailures();
    });

    it('credentials: missing, forged, another tenant’s key or session are 401; a user paying for another openid is 403', async () => {
      const path = `/${A.appid}/pay/orders`;
      const body = validOrder(no());
      check('no credential', await h.req('POST', path, { json: body }), 401, 'UNAUTHENTICATED');
      check('forged key', await h.req('POST', path, { auth: forgedKey(), json: body }), 401, 'INVALID_API_KEY');
      check("B's key", await h.req('POST', path, { auth: B.key, json: body }), 401, 'INVALID_API_KEY');
      check('forged session', await h.req('POST', path, { auth: forgedSession(), json: body }), 401, 'INVALID_SESSION');
      check("B's user session", await h.req('POST', path, { auth: userB.token, json: body }), 401, 'INVALID_SESSION');
      check('garbage bearer', await h.req('POST', path, { auth: '\u00ff'.repeat(10), json: body }), 401, 'INVALID_SESSION');
      check('Basic scheme', await h.req('POST', path, { headers: { authorization: `Basic ${A.key}` }, json: body }), 401, 'UNAUTHENTICATED');
      check('user pays for someone else', await h.req('POST', path, { auth: userA.token, json: validOrder(no(), { payer: { openid: 'o-victim' } }) }), 403, 'PAYER_MISMATCH');
      expect(h.sandbox.pay.order(MX.mchid, body.outTradeNo)).to.equal(undefined);
      assertNoFailures();
    });

    it('tenants: no pay is 404 PAY_NOT_ENABLED, an unapplied merchant 503 PAY_NOT_CONFIGURED with Retry-After, unknown appids 404/400', async () => {
      check('tenant without pay', await h.req('POST', `/${N.appid}/pay/orders`, { auth: N.key, json: validOrder(no()) }), 404, 'PAY_NOT_ENABLED');
      check('merchant not applied', await h.req('POST', `/${U.appid}/pay/orders`, { auth: U.key, json: validOrder(no()) }), 503, 'PAY_NOT_CONFIGURED', { retryAfter: true });
      check('unknown appid', await h.req('POST', `/wx${randomBytes(8).toString('hex')}/pay/orders`, { auth: A.key, json: validOrder(no()) }), 404, 'TENANT_NOT_FOUND');
      check('malformed appid', await h.req('POST', `/wx..%2F..%2Fadmin/pay/orders`, { auth: A.key, json: validOrder(no()) }), 400, 'INVALID_APPID');
      assertNoFailures();
    });
  });

  describe('key-only routes', () => {
    const routes = () =>
      [
        ['GET order', 'GET', `/orders/${orderA}`, undefined],
        ['close', 'POST', `/orders/${orderA}/close`, undefined],
        ['refund', 'POST', `/orders/${orderA}/refunds`, { outRefundNo: 'R1', amount: { refund: 1, total: 1200 } }],
        ['GET refund', 'GET', `/orders/${orderA}/refunds/R1`, undefined],
        ['shipping', 'POST', `/orders/${orderA}/shipping`, { logisticsType: 3, shippingList: [{ itemDesc: 'e-book' }] }],
        ['trade management', 'GET', '/trade-management', undefined],
      ] as const;

    it('a user session, no key, a forged key or another tenant’s key are 401, and nothing moves', async () => {
      for (const [label, method, p, json] of routes()) {
        const o = json === undefined ? {} : { json };
        check(`${label}: user session`, await h.req(method, `/${A.appid}/pay${p}`, { auth: userA.token, ...o }), 401, 'INVALID_API_KEY');
        check(`${label}: no credential`, await h.req(method, `/${A.appid}/pay${p}`, o), 401, 'UNAUTHENTICATED');
        check(`${label}: forged key`, await h.req(method, `/${A.appid}/pay${p}`, { auth: forgedKey(), ...o }), 401, 'INVALID_API_KEY');
        check(`${label}: B's key`, await h.req(method, `/${A.appid}/pay${p}`, { auth: B.key, ...o }), 401, 'INVALID_API_KEY');
      }
      expect(h.sandbox.pay.order(MX.mchid, orderA)?.trade_state).to.equal('NOTPAY');
      assertNoFailures();
    });

    it('a tenant without pay is 404 PAY_NOT_ENABLED; an unapplied merchant 503 PAY_NOT_CONFIGURED with Retry-After', async () => {
      for (const [label, method, p, json] of routes()) {
        const o = json === undefined ? {} : { json };
        check(`${label}: no pay`, await h.req(method, `/${N.appid}/pay${p}`, { auth: N.key, ...o }), 404, 'PAY_NOT_ENABLED');
        if (label !== 'trade management') check(`${label}: unapplied`, await h.req(method, `/${U.appid}/pay${p}`, { auth: U.key, ...o }), 503, 'PAY_NOT_CONFIGURED', { retryAfter: true });
      }
      assertNoFailures();
    });

    it('outTradeNo and outRefundNo in the path: bad characters, too long, traversal and URL-encoded junk are 404 ORDER_NOT_FOUND', async () => {
      const junk = [
        'abc',
        'x'.repeat(33),
        '..%2F..%2Fetc%2Fpasswd',
        '%2e%2e',
        '%00abcdefg',
        'abcdefg%00',
        'a%20b%20c%20d',
        '%E8%AE%A2%E5%8D%95%E5%8F%B7%E5%8D%95',
        '%E0%A4%A',
        '%',
        '%ZZabcdef',
        '{$ne:null}',
        'abcdef%0d%0aSet-Cookie:x=1',
      ];
      for (const j of junk) {
        for (const [label, method, p] of [
          ['GET', 'GET', `/orders/${j}`],
          ['sync', 'GET', `/orders/${j}?sync=true`],
          ['close', 'POST', `/orders/${j}/close`],
          ['refunds', 'POST', `/orders/${j}/refunds`],
          ['GET refund', 'GET', `/orders/${j}/refunds/R1`],
          ['shipping', 'POST', `/orders/${j}/shipping`],
        ] as const) {
          check(`${label} ${j}`, await raw(h.url(), method, `/${A.appid}/pay${p}`, { authorization: `Bearer ${A.key}` }), 404, 'ORDER_NOT_FOUND');
        }
      }
      for (const j of ['x'.repeat(65), 'a%23b', '..%2Fx', '%00', 'a%20b'])
        check(`GET refund ${j}`, await raw(h.url(), 'GET', `/${A.appid}/pay/orders/${orderA}/refunds/${j}`, { authorization: `Bearer ${A.key}` }), 404, 'ORDER_NOT_FOUND');
      // Literal dot segments, as a client that does not normalise paths sends them.
      for (const p of [`/${A.appid}/pay/orders/../close`, `/${A.appid}/pay/orders/./close`, `/${A.appid}/pay/orders/..`]) {
        const r = await raw(h.url(), 'POST', p, { authorization: `Bearer ${A.key}` });
        if (r.status >= 500 || STACK.test(r.text) || !(r.json as { error?: { code?: string } })?.error?.code) failures.push(`${p}: ${r.status} ${r.text}`);
      }
      // Well-formed, but not this tenant's: C's order is not A's.
      check("C's order via A", await h.req('GET', `/${A.appid}/pay/orders/${orderC}`, { auth: A.key }), 404, 'ORDER_NOT_FOUND');
      check("C's order via A, sync", await h.req('GET', `/${A.appid}/pay/orders/${orderC}?sync=true`, { auth: A.key }), 404, 'ORDER_NOT_FOUND');
      check("close C's order via A", await h.req('POST', `/${A.appid}/pay/orders/${orderC}/close`, { auth: A.key }), 404, 'ORDER_NOT_FOUND');
      check('unknown order', await h.req('GET', `/${A.appid}/pay/orders/NOSUCHORDER1`, { auth: A.key }), 404, 'ORDER_NOT_FOUND');
      expect(h.sandbox.pay.order(MX.mchid, orderC)?.trade_state).to.equal('NOTPAY');
      assertNoFailures();
    });

    it('query: sync must be true or false, once, and nothing else', async () => {
      for (const q of ['sync=yes', 'sync=true&sync=true', 'foo=1', 'sync=TRUE', 'sync[]=true', 'sync=%00'])
        check(`?${q}`, await h.req('GET', `/${A.appid}/pay/orders/${orderA}?${q}`, { auth: A.key }), 400, 'INVALID_QUERY');
      assertNoFailures();
    });

    it('close, refund and shipping bodies: malformed, wrong type, oversized, unknown fields, bad amounts', async () => {
      const base = `/${A.appid}/pay/orders/${orderA}`;
      const json = (p: string, body: unknown) => h.req('POST', base + p, { auth: A.key, json: body });
      const text = (p: string, body: string, type = 'application/json') => h.req('POST', base + p, { auth: A.key, body, headers: { 'content-type': type } });
      for (const p of ['/close', '/refunds', '/shipping']) {
        check(`${p} malformed JSON`, await text(p, '{"a":'), 400, 'MALFORMED_JSON');
        check(`${p} text/plain`, await text(p, '{}', 'text/plain'), 415, 'UNSUPPORTED_MEDIA_TYPE');
        check(`${p} declared oversize`, await text(p, JSON.stringify({ x: 'x'.repeat(40 * 1024) })), 413, 'PAYLOAD_TOO_LARGE');
        check(
          `${p} chunked oversize`,
          await raw(h.url(), 'POST', base + p, { 'content-type': 'application/json', authorization: `Bearer ${A.key}` }, [
            '{"x":"',
            ...Array.from({ length: 40 }, () => 'x'.repeat(1024)),
            '"}',
          ]),
          413,
          'PAYLOAD_TOO_LARGE',
        );
      }
      check('/close unknown field', await json('/close', { force: true }), 400, 'INVALID_BODY');
      const refund = (extra: Record<string, unknown>) => ({ outRefundNo: 'R-hostile-1', amount: { refund: 100, total: 1200 }, ...extra });
      const badRefunds: [string, unknown][] = [
        ['unknown field', refund({ notifyUrl: 'http://evil' })],
        ['refund 0', refund({ amount: { refund: 0, total: 1200 } })],
        ['refund negative', refund({ amount: { refund: -5, total: 1200 } })],
        ['refund float', refund({ amount: { refund: 1.5, total: 1200 } })],
        ['refund huge', refund({ amount: { refund: 1e12, total: 1200 } })],
        ['total a string', refund({ amount: { refund: 1, total: '1200' } })],
        ['amount extra field', refund({ amount: { refund: 1, total: 1200, currency: 'CNY' } })],
        ['outRefundNo bad characters', refund({ outRefundNo: 'R#1' })],
        ['outRefundNo too long', refund({ outRefundNo: 'R'.repeat(65) })],
        ['outRefundNo empty', refund({ outRefundNo: '' })],
        ['reason too long', refund({ reason: 'x'.repeat(81) })],
        ['body an array', [refund({})]],
      ];
      for (const [label, body] of badRefunds) check(`refund ${label}`, await json('/refunds', body), 400, 'INVALID_BODY');
      const ship = (extra: Record<string, unknown>) => ({ logisticsType: 3, shippingList: [{ itemDesc: 'e-book' }], ...extra });
      const badShipping: [string, unknown][] = [
        ['logisticsType 5', ship({ logisticsType: 5 })],
        ['logisticsType a string', ship({ logisticsType: '1' })],
        ['empty list', ship({ shippingList: [] })],
        ['16 items', ship({ shippingList: Array.from({ length: 16 }, () => ({ itemDesc: 'x' })) })],
        ['itemDesc too long', ship({ shippingList: [{ itemDesc: 'x'.repeat(121) }] })],
        ['express without tracking', ship({ logisticsType: 1 })],
        ['several shipments without isAllDelivered', ship({ deliveryMode: 2 })],
        ['unknown field', ship({ shipTo: 'x' })],
        ['unknown item field', ship({ shippingList: [{ itemDesc: 'x', price: 1 }] })],
        ['uploadTime not a time', ship({ uploadTime: '2026-13-45T99:99:99+08:00' })],
      ];
      for (const [label, body] of badShipping) check(`shipping ${label}`, await json('/shipping', body), 400, 'INVALID_BODY');
      expect(h.sandbox.pay.order(MX.mchid, orderA)?.trade_state).to.equal('NOTPAY');
      assertNoFailures();
    });
  });

  describe('notifications', () => {
    interface NoteOpts {
      eventType?: string;
      originalType?: string;
      apiV3Key?: string;
      ad?: string;
      tamper?: (r: Record<string, unknown>) => void;
      envelope?: (e: Record<string, unknown>) => unknown;
    }
    /** A notification body as WeChat Pay builds it, its resource encrypted with MX's APIv3 key unless told otherwise. */
    function note(plain: unknown, o: NoteOpts = {}): string {
      const ot = o.originalType ?? 'transaction';
      const resource: Record<string, unknown> = { original_type: ot, ...encryptResource(o.apiV3Key ?? MX.apiV3Key, typeof plain === 'string' ? plain : JSON.stringify(plain), o.ad ?? ot) };
      o.tamper?.(resource);
      const env: Record<string, unknown> = {
        id: randomUUID(),
        create_time: new Date().toISOString(),
        resource_type: 'encrypt-resource',
        event_type: o.eventType ?? 'TRANSACTION.SUCCESS',
        summary: '支付成功',
        resource,
      };
      return JSON.stringify(o.envelope ? o.envelope(env) : env);
    }
    const signed = (body: string, ts = nowS(), key = platform, serial = platformKeyId) => ({ 'content-type': 'application/json', ...signedHeaders(key, serial, body, ts) });
    const post = (t: TenantHandle, body: string | Buffer | string[], headers: Record<string, string>, kind: 'notify' | 'refund-notify' = 'notify') =>
      raw(h.url(), 'POST', `/${t.appid}/pay/${kind}`, headers, body);
    const tx = (t: TenantHandle, outTradeNo: string, extra: Record<string, unknown> = {}) => ({
      appid: t.appid,
      mchid: MX.mchid,
      out_trade_no: outTradeNo,
      transaction_id: `42000${Date.now()}${++seq}`,
      trade_type: 'JSAPI',
      trade_state: 'SUCCESS',
      trade_state_desc: 'ok',
      bank_type: 'OTHERS',
      success_time: '2026-01-01T10:00:00+08:00',
      payer: { openid: 'o-payer-1' },
      amount: { total: 1200, payer_total: 1200, currency: 'CNY', payer_currency: 'CNY' },
      ...extra,
    });
    const stored = async (t: TenantHandle, o: string) => (await h.req('GET', `/${t.appid}/pay/orders/${o}`, { auth: t.key })).json as Record<string, unknown>;

    it('signatures: missing, garbage, another key, unknown serial, stale, huge or non-numeric timestamps, huge headers are 401 FAIL', async () => {
      const body = note(tx(A, orderA));
      const h0 = signed(body);
      const cases: [string, Record<string, string>][] = [
        ['no signature headers', { 'content-type': 'application/json' }],
        ['garbage signature', { ...h0, 'Wechatpay-Signature': randomBytes(256).toString('base64') }],
        ['signature not base64', { ...h0, 'Wechatpay-Signature': '!!!***!!!' }],
        ['empty signature', { ...h0, 'Wechatpay-Signature': '' }],
        ['signed by another key', signed(body, nowS(), otherKey)],
        ['unknown serial', signed(body, nowS(), platform, 'PUB_KEY_ID_0000000000000000000000000000')],
        ["a certificate serial that doesn't exist", signed(body, nowS(), platform, 'ABCDEF0123456789')],
        ['stale (10 minutes)', signed(body, nowS() - 600)],
        ['future (10 minutes)', signed(body, nowS() + 600)],
        ['huge timestamp', { ...h0, 'Wechatpay-Timestamp': '9'.repeat(40) }],
        ['12-digit timestamp', signed(body, 999_999_999_999)],
        ['negative timestamp', { ...h0, 'Wechatpay-Timestamp': '-1' }],
        ['non-numeric timestamp', { ...h0, 'Wechatpay-Timestamp': 'now' }],
        ['float timestamp', { ...h0, 'Wechatpay-Timestamp': `${nowS()}.5` }],
        ['huge signature header', { ...h0, 'Wechatpay-Signature': 'A'.repeat(8000) }],
        ['huge nonce header', { ...h0, 'Wechatpay-Nonce': 'n'.repeat(8000) }],
        ['huge serial header', { ...h0, 'Wechatpay-Serial': 'S'.repeat(8000) }],
        ['signature over another body', { ...signed(note(tx(A, orderA))) }],
        ['timestamp changed after signing', { ...h0, 'Wechatpay-Timestamp': String(Number(h0['Wechatpay-Timestamp']) - 1) }],
        ['nonce changed after signing', { ...h0, 'Wechatpay-Nonce': h0['Wechatpay-Nonce'] + 'x' }],
      ];
      for (const [label, headers] of cases) check(label, await post(A, body, headers), 401, 'PAY_NOTIFY_UNVERIFIED', { fail: true });
      check(
        'signed non-JSON body, unsigned',
        await post(A, 'hello', {
          'content-type': 'application/json',
          'Wechatpay-Timestamp': String(nowS()),
          'Wechatpay-Nonce': 'x',
          'Wechatpay-Serial': platformKeyId,
          'Wechatpay-Signature': 'AAAA',
        }),
        401,
        'PAY_NOTIFY_UNVERIFIED',
        { fail: true },
      );
      expect((await stored(A, orderA)).state).to.equal('NOTPAY');
      assertNoFailures();
    });

    it('transport: wrong content type, declared and chunked oversize bodies', async () => {
      const body = note(tx(A, orderA));
      check('text/plain', await post(A, body, { ...signed(body), 'content-type': 'text/plain' }), 415, 'UNSUPPORTED_MEDIA_TYPE', { fail: true });
      check('no content type', await post(A, body, Object.fromEntries(Object.entries(signed(body)).filter(([k]) => k !== 'content-type'))), 415, 'UNSUPPORTED_MEDIA_TYPE', { fail: true });
      const big = JSON.stringify({ pad: 'x'.repeat(70 * 1024) });
      check('declared oversize', await post(A, big, signed(big)), 413, 'PAYLOAD_TOO_LARGE', { fail: true });
      check('chunked oversize', await post(A, ['{"pad":"', ...Array.from({ length: 80 }, () => 'x'.repeat(1024)), '"}'], { 'content-type': 'application/json' }), 413, 'PAYLOAD_TOO_LARGE', {
        fail: true,
      });
      check('empty body, signed', await post(A, '', signed('')), 400, 'PAY_NOTIFY_MALFORMED', { fail: true });
      check('empty body, unsigned', await post(A, '', { 'content-type': 'application/json' }), 401, 'PAY_NOTIFY_UNVERIFIED', { fail: true });
      expect((await stored(A, orderA)).state).to.equal('NOTPAY');
      assertNoFailures();
    });

    it('validly signed but malformed: non-JSON, not an envelope, resource with another key, tampered ciphertext, nonce or associated_data are 400 FAIL', async () => {
      const p = tx(A, orderA);
      const bodies: [string, string][] = [
        ['non-JSON body', 'this is not json'],
        ['JSON null', 'null'],
        ['JSON array', '[]'],
        ['JSON number', '42'],
        ['no resource', note(p, { envelope: (e) => ({ ...e, resource: undefined }) })],
        ['resource a string', note(p, { envelope: (e) => ({ ...e, resource: 'x' }) })],
        ['id a number', note(p, { envelope: (e) => ({ ...e, id: 5 }) })],
        ['encrypted with another APIv3 key', note(p, { apiV3Key: randomBytes(16).toString('hex') })],
        ['tampered ciphertext', note(p, { tamper: (r) => (r.ciphertext = flipFirst(r.ciphertext as string)) })],
        ['truncated ciphertext', note(p, { tamper: (r) => (r.ciphertext = (r.ciphertext as string).slice(0, 8)) })],
        ['ciphertext not base64', note(p, { tamper: (r) => (r.ciphertext = '!!!!' + (r.ciphertext as string)) })],
        ['ciphertext a number', note(p, { tamper: (r) => (r.ciphertext = 12345) })],
        ['tampered nonce', note(p, { tamper: (r) => (r.nonce = flipFirst(r.nonce as string)) })],
        ['empty nonce', note(p, { tamper: (r) => (r.nonce = '') })],
        ['huge nonce', note(p, { tamper: (r) => (r.nonce = 'n'.repeat(5000)) })],
        ['tampered associated_data', note(p, { tamper: (r) => (r.associated_data = 'refund') })],
        ['associated_data an object', note(p, { tamper: (r) => (r.associated_data = { a: 1 }) })],
        ['algorithm AES-CBC', note(p, { tamper: (r) => (r.algorithm = 'AEAD_AES_256_CBC') })],
        ['algorithm missing', note(p, { tamper: (r) => delete r.algorithm })],
        ['decrypts to non-JSON', note('not json')],
        ['decrypts to an array', note([p])],
        ['decrypts to null', note(null)],
      ];
      for (const [label, body] of bodies) check(label, await post(A, body, signed(body)), 400, 'PAY_NOTIFY_MALFORMED', { fail: true });
      expect((await stored(A, orderA)).state).to.equal('NOTPAY');
      assertNoFailures();
    });

    it("genuine notifications that are not this mini program's stored order are 400 PAY_NOTIFY_MISMATCH and change nothing", async () => {
      const cases: [string, unknown][] = [
        ["another appid's order (same merchant)", tx(C, orderC)],
        ['appid of C, order of A', tx(C, orderA)],
        ['another merchant', tx(A, orderA, { mchid: M2.mchid })],
        ['wrong amount', tx(A, orderA, { amount: { total: 1, payer_total: 1, currency: 'CNY' } })],
        ['wrong currency', tx(A, orderA, { amount: { total: 1200, currency: 'USD' } })],
        ['amount a string', tx(A, orderA, { amount: '1200' })],
        ['no amount', tx(A, orderA, { amount: undefined })],
        ['unknown order', tx(A, 'NOSUCHORDER1')],
        ['out_trade_no an object', tx(A, { $ne: null } as unknown as string)],
        ['no out_trade_no', tx(A, orderA, { out_trade_no: undefined })],
        ['unknown trade_state', tx(A, orderA, { trade_state: 'PWNED' })],
        ['trade_state a number', tx(A, orderA, { trade_state: 1 })],
      ];
      for (const [label, plain] of cases) {
        const body = note(plain);
        check(label, await post(A, body, signed(body)), 400, 'PAY_NOTIFY_MISMATCH', { fail: true });
      }
      expect((await stored(A, orderA)).state).to.equal('NOTPAY');
      expect((await stored(C, orderC)).state).to.equal('NOTPAY');
      assertNoFailures();
    });

    it('signed fields of the wrong type are refused (4xx), never a 500 that leaves a stack in the log', async () => {
      const o = no('W');
      expect((await createOrder(A, o)).status).to.equal(201);
      const cases: [string, Record<string, unknown>][] = [
        ['transaction_id an object', { transaction_id: { $gt: '' } }],
        ['transaction_id an array', { transaction_id: ['a', 'b'] }],
        ['success_time an object', { success_time: { a: 1 } }],
        ['payer_total a string', { amount: { total: 1200, payer_total: 'lots', currency: 'CNY' } }],
      ];
      for (const [label, extra] of cases) {
        const body = note(tx(A, o, extra));
        const r = await post(A, body, signed(body));
        if (r.status >= 500 || r.status === 0 || STACK.test(r.text) || (r.status !== 204 && (r.json as { code?: string })?.code !== 'FAIL')) failures.push(`${label}: ${r.status} ${r.text}`);
        // Whatever was accepted is stored with the types the gateway promises.
        const s = await stored(A, o);
        if (s.transactionId !== undefined && typeof s.transactionId !== 'string') failures.push(`${label}: transactionId stored as ${JSON.stringify(s.transactionId)}`);
        if (s.successTime !== undefined && typeof s.successTime !== 'string') failures.push(`${label}: successTime stored as ${JSON.stringify(s.successTime)}`);
      }
      assertNoFailures();
    });

    it('a genuine notification is applied once; replaying it (same body and headers) is 204 and changes nothing; a refund event on the payment URL and vice versa is 400', async () => {
      const o = no('P');
      expect((await createOrder(A, o)).status).to.equal(201);
      const body = note(tx(A, o));
      const headers = signed(body);
      const first = await post(A, body, headers);
      expect(first.status, first.text).to.equal(204);
      const after = await stored(A, o);
      expect(after.state).to.equal('SUCCESS');
      for (let i = 0; i < 3; i++) {
        const again = await post(A, body, headers);
        expect(again.status, again.text).to.equal(204);
      }
      // A second, later notification of the same payment with other details must not rewrite it.
      const other = note(tx(A, o, { transaction_id: '4200000000000000000000000001', success_time: '2030-01-01T00:00:00+08:00' }));
      expect((await post(A, other, signed(other))).status).to.equal(204);
      const now = await stored(A, o);
      expect(now).to.deep.equal(after);
      // The same (valid) notification at C's URL is not C's.
      check("A's notification at C's URL", await post(C, body, headers), 400, 'PAY_NOTIFY_MISMATCH', { fail: true });
      // A refund notification at the payment URL, and a payment notification at the refund URL.
      const refundAtPay = note(
        { mchid: MX.mchid, out_trade_no: o, out_refund_no: 'R1', refund_status: 'SUCCESS', amount: { total: 1200, refund: 1 } },
        { originalType: 'refund', eventType: 'REFUND.SUCCESS' },
      );
      check('refund event at the payment URL', await post(A, refundAtPay, signed(refundAtPay)), 400, 'PAY_NOTIFY_MALFORMED', { fail: true });
      check('payment event at the refund URL', await post(A, body, signed(body), 'refund-notify'), 400, 'PAY_NOTIFY_MALFORMED', { fail: true });
      expect(await stored(A, o)).to.deep.equal(after);
      assertNoFailures();
    });

    it('refund notifications: unknown refund, wrong amount, another appid, PROCESSING, replay', async () => {
      const o = no('Q');
      expect((await createOrder(A, o)).status).to.equal(201);
      expect((await h.sandbox.pay.payOrder(MX.mchid, o)).attempts[0]?.status).to.equal(204);
      const outRefundNo = no('R');
      const created = await h.req('POST', `/${A.appid}/pay/orders/${o}/refunds`, { auth: A.key, json: { outRefundNo, amount: { refund: 500, total: 1200 } } });
      expect(created.status, created.text).to.equal(201);
      const rn = (extra: Record<string, unknown> = {}) =>
        note(
          {
            mchid: MX.mchid,
            out_trade_no: o,
            transaction_id: 'x',
            out_refund_no: outRefundNo,
            refund_id: created.json.refundId,
            refund_status: 'SUCCESS',
            success_time: '2026-01-01T10:00:00+08:00',
            user_received_account: '支付用户零钱',
            amount: { total: 1200, refund: 500, payer_total: 1200, payer_refund: 500 },
            ...extra,
          },
          { originalType: 'refund', eventType: 'REFUND.SUCCESS' },
        );
      const cases: [string, string][] = [
        ['unknown refund', rn({ out_refund_no: 'NOSUCHREFUND' })],
        ['another order', rn({ out_trade_no: orderA })],
        ['wrong amount', rn({ amount: { total: 1200, refund: 1200 } })],
        ['another merchant', rn({ mchid: M2.mchid })],
        ['PROCESSING', rn({ refund_status: 'PROCESSING' })],
        ['unknown status', rn({ refund_status: 'PWNED' })],
      ];
      for (const [label, body] of cases) check(`refund ${label}`, await post(A, body, signed(body), 'refund-notify'), 400, 'PAY_NOTIFY_MISMATCH', { fail: true });
      const atC = rn();
      check("refund at C's URL", await post(C, atC, signed(atC), 'refund-notify'), 400, 'PAY_NOTIFY_MISMATCH', { fail: true });
      const refundUrl = `/${A.appid}/pay/orders/${o}/refunds/${outRefundNo}`;
      expect((await h.req('GET', refundUrl, { auth: A.key })).json.status).to.equal('PROCESSING');
      const body = rn();
      const headers = signed(body);
      expect((await post(A, body, headers, 'refund-notify')).status).to.equal(204);
      const done = (await h.req('GET', refundUrl, { auth: A.key })).json as Record<string, unknown>;
      expect(done.status).to.equal('SUCCESS');
      expect((await post(A, body, headers, 'refund-notify')).status).to.equal(204);
      const closed = rn({ refund_status: 'CLOSED', success_time: '2031-01-01T00:00:00+08:00' });
      expect((await post(A, closed, signed(closed), 'refund-notify')).status).to.equal(204);
      expect((await h.req('GET', refundUrl, { auth: A.key })).json).to.deep.equal(done);
      assertNoFailures();
    });

    it('tenants: no pay 404, unapplied merchant 503 with Retry-After, unknown or malformed appid', async () => {
      const body = note(tx(A, orderA));
      for (const kind of ['notify', 'refund-notify'] as const) {
        check(`${kind}: no pay`, await post(N, body, signed(body), kind), 404, 'PAY_NOT_ENABLED', { fail: true });
        check(`${kind}: unapplied`, await post(U, body, signed(body), kind), 503, 'PAY_NOT_CONFIGURED', { fail: true, retryAfter: true });
        check(`${kind}: unknown appid`, await raw(h.url(), 'POST', `/wx${randomBytes(8).toString('hex')}/pay/${kind}`, signed(body), body), 404, 'TENANT_NOT_FOUND');
        check(`${kind}: malformed appid`, await raw(h.url(), 'POST', `/WX_NOPE/pay/${kind}`, signed(body), body), 400, 'INVALID_APPID');
        check(`${kind}: GET`, await raw(h.url(), 'GET', `/${A.appid}/pay/${kind}`, {}), 405, 'METHOD_NOT_ALLOWED');
      }
      assertNoFailures();
    });
  });

  // Mocha runs a describe's own tests before its nested describes: this one must come last.
  describe('afterwards', () => {
    it('the gateway is still up and its output holds no key material and no stack traces', async () => {
      const gw = h.fleet[0]!;
      expect(gw.child.exitCode).to.equal(null);
      const out = gw.output();
      expect(out).to.not.include(MX.apiV3Key);
      expect(out).to.not.include(M2.apiV3Key);
      for (const pem of [MX.privateKeyPem, M2.privateKeyPem, platform.export({ type: 'pkcs8', format: 'pem' }).toString()]) {
        for (const line of pem.split('\n').filter((l) => l.length > 40)) expect(out).to.not.include(line);
      }
      expect(out).to.not.match(STACK);
      expect(out).to.not.match(/"level":(50|60)/);
      expect(out).to.not.include('"INTERNAL"');
    });
  });
});

function flipFirst(s: string): string {
  return (s[0] === 'A' ? 'B' : 'A') + s.slice(1);
}
