import { Cluster } from 'ioredis';
import { expect } from 'chai';
import { luaScript, runScript } from '../../../src/infra/lua-script';

describe('infra/runScript', () => {
  it('a client that throws at once (a Cluster slot map with a gap) gives a rejection, so callers that .catch() still catch it', async () => {
    // A real ioredis Cluster client, never connected (lazy), whose slot map lacks the key's slot: with
    // auto-pipelining it throws synchronously inside evalsha.
    const cluster = new Cluster([{ host: '127.0.0.1', port: 1 }], { lazyConnect: true, enableOfflineQueue: false, enableAutoPipelining: true });
    (cluster as unknown as { slots: string[][] }).slots = [['127.0.0.1:1']];
    try {
      let result: unknown;
      expect(() => {
        result = runScript(cluster, luaScript('return 1'), ['wxgate:tenant:{wx0000000000000001}'], []);
      }).to.not.throw();
      const caught = await (result as Promise<unknown>).then(
        () => undefined,
        (err: unknown) => err,
      );
      expect(caught).to.be.instanceOf(Error);
    } finally {
      cluster.disconnect();
    }
  });
});
