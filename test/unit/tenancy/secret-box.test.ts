import { createHash } from 'node:crypto';
import { expect } from 'chai';
import { keyId, SecretBox, sealedFormat } from '../../../src/tenancy/secret-box';

const A = Buffer.alloc(32, 0xa1).toString('base64');
const B = Buffer.alloc(32, 0xb2).toString('base64');
const C = Buffer.alloc(32, 0xc3).toString('base64');
const CTX = 'tenant:wx0123456789abcdef:secret';

/** Sealed by the code before key rotation existed, under A, with a fixed IV: old stored values must keep opening. */
const V1_UNDER_A = 'v1.CwsLCwsLCwsLCwsL.KrgpmQg6uLTjdL8NFewZAg.k36VRqhW1l0u_M3PlA';

/** Flips one bit of a base64url part (a random replacement could equal the original). */
function flip(sealed: string, index: number): string {
  const parts = sealed.split('.');
  const b = Buffer.from(parts[index] as string, 'base64url');
  b[0] = (b[0] as number) ^ 1;
  parts[index] = b.toString('base64url');
  return parts.join('.');
}

describe('SecretBox key ring (sealed-value format v2)', () => {
  it('key ids are the first 8 hex digits of the key\u2019s SHA-256, never the key', () => {
    expect(keyId(Buffer.from(A, 'base64'))).to.equal('52fe6094');
    expect(keyId(Buffer.from(B, 'base64'))).to.equal('f14dfc87');
    expect(keyId(Buffer.from(A, 'base64'))).to.equal(createHash('sha256').update(Buffer.from(A, 'base64')).digest('hex').slice(0, 8));
    const box = new SecretBox([B, A]);
    expect(box.primaryKid).to.equal('f14dfc87');
    expect(box.kids).to.deep.equal(['f14dfc87', '52fe6094']);
  });

  it('seals v2 under the first key, naming it', () => {
    const sealed = new SecretBox([B, A]).seal('an-app-secret', CTX);
    expect(sealed.split('.')).to.have.length(5);
    expect(sealed.startsWith('v2.f14dfc87.')).to.equal(true);
    expect(sealedFormat(sealed)).to.deep.equal({ version: 'v2', kid: 'f14dfc87' });
    expect(sealed).to.not.include(Buffer.from(B, 'base64').toString('base64url'));
    expect(sealed).to.not.include('an-app-secret');
  });

  it('a value sealed under A opens with [B, A] and with [A] (v2), but not with [B] or [C, B]', () => {
    const underA = new SecretBox(A).seal('s3cret', CTX);
    expect(new SecretBox([B, A]).open(underA, CTX)).to.equal('s3cret');
    expect(new SecretBox([A]).open(underA, CTX)).to.equal('s3cret');
    expect(() => new SecretBox(B).open(underA, CTX)).to.throw(/sealed under key 52fe6094, which is not in SECRETS_KEYS/);
    expect(() => new SecretBox([C, B]).open(underA, CTX)).to.throw(/cannot decrypt/);
  });

  it('the v1 vector opens with A alone, with [B, A] and with [A, B] (every key is tried)', () => {
    expect(sealedFormat(V1_UNDER_A)).to.deep.equal({ version: 'v1' });
    expect(new SecretBox(A).open(V1_UNDER_A, CTX)).to.equal('an-app-secret');
    expect(new SecretBox([B, A]).open(V1_UNDER_A, CTX)).to.equal('an-app-secret');
    expect(new SecretBox([A, B]).open(V1_UNDER_A, CTX)).to.equal('an-app-secret');
    expect(() => new SecretBox([B, C]).open(V1_UNDER_A, CTX)).to.throw(/cannot decrypt .*wrong SECRETS_KEY or tampered/);
    expect(() => new SecretBox([B, A]).open(V1_UNDER_A, 'tenant:wx0123456789abcdef:token')).to.throw(/cannot decrypt/);
  });

  it('a tampered value fails (ciphertext, tag, iv; v1 and v2), and the error never contains the value', () => {
    const box = new SecretBox([B, A]);
    const sealed = box.seal('s3cret', CTX);
    for (const i of [2, 3, 4]) {
      const bad = flip(sealed, i);
      let message = '';
      try {
        box.open(bad, CTX);
      } catch (err) {
        message = (err as Error).message;
      }
      expect(message, `part ${i}`).to.match(/cannot decrypt/);
      expect(message).to.not.include(bad.split('.')[4] as string);
    }
    for (const i of [1, 2, 3]) expect(() => box.open(flip(V1_UNDER_A, i), CTX)).to.throw(/cannot decrypt/);
    // A value moved to another slot fails too: the context is authenticated.
    expect(() => box.open(sealed, 'tenant:wx0123456789abcdef:token')).to.throw(/cannot decrypt/);
  });

  it('a wrong kid fails: one not in the ring, and one of another key in the ring (no fallback to trying every key)', () => {
    const box = new SecretBox([B, A]);
    const underB = box.seal('s3cret', CTX);
    const unknownKid = underB.replace('v2.f14dfc87.', 'v2.00000000.');
    expect(() => box.open(unknownKid, CTX)).to.throw(/sealed under key 00000000, which is not in SECRETS_KEYS/);
    const otherKid = underB.replace('v2.f14dfc87.', 'v2.52fe6094.');
    expect(() => box.open(otherKid, CTX)).to.throw(/cannot decrypt .*tampered/);
  });

  it('refuses unknown formats', () => {
    const box = new SecretBox(A);
    for (const bad of ['', 'plaintext', 'v3.a.b.c.d', 'v2.XYZ.a.b.c', 'v2.a.b.c', 'v1.a.b.c.d']) expect(() => box.open(bad, CTX), bad).to.throw(/unknown format/);
    expect(sealedFormat('v2.ABCDEF12.a.b.c')).to.deep.equal({ version: 'unknown' });
  });

  it('isCurrent and reseal: a value under A becomes one under B that [B] alone opens', () => {
    const ring = new SecretBox([B, A]);
    const underA = new SecretBox(A).seal('s3cret', CTX);
    expect(ring.isCurrent(underA)).to.equal(false);
    expect(ring.isCurrent(V1_UNDER_A)).to.equal(false);
    const underB = ring.reseal(underA, CTX);
    expect(ring.isCurrent(underB)).to.equal(true);
    expect(new SecretBox(B).open(underB, CTX)).to.equal('s3cret');
    expect(new SecretBox(B).open(ring.reseal(V1_UNDER_A, CTX), CTX)).to.equal('an-app-secret');
    expect(() => ring.reseal(flip(underA, 4), CTX)).to.throw(/cannot decrypt/);
  });

  it('refuses an empty ring, a short key and duplicate keys', () => {
    expect(() => new SecretBox([])).to.throw(/at least one key/);
    expect(() => new SecretBox([B, Buffer.alloc(16).toString('base64')])).to.throw(/32-byte/);
    expect(() => new SecretBox([B, A, B])).to.throw(/distinct/);
  });
});
