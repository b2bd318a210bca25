import type { Connection, Types } from 'mongoose';
import type { Redis } from '../infra/redis';
import { redisKeys } from '../infra/redis-keys';
import type { SecretBox } from '../tenancy/secret-box';
import type { TenantSections } from '../tenancy/tenant-sections';
import { tenantModel } from '../tenancy/tenant-model';
import { userModel } from '../users/user-model';
import { sessionKeyContext } from '../users/user-repository';
import { merchantModel } from '../merchants/merchant-model';
import { PlatformStore } from '../platforms/platform-store';
import { authorizerTokenKey } from '../platforms/authorizers';
import { componentTokenKey } from '../platforms/component-api';
import { certificateTokenKey } from '../pay/platform-keys';
import { appSecretTokenKey } from '../token/sources/app-secret-token';
import { tokenSealContext } from '../token/token-store';

/**
 * `tenants -- rekey`: re-encrypts every sealed value under the ring's first key, while gateways keep
 * serving. Every write is conditional on the value read (MongoDB filter, Redis compare-and-set),
 * so a concurrent change by a gateway or an operator is never overwritten; a value lost that way
 * was written by someone with the same ring, under the first key already, or is caught by a re-run.
 * Each value is replaced by one that opens with the same ring, so a crash at any point leaves
 * everything readable; a re-run skips what is under the first key already.
 *
 * Redis copies are found by the keys MongoDB tells us (tenant appids, platforms, merchants), never
 * by SCAN, so that it works on Redis Cluster too:
 * - access-token records are re-sealed in place (dropping them would make the fleet fetch new
 *   tokens from WeChat, which for classic tokens counts against the daily quota);
 * - the tenant L2 copy and the platform ticket copy are dropped: MongoDB holds the durable value
 *   and the next read puts back a copy sealed under the first key.
 */

export type RekeyStore = 'tenants' | 'merchants' | 'platforms' | 'authorizers' | 'users' | 'redis:tenant-copies' | 'redis:ticket-copies' | 'redis:tokens';
export const REKEY_STORES: readonly RekeyStore[] = ['tenants', 'merchants', 'platforms', 'authorizers', 'users', 'redis:tenant-copies', 'redis:ticket-copies', 'redis:tokens'];

export interface RekeyCount {
  /** Documents or Redis keys looked at. */
  scanned: number;
  /** Sealed values already under the first key. */
  current: number;
  /** Values re-sealed (MongoDB, token records) or copies dropped (or, dry run, that would be). */
  rekeyed: number;
  /** Values no key of the ring opens: left as they are. */
  unreadable: number;
  /** Writes refused because the value changed meanwhile (three tries per document). */
  contended: number;
}

export interface RekeyOptions {
  dryRun: boolean;
  batchSize: number;
  /** Stop after this many writes (documents updated, Redis keys changed): a run in slices. */
  limit?: number;
}

export interface RekeyResult {
  counts: Record<RekeyStore, RekeyCount>;
  /** Whether --limit stopped the run before the end. */
  stopped: boolean;
}

export interface RekeyDeps {
  mongo: Connection;
  redis: Redis;
  box: SecretBox;
  sections: TenantSections;
}

/** Replaces a value only while it is still the one read; keeps its expiry. */
const SET_IF_SAME = `
if redis.call('GET', KEYS[1]) ~= ARGV[1] then return 0 end
redis.call('SET', KEYS[1], ARGV[2], 'KEEPTTL')
return 1`;

/** Drops a cached copy only while it is still the one read; bumps the tenant generation (KEYS[2]) when given, as a tenant change does. */
const DEL_IF_SAME = `
if redis.call('GET', KEYS[1]) ~= ARGV[1] then return 0 end
redis.call('DEL', KEYS[1])
if KEYS[2] then redis.call('INCR', KEYS[2]) end
return 1`;

type Doc = Record<string, unknown> & { _id: Types.ObjectId };
interface Field {
  path: string;
  context: string;
}

class StopRun extends Error {}

/** Documents re-sealed at once within a batch. */
const CONCURRENCY = 8;

