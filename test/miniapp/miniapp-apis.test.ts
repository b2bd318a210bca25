import { randomBytes } from 'node:crypto';
import { expect } from 'chai';
import { PNG_MAGIC, startHarness, type Harness, type TenantHandle } from '../support/harness';

describe('mini-program APIs (gateway process + sandbox)', function () {
  this.timeout(60_000);
  let h: Harness;
  let A: TenantHandle;
  let B: TenantHandle;
  let user: { token: string; openid: string };

  before(async () => {
    h = await startHarness(1);
    A = await h.tenant();
    B = await h.tenant();
    user = await h.newUser(A.appid, 'mp-user');
  });
  after(async () => h.close());
  afterEach(() => h.sandbox.clearFaults());

  const post = (path: string, auth: string, json: unknown) => h.req('POST', `/${A.appid}${path}`, { auth, json });

  describe('POST /wxacode', () => {
    it('returns PNG bytes, for a service key and for a user session', async () => {
      for (const auth of [A.key, user.token]) {
        const r = await post('/wxacode', auth, {
          scene: 'id=42&from=poster',
          page: 'pages/item/item',
          width: 430,
          env_version: 'trial',
          check_path: false,
          is_hyaline: true,
          line_color: { r: 10, g: 20, b: 30 },
        });
        expect(r.status, r.text).to.equal(200);
        expect(r.headers.get('content-type')).to.equal('image/png');
        expect(r.buf.subarray(0, 8).equals(PNG_MAGIC)).to.equal(true);
        expect(r.buf.length).to.be.greaterThan(100);
      }
      expect(h.sandbox.calls('/wxa/getwxacodeunlimit', A.appid)).to.equal(2);
    });

    it('a bad scene is a JSON error, never an image (checked before WeChat is called)', async () => {
      const before = h.sandbox.calls('/wxa/getwxacodeunlimit', A.appid);
      for (const scene of ['x'.repeat(33), 'has space', '中文', '']) {
        const r = await post('/wxacode', A.key, { scene });
        expect(r.status).to.equal(400);
        expect(r.headers.get('content-type')).to.match(/^application\/json/);
        expect(r.json.error.code).to.equal('INVALID_BODY');
        expect(r.json.error.message).to.match(/^scene: /);
      }
      expect(h.sandbox.calls('/wxa/getwxacodeunlimit', A.appid)).to.equal(before);
    });

    it('WeChat answering JSON instead of an image becomes a JSON error', async () => {
      h.sandbox.injectFault({ endpoint: '/wxa/getwxacodeunlimit', appid: A.appid, errcode: 40097, times: 1 });
      const r = await post('/wxacode', A.key, { scene: 'ok' });
      expect([r.status, r.json.error.code]).to.deep.equal([400, 'WECHAT_REJECTED_INPUT']);
      expect(r.json.error.details.errcode).to.equal(40097);
      expect(r.json.error.details.rid).to.match(/^[0-9a-f-]+$/);

      h.sandbox.injectFault({ endpoint: '/wxa/getwxacodeunlimit', appid: A.appid, errcode: 41030, times: 1 });
      const page = await post('/wxacode', A.key, { scene: 'ok', page: 'pages/missing' });
      expect([page.status, page.json.error.code]).to.deep.equal([400, 'INVALID_PAGE']);

      h.sandbox.injectFault({ endpoint: '/wxa/getwxacodeunlimit', appid: A.appid, errcode: 48001, times: 1 });
      const unauthorised = await post('/wxacode', A.key, { scene: 'ok' });
      expect([unauthorised.status, unauthorised.json.error.code]).to.deep.equal([403, 'WECHAT_API_UNAUTHORIZED']);

      h.sandbox.injectFault({ endpoint: '/wxa/getwxacodeunlimit', appid: A.appid, errcode: 40013, times: 1 });
      const other = await post('/wxacode', A.key, { scene: 'ok' });
      expect([other.status, other.json.error.code]).to.deep.equal([502, 'WECHAT_API_ERROR']);
    });

    it('a dead access token is replaced transparently', async () => {
      h.sandbox.revokeToken(A.appid);
      const r = await post('/wxacode', A.key, { scene: 'after-revoke' });
      expect(r.status, r.text).to.equal(200);
      expect(r.buf.subarray(0, 8).equals(PNG_MAGIC)).to.equal(true);
    });
  });

  describe('messages', () => {
    it('a subscribe message reaches WeChat with the body as sent', async () => {
      h.sandbox.clearMessages();
      const msg = {
        touser: user.openid,
        template_id: 'TPL_order_shipped-1',
        page: 'pages/order/order?id=7',
        data: { thing1: { value: 'Green tea' }, amount2: { value: 12.5 }, time3: { value: '2024-05-01 10:00' } },
        miniprogram_state: 'trial',
        lang: 'en_US',
      };
      const r = await post('/messages/subscribe', A.key, msg);
      expect(r.status, r.text).to.equal(200);
      expect(r.json.sent).to.equal(true);
      expect(r.json.msgid).to.be.a('number');
      const sent = h.sandbox.sentMessages('subscribe');
      expect(sent).to.have.length(1);
      expect(sent[0]!.appid).to.equal(A.appid);
      expect(sent[0]!.body).to.deep.equal(msg);
    });

    it('subscribe errcodes the caller can act on have stable codes', async () => {
      const msg = { touser: user.openid, template_id: 'TPL', data: { thing1: { value: 'x' } } };
      for (const [errcode, status, code] of [
        [43101, 400, 'USER_REFUSED_SUBSCRIPTION'],
        [40003, 400, 'INVALID_OPENID'],
        [40037, 400, 'INVALID_TEMPLATE'],
        [47003, 400, 'WECHAT_REJECTED_INPUT'],
        [47001, 400, 'WECHAT_REJECTED_INPUT'],
      ] as const) {
        h.sandbox.injectFault({ endpoint: '/cgi-bin/message/subscribe/send', appid: A.appid, errcode, times: 1 });
        const r = await post('/messages/subscribe', A.key, msg);
        expect([r.status, r.json.error.code], `errcode ${errcode}`).to.deep.equal([status, code]);
        expect(r.json.error.details.errcode).to.equal(errcode);
      }
    });

    it('customer messages of every type reach WeChat with the body as sent', async () => {
      h.sandbox.clearMessages();
      const msgs = [
        { touser: user.openid, msgtype: 'text', text: { content: 'Hello 你好' } },
        { touser: user.openid, msgtype: 'image', image: { media_id: 'MEDIA_id-1' } },
        { touser: user.openid, msgtype: 'link', link: { title: 'T', description: 'D', url: 'https://example.com/a?b=c', thumb_url: 'https://example.com/t.png' } },
        { touser: user.openid, msgtype: 'miniprogrampage', miniprogrampage: { title: 'Shop', pagepath: 'pages/index/index?x=1', thumb_media_id: 'THUMB_1' } },
      ];
      for (const m of msgs) {
        const r = await post('/messages/customer', A.key, m);
        expect(r.status, r.text).to.equal(200);
        expect(r.json).to.deep.equal({ sent: true });
      }
      expect(h.sandbox.sentMessages('custom').map((s) => s.body)).to.deep.equal(msgs);
      h.sandbox.injectFault({ endpoint: '/cgi-bin/message/custom/send', appid: A.appid, errcode: 40003, times: 1 });
      const r = await post('/messages/customer', A.key, msgs[0]);
      expect([r.status, r.json.error.code]).to.deep.equal([400, 'INVALID_OPENID']);
    });

    it('45011 on an API pauses it: 429 WECHAT_RATE_LIMITED with Retry-After', async () => {
      h.sandbox.injectFault({ endpoint: '/cgi-bin/message/custom/send', appid: B.appid, errcode: 45011, times: 1 });
      const r = await h.req('POST', `/${B.appid}/messages/customer`, { auth: B.key, json: { touser: 'o1', msgtype: 'text', text: { content: 'x' } } });
      expect([r.status, r.json.error.code]).to.deep.equal([429, 'WECHAT_RATE_LIMITED']);
      expect(Number(r.headers.get('retry-after'))).to.be.greaterThan(0);
    });
  });

  describe('POST /security/text-check', () => {
    it("passes clean text and flags risky text, for the session's user", async () => {
      const ok = await post('/security/text-check', user.token, { content: 'a nice cup of tea' });
      expect(ok.status, ok.text).to.equal(200);
      expect(ok.json).to.include({ suggest: 'pass', label: 100 });
      expect(ok.json.traceId).to.be.a('string');

      const risky = await post('/security/text-check', user.token, { content: 'this has a BadWord in it', scene: 2 });
      expect(risky.json).to.include({ suggest: 'risky', label: 20001 });

      h.sandbox.setRiskyWords(['spam']);
      try {
        expect((await post('/security/text-check', user.token, { content: 'buy spam now' })).json.suggest).to.equal('risky');
        expect((await post('/security/text-check', user.token, { content: 'badword' })).json.suggest).to.equal('pass');
      } finally {
        h.sandbox.setRiskyWords(['badword', 'forbiddenword']);
      }
      const review = await post('/security/text-check', user.token, { content: 'reviewword' });
      expect(review.json.suggest).to.equal('review');
    });

    it('is for users only: a service key is refused', async () => {
      const r = await post('/security/text-check', A.key, { content: 'x' });
      expect([r.status, r.json.error.code]).to.deep.equal([401, 'INVALID_SESSION']);
    });
  });

  describe('media', () => {
    const upload = (type: string, bytes: Buffer, filename: string, mime: string, appid = A.appid, key = A.key) => {
      const form = new FormData();
      form.append('media', new Blob([new Uint8Array(bytes)], { type: mime }), filename);
      return h.req('POST', `/${appid}/media?type=${type}`, { auth: key, body: form });
    };

    it('an uploaded image downloads as the same bytes with its content type', async () => {
      const png = (await post('/wxacode', A.key, { scene: 'media-test' })).buf;
      const up = await upload('image', png, 'code.png', 'image/png');
      expect(up.status, up.text).to.equal(200);
      expect(up.json.type).to.equal('image');
      expect(up.json.mediaId).to.be.a('string');
      expect(up.json.createdAt).to.be.a('number');

      const down = await h.req('GET', `/${A.appid}/media/${up.json.mediaId}`, { auth: A.key });
      expect(down.status).to.equal(200);
      expect(down.headers.get('content-type')).to.equal('image/png');
      expect(down.buf.equals(png)).to.equal(true);
    });

    it('a voice (mp3) and a thumb (jpeg) round-trip; the type comes from the bytes, not the name', async () => {
      const mp3 = Buffer.concat([Buffer.from('ID3'), randomBytes(5000)]);
      const up = await upload('voice', mp3, 'whatever.bin', 'application/octet-stream');
      expect(up.status, up.text).to.equal(200);
      const down = await h.req('GET', `/${A.appid}/media/${up.json.mediaId}`, { auth: A.key });
      expect(down.headers.get('content-type')).to.equal('audio/mpeg');
      expect(down.buf.equals(mp3)).to.equal(true);

      const jpeg = Buffer.concat([Buffer.from([0xff, 0xd8, 0xff, 0xe0]), randomBytes(60 * 1024)]);
      const thumb = await upload('thumb', jpeg, 'thumb.jpg', 'image/jpeg');
      expect(thumb.status, thumb.text).to.equal(200);
      expect(thumb.json.type).to.equal('thumb');
    });

    it('enforces size and type limits before calling WeChat', async () => {
      const before = h.sandbox.calls('/cgi-bin/media/upload', A.appid);
      const bigThumb = Buffer.concat([Buffer.from([0xff, 0xd8, 0xff, 0xe0]), randomBytes(64 * 1024)]);
      const tooBig = await upload('thumb', bigThumb, 't.jpg', 'image/jpeg');
      expect([tooBig.status, tooBig.json.error.code]).to.deep.equal([413, 'PAYLOAD_TOO_LARGE']);
      const pngAsThumb = await upload('thumb', Buffer.concat([PNG_MAGIC, randomBytes(100)]), 't.jpg', 'image/jpeg');
      expect([pngAsThumb.status, pngAsThumb.json.error.code]).to.deep.equal([415, 'UNSUPPORTED_MEDIA_TYPE']);
      const textAsImage = await upload('image', Buffer.from('just some text'), 'a.png', 'image/png');
      expect([textAsImage.status, textAsImage.json.error.code]).to.deep.equal([415, 'UNSUPPORTED_MEDIA_TYPE']);
      expect(h.sandbox.calls('/cgi-bin/media/upload', A.appid)).to.equal(before);
    });

    it("unknown media and another tenant's media are 404 MEDIA_NOT_FOUND", async () => {
      const missing = await h.req('GET', `/${A.appid}/media/${'x'.repeat(64)}`, { auth: A.key });
      expect([missing.status, missing.json.error.code]).to.deep.equal([404, 'MEDIA_NOT_FOUND']);
      const mp3 = Buffer.concat([Buffer.from('ID3'), randomBytes(100)]);
      const up = await upload('voice', mp3, 'v.mp3', 'audio/mpeg');
      const foreign = await h.req('GET', `/${B.appid}/media/${up.json.mediaId}`, { auth: B.key });
      expect([foreign.status, foreign.json.error.code]).to.deep.equal([404, 'MEDIA_NOT_FOUND']);
    });
  });

  describe('links', () => {
    it('generates URL links and URL schemes', async () => {
      const url = await post('/links/url', A.key, { path: 'pages/index/index', query: 'a=1&b=2', env_version: 'release', expire_type: 1, expire_interval: 7 });
      expect(url.status, url.text).to.equal(200);
      expect(url.json.urlLink).to.match(/^https:\/\/wxaurl\.cn\/\w+$/);
      const bare = await post('/links/url', A.key, {});
      expect(bare.status, bare.text).to.equal(200);

      const scheme = await post('/links/scheme', A.key, { path: 'pages/index/index', query: 'x=1', env_version: 'trial' });
      expect(scheme.status, scheme.text).to.equal(200);
      expect(scheme.json.openlink).to.match(/^weixin:\/\/dl\/business\/\?t=\w+$/);
      expect((await post('/links/scheme', A.key, {})).status).to.equal(200);
    });

    it("refuses a path with a query, and maps WeChat's page error", async () => {
      const r = await post('/links/url', A.key, { path: 'pages/index/index?x=1' });
      expect([r.status, r.json.error.code]).to.deep.equal([400, 'INVALID_BODY']);
      expect(r.json.error.message).to.match(/^path: /);
      h.sandbox.injectFault({ endpoint: '/wxa/generatescheme', appid: A.appid, errcode: 40165, times: 1 });
      const s = await post('/links/scheme', A.key, { path: 'pages/gone' });
      expect([s.status, s.json.error.code]).to.deep.equal([400, 'INVALID_PAGE']);
    });
  });
});
