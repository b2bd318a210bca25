import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { expect } from 'chai';
import { systemClock } from '../../src/clock';
import { createLogger } from '../../src/log';
import { createRedis, connectRedis, type Redis } from '../../src/infra/redis';
import { WeChatHttp, WeChatTransportError } from '../../src/wechat/wechat-http';
import { TokenStore } from '../../src/token/token-store';
import { makeRecord } from '../../src/token/token-record';
import { PushDedup } from '../../src/portal/push-dedup';
import { PushReplayGuard } from '../../src/portal/push-replay-guard';

describe('hardening of the WeChat edge, token store and push dedup (real Redis)', function () {
  this.timeout(20_000);
  let redis: Redis;
  before(async () => {
    redis = createRedis(process.env.REDIS_URL ?? '', createLogger('silent'));
    await connectRedis(redis);
  });
  after(() => redis.disconnect());

  it('a WeChat answer whose body stalls after the headers fails within the timeout', async () => {
    const server = http.createServer((_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.write('{"access_token":');
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    const started = Date.now();
    let err: unknown;
    try {
      await new WeChatHttp(300).send({ baseUrl: base, method: 'GET', path: '/cgi-bin/token' });
    } catch (e) {
      err = e;
    }
    server.closeAllConnections();
    server.close();
    expect(err).to.be.instanceOf(WeChatTransportError);
    expect(Date.now() - started).to.be.lessThan(2000);
  });

  it('a path that would leave the API host is refused by the HTTP edge', async () => {
    let err: unknown;
    try {
      await new WeChatHttp(300).send({ baseUrl: 'http://127.0.0.1:9', method: 'GET', path: '//example.invalid/x' });
    } catch (e) {
      err = e;
    }
    expect(err).to.be.instanceOf(WeChatTransportError);
  });

  it('a token write is refused once the writer no longer holds the lock', async () => {
    const store = new TokenStore(redis, systemClock);
    const key = `wxgate:token:test:${Date.now()}`;
    const lock = { key: `${key}:lock`, value: 'mine' };
    await redis.set(lock.key, 'mine', 'PX', 5000);
    expect(await store.setUnderLock(key, makeRecord('A', 7200, Date.now()), lock)).to.equal(true);
    await redis.set(lock.key, 'someone-else', 'PX', 5000);
    expect(await store.setUnderLock(key, makeRecord('B', 7200, Date.now()), lock)).to.equal(false);
    expect((await store.get(key))?.accessToken).to.equal('A');
  });

  it('dedup: a retry while the first delivery is still working is told to come back, not "success"', async () => {
    const dedup = new PushDedup(redis, 300, 2, 200, (ms) => new Promise((r) => setTimeout(r, ms)));
    const k = `test:${Date.now()}`;
    expect((await dedup.claim(k)).kind).to.equal('first');
    expect((await dedup.claim(k)).kind).to.equal('in-progress');
    // The first delivery gave up: the retry processes it.
    await dedup.release(k);
    expect((await dedup.claim(k)).kind).to.equal('first');
    await dedup.complete(k, '<xml>reply</xml>');
    expect(await dedup.claim(k)).to.deep.equal({ kind: 'duplicate', reply: '<xml>reply</xml>' });
  });

  it('dedup: a claim whose instance died expires after its lease', async () => {
    const dedup = new PushDedup(redis, 300, 1, 100, (ms) => new Promise((r) => setTimeout(r, ms)));
    const k = `test-lease:${Date.now()}`;
    expect((await dedup.claim(k)).kind).to.equal('first');
    await new Promise((r) => setTimeout(r, 1100));
    expect((await dedup.claim(k)).kind).to.equal('first');
  });

  it('replay guard: the same signed query is accepted again only with the same body', async () => {
    const guard = new PushReplayGuard(redis, 300);
    const ts = String(Date.now());
    expect(await guard.accept('wx1', ts, 'n1', 'sig', Buffer.from('<xml>a</xml>'))).to.equal(true);
    expect(await guard.accept('wx1', ts, 'n1', 'sig', Buffer.from('<xml>a</xml>'))).to.equal(true);
    expect(await guard.accept('wx1', ts, 'n1', 'sig', Buffer.from('<xml>b</xml>'))).to.equal(false);
  });
});
