import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { expect } from 'chai';
import { AppError } from '../../../src/kernel/errors';
import { aesKeyFromEncodingKey, decryptMessage, encryptMessage, isValidEncodingAESKey, openPush } from '../../../src/protocol/msg-crypto';
import { SAMPLE, expectAppError } from './helpers';

const key = aesKeyFromEncodingKey(SAMPLE.encodingAESKey);

/** Raw AES-256-CBC with the WXBizMsgCrypt IV and no padding, independent of the module under test. */
function rawEncrypt(plain: Buffer, k: Buffer = key): string {
  const c = createCipheriv('aes-256-cbc', k, k.subarray(0, 16));
  c.setAutoPadding(false);
  return Buffer.concat([c.update(plain), c.final()]).toString('base64');
}
function rawDecrypt(b64: string, k: Buffer = key): Buffer {
  const d = createDecipheriv('aes-256-cbc', k, k.subarray(0, 16));
  d.setAutoPadding(false);
  return Buffer.concat([d.update(Buffer.from(b64, 'base64')), d.final()]);
}
function be32(n: number): Buffer {
  const b = Buffer.alloc(4);
  b.writeUInt32BE(n, 0);
  return b;
}
/** The AppError code decryptMessage throws for `b64` (undefined when it decrypts). */
function codeOf(b64: string): string | undefined {
  try {
    decryptMessage(key, b64);
    return undefined;
  } catch (err) {
    if (!(err instanceof AppError)) throw err;
    return err.code;
  }
}
function pad32(b: Buffer): Buffer {
  const n = 32 - (b.length % 32);
  return Buffer.concat([b, Buffer.alloc(n, n)]);
}