export async function rekey(d: RekeyDeps, opts: RekeyOptions): Promise<RekeyResult> {
  const counts = Object.fromEntries(REKEY_STORES.map((s) => [s, { scanned: 0, current: 0, rekeyed: 0, unreadable: 0, contended: 0 }])) as Record<RekeyStore, RekeyCount>;
  let writes = 0;
  /** Called before each write: once --limit writes are done, the run stops (between writes, so nothing is half done). */
  const mayWrite = () => {
    if (opts.limit !== undefined && writes >= opts.limit) throw new StopRun();
  };
  const wrote = () => writes++;
  const box = d.box;
  const platformStore = new PlatformStore(d.mongo, box);
  const tryOpen = (sealed: string, context: string): string | null => {
    try {
      return box.open(sealed, context);
    } catch {
      return null;
    }
  };

  /** Re-seals one MongoDB document's sealed fields with one conditional update; re-reads and retries when it changed meanwhile. */
  const rekeyDoc = async (store: RekeyStore, coll: Connection['collections'][string], first: Doc, fieldsOf: (doc: Doc) => Field[]) => {
    const c = counts[store];
    let doc: Doc | null = first;
    for (let attempt = 0; doc && attempt < 3; attempt++) {
      const filter: Record<string, unknown> = { _id: doc._id };
      const set: Record<string, string> = {};
      let unreadable = 0;
      let current = 0;
      for (const f of fieldsOf(doc)) {
        const v = getPath(doc, f.path);
        if (typeof v !== 'string') continue;
        if (box.isCurrent(v)) {
          current++;
          continue;
        }
        const plain = tryOpen(v, f.context);
        if (plain === null) {
          unreadable++;
          continue;
        }
        filter[f.path] = v;
        set[f.path] = box.seal(plain, f.context);
      }
      const n = Object.keys(set).length;
      if (n === 0 || opts.dryRun) {
        c.current += current;
        c.unreadable += unreadable;
        c.rekeyed += n;
        return;
      }
      mayWrite();
      // The native driver: no mongoose timestamps, re-sealing is not a change of the document.
      const r = await coll.updateOne(filter, { $set: set });
      if (r.matchedCount === 1) {
        c.current += current;
        c.unreadable += unreadable;
        c.rekeyed += n;
        wrote();
        if (store === 'tenants') await dropTenantCopy(String(doc.appid), null);
        return;
      }
      doc = (await coll.findOne({ _id: doc._id })) as Doc | null;
    }
    if (doc) c.contended++;
  };

  /** Drops a tenant's L2 copy (conditionally when `seen` is given) and bumps its generation, so a load that read the old document cannot put it back. */
  const dropTenantCopy = async (appid: string, seen: string | null): Promise<boolean> => {
    if (seen === null) {
      await d.redis.multi().incr(redisKeys.tenantGen(appid)).del(redisKeys.tenant(appid)).exec();
      return true;
    }
    return (await d.redis.eval(DEL_IF_SAME, 2, redisKeys.tenant(appid), redisKeys.tenantGen(appid), seen)) === 1;
  };

  const tenantCopy = async (appid: string) => {
    const c = counts['redis:tenant-copies'];
    const raw = await d.redis.get(redisKeys.tenant(appid));
    if (!raw) return;
    c.scanned++;
    let copy: Doc;
    try {
      copy = JSON.parse(raw) as Doc;
    } catch {
      copy = {} as Doc;
    }
    const stale = d.sections.sealedFields(appid).filter((f) => {
      const v = getPath(copy, f.path);
      return typeof v === 'string' && !box.isCurrent(v);
    }).length;
    if (stale === 0) {
      c.current++;
      return;
    }
    c.rekeyed++;
    if (opts.dryRun) return;
    mayWrite();
    if (await dropTenantCopy(appid, raw)) wrote();
  };

  /** Re-seals an access-token record in place (it keeps its expiry). */
  const tokenRecord = async (key: string) => {
    const c = counts['redis:tokens'];
    for (let attempt = 0; attempt < 3; attempt++) {
      const raw = await d.redis.get(key);
      if (!raw) return;
      if (attempt === 0) c.scanned++;
      let rec: Record<string, unknown>;
      try {
        rec = JSON.parse(raw) as Record<string, unknown>;
      } catch {
        return;
      }
      if (typeof rec.sealed !== 'string') return;
      if (box.isCurrent(rec.sealed)) {
        c.current++;
        return;
      }
      const plain = tryOpen(rec.sealed, tokenSealContext(key));
      if (plain === null) {
        // The gateways treat it as missing and fetch a new token; nothing to gain by touching it.
        c.unreadable++;
        return;
      }
      if (opts.dryRun) {
        c.rekeyed++;
        return;
      }
      mayWrite();
      const next = JSON.stringify({ ...rec, sealed: box.seal(plain, tokenSealContext(key)) });
      if ((await d.redis.eval(SET_IF_SAME, 1, key, raw, next)) === 1) {
        c.rekeyed++;
        wrote();
        return;
      }
    }
    c.contended++;
  };

  /** Walks a collection by _id in batches (no cursor held open between batches; new documents are sealed under the first key anyway). */
  const walk = async (name: string, each: (doc: Doc) => Promise<void>) => {
    const coll = d.mongo.collection(name);
    let last: Types.ObjectId | null = null;
    for (;;) {
      const batch = (await coll
        .find(last === null ? {} : { _id: { $gt: last } })
        .sort({ _id: 1 })
        .limit(opts.batchSize)
        .toArray()) as Doc[];
      if (batch.length === 0) return;
      // A few documents at a time: each write is independent, but the connection pool is shared
      // and bounded (a whole batch at once would time out waiting for connections).
      let next = 0;
      const lane = async () => {
        while (next < batch.length) await each(batch[next++] as Doc);
      };
      const results = await Promise.allSettled(Array.from({ length: Math.min(CONCURRENCY, batch.length) }, lane));
      const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
      if (failed) throw failed.reason;
      last = (batch[batch.length - 1] as Doc)._id;
    }
  };

  const tenantsColl = tenantModel(d.mongo).collection;
  const usersColl = userModel(d.mongo).collection;
  const merchantsColl = merchantModel(d.mongo).collection;
  const platformsColl = platformStore.platforms.collection;
  const authorizersColl = platformStore.authorizers.collection;

  try {
    await walk(tenantsColl.collectionName, async (doc) => {
      const appid = String(doc.appid);
      counts.tenants.scanned++;
      await rekeyDoc('tenants', tenantsColl, doc, () => d.sections.sealedFields(appid));
      await tenantCopy(appid);
      if (doc.credential === 'authorizer' && typeof doc.component === 'string') await tokenRecord(authorizerTokenKey(doc.component, appid));
      else if (typeof doc.secret === 'string') {
        const secret = tryOpen(doc.secret, d.sections.sealedFields(appid).find((f) => f.path === 'secret')?.context ?? '');
        if (secret !== null) await tokenRecord(appSecretTokenKey(appid, secret, typeof doc.tokenMode === 'string' ? doc.tokenMode : 'stable'));
      }
    });
    await walk(merchantsColl.collectionName, async (doc) => {
      counts.merchants.scanned++;
      const mchid = String(doc.mchid);
      const ctx = (f: string) => `merchant:${mchid}:${f}`;
      await rekeyDoc('merchants', merchantsColl, doc, () => ['privateKey', 'apiV3Key'].map((f) => ({ path: f, context: ctx(f) })));
      const apiV3Key = typeof doc.apiV3Key === 'string' ? tryOpen(doc.apiV3Key, ctx('apiV3Key')) : null;
      if (apiV3Key !== null)
        await tokenRecord(certificateTokenKey({ mchid, serialNo: String(doc.serialNo), apiV3Key, ...(typeof doc.payBase === 'string' ? { payBase: doc.payBase } : {}) }));
    });
    await walk(platformsColl.collectionName, async (doc) => {
      counts.platforms.scanned++;
      const componentAppid = String(doc.componentAppid);
      const ctx = (f: string) => `platform:${componentAppid}:${f}`;
      await rekeyDoc('platforms', platformsColl, doc, () => ['secret', 'token', 'aesKey', 'ticket'].map((f) => ({ path: f, context: ctx(f) })));
      await ticketCopy(componentAppid);
      const secret = typeof doc.secret === 'string' ? tryOpen(doc.secret, ctx('secret')) : null;
      if (secret !== null) await tokenRecord(componentTokenKey({ componentAppid, secret, ...(typeof doc.apiBase === 'string' ? { apiBase: doc.apiBase } : {}) }));
    });
    await walk(authorizersColl.collectionName, async (doc) => {
      counts.authorizers.scanned++;
      await rekeyDoc('authorizers', authorizersColl, doc, (x) => [{ path: 'refreshToken', context: `authorizer:${String(x.componentAppid)}:${String(x.appid)}:refreshToken` }]);
    });
    await walk(usersColl.collectionName, async (doc) => {
      counts.users.scanned++;
      await rekeyDoc('users', usersColl, doc, (x) => [{ path: 'sessionKey', context: sessionKeyContext(String(x.appid), String(x.openid)) }]);
    });
  } catch (err) {
    if (err instanceof StopRun) return { counts, stopped: true };
    throw err;
  }
  return { counts, stopped: false };

  /** The platform's ticket copy ("<ms>|<sealed>"): dropped, MongoDB has the ticket and the next read copies it back. */
  async function ticketCopy(componentAppid: string): Promise<void> {
    const c = counts['redis:ticket-copies'];
    const key = redisKeys.platformTicket(componentAppid);
    const raw = await d.redis.get(key);
    if (!raw) return;
    c.scanned++;
    if (box.isCurrent(raw.slice(raw.indexOf('|') + 1))) {
      c.current++;
      return;
    }
    c.rekeyed++;
    if (opts.dryRun) return;
    mayWrite();
    if ((await d.redis.eval(DEL_IF_SAME, 1, key, raw)) === 1) wrote();
  }
}

function getPath(o: Record<string, unknown>, path: string): unknown {
  let cur: unknown = o;
  for (const part of path.split('.')) {
    if (typeof cur !== 'object' || cur === null) return undefined;
    cur = (cur as Record<string, unknown>)[part];
  }
  return cur;
}
