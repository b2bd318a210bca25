import { expect } from 'chai';
import Redis from 'ioredis';
import { SecretBox } from '../../src/tenancy/secret-box';
import { TEST_SECRETS_KEY, startGateway, type GatewayProcess } from '../support/gateway-process';
import { makeTenant } from '../support/tenant-fixtures';
import { testRedisUrl } from '../support/root-hooks';
import { applyTenants, cli, rawTenants, request, stopAll, withRawMongo, type RawDoc } from '../support/gateway-helpers';

const SEALED = /^v2\.[0-9a-f]{8}\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/;

describe('tenancy: secrets at rest', function () {
  this.timeout(30_000);

  const a = makeTenant({ webhook: { url: 'https://hooks.example.com/a', secret: 'webhook-secret-' + Date.now() } });
  const b = makeTenant();
  let docA: RawDoc;
  let docB: RawDoc;

  before(async () => {
    await applyTenants(a, b);
    const docs = await rawTenants({ appid: { $in: [a.appid, b.appid] } });
    expect(docs).to.have.length(2);
    docA = docs.find((d) => d.appid === a.appid) as RawDoc;
    docB = docs.find((d) => d.appid === b.appid) as RawDoc;
  });

  it('the raw tenants collection holds no secret, token or aesKey in clear', async () => {
    const dump = JSON.stringify(await rawTenants());
    for (const t of [a, b]) {
      expect(dump).to.include(t.appid);
      expect(dump).to.not.include(t.secret);
      expect(dump).to.not.include(t.secret.toUpperCase());
      expect(dump).to.not.include(t.token);
      expect(dump).to.not.include(t.aesKey);
      // Not even encoded the obvious ways.
      expect(dump).to.not.include(Buffer.from(t.secret).toString('base64'));
      expect(dump).to.not.include(Buffer.from(t.secret).toString('base64url'));
    }
    expect(dump).to.not.include(a.webhook!.secret);
  });

  it('sealed values are v2.<kid>.<iv>.<tag>.<ciphertext> strings, each different', () => {
    for (const d of [docA, docB]) {
      expect(d.secret).to.be.a('string').and.match(SEALED);
      expect(d.token).to.be.a('string').and.match(SEALED);
      expect(d.aesKey).to.be.a('string').and.match(SEALED);
    }
    expect((docA.webhook as RawDoc).secret).to.match(SEALED);
    expect((docA.webhook as RawDoc).url).to.equal('https://hooks.example.com/a');
    // Non-secret fields stay readable.
    expect(docA.name).to.equal(a.name);
    expect(docA.status).to.equal('active');
    const all = [docA.secret, docA.token, docA.aesKey, docB.secret, docB.token, docB.aesKey];
    expect(new Set(all).size).to.equal(all.length);
  });

  it('the sealed values open with SECRETS_KEY to the applied values', () => {
    const box = new SecretBox(TEST_SECRETS_KEY);
    expect(box.open(docA.secret as string, `tenant:${a.appid}:secret`)).to.equal(a.secret);
    expect(box.open(docA.token as string, `tenant:${a.appid}:token`)).to.equal(a.token);
    expect(box.open(docA.aesKey as string, `tenant:${a.appid}:aesKey`)).to.equal(a.aesKey);
    expect(box.open((docA.webhook as RawDoc).secret as string, `tenant:${a.appid}:webhook.secret`)).to.equal(a.webhook!.secret);
  });

  it('a sealed value does not open for another tenant or another field, nor with another key', () => {
    const box = new SecretBox(TEST_SECRETS_KEY);
    expect(() => box.open(docA.secret as string, `tenant:${b.appid}:secret`)).to.throw(/cannot decrypt/);
    expect(() => box.open(docA.secret as string, `tenant:${a.appid}:token`)).to.throw(/cannot decrypt/);
    const other = new SecretBox(Buffer.alloc(32, 9).toString('base64'));
    expect(() => other.open(docA.secret as string, `tenant:${a.appid}:secret`)).to.throw(/cannot decrypt/);
    // The error never carries the sealed value or the plaintext.
    try {
      box.open(docA.secret as string, `tenant:${b.appid}:secret`);
    } catch (err) {
      expect((err as Error).message).to.not.include(docA.secret as string);
      expect((err as Error).message).to.not.include(a.secret);
    }
  });

  it("a sealed secret copied into another tenant's document is refused, not used", async () => {
    const victim = makeTenant();
    await applyTenants(victim);
    await withRawMongo(async (db) => {
      const r = await db.collection('tenants').updateOne({ appid: victim.appid }, { $set: { secret: docA.secret } });
      expect(r.matchedCount).to.equal(1);
    });
    const shown = await cli(['show', victim.appid], 1);
    expect(shown.stderr).to.include(`tenant:${victim.appid}:secret`);
    expect(shown.stderr).to.match(/cannot decrypt/);
    expect(shown.stdout + shown.stderr).to.not.include(a.secret);
    expect(shown.stdout + shown.stderr).to.not.include(docA.secret as string);
    await cli(['remove', victim.appid]);
  });

  describe('the Redis copy a gateway caches', () => {
    let gw: GatewayProcess | undefined;
    after(() => stopAll([gw]));

    it('holds the sealed document only', async () => {
      gw = await startGateway();
      const r = await request(`${gw.url}/${a.appid}`);
      expect(r.status, r.text).to.equal(200);
      expect(r.text).to.not.include(a.secret);
      const redis = new Redis(testRedisUrl(), { lazyConnect: true, maxRetriesPerRequest: 1 });
      try {
        await redis.connect();
        const cached = await redis.get(`wxgate:tenant:${a.appid}`);
        expect(cached, 'the gateway did not write its L2 copy').to.be.a('string');
        expect(cached).to.include(a.appid);
        expect(cached).to.not.include(a.secret);
        expect(cached).to.not.include(a.token);
        expect(cached).to.not.include(a.aesKey);
        expect(cached).to.not.include(a.webhook!.secret);
        expect((JSON.parse(cached as string) as RawDoc).secret).to.match(SEALED);
      } finally {
        redis.disconnect();
      }
    });
  });
});
