import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import NodeCache from 'node-cache';
import type { Connection, Model } from 'mongoose';
import { boundedMongo } from '../infra/mongo';
import { unavailableStore } from '../infra/store-errors';
import type { InvalidationBus } from '../cache/invalidation-bus';
import { SingleFlight } from '../cache/single-flight';
import { serviceKeyModel, type ServiceKeyDoc } from './service-key-model';

/**
 * Service keys look like `wxk_<keyId>_<secret>`: the id finds the record, the secret (32 random
 * bytes) is checked against its SHA-256. A fast hash is right here because the secret has full
 * entropy; nothing is gained by a slow password hash.
 */
const KEY_FORMAT = /^wxk_([0-9a-f]{16})_([A-Za-z0-9_-]{43})$/;
const hashOf = (secret: string) => createHash('sha256').update(secret).digest('hex');

/** Revocation reaches every instance within this many seconds (the positive cache lifetime). */
export const KEY_CACHE_TTL_S = 5;
/**
 * How long a key verified against MongoDB keeps working while MongoDB is unavailable. Used only when
 * MongoDB fails: revocations are broadcast and drop this copy everywhere.
 */
export const KEY_OUTAGE_TTL_S = 600;

/** Whether a credential has the shape of a service key (as opposed to a user session token). */
export const isServiceKeyShaped = (presented: string): boolean => presented.startsWith('wxk_');

export interface CreatedKey {
  keyId: string;
  key: string;
}

export class ServiceKeys {
  readonly model: Model<ServiceKeyDoc>;
  /** What MongoDB said in the last few seconds, misses included: the normal path. */
  private readonly cache = new NodeCache({ stdTTL: KEY_CACHE_TTL_S, useClones: false, checkperiod: 10 });
  /** Live keys seen recently: served only while MongoDB cannot be asked. */
  private readonly lastKnown = new NodeCache({ stdTTL: KEY_OUTAGE_TTL_S, useClones: false, checkperiod: 60 });
  private readonly flight = new SingleFlight<ServiceKeyDoc | null>();
  /**
   * Revocations seen per keyId while reads of it are in flight, so a read that began before one does
   * not cache what it saw. Kept only while such reads run: a generation per keyId ever revoked would
   * grow with every revocation the fleet announces, for the process's life.
   */
  private readonly loading = new Map<string, { gen: number; loads: number }>();

  constructor(
    conn: Connection,
    private readonly o: {
      /** Announces revocations, so every copy (the outage copy included) is dropped at once. */
      bus?: InvalidationBus;
      /** True while MongoDB is known to be in an outage: recently verified keys skip its timeout. */
      mongoDown?: () => boolean;
    } = {},
  ) {
    this.model = serviceKeyModel(conn);
    o.bus?.on('service-key', (m) => {
      if (m.ref) this.forget(m.ref);
    });
  }

  async ensureIndexes(): Promise<void> {
    await this.model.createIndexes();
  }

  async create(appid: string, name: string): Promise<CreatedKey> {
    const keyId = randomBytes(8).toString('hex');
    const secret = randomBytes(32).toString('base64url');
    await this.model.create({ keyId, appid, name, hash: hashOf(secret), createdAt: new Date() });
    return { keyId, key: `wxk_${keyId}_${secret}` };
  }

  async list(appid: string): Promise<ServiceKeyDoc[]> {
    return this.model.find({ appid }).sort({ createdAt: 1 }).lean<ServiceKeyDoc[]>().exec();
  }

  async revoke(appid: string, keyId: string): Promise<boolean> {
    const r = await this.model.updateOne({ appid, keyId, revokedAt: { $exists: false } }, { $set: { revokedAt: new Date() } }).exec();
    this.forget(keyId);
    return r.modifiedCount > 0;
  }

  /** Drops every cached copy of a key (a revocation announced on the bus). */
  forget(keyId: string): void {
    this.cache.del(keyId);
    this.lastKnown.del(keyId);
    this.flight.forget(keyId);
    const l = this.loading.get(keyId);
    if (l) l.gen++;
  }

  /** KeyIds with a read in flight (what `loading` holds; 0 when idle). */
  get loadsInFlight(): number {
    return this.loading.size;
  }

  /**
   * Returns the keyId when `presented` is a live key of `appid`; a key of another tenant is refused.
   * Throws the store's error when MongoDB cannot be asked and the key was not verified recently.
   */
  async verify(appid: string, presented: string): Promise<string | undefined> {
    const m = KEY_FORMAT.exec(presented);
    if (!m) return undefined;
    const [, keyId, secret] = m as unknown as [string, string, string];
    let doc = this.cache.get<ServiceKeyDoc | null>(keyId);
    if (doc === undefined) doc = await this.flight.run(keyId, () => this.load(keyId));
    if (!doc || doc.revokedAt || doc.appid !== appid) return undefined;
    const a = Buffer.from(doc.hash, 'hex');
    const b = Buffer.from(hashOf(secret), 'hex');
    return a.length === b.length && timingSafeEqual(a, b) ? keyId : undefined;
  }

  close(): void {
    this.cache.close();
    this.lastKnown.close();
  }

  private async load(keyId: string): Promise<ServiceKeyDoc | null> {
    let l = this.loading.get(keyId);
    if (!l) this.loading.set(keyId, (l = { gen: 0, loads: 0 }));
    l.loads++;
    try {
      return await this.read(keyId, l);
    } finally {
      if (--l.loads === 0) this.loading.delete(keyId);
    }
  }

  private async read(keyId: string, l: { gen: number }): Promise<ServiceKeyDoc | null> {
    const gen = l.gen;
    if (this.o.mongoDown?.()) {
      const known = this.lastKnown.get<ServiceKeyDoc>(keyId);
      if (known) return known;
    }
    let doc: ServiceKeyDoc | null;
    try {
      doc = await boundedMongo(this.model.findOne({ keyId }).lean<ServiceKeyDoc>().exec());
    } catch (err) {
      const known = unavailableStore(err) === 'mongodb' ? this.lastKnown.get<ServiceKeyDoc>(keyId) : undefined;
      if (!known) throw err;
      // Served from the outage copy for a few seconds before MongoDB is tried again, so callers
      // do not each wait for the store's timeout.
      this.cache.set(keyId, known);
      return known;
    }
    if (l.gen === gen) {
      this.cache.set(keyId, doc ?? null);
      if (doc && !doc.revokedAt) this.lastKnown.set(keyId, doc);
      else this.lastKnown.del(keyId);
    }
    return doc ?? null;
  }
}