describe('portal/msg-crypto', () => {
  describe('EncodingAESKey', () => {
    it('accepts the 43-character sample key and derives 32 bytes', () => {
      expect(isValidEncodingAESKey(SAMPLE.encodingAESKey)).to.equal(true);
      expect(key.length).to.equal(32);
      expect(key.equals(Buffer.from(`${SAMPLE.encodingAESKey}=`, 'base64'))).to.equal(true);
    });

    it('rejects keys of the wrong length or alphabet', () => {
      for (const bad of [SAMPLE.encodingAESKey.slice(1), `${SAMPLE.encodingAESKey}A`, `${SAMPLE.encodingAESKey.slice(1)}-`, `${SAMPLE.encodingAESKey.slice(1)}=`, '', 42]) {
        expect(isValidEncodingAESKey(bad), String(bad)).to.equal(false);
      }
    });

    it('throws a plain Error (tenant configuration) that does not echo the key', () => {
      const secret = `${SAMPLE.encodingAESKey.slice(0, 42)}_`;
      let thrown: unknown;
      try {
        aesKeyFromEncodingKey(secret);
      } catch (err) {
        thrown = err;
      }
      expect(thrown).to.be.instanceOf(Error);
      expect(thrown).to.not.be.instanceOf(AppError);
      expect((thrown as Error).message).to.not.include(secret);
    });
  });

  describe('official WXBizMsgCrypt vector', () => {
    it('encrypts byte for byte like the official sample', () => {
      expect(encryptMessage(key, SAMPLE.appid, SAMPLE.message, Buffer.from(SAMPLE.randomPrefix))).to.equal(SAMPLE.encrypt);
    });

    it('decrypts the official ciphertext', () => {
      expect(decryptMessage(key, SAMPLE.encrypt)).to.deep.equal({ message: SAMPLE.message, appid: SAMPLE.appid });
    });

    it('has the documented plaintext layout (checked with raw AES, not the module)', () => {
      const plain = rawDecrypt(SAMPLE.encrypt);
      const msg = Buffer.from(SAMPLE.message, 'utf8');
      expect(plain.subarray(0, 16).toString()).to.equal(SAMPLE.randomPrefix);
      expect(plain.readUInt32BE(16)).to.equal(msg.length); // 19 bytes: 4 CJK x 3 + 7 ASCII
      expect(plain.subarray(20, 20 + msg.length).equals(msg)).to.equal(true);
      expect(plain.subarray(20 + msg.length, 20 + msg.length + SAMPLE.appid.length).toString()).to.equal(SAMPLE.appid);
      // 16 + 4 + 19 + 18 = 57 bytes, padded to 64 with seven 0x07 bytes: a 32-byte block, not 16.
      expect(plain.length).to.equal(64);
      expect([...plain.subarray(57)]).to.deep.equal([7, 7, 7, 7, 7, 7, 7]);
    });

    it('opens a push for the right appid', () => {
      expect(openPush(key, SAMPLE.appid, SAMPLE.encrypt)).to.equal(SAMPLE.message);
    });
  });

  describe('failures have their own codes', () => {
    it('wrong appid -> 401 APPID_MISMATCH', () => {
      expectAppError(() => openPush(key, 'wx0000000000000000', SAMPLE.encrypt), 401, 'APPID_MISMATCH');
    });

    it('truncated ciphertext (not a multiple of 16 bytes) -> 400 INVALID_CIPHERTEXT', () => {
      const truncated = Buffer.from(SAMPLE.encrypt, 'base64').subarray(0, 40).toString('base64');
      expectAppError(() => decryptMessage(key, truncated), 400, 'INVALID_CIPHERTEXT');
    });

    it('truncated base64 text (length not a multiple of 4) -> 400 INVALID_CIPHERTEXT', () => {
      expectAppError(() => decryptMessage(key, SAMPLE.encrypt.slice(0, 50)), 400, 'INVALID_CIPHERTEXT');
    });

    it('ciphertext cut at a block boundary decrypts to bad padding -> 400 DECRYPT_FAILED', () => {
      const cut = Buffer.from(SAMPLE.encrypt, 'base64').subarray(0, 48).toString('base64');
      expectAppError(() => openPush(key, SAMPLE.appid, cut), 400, 'DECRYPT_FAILED');
    });

    it('empty Encrypt -> 400 INVALID_CIPHERTEXT', () => {
      expectAppError(() => decryptMessage(key, ''), 400, 'INVALID_CIPHERTEXT');
    });

    it('characters outside the base64 alphabet -> 400 INVALID_CIPHERTEXT, although Buffer.from ignores them', () => {
      const withJunk = `${SAMPLE.encrypt.slice(0, 8)}*${SAMPLE.encrypt.slice(9)}`;
      const withSpace = `${SAMPLE.encrypt.slice(0, 8)} ${SAMPLE.encrypt.slice(9)}`;
      const urlSafe = SAMPLE.encrypt.replace(/\+/g, '-');
      // The lenient decoder Node offers would accept all of these.
      expect(Buffer.from(urlSafe, 'base64').equals(Buffer.from(SAMPLE.encrypt, 'base64'))).to.equal(true);
      for (const bad of [withJunk, withSpace, urlSafe, `${SAMPLE.encrypt.slice(0, -2)}=A`, `=${SAMPLE.encrypt.slice(1)}`]) {
        expectAppError(() => decryptMessage(key, bad), 400, 'INVALID_CIPHERTEXT');
      }
    });

    it('takes exactly the canonical base64 of a ciphertext: any changed character is refused or decodes to other bytes', () => {
      // Property: over random ciphertexts and random one-character edits, a string is taken only if
      // it is the canonical encoding of what it decodes to (so no two strings share one ciphertext).
      const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/=-_* \n.';
      for (let n = 0; n < 2000; n++) {
        const blocks = 1 + (n % 6);
        const good = rawEncrypt(pad32(Buffer.concat([randomBytes(16), be32(3), Buffer.from('abc'), Buffer.from(SAMPLE.appid)])).subarray(0, 32 * blocks));
        expect(codeOf(good)).to.not.equal('INVALID_CIPHERTEXT');
        const at = n % good.length;
        const edited = good.slice(0, at) + alphabet[(n * 7) % alphabet.length] + good.slice(at + 1);
        if (edited === good) continue;
        const code = codeOf(edited);
        const canonical = Buffer.from(edited, 'base64').toString('base64') === edited;
        if (!canonical) expect(code, JSON.stringify(edited)).to.equal('INVALID_CIPHERTEXT');
        else expect(Buffer.from(edited, 'base64').equals(Buffer.from(good, 'base64'))).to.equal(false);
      }
    });

    it('non-zero spare bits before the padding -> 400 INVALID_CIPHERTEXT (the canonical string is the only one taken)', () => {
      // 32 bytes encode to 44 characters ending in "=": the last character before it carries 2 spare bits.
      const good = rawEncrypt(pad32(Buffer.concat([Buffer.from(SAMPLE.randomPrefix), be32(2), Buffer.from('hi')])).subarray(0, 32));
      expect(good.endsWith('=')).to.equal(true);
      const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';
      const last = alphabet.indexOf(good[good.length - 2]!);
      const sloppy = `${good.slice(0, -2)}${alphabet[last ^ 1]}=`;
      expect(Buffer.from(sloppy, 'base64').equals(Buffer.from(good, 'base64'))).to.equal(true);
      expectAppError(() => decryptMessage(key, sloppy), 400, 'INVALID_CIPHERTEXT');
    });

    it('wrong key -> 400 DECRYPT_FAILED', () => {
      const other = aesKeyFromEncodingKey('ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789abcdefg');
      expectAppError(() => decryptMessage(other, SAMPLE.encrypt), 400, 'DECRYPT_FAILED');
    });

    it('pad byte 0, pad byte over 32 or inconsistent pad bytes -> 400 DECRYPT_FAILED', () => {
      const body = Buffer.concat([Buffer.from(SAMPLE.randomPrefix), be32(2), Buffer.from('hi'), Buffer.from(SAMPLE.appid)]);
      const padded = pad32(body); // 40 bytes of data, 24 bytes of 0x18
      const zero = Buffer.from(padded);
      zero[63] = 0;
      const big = Buffer.from(padded);
      big[63] = 33;
      const mixed = Buffer.from(padded);
      mixed[50] = 1;
      expect(decryptMessage(key, rawEncrypt(padded)).message).to.equal('hi'); // the control case
      for (const bad of [zero, big, mixed]) {
        const err = expectAppError(() => decryptMessage(key, rawEncrypt(bad)), 400, 'DECRYPT_FAILED');
        expect(err.details).to.equal(undefined);
        expect(err.logDetails).to.deep.equal({ reason: 'padding' });
      }
    });

    it('length field beyond the buffer -> 400 DECRYPT_FAILED', () => {
      const body = Buffer.concat([Buffer.from(SAMPLE.randomPrefix), be32(0xffff), Buffer.from('hi'), Buffer.from(SAMPLE.appid)]);
      const err = expectAppError(() => decryptMessage(key, rawEncrypt(pad32(body))), 400, 'DECRYPT_FAILED');
      expect(err.details).to.equal(undefined);
      expect(err.logDetails).to.deep.equal({ reason: 'length field' });
    });

    it('plaintext shorter than prefix + length field -> 400 DECRYPT_FAILED', () => {
      const err = expectAppError(() => decryptMessage(key, rawEncrypt(pad32(Buffer.from('short')))), 400, 'DECRYPT_FAILED');
      expect(err.details).to.equal(undefined);
      expect(err.logDetails).to.deep.equal({ reason: 'too short' });
    });
  });

  describe('round trips', () => {
    it('decrypts what it encrypts, with random prefixes, across padding boundaries', () => {
      const samples = ['', 'a', '我是中文abcd123', '<xml><Content><![CDATA[hi]]></Content></xml>', '😀'.repeat(40)];
      for (let n = 0; n <= 70; n++) samples.push('x'.repeat(n)); // every pad value 1..32 occurs
      for (const message of samples) {
        const encrypted = encryptMessage(key, SAMPLE.appid, message);
        expect(Buffer.from(encrypted, 'base64').length % 32, message).to.equal(0);
        expect(openPush(key, SAMPLE.appid, encrypted)).to.equal(message);
      }
    });

    it('pads an already aligned plaintext with a full 32-byte block', () => {
      // 16 + 4 + 26 + 18 (appid) = 64 bytes: already a multiple of 32.
      const encrypted = encryptMessage(key, SAMPLE.appid, 'y'.repeat(26), randomBytes(16));
      const plain = rawDecrypt(encrypted);
      expect(plain.length).to.equal(96);
      expect([...plain.subarray(64)].every((b) => b === 32)).to.equal(true);
    });

    it('uses a fresh random prefix by default', () => {
      const a = encryptMessage(key, SAMPLE.appid, 'same');
      const b = encryptMessage(key, SAMPLE.appid, 'same');
      expect(a).to.not.equal(b);
      expect(decryptMessage(key, a)).to.deep.equal(decryptMessage(key, b));
    });

    it('refuses a random prefix that is not 16 bytes and a key that is not 32 bytes', () => {
      expect(() => encryptMessage(key, SAMPLE.appid, 'm', Buffer.alloc(15))).to.throw(Error, /16 bytes/);
      expect(() => encryptMessage(key.subarray(0, 16), SAMPLE.appid, 'm')).to.throw(Error, /32 bytes/);
    });
  });
});
