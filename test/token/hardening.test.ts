import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { expect } from 'chai';
import { systemClock } from '../../src/kernel/clock';
import { createLogger } from '../../src/kernel/log';
import { createRedis, connectRedis, type Redis } from '../../src/infra/redis';
import { WeChatHttp, WeChatTransportError } from '../../src/transport/wechat-http';
import { TokenStore } from '../../src/token/token-store';
import { SecretBox } from '../../src/tenancy/secret-box';
import { TEST_SECRETS_KEY } from '../support/gateway-process';
import { makeRecord } from '../../src/token/token-record';
import { PushIntake, type PushClaim } from '../../src/portal/push-intake';
import { DEFAULT_SHARDS, tenantKeys } from '../../src/delivery/webhook-keys';
import { PushReplayGuard } from '../../src/portal/push-replay-guard';

describe('hardening of the WeChat edge, token store and push intake (real Redis)', function () {
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
      await new WeChatHttp(300, { allowPrivateAddresses: true }).send({ baseUrl: base, method: 'GET', path: '/cgi-bin/token' });
    } catch (e) {
      err = e;
    }
    server.closeAllConnections();
    server.close();
    expect(err).to.be.instanceOf(WeChatTransportError);
    expect(Date.now() - started).to.be.lessThan(2000);
  });

  it('a path that looks like another host still goes to the API host', async () => {
    const seen: string[] = [];
    const server = http.createServer((req, res) => {
      seen.push(String(req.url));
      res.writeHead(200, { 'content-type': 'application/json' }).end('{"errcode":0}');
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    const res = await new WeChatHttp(1000, { allowPrivateAddresses: true }).send({ baseUrl: base, method: 'GET', path: '//example.invalid/x', query: { a: '1 2' } });
    server.close();
    expect(res.kind).to.equal('json');
    expect(seen).to.deep.equal(['//example.invalid/x?a=1+2']);
  });

  it('a token write is refused once the writer no longer holds the lock', async () => {
    const store = new TokenStore(redis, systemClock, new SecretBox(TEST_SECRETS_KEY));
    const key = `wxgate:token:test:${Date.now()}`;
    const lock = { key: `${key}:lock`, value: 'mine' };
    await redis.set(lock.key, 'mine', 'PX', 5000);
    expect(await store.setUnderLock(key, makeRecord('A', 7200, Date.now()), lock)).to.equal(true);
    await redis.set(lock.key, 'someone-else', 'PX', 5000);
    expect(await store.setUnderLock(key, makeRecord('B', 7200, Date.now()), lock)).to.equal(false);
    expect((await store.get(key))?.accessToken).to.equal('A');
  });

  it('a stored token is sealed, bound to its key, and still compare-and-deleted by token', async () => {
    const store = new TokenStore(redis, systemClock, new SecretBox(TEST_SECRETS_KEY));
    const key = `wxgate:token:test:${Date.now()}`;
    const lock = { key: `${key}:lock`, value: 'mine' };
    await redis.set(lock.key, 'mine', 'PX', 5000);
    const token = 'ACCESS_TOKEN_' + Date.now().toString(36);
    expect(await store.setUnderLock(key, makeRecord(token, 7200, Date.now()), lock)).to.equal(true);
    const raw = (await redis.get(key)) ?? '';
    expect(raw).to.not.include(token);
    expect(raw).to.match(/"sealed":"v2\./);
    expect((await store.get(key))?.accessToken).to.equal(token);
    // Copied under another token key, the value does not open: it counts as missing.
    await redis.set(`${key}:copy`, raw, 'PX', 5000);
    expect(await store.get(`${key}:copy`)).to.equal(null);
    // Another SECRETS_KEY cannot open it either.
    expect(await new TokenStore(redis, systemClock, new SecretBox(Buffer.alloc(32, 9).toString('base64'))).get(key)).to.equal(null);
    expect(await store.deleteIfToken(key, 'another-token')).to.equal(false);
    expect(await store.deleteIfToken(key, token)).to.equal(true);
    expect(await redis.exists(key)).to.equal(0);
    await redis.del(lock.key, `${key}:copy`);
  });

  it('intake: the first delivery is accepted and queued, a retry gets the same answer and queues nothing', async () => {
    const intake = new PushIntake(redis, 300);
    const appid = 'wx' + Date.now().toString(16).padStart(16, '0').slice(-16);
    const k = `test:${Date.now()}`;
    // A WeChat retry carries the same signed query and body: the same replay binding.
    const claim = (dedupKey: string, plainReply: string | null, fwd?: PushClaim['forward'], digest = 'same-use'): PushClaim => ({
      replay: { key: `wxgate:test-replay:${dedupKey}`, digest, ttlS: 60 },
      dedupKey,
      plainReply,
      ...(fwd ? { forward: fwd } : {}),
    });
    const forward = { appid, message: { content: 'hi' }, receivedAt: Date.now() };
    const first = await intake.accept(claim(k, '<xml>reply</xml>', forward));
    expect(first.kind).to.equal('accepted');
    const again = await Promise.all([intake.accept(claim(k, '<xml>other</xml>', forward)), intake.accept(claim(k, null, forward))]);
    expect(again).to.deep.equal([
      { kind: 'duplicate', reply: '<xml>reply</xml>' },
      { kind: 'duplicate', reply: '<xml>reply</xml>' },
    ]);
    // Queued in the tenant's shard stream, which other tenants share: its own entries are counted.
    const stream = tenantKeys(appid, DEFAULT_SHARDS).stream;
    const queued = async () => ((await redis.xrange(stream, '-', '+')) as [string, string[]][]).filter(([, f]) => f.includes(appid)).map(([id]) => id);
    expect(await queued()).to.have.length(1);
    // The same signed query with another body: a replay, and nothing is claimed or queued.
    expect(await intake.accept(claim(k, null, forward, 'another-use'))).to.deep.equal({ kind: 'replayed' });
    expect(await queued()).to.have.length(1);
    const success = await intake.accept(claim(`${k}:2`, null));
    expect(success.kind).to.equal('accepted');
    expect(await intake.accept(claim(`${k}:2`, null))).to.deep.equal({ kind: 'duplicate', reply: null });
    for (const id of await queued()) await redis.xdel(stream, id);
  });

  it('intake: a Redis that lost its scripts (restart, flush, failover to a replica) still accepts, once', async () => {
    const intake = new PushIntake(redis, 300);
    const k = `test:noscript:${Date.now()}`;
    const claim = (dedupKey: string): PushClaim => ({ replay: { key: `wxgate:test-replay:${dedupKey}`, digest: 'use', ttlS: 60 }, dedupKey, plainReply: null });
    expect((await intake.accept(claim(k))).kind).to.equal('accepted');
    // The accept script is sent by its SHA; with the script cache emptied Redis answers NOSCRIPT.
    await redis.script('FLUSH');
    expect((await intake.accept(claim(`${k}:2`))).kind).to.equal('accepted');
    await redis.script('FLUSH');
    expect(await intake.accept(claim(`${k}:2`))).to.deep.equal({ kind: 'duplicate', reply: null });
  });

  it('replay guard: a signed query is accepted again only with the same method, mode and body', async () => {
    const guard = new PushReplayGuard(redis, 300);
    const triple = { appid: 'wx1', timestamp: String(Date.now()), nonce: 'n1', signature: 'sig' };
    const plain = (xml: string) => ({ method: 'POST' as const, encrypted: false, body: Buffer.from(xml) });
    expect(await guard.accept(triple, plain('<xml>a</xml>'))).to.equal(true);
    expect(await guard.accept(triple, plain('<xml>a</xml>'))).to.equal(true);
    expect(await guard.accept(triple, plain('<xml>b</xml>'))).to.equal(false);
    expect(await guard.accept(triple, { method: 'POST', encrypted: true, body: Buffer.from('<xml>a</xml>') })).to.equal(false);
    expect(await guard.accept(triple, { method: 'GET', echostr: 'x' })).to.equal(false);
    const verified = { ...triple, nonce: 'n2' };
    expect(await guard.accept(verified, { method: 'GET', echostr: 'e1' })).to.equal(true);
    expect(await guard.accept(verified, { method: 'GET', echostr: 'e1' })).to.equal(true);
    expect(await guard.accept(verified, plain('<xml>forged</xml>'))).to.equal(false);
  });
});
