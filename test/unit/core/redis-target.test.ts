import { expect } from 'chai';
import { loadConfigSubset } from '../../../src/kernel/config';
import { parseClusterNodes, redisTargetOf } from '../../../src/infra/redis';
import { ConfigError } from '../../../src/kernel/errors';

describe('REDIS_CLUSTER_NODES', () => {
  it('when set, replaces REDIS_URL with the cluster seed nodes (IPv6 in brackets)', () => {
    const cfg = loadConfigSubset({ REDIS_URL: 'redis://127.0.0.1:6379', REDIS_CLUSTER_NODES: '10.0.0.1:7000, redis-b:7001,[::1]:7002' }, ['REDIS_URL', 'REDIS_CLUSTER_NODES']);
    expect(redisTargetOf(cfg)).to.deep.equal({
      cluster: [
        { host: '10.0.0.1', port: 7000 },
        { host: 'redis-b', port: 7001 },
        { host: '::1', port: 7002 },
      ],
    });
  });

  it('unset or empty: REDIS_URL', () => {
    expect(redisTargetOf(loadConfigSubset({ REDIS_URL: 'redis://r:6379' }, ['REDIS_URL', 'REDIS_CLUSTER_NODES']))).to.equal('redis://r:6379');
    expect(redisTargetOf(loadConfigSubset({ REDIS_URL: 'redis://r:6379', REDIS_CLUSTER_NODES: '' }, ['REDIS_URL', 'REDIS_CLUSTER_NODES']))).to.equal('redis://r:6379');
  });

  it('a malformed list stops start-up naming the variable', () => {
    for (const bad of ['redis://a:7000', 'a', 'a:', 'a:7000,,b:7001', 'a:7000;b:7001']) {
      expect(() => loadConfigSubset({ REDIS_CLUSTER_NODES: bad }, ['REDIS_CLUSTER_NODES']), bad).to.throw(ConfigError, /REDIS_CLUSTER_NODES/);
    }
    expect(() => parseClusterNodes('a:70000')).to.throw(/out of range/);
  });
});
