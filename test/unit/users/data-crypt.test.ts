import { createCipheriv, createHash, randomBytes } from 'node:crypto';
import { expect } from 'chai';
import { AppError } from '../../../src/kernel/errors';
import { decryptUserData, verifyRawDataSignature } from '../../../src/users/data-crypt';

// Official WXBizDataCrypt demo vector (WeChat's mini-program sample code, all languages).
const DEMO_APPID = 'wx4f4bc4dec97d474b';
const DEMO_SESSION_KEY = 'tiihtNczf5v6AKRyjwEUhQ==';
const DEMO_IV = 'r7BXXKkLb8qrSNn05n0qiA==';
const DEMO_ENCRYPTED_DATA =
  'CiyLU1Aw2KjvrjMdj8YKliAjtP4gsMZMQmRzooG2xrDcvSnxIMXFufNstNGTyaGS' +
  '9uT5geRa0W4oTOb1WT7fJlAC+oNPdbB+3hVbJSRgv+4lGOETKUQz6OYStslQ142d' +
  'NCuabNPGBzlooOmB231qMM85d2/fV6ChevvXvQP8Hkue1poOFtnEtpyxVLW1zAo6' +
  '/1Xx1COxFvrc2d7UL/lmHInNlxuacJXwu0fjpXfz/YqYzBIBzD6WUfTIF9GRHpOn' +
  '/Hz7saL8xz+W//FRAUid1OksQaQx4CMs8LOddcQhULW4ucetDf96JcR3g0gfRK4P' +
  'C7E/r7Z6xNrXd2UIeorGj5Ef7b1pJAYB6Y5anaHqZ9J6nKEBvB4DnNLIVWSgARns' +
  '/8wR2SiRS7MNACwTyrGvt9ts8p12PKFdlqYTopNHR1Vf7XjfhQlVsAJdNiKdYmYV' +
  'oKlaRv85IfVunYzO0IKXsyl7JCUjCpoG20f0a04COwfneQAGGwd5oa+T8yO5hzuy' +
  'Db/XcxxmK01EpqOyuxINew==';

// Signature example from WeChat's "open data verification" documentation.
const DOC_RAW_DATA =
  '{"nickName":"Band","gender":1,"language":"zh_CN","city":"Guangzhou","province":"Guangdong",' +
  '"country":"CN","avatarUrl":"http://wx.qlogo.cn/mmopen/vi_32/1vZvI39NWFQ9XM4LtQpFrQJ1xlgZxx3w7bQxKARol6503' +
  'Iuswjjn6nIGBiaycAjAtpujxyzYsrztuuICqIM5ibXQ/0"}';
const DOC_SESSION_KEY = 'HyVFkGl5F5OQWJZZaNzBBg==';
const DOC_SIGNATURE = '75e81ceda165f4ffa64f4068af58c64b8f54b88c';

function catchAppError(fn: () => unknown): AppError {
  try {
    fn();
  } catch (e) {
    expect(e).to.be.instanceOf(AppError);
    return e as AppError;
  }
  throw new Error('expected an AppError to be thrown');
}

function expectAppError(fn: () => unknown, status: number, code: string, ...secrets: string[]): AppError {
  const err = catchAppError(fn);
  expect(err.status).to.equal(status);
  expect(err.code).to.equal(code);
  for (const s of secrets) {
    expect(err.message).to.not.include(s);
    expect(JSON.stringify(err.details ?? {})).to.not.include(s);
  }
  return err;
}

function encryptLocally(key: Buffer, iv: Buffer, plaintext: string | Buffer): string {
  const cipher = createCipheriv('aes-128-cbc', key, iv);
  return Buffer.concat([cipher.update(plaintext), cipher.final()]).toString('base64');
}

/** Flips one bit of the decoded ciphertext at `index` and re-encodes. */
function flipBit(b64: string, index: number): string {
  const buf = Buffer.from(b64, 'base64');
  buf[index] = (buf[index] as number) ^ 0x01;
  return buf.toString('base64');
}

