import { inflateSync } from 'node:zlib';
import { expect } from 'chai';
import { api, APP, APP2, classicToken, type Harness, startSandbox, T0, tokenOf } from './helpers';

describe('sandbox: mini-program APIs', () => {
  let h: Harness;
  let token: string;
  beforeEach(async () => {
    h = await startSandbox();
    token = tokenOf(await classicToken(h));
  });
  afterEach(() => h.close());

  describe('getuserphonenumber', () => {
    it('answers phone_info with a watermark, once per code', async () => {
      const code = h.sb.issuePhoneCode(APP.appid, '13800138000');
      const r = await api(h, '/wxa/business/getuserphonenumber', token, { code });
      expect(r).to.deep.equal({
        errcode: 0,
        errmsg: 'ok',
        phone_info: {
          phoneNumber: '13800138000',
          purePhoneNumber: '13800138000',
          countryCode: '86',
          watermark: { timestamp: Math.floor(T0 / 1000), appid: APP.appid },
        },
      });
      expect((await api(h, '/wxa/business/getuserphonenumber', token, { code })).errcode).to.equal(40163);
      expect((await api(h, '/wxa/business/getuserphonenumber', token, { code: 'bogus' })).errcode).to.equal(40029);
    });

    it('foreign numbers carry the country code in phoneNumber; codes are per app', async () => {
      const code = h.sb.issuePhoneCode(APP.appid, '91234567', '852');
      const other = tokenOf(await classicToken(h, APP2));
      expect((await api(h, '/wxa/business/getuserphonenumber', other, { code })).errcode).to.equal(40029);
      const r = await api(h, '/wxa/business/getuserphonenumber', token, { code });
      expect(r.phone_info).to.include({ phoneNumber: '+85291234567', purePhoneNumber: '91234567', countryCode: '852' });
    });
  });

  describe('getwxacodeunlimit', () => {
    it('returns a valid PNG', async () => {
      const r = await h.http.post<ArrayBuffer>(
        '/wxa/getwxacodeunlimit',
        { scene: 'a=1&b=2', page: 'pages/index/index', width: 430, check_path: false, env_version: 'trial' },
        { params: { access_token: token }, responseType: 'arraybuffer' },
      );
      expect(r.status).to.equal(200);
      expect(r.headers['content-type']).to.match(/^image\/png/);
      const png = Buffer.from(r.data);
      expect([...png.subarray(0, 8)]).to.deep.equal([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
      expect(png.subarray(12, 16).toString('latin1')).to.equal('IHDR');
      const w = png.readUInt32BE(16);
      const ht = png.readUInt32BE(20);
      // walk chunks, inflate IDAT, check size
      let off = 8;
      const idat: Buffer[] = [];
      let last = '';
      while (off < png.length) {
        const len = png.readUInt32BE(off);
        last = png.subarray(off + 4, off + 8).toString('latin1');
        if (last === 'IDAT') idat.push(png.subarray(off + 8, off + 8 + len));
        off += 12 + len;
      }
      expect(last).to.equal('IEND');
      expect(inflateSync(Buffer.concat(idat)).length).to.equal(ht * (1 + 4 * w));
    });

    it('answers JSON 40097 for an invalid scene (missing, > 32 chars, bad characters)', async () => {
      for (const body of [{}, { scene: 'x'.repeat(33) }, { scene: 'has space' }, { scene: '中文' }]) {
        const r = await h.http.post('/wxa/getwxacodeunlimit', body, { params: { access_token: token } });
        expect(r.headers['content-type']).to.match(/^application\/json/);
        expect(r.data.errcode, JSON.stringify(body)).to.equal(40097);
        expect(r.data.errmsg).to.match(/^invalid args rid: /);
      }
      const ok = await h.http.post('/wxa/getwxacodeunlimit', { scene: 'x'.repeat(32) }, { params: { access_token: token } });
      expect(ok.headers['content-type']).to.match(/^image\/png/);
    });

    it('answers 41030 for a page with a leading slash', async () => {
      const r = await api(h, '/wxa/getwxacodeunlimit', token, { scene: 'a', page: '/pages/index' });
      expect(r.errcode).to.equal(41030);
    });
  });

  describe('urllink and scheme', () => {
    it('generate_urllink returns a wxaurl.cn link', async () => {
      const r = await api(h, '/wxa/generate_urllink', token, { path: 'pages/index/index', query: 'a=1' });
      expect(r.errcode).to.equal(0);
      expect(r.url_link).to.match(/^https:\/\/wxaurl\.cn\/[A-Za-z0-9]+$/);
      expect((await api(h, '/wxa/generate_urllink', token, { path: 'pages/index?x=1' })).errcode).to.equal(40165);
    });

    it('generatescheme returns a weixin:// openlink', async () => {
      const r = await api(h, '/wxa/generatescheme', token, { jump_wxa: { path: 'pages/index/index', query: '' } });
      expect(r.errcode).to.equal(0);
      expect(r.openlink).to.match(/^weixin:\/\/dl\/business\/\?t=[A-Za-z0-9]+$/);
    });
  });

  describe('msg_sec_check v2', () => {
    const check = (content: string, extra: Record<string, unknown> = {}) => api(h, '/wxa/msg_sec_check', token, { content, version: 2, scene: 2, openid: 'o_x', ...extra });

    it('passes clean content', async () => {
      const r = await check('hello world');
      expect(r).to.include({ errcode: 0, errmsg: 'ok' });
      expect(r.result).to.deep.equal({ suggest: 'pass', label: 100 });
      expect(r.detail).to.be.an('array').with.length.greaterThan(0);
      expect(r.trace_id).to.be.a('string');
    });

    it('flags the default risky words and configurable lists', async () => {
      expect((await check('this has a BadWord in it')).result).to.deep.equal({ suggest: 'risky', label: 20001 });
      expect((await check('reviewword')).result).to.deep.equal({ suggest: 'review', label: 21000 });
      h.sb.setRiskyWords(['spam']);
      expect((await check('badword')).result).to.deep.equal({ suggest: 'pass', label: 100 });
      const r = await check('buy spam now');
      expect(r.result).to.deep.equal({ suggest: 'risky', label: 20001 });
      expect(r.detail).to.deep.include({ strategy: 'keyword', errcode: 0, suggest: 'risky', label: 20001, keyword: 'spam', level: 90 });
    });

    it('requires version 2 (47001) and an openid (40003)', async () => {
      expect((await check('x', { version: 1 })).errcode).to.equal(47001);
      expect((await check('x', { openid: undefined })).errcode).to.equal(40003);
      expect((await check('x', { scene: 9 })).errcode).to.equal(47001);
    });
  });
});
