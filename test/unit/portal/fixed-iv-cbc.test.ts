import { createCipheriv, createDecipheriv, randomBytes, randomInt } from 'node:crypto';
import { expect } from 'chai';
import { FixedIvCbc, cbcOf } from '../../../src/protocol/fixed-iv-cbc';

/** One-shot AES-256-CBC from node:crypto, a new context per message: the reference. */
function reference(kind: 'enc' | 'dec', key: Buffer, iv: Buffer, input: Buffer): Buffer {
  const c = kind === 'enc' ? createCipheriv('aes-256-cbc', key, iv) : createDecipheriv('aes-256-cbc', key, iv);
  c.setAutoPadding(false);
  return Buffer.concat([c.update(input), c.final()]);
}

describe('protocol/fixed-iv-cbc', () => {
  it('a kept context encrypts and decrypts every message exactly as a new CBC context would, in any order and across keys', () => {
    const keys = [randomBytes(32), randomBytes(32), randomBytes(32)];
    const ctx = keys.map((k) => new FixedIvCbc(k, k.subarray(0, 16)));
    for (let n = 0; n < 3000; n++) {
      const i = randomInt(keys.length);
      const key = keys[i]!;
      const plain = randomBytes(16 * randomInt(1, 80));
      const want = reference('enc', key, key.subarray(0, 16), plain);
      // encrypt() uses its argument as scratch: give it a copy and keep the original to compare.
      const got = ctx[i]!.encrypt(Buffer.from(plain));
      expect(got.equals(want), `message ${n}: encrypt`).to.equal(true);
      // Decrypt either this message or one made independently, so the two directions' chains differ.
      const other = randomBytes(16 * randomInt(1, 80));
      const [ct, pt] = randomInt(2) ? [want, plain] : [reference('enc', key, key.subarray(0, 16), other), other];
      expect(ctx[i]!.decrypt(ct).equals(pt), `message ${n}: decrypt`).to.equal(true);
      expect(reference('dec', key, key.subarray(0, 16), ct).equals(pt)).to.equal(true);
    }
  });

  it('refuses partial blocks before they reach the context, so the next message is still right', () => {
    const key = randomBytes(32);
    const c = new FixedIvCbc(key, key.subarray(0, 16));
    const plain = randomBytes(64);
    const ct = reference('enc', key, key.subarray(0, 16), plain);
    for (const bad of [Buffer.alloc(0), randomBytes(15), randomBytes(33)]) {
      expect(() => c.encrypt(bad)).to.throw(/multiple of 16/);
      expect(() => c.decrypt(bad)).to.throw(/multiple of 16/);
    }
    expect(c.decrypt(ct).equals(plain)).to.equal(true);
    expect(c.encrypt(Buffer.from(plain)).equals(ct)).to.equal(true);
  });

  it('decrypting garbage (a wrong key, a forged message) leaves the context right for the next one', () => {
    const key = randomBytes(32);
    const c = cbcOf(key);
    const plain = randomBytes(48);
    c.decrypt(randomBytes(4096));
    expect(c.decrypt(reference('enc', key, key.subarray(0, 16), plain)).equals(plain)).to.equal(true);
  });

  it('keeps one pair of contexts per key Buffer', () => {
    const key = randomBytes(32);
    expect(cbcOf(key)).to.equal(cbcOf(key));
    expect(cbcOf(Buffer.from(key))).to.not.equal(cbcOf(key));
  });
});
