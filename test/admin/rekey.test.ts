import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { expect } from 'chai';
import { keyId, SecretBox } from '../../src/tenancy/secret-box';
import { redisKeys } from '../../src/infra/redis-keys';
import { PlatformStore } from '../../src/platforms/platform-store';
import { TicketStore } from '../../src/platforms/ticket-store';
import { MerchantRepository } from '../../src/merchants/merchant-repository';
import { appSecretTokenKey } from '../../src/token/sources/app-secret-token';
import { createLogger } from '../../src/kernel/log';
import { buildPush, deliverPush, samplePush } from '../../src/sandbox/push-simulator';
import { startHarness, type Harness, type TenantHandle } from '../support/harness';
import { runTenantsCli, startGateway, TEST_SECRETS_KEY, type GatewayProcess } from '../support/gateway-process';
import { request, sleep, withRawMongo, type RawDoc } from '../support/gateway-helpers';

const A = TEST_SECRETS_KEY;
const B = Buffer.alloc(32, 0x5b).toString('base64');
const kidA = keyId(Buffer.from(A, 'base64'));
const kidB = keyId(Buffer.from(B, 'base64'));
/** The environment of an instance on a key ring (SECRETS_KEY emptied: both set is refused). */
const ring = (...keys: string[]) => ({ SECRETS_KEY: '', SECRETS_KEYS: keys.join(',') });

/** Every sealed value in MongoDB, by collection and field (the ones tenancy's sections declare included). */
async function sealedInMongo(): Promise<{ where: string; value: string }[]> {
  const fields: Record<string, string[]> = {
    tenants: ['secret', 'token', 'aesKey', 'webhook.secret'],
    users: ['sessionKey'],
    merchants: ['privateKey', 'apiV3Key'],
    platforms: ['secret', 'token', 'aesKey', 'ticket'],
    authorizers: ['refreshToken'],
  };
  return withRawMongo(async (db) => {
    const out: { where: string; value: string }[] = [];
    for (const [coll, paths] of Object.entries(fields)) {
      for (const doc of (await db.collection(coll).find({}).toArray()) as RawDoc[]) {
        for (const p of paths) {
          const v = p.split('.').reduce<unknown>((o, k) => (o && typeof o === 'object' ? (o as RawDoc)[k] : undefined), doc);
          if (typeof v === 'string') out.push({ where: `${coll}.${p} of ${String(doc._id)}`, value: v });
        }
      }
    }
    return out;
  });
}

/** Parses the counts table `rekey` prints: store -> [scanned, current, rekeyed, unreadable, changed-meanwhile]. */
function counts(stdout: string): Record<string, number[]> {
  const out: Record<string, number[]> = {};
  for (const line of stdout.split('\n')) {
    const m = /^(\S+)\s+(\d+)\s+(\d+)\s+(\d+)\s+(\d+)\s+(\d+)$/.exec(line.trim());
    if (m) out[m[1]!] = m.slice(2).map(Number);
  }
  return out;
}
const toRekey = (c: Record<string, number[]>) => Object.values(c).reduce((n, v) => n + (v[2] ?? 0), 0);

