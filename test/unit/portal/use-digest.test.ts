import { createHash, randomBytes } from 'node:crypto';
import { expect } from 'chai';
import { useDigest } from '../../../src/portal/push-replay-guard';

/** The digest as first defined (streamed into one Hash): bindings stored by an older instance must still match. */
function reference(parts: (string | Buffer)[]): string {
  const h = createHash('sha256');
  for (const p of parts) h.update(p);
  return h.digest('base64');
}

describe('portal/useDigest', () => {
  it('is the SHA-256 of method, mode and body, as every version computed it (a rolling upgrade keeps the bindings)', () => {
    for (let i = 0; i < 200; i++) {
      const body = randomBytes(i * 7);
      expect(useDigest({ method: 'POST', encrypted: true, body })).to.equal(reference(['POST aes\n', body]));
      expect(useDigest({ method: 'POST', encrypted: false, body })).to.equal(reference(['POST raw\n', body]));
      const echostr = randomBytes(i % 40).toString('hex');
      expect(useDigest({ method: 'GET', echostr })).to.equal(reference([`GET\n${echostr}`]));
    }
  });

  it('tells the uses apart: another mode or another body is another digest', () => {
    const body = Buffer.from('<xml/>');
    const digests = new Set([
      useDigest({ method: 'POST', encrypted: true, body }),
      useDigest({ method: 'POST', encrypted: false, body }),
      useDigest({ method: 'POST', encrypted: true, body: Buffer.from('<xml />') }),
      useDigest({ method: 'GET', echostr: '<xml/>' }),
    ]);
    expect(digests.size).to.equal(4);
  });
});
