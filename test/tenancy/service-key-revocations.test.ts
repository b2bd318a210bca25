import { expect } from 'chai';
import { Stores } from '../support/fleet';

/**
 * Revocation bookkeeping of ServiceKeys: a read that began before a revocation must not cache the
 * live copy it saw, and what guards that is kept only while reads are in flight (it used to be one
 * entry per keyId ever revoked, for the process's life).
 */
describe('service key revocations', function () {
  this.timeout(60_000);
  let stores: Stores;

  before(async () => {
    stores = await Stores.open();
  });
  after(async () => {
    await stores.close();
  });

  it('a verify racing a revocation does not bring the revoked key back', async () => {
    const appid = 'wxrevoke00000001';
    const key = await stores.key(appid);
    const keyId = key.split('_')[1]!;
    // The verify's read is in flight while the revocation lands.
    const racing = stores.keys.verify(appid, key);
    expect(stores.keys.loadsInFlight).to.equal(1);
    expect(await stores.keys.revoke(appid, keyId)).to.equal(true);
    await racing;
    expect(await stores.keys.verify(appid, key)).to.equal(undefined);
  });

  it('keeps no per-key entry once reads are done, however many keys were revoked', async () => {
    const appid = 'wxrevoke00000002';
    const keys = await Promise.all(Array.from({ length: 200 }, (_, i) => stores.key(appid, `k${i}`)));
    for (const key of keys) {
      expect(await stores.keys.verify(appid, key)).to.be.a('string');
      await stores.keys.revoke(appid, key.split('_')[1]!);
      expect(await stores.keys.verify(appid, key)).to.equal(undefined);
    }
    expect(stores.keys.loadsInFlight).to.equal(0);
  });
});
