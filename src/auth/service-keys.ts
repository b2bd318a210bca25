import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import NodeCache from 'node-cache';
import type { Connection, Model } from 'mongoose';
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

/** Whether a credential has the shape of a service key (as opposed to a user session token). */
export const isServiceKeyShaped = (presented: string): boolean => presented.startsWith('wxk_');

export interface CreatedKey {
  keyId: string;
  key: string;
}

export class ServiceKeys {
  readonly model: Model<ServiceKeyDoc>;
  private readonly cache = new NodeCache({ stdTTL: KEY_CACHE_TTL_S, useClones: false, checkperiod: 10 });

  constructor(conn: Connection) {
    this.model = serviceKeyModel(conn);
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
    return r.modifiedCount > 0;
  }

  /** Returns the keyId when `presented` is a live key of `appid`; a key of another tenant is refused. */
  async verify(appid: string, presented: string): Promise<string | undefined> {
    const m = KEY_FORMAT.exec(presented);
    if (!m) return undefined;
    const [, keyId, secret] = m as unknown as [string, string, string];
    let doc = this.cache.get<ServiceKeyDoc | null>(keyId);
    if (doc === undefined) {
      doc = await this.model.findOne({ keyId }).lean<ServiceKeyDoc>().exec();
      this.cache.set(keyId, doc ?? null);
    }
    if (!doc || doc.revokedAt || doc.appid !== appid) return undefined;
    const a = Buffer.from(doc.hash, 'hex');
    const b = Buffer.from(hashOf(secret), 'hex');
    return a.length === b.length && timingSafeEqual(a, b) ? keyId : undefined;
  }

  close(): void {
    this.cache.close();
  }
}