describe('users/data-crypt', () => {
  describe('decryptUserData with the official demo vector', () => {
    it('decrypts to the documented user info', () => {
      const data = decryptUserData(DEMO_SESSION_KEY, DEMO_ENCRYPTED_DATA, DEMO_IV, DEMO_APPID);
      expect(data).to.deep.equal({
        openId: 'oGZUI0egBJY1zhBYw2KhdUfwVJJE',
        nickName: 'Band',
        gender: 1,
        language: 'zh_CN',
        city: 'Guangzhou',
        province: 'Guangdong',
        country: 'CN',
        avatarUrl: 'http://wx.qlogo.cn/mmopen/vi_32/aSKcBBPpibyKNicHNTMM0qJVh8Kjgiak2AHWr8MHM4WgMEm7GFhsf8OYrySdbvAMvTsw3mo8ibKicsnfN5pRjl1p8HQ/0',
        unionId: 'ocMvos6NjeKLIBqg5Mr9QjxrP1FA',
        watermark: { timestamp: 1477314187, appid: DEMO_APPID },
      });
    });

    it('refuses the data for another appid with WATERMARK_MISMATCH', () => {
      expectAppError(() => decryptUserData(DEMO_SESSION_KEY, DEMO_ENCRYPTED_DATA, DEMO_IV, 'wx0000000000000000'), 400, 'WATERMARK_MISMATCH', DEMO_SESSION_KEY);
    });

    it('refuses an empty expected appid', () => {
      expectAppError(() => decryptUserData(DEMO_SESSION_KEY, DEMO_ENCRYPTED_DATA, DEMO_IV, ''), 400, 'WATERMARK_MISMATCH');
    });
  });

  describe('decryptUserData input validation (INVALID_ENCRYPTED_DATA)', () => {
    const cases: Array<[string, () => unknown]> = [
      ['encryptedData with characters outside the alphabet', () => decryptUserData(DEMO_SESSION_KEY, DEMO_ENCRYPTED_DATA.replace('CiyL', 'Ci*L'), DEMO_IV, DEMO_APPID)],
      ['encryptedData whose "+" became a space', () => decryptUserData(DEMO_SESSION_KEY, DEMO_ENCRYPTED_DATA.replace(/\+/g, ' '), DEMO_IV, DEMO_APPID)],
      ['encryptedData with a line break', () => decryptUserData(DEMO_SESSION_KEY, `${DEMO_ENCRYPTED_DATA.slice(0, 64)}\n${DEMO_ENCRYPTED_DATA.slice(64)}`, DEMO_IV, DEMO_APPID)],
      ['unpadded iv', () => decryptUserData(DEMO_SESSION_KEY, DEMO_ENCRYPTED_DATA, DEMO_IV.replace(/=+$/, ''), DEMO_APPID)],
      ['url-safe base64 iv', () => decryptUserData(DEMO_SESSION_KEY, DEMO_ENCRYPTED_DATA, '-_' + DEMO_IV.slice(2), DEMO_APPID)],
      ['misplaced padding', () => decryptUserData(DEMO_SESSION_KEY, DEMO_ENCRYPTED_DATA, 'r7BX=KkLb8qrSNn05n0qiA==', DEMO_APPID)],
      ['empty encryptedData', () => decryptUserData(DEMO_SESSION_KEY, '', DEMO_IV, DEMO_APPID)],
      ['non-string iv', () => decryptUserData(DEMO_SESSION_KEY, DEMO_ENCRYPTED_DATA, 42 as unknown as string, DEMO_APPID)],
      ['an iv of 12 bytes', () => decryptUserData(DEMO_SESSION_KEY, DEMO_ENCRYPTED_DATA, randomBytes(12).toString('base64'), DEMO_APPID)],
      ['an iv of 24 bytes', () => decryptUserData(DEMO_SESSION_KEY, DEMO_ENCRYPTED_DATA, randomBytes(24).toString('base64'), DEMO_APPID)],
      ['a session key of 32 bytes', () => decryptUserData(randomBytes(32).toString('base64'), DEMO_ENCRYPTED_DATA, DEMO_IV, DEMO_APPID)],
      ['a session key that is not base64', () => decryptUserData('tiihtNczf5v6AKRy!wEUhQ==', DEMO_ENCRYPTED_DATA, DEMO_IV, DEMO_APPID)],
      [
        'ciphertext that is not a whole number of blocks',
        () => decryptUserData(DEMO_SESSION_KEY, Buffer.from(DEMO_ENCRYPTED_DATA, 'base64').subarray(0, 37).toString('base64'), DEMO_IV, DEMO_APPID),
      ],
    ];
    for (const [name, fn] of cases) {
      it(`rejects ${name}`, () => {
        expectAppError(fn, 400, 'INVALID_ENCRYPTED_DATA', DEMO_SESSION_KEY, 'tiihtNczf5v6AKRy');
      });
    }

    it('hints at URL encoding when a "+" became a space', () => {
      const err = catchAppError(() => decryptUserData(DEMO_SESSION_KEY, DEMO_ENCRYPTED_DATA.replace(/\+/g, ' '), DEMO_IV, DEMO_APPID));
      expect(err.message).to.match(/URL encoding/);
    });
  });

  describe('decryptUserData decryption failures (SESSION_KEY_STALE)', () => {
    it('reports a wrong (stale) session key as SESSION_KEY_STALE and asks for a new login', () => {
      // Try several random keys: each must fail either at the padding or at the JSON step.
      for (let i = 0; i < 50; i++) {
        const staleKey = randomBytes(16).toString('base64');
        const err = expectAppError(() => decryptUserData(staleKey, DEMO_ENCRYPTED_DATA, DEMO_IV, DEMO_APPID), 400, 'SESSION_KEY_STALE', staleKey, DEMO_SESSION_KEY);
        expect(err.message).to.match(/log in again/i);
        expect(err.message).to.match(/wx\.login/);
        expect(err.cause === undefined || !String(err.cause).includes(staleKey)).to.equal(true);
      }
    });

    it('rejects tampered ciphertext (last block) as SESSION_KEY_STALE', () => {
      const last = Buffer.from(DEMO_ENCRYPTED_DATA, 'base64').length - 1;
      expectAppError(() => decryptUserData(DEMO_SESSION_KEY, flipBit(DEMO_ENCRYPTED_DATA, last), DEMO_IV, DEMO_APPID), 400, 'SESSION_KEY_STALE', DEMO_SESSION_KEY);
    });

    it('rejects tampered ciphertext (first block, garbles the JSON) as SESSION_KEY_STALE', () => {
      // Flipping a bit of block 0 garbles block 0 entirely and one bit of block 1: padding stays valid,
      // the JSON does not.
      expectAppError(() => decryptUserData(DEMO_SESSION_KEY, flipBit(DEMO_ENCRYPTED_DATA, 3), DEMO_IV, DEMO_APPID), 400, 'SESSION_KEY_STALE');
    });

    it('rejects a truncated ciphertext (whole blocks dropped) as SESSION_KEY_STALE', () => {
      const truncated = Buffer.from(DEMO_ENCRYPTED_DATA, 'base64').subarray(0, 64).toString('base64');
      expectAppError(() => decryptUserData(DEMO_SESSION_KEY, truncated, DEMO_IV, DEMO_APPID), 400, 'SESSION_KEY_STALE');
    });

    it('rejects a wrong iv as SESSION_KEY_STALE (garbled first block)', () => {
      expectAppError(() => decryptUserData(DEMO_SESSION_KEY, DEMO_ENCRYPTED_DATA, randomBytes(16).toString('base64'), DEMO_APPID), 400, 'SESSION_KEY_STALE');
    });

    it('rejects well-padded plaintext that is not JSON, or JSON that is not an object', () => {
      const key = randomBytes(16);
      const iv = randomBytes(16);
      for (const plain of ['not json at all', '[1,2,3]', 'null', '"str"', Buffer.from([0xff, 0xfe, 0x7b, 0x7d])]) {
        expectAppError(() => decryptUserData(key.toString('base64'), encryptLocally(key, iv, plain), iv.toString('base64'), DEMO_APPID), 400, 'SESSION_KEY_STALE');
      }
    });
  });

  describe('decryptUserData round trip with locally encrypted payloads', () => {
    const appid = 'wx1234567890abcdef';

    it('returns the payload, including non-ASCII text', () => {
      const key = randomBytes(16);
      const iv = randomBytes(16);
      const payload = {
        phoneNumber: '13800138000',
        purePhoneNumber: '13800138000',
        countryCode: '86',
        nickName: '微信用户 🐼',
        watermark: { appid, timestamp: 1700000000 },
      };
      const enc = encryptLocally(key, iv, JSON.stringify(payload));
      expect(decryptUserData(key.toString('base64'), enc, iv.toString('base64'), appid)).to.deep.equal(payload);
    });

    it('works for payloads that are an exact multiple of the block size', () => {
      const key = randomBytes(16);
      const iv = randomBytes(16);
      let json = JSON.stringify({ watermark: { appid, timestamp: 1 }, pad: '' });
      json = JSON.stringify({ watermark: { appid, timestamp: 1 }, pad: 'x'.repeat(32 - (json.length % 16)) });
      expect(Buffer.byteLength(json) % 16).to.equal(0);
      const enc = encryptLocally(key, iv, json);
      expect(decryptUserData(key.toString('base64'), enc, iv.toString('base64'), appid)).to.deep.equal(JSON.parse(json));
    });

    it('requires a watermark', () => {
      const key = randomBytes(16);
      const iv = randomBytes(16);
      for (const body of [{}, { watermark: null }, { watermark: 'wx' }, { watermark: { appid: 7 } }, { watermark: {} }]) {
        const enc = encryptLocally(key, iv, JSON.stringify(body));
        expectAppError(() => decryptUserData(key.toString('base64'), enc, iv.toString('base64'), appid), 400, 'WATERMARK_MISMATCH');
      }
    });

    it('compares the appid exactly (no case folding, no prefix match)', () => {
      const key = randomBytes(16);
      const iv = randomBytes(16);
      const enc = encryptLocally(key, iv, JSON.stringify({ watermark: { appid, timestamp: 1 } }));
      for (const other of [appid.toUpperCase(), appid.slice(0, -1), `${appid} `]) {
        expectAppError(() => decryptUserData(key.toString('base64'), enc, iv.toString('base64'), other), 400, 'WATERMARK_MISMATCH');
      }
    });
  });

  describe('verifyRawDataSignature', () => {
    it('accepts the documented example', () => {
      expect(
        createHash('sha1')
          .update(DOC_RAW_DATA + DOC_SESSION_KEY)
          .digest('hex'),
      ).to.equal(DOC_SIGNATURE);
      expect(verifyRawDataSignature(DOC_RAW_DATA, DOC_SESSION_KEY, DOC_SIGNATURE)).to.equal(true);
    });

    it('ignores hex case', () => {
      expect(verifyRawDataSignature(DOC_RAW_DATA, DOC_SESSION_KEY, DOC_SIGNATURE.toUpperCase())).to.equal(true);
    });

    it('rejects modified rawData, another session key or another signature', () => {
      expect(verifyRawDataSignature(DOC_RAW_DATA.replace('Band', 'Bend'), DOC_SESSION_KEY, DOC_SIGNATURE)).to.equal(false);
      expect(verifyRawDataSignature(DOC_RAW_DATA, DEMO_SESSION_KEY, DOC_SIGNATURE)).to.equal(false);
      expect(verifyRawDataSignature(DOC_RAW_DATA, DOC_SESSION_KEY, `${DOC_SIGNATURE.slice(0, -1)}d`)).to.equal(false);
    });

    it('returns false for malformed signatures and inputs instead of throwing', () => {
      for (const sig of ['', DOC_SIGNATURE.slice(0, 39), `${DOC_SIGNATURE}00`, `${DOC_SIGNATURE.slice(0, -1)}z`, ` ${DOC_SIGNATURE.slice(1)}`]) {
        expect(verifyRawDataSignature(DOC_RAW_DATA, DOC_SESSION_KEY, sig), sig).to.equal(false);
      }
      expect(verifyRawDataSignature(DOC_RAW_DATA, '', DOC_SIGNATURE)).to.equal(false);
      expect(verifyRawDataSignature(undefined as unknown as string, DOC_SESSION_KEY, DOC_SIGNATURE)).to.equal(false);
      expect(verifyRawDataSignature(DOC_RAW_DATA, DOC_SESSION_KEY, null as unknown as string)).to.equal(false);
    });

    it('hashes rawData as UTF-8', () => {
      const raw = '{"nickName":"微信用户"}';
      const sig = createHash('sha1')
        .update(Buffer.from(raw + DOC_SESSION_KEY, 'utf8'))
        .digest('hex');
      expect(verifyRawDataSignature(raw, DOC_SESSION_KEY, sig)).to.equal(true);
    });
  });
});
