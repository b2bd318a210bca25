/** Direct unit tests of sandbox building blocks (no HTTP). */
import { expect } from 'chai';
import { ManualClock } from '../../src/kernel/clock';
import { crc32, encodePngRgba, PNG_SIGNATURE } from '../../src/sandbox/png';
import { TokenStore } from '../../src/sandbox/tokens';
import { WxError } from '../../src/sandbox/wx-errors';
import { T0 } from './helpers';

function errcodeOf(fn: () => unknown): number | undefined {
  try {
    fn();
    return undefined;
  } catch (e) {
    if (e instanceof WxError) return e.errcode;
    throw e;
  }
}

describe('sandbox units', () => {
  describe('TokenStore', () => {
    let clock: ManualClock;
    let store: TokenStore;
    beforeEach(() => {
      clock = new ManualClock(T0);
      store = new TokenStore({ clock, ttlSeconds: 7200, dailyClassicQuota: 3 });
    });

    it('classic: superseded tokens live 5 more minutes; older ones keep their own deadline', () => {
      const a = store.issueClassic('app').access_token;
      clock.advance(60_000);
      const b = store.issueClassic('app').access_token;
      clock.advance(60_000);
      store.issueClassic('app');
      clock.advance(4 * 60_000 - 1); // a superseded 5 min - 1 ms ago
      expect(store.check(a)).to.deep.include({ ok: true });
      clock.advance(1);
      expect(store.check(a)).to.deep.equal({ ok: false, errcode: 40001, appid: 'app' });
      expect(store.check(b)).to.deep.include({ ok: true });
      clock.advance(60_000);
      expect(store.check(b)).to.deep.include({ ok: false, errcode: 40001 });
    });

    it('classic quota is per appid and UTC day', () => {
      for (let i = 0; i < 3; i++) store.issueClassic('app');
      expect(errcodeOf(() => store.issueClassic('app'))).to.equal(45009);
      expect(store.classicIssuedToday('app')).to.equal(3);
      store.issueClassic('other');
      store.rotateClassic('app'); // rotation ignores the quota
      clock.set(T0 + 24 * 3600_000);
      expect(store.issueClassic('app').expires_in).to.equal(7200);
    });

    it('stable: expires_in counts down in whole seconds and never drops below 300 before renewal', () => {
      const a = store.stable('app', false);
      clock.advance(1500);
      expect(store.stable('app', false)).to.deep.equal({ access_token: a.access_token, expires_in: 7198 });
      clock.set(T0 + (7200 - 300) * 1000);
      const b = store.stable('app', false);
      expect(b.access_token).to.not.equal(a.access_token);
      expect(store.check(a.access_token)).to.deep.include({ ok: true });
      clock.advance(300_000);
      expect(store.check(a.access_token)).to.deep.include({ ok: false, errcode: 42001 });
    });

    it('stable force refresh: 30 s spacing checked per appid', () => {
      store.stable('app', true);
      expect(errcodeOf(() => store.stable('app', true))).to.equal(45011);
      expect(errcodeOf(() => store.stable('other', true))).to.equal(undefined);
    });

    it('unknown tokens are 40001 without an appid; revoke of an unknown appid is a no-op', () => {
      expect(store.check('zzz')).to.deep.equal({ ok: false, errcode: 40001 });
      expect(store.ownerOf('zzz')).to.equal(undefined);
      store.revoke('nobody');
    });
  });

  describe('png', () => {
    it('crc32 matches the standard check value', () => {
      expect(crc32(Buffer.from('123456789'))).to.equal(0xcbf43926);
      expect(crc32(Buffer.from('IEND'))).to.equal(0xae426082);
    });

    it('encodes a 1x1 RGBA image with the PNG structure', () => {
      const png = encodePngRgba(1, 1, new Uint8Array([255, 0, 0, 255]));
      expect(png.subarray(0, 8).equals(PNG_SIGNATURE)).to.equal(true);
      expect(png.subarray(png.length - 12).toString('hex')).to.equal('0000000049454e44ae426082');
      expect(() => encodePngRgba(2, 2, new Uint8Array(4))).to.throw(RangeError);
    });
  });
});