describe('admin: secrets-key rotation (tenants -- rekey)', function () {
  this.timeout(240_000);
  let h: Harness;
  before(async () => {
    h = await startHarness(0);
  });
  after(async () => {
    // The test database is shared by every test file, which all use key A: seal everything back
    // under A, or later files could not open what this one rotated to B.
    const back = await runTenantsCli(['rekey'], ring(A, B));
    await h?.close();
    expect(back.code, back.stderr).to.equal(0);
  });

  describe('under load, with two gateways rolled A -> A,B -> B,A, then B alone', () => {
    const gws: GatewayProcess[] = [];
    /** The gateways a load balancer would send to: a gateway leaves it before it is stopped. */
    let live: GatewayProcess[] = [];
    let tenants: TenantHandle[] = [];
    const componentAppid = 'wx' + randomBytes(8).toString('hex');
    const mchid = String(1_900_000_000 + Math.floor(Math.random() * 99_999_999));
    const failures: string[] = [];
    const log: string[] = [];
    const done: Record<string, number> = { token: 0, info: 0, login: 0, push: 0 };
    let loading = false;
    let load: Promise<void>[] = [];

    // Generous start-up time: the test machine may be busy.
    const start = (env: Record<string, string>) => startGateway({ LOG_LEVEL: 'warn', ...env }, 60_000);
    /** Takes gateway i out of rotation, lets its requests finish, restarts it with `env`, and puts it back. */
    async function roll(i: number, env: Record<string, string>) {
      const old = gws[i]!;
      live = live.filter((g) => g !== old);
      // Like a load balancer draining it: no request to it is in flight when it is stopped.
      while ((inFlight.get(old) ?? 0) > 0) await sleep(20);
      await old.stop();
      log.push(`stopped ${old.port} at ${new Date().toISOString()}`);
      gws[i] = await start(env);
      log.push(`started ${gws[i]!.port} at ${new Date().toISOString()}`);
      live.push(gws[i]);
    }

    const inFlight = new Map<GatewayProcess, number>();
    async function once(kind: string, gw: GatewayProcess, t: TenantHandle): Promise<void> {
      inFlight.set(gw, (inFlight.get(gw) ?? 0) + 1);
      try {
        if (kind === 'token') {
          const r = await request(`${gw.url}/${t.appid}/access-token`, { auth: t.key, timeoutMs: 15_000 });
          if (r.status !== 200 || typeof r.json?.access_token !== 'string') failures.push(`token ${r.status} ${r.text}`);
        } else if (kind === 'info') {
          const r = await request(`${gw.url}/${t.appid}`, { timeoutMs: 15_000 });
          if (r.status !== 200 || r.json?.appid !== t.appid) failures.push(`info ${r.status} ${r.text}`);
        } else if (kind === 'login') {
          const r = await request(`${gw.url}/${t.appid}/auth/login`, { method: 'POST', jsonBody: { code: `test:u${randomBytes(3).toString('hex')}` }, timeoutMs: 15_000 });
          if (r.status !== 200 || typeof r.json?.token !== 'string') failures.push(`login ${r.status} ${r.text}`);
        } else {
          const push = buildPush(t.t, samplePush('text'), { format: 'json', mode: 'safe' });
          const [a] = await deliverPush(`${gw.url}/${t.appid}/portal`, push, { timeoutMs: 15_000, retries: 0 });
          if (!a || a.status !== 200) failures.push(`push ${a?.status ?? '-'} ${a?.error ?? a?.body ?? ''}`);
        }
        done[kind]!++;
      } catch (err) {
        const cause = (err as { cause?: { code?: string; message?: string } }).cause;
        failures.push(`${kind} to ${gw.port} threw ${(err as Error).message} (${cause?.code ?? cause?.message ?? ''}) at ${new Date().toISOString()}`);
      } finally {
        inFlight.set(gw, (inFlight.get(gw) ?? 1) - 1);
      }
    }

    async function worker(n: number) {
      const kinds = ['token', 'info', 'login', 'push'];
      for (let i = n; loading; i++) {
        const gw = live[i % live.length];
        if (gw) await once(kinds[i % kinds.length]!, gw, tenants[i % tenants.length]!);
        await sleep(10);
      }
    }

    before(async () => {
      tenants = [await h.tenant(), await h.tenant(), await h.tenant()];
      const boxA = new SecretBox(A);
      const platforms = new PlatformStore(h.stores.conn, boxA);
      await platforms.upsert({ componentAppid, name: 'Rotation platform', secret: randomBytes(16).toString('hex'), token: 'ptok', aesKey: randomBytes(32).toString('base64').slice(0, 43) });
      await new TicketStore(platforms, h.redis, boxA, createLogger('silent')).save(componentAppid, 'ticket@' + randomBytes(4).toString('hex'), new Date());
      await platforms.authorize(componentAppid, 'wx' + randomBytes(8).toString('hex'), 'refresh@' + randomBytes(6).toString('hex'), [17], new Date());
      const privateKey = generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
      await new MerchantRepository(h.stores.conn, boxA).upsert({ mchid, name: 'Rotation shop', serialNo: 'ABC123', privateKey, apiV3Key: 'k'.repeat(32) });
      gws.push(await start({}), await start({}));
      live = [...gws];
      // State sealed under A everywhere: tokens in Redis, tenant copies, session keys.
      for (const t of tenants) for (const kind of ['token', 'info', 'login', 'push']) await once(kind, gws[0]!, t);
      expect(failures).to.deep.equal([]);
    });
    after(async () => {
      loading = false;
      await Promise.all(load);
      await Promise.all(gws.map((g) => g.stop()));
    });

    it('starts with values sealed under A in MongoDB and Redis', async () => {
      const sealed = await sealedInMongo();
      expect(sealed.filter((s) => s.value.startsWith(`v2.${kidA}.`)).length).to.be.greaterThan(10);
      const raw = await h.redis.get(appSecretTokenKey(tenants[0]!.appid, tenants[0]!.t.secret!, 'stable'));
      expect(String(JSON.parse(raw ?? '{}').sealed)).to.match(new RegExp(`^v2\\.${kidA}\\.`));
    });

    it('no request fails while the gateways are rolled to A,B then B,A and rekey runs; afterwards nothing is under A', async () => {
      loading = true;
      load = [0, 1, 2, 3].map((n) => worker(n));
      // Step 1 of the README: the new key joins every ring before anyone seals with it ...
      await roll(0, ring(A, B));
      await roll(1, ring(A, B));
      // ... then it becomes the sealing key, one instance at a time.
      await roll(0, ring(B, A));
      await roll(1, ring(B, A));
      const before = { ...done };
      const dry = await runTenantsCli(['rekey', '--dry-run'], ring(B, A));
      expect(dry.code, dry.stderr + dry.stdout).to.equal(0);
      expect(toRekey(counts(dry.stdout))).to.be.greaterThan(10);
      const r = await runTenantsCli(['rekey', '--batch-size', '2'], ring(B, A));
      expect(r.code, r.stderr + r.stdout).to.equal(0);
      const c = counts(r.stdout);
      for (const store of ['tenants', 'users', 'merchants', 'platforms', 'authorizers', 'redis:tokens']) expect(c[store]?.[2], `${store} re-sealed\n${r.stdout}`).to.be.greaterThan(0);
      await sleep(1000);
      loading = false;
      await Promise.all(load);
      expect(failures, [...failures.slice(0, 5), ...log].join('\n')).to.deep.equal([]);
      for (const kind of Object.keys(done)) expect(done[kind]! - before[kind]!, `${kind} requests during rekey`).to.be.greaterThan(0);

      // Nothing in MongoDB is left under A ...
      const sealed = await sealedInMongo();
      const notB = sealed.filter((s) => !s.value.startsWith(`v2.${kidB}.`));
      expect(notB.map((s) => s.where)).to.deep.equal([]);
      // ... nor in the Redis values derived from it: tenant copies, token records, the ticket copy.
      for (const t of tenants) {
        const copy = await h.redis.get(redisKeys.tenant(t.appid));
        if (copy) for (const f of ['secret', 'token', 'aesKey'] as const) expect(String(JSON.parse(copy)[f])).to.match(new RegExp(`^v2\\.${kidB}\\.`));
        const token = await h.redis.get(appSecretTokenKey(t.appid, t.t.secret!, 'stable'));
        expect(String(JSON.parse(token ?? '{}').sealed), `token of ${t.appid}`).to.match(new RegExp(`^v2\\.${kidB}\\.`));
      }
      const ticket = await h.redis.get(redisKeys.platformTicket(componentAppid));
      if (ticket) expect(ticket.slice(ticket.indexOf('|') + 1)).to.match(new RegExp(`^v2\\.${kidB}\\.`));
      // Nothing is left for a second run.
      const again = await runTenantsCli(['rekey', '--dry-run'], ring(B, A));
      expect(toRekey(counts(again.stdout)), again.stdout).to.equal(0);
      // The run is in the audit log, with key ids only.
      const audit = await runTenantsCli(['audit', '--json', '--limit', '5'], ring(B, A));
      const entry = (JSON.parse(audit.stdout) as { action: string; target: { id: string }; details: { keys: string[] } }[]).find((e) => e.action === 'secrets.rekey');
      expect(entry?.target.id).to.equal(kidB);
      expect(entry?.details.keys).to.deep.equal([kidB, kidA]);
      expect(audit.stdout).to.not.include(B);
    });

    it('then gateways with B alone still serve every kind of request, and the CLI opens platforms and merchants with B alone', async () => {
      await roll(0, ring(B));
      await roll(1, ring(B));
      for (const gw of gws) for (const t of tenants) for (const kind of ['token', 'info', 'login', 'push']) await once(kind, gw, t);
      expect(failures, failures.slice(0, 5).join('\n')).to.deep.equal([]);
      for (const args of [
        ['platforms', 'list'],
        ['merchants', 'list'],
      ]) {
        const r = await runTenantsCli(args, ring(B));
        expect(r.code, `${args.join(' ')}: ${r.stderr}`).to.equal(0);
      }
    });
  });

  describe('resumable and dry runs (CLI only)', () => {
    it('--dry-run writes nothing; --limit stops part-way leaving everything readable; a re-run finishes only what is left', async () => {
      // Whatever earlier tests left under A is re-sealed first, so the counts below are this test's.
      await runTenantsCli(['rekey'], ring(B, A));
      for (let i = 0; i < 4; i++) await h.tenant();
      const snapshot = () => withRawMongo((db) => db.collection('tenants').find({}).sort({ appid: 1 }).toArray());
      const beforeDocs = await snapshot();

      const dry = await runTenantsCli(['rekey', '--dry-run'], ring(B, A));
      expect(dry.code, dry.stderr).to.equal(0);
      expect(dry.stdout).to.include('dry run');
      const pending = counts(dry.stdout).tenants![2]!;
      expect(pending).to.equal(4 * 3);
      expect(await snapshot()).to.deep.equal(beforeDocs);

      // Two document writes, then it stops: the two tenants are under B, the rest under A, all open with B,A.
      const part = await runTenantsCli(['rekey', '--limit', '2', '--batch-size', '1'], ring(B, A));
      expect(part.code, part.stderr + part.stdout).to.equal(0);
      expect(part.stdout).to.include('stopped after --limit 2 writes');
      const afterPart = await runTenantsCli(['rekey', '--dry-run'], ring(B, A));
      expect(counts(afterPart.stdout).tenants![2]).to.equal(pending - 2 * 3);
      expect((await runTenantsCli(['list'], ring(B, A))).code).to.equal(0);

      const rest = await runTenantsCli(['rekey'], ring(B, A));
      expect(rest.code, rest.stderr + rest.stdout).to.equal(0);
      expect(counts(rest.stdout).tenants![2]).to.equal(pending - 2 * 3);
      const last = await runTenantsCli(['rekey'], ring(B, A));
      expect(toRekey(counts(last.stdout)), last.stdout).to.equal(0);
      expect((await runTenantsCli(['list'], ring(B))).code).to.equal(0);
    });

    it('refuses bad arguments (exit 2) and reports values no key opens (exit 1, left as they are)', async () => {
      const bad = await runTenantsCli(['rekey', '--batch-size', '0'], ring(B, A));
      expect(bad.code).to.equal(2);
      expect(bad.stderr).to.match(/--batch-size takes a whole number/);
      expect((await runTenantsCli(['rekey', '--bogus'], ring(B, A))).code).to.equal(2);
      // A tenant sealed under a key nobody has any more.
      const C = Buffer.alloc(32, 0x3c).toString('base64');
      const orphan = await h.tenant();
      await h.stores.conn.collection('tenants').updateOne({ appid: orphan.appid }, { $set: { secret: new SecretBox(C).seal('x'.repeat(32), `tenant:${orphan.appid}:secret`) } });
      const r = await runTenantsCli(['rekey'], ring(B, A));
      expect(r.code, r.stdout).to.equal(1);
      expect(r.stderr).to.match(/1 sealed value\(s\) open with no key of SECRETS_KEYS/);
      expect(counts(r.stdout).tenants![3]).to.equal(1);
      expect(r.stdout + r.stderr).to.not.include(C);
      await runTenantsCli(['remove', orphan.appid], ring(B, A));
    });
  });
});
