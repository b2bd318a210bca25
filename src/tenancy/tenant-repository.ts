import type { Connection, Model } from 'mongoose';
import { boundedMongo } from '../infra/mongo';
import { tenantModel, type TenantDoc } from './tenant-model';
import type { SecretBox } from './secret-box';
import type { Tenant, TenantDefinition, TenantStatus } from './tenant';
import type { TenantSections } from './tenant-sections';

export type UpsertOutcome = 'created' | 'updated' | 'unchanged';

/** MongoDB access for tenants. Everything it returns is decrypted; everything it stores is sealed. */
export class TenantRepository {
  readonly model: Model<TenantDoc>;

  constructor(
    conn: Connection,
    private readonly box: SecretBox,
    readonly sections: TenantSections,
  ) {
    this.model = tenantModel(conn);
  }

  async ensureIndexes(): Promise<void> {
    await this.model.createIndexes();
  }

  /** Bounded: the resolver calls it on the request path. */
  async findDoc(appid: string): Promise<TenantDoc | null> {
    return boundedMongo(this.model.findOne({ appid }).lean<TenantDoc>().exec());
  }

  async find(appid: string): Promise<Tenant | null> {
    const d = await this.findDoc(appid);
    return d ? this.sections.open(this.box, d) : null;
  }

  open(doc: TenantDoc): Tenant {
    return this.sections.open(this.box, doc);
  }

  async list(): Promise<Tenant[]> {
    const docs = await boundedMongo(this.model.find({}).sort({ appid: 1 }).lean<TenantDoc[]>().exec());
    return docs.map((d) => this.sections.open(this.box, d));
  }

  /**
   * Idempotent: applying the same definition twice writes nothing the second time (ciphertexts use
   * random IVs, so "unchanged" is decided on the decrypted values).
   */
  async upsert(def: TenantDefinition): Promise<UpsertOutcome> {
    const existing = await this.find(def.appid);
    if (existing && this.sections.same(existing, def)) return 'unchanged';
    const sealed = this.sections.seal(this.box, def);
    if (!existing) {
      try {
        await this.model.create(sealed);
        return 'created';
      } catch (err) {
        // Another apply created it a moment ago: update it like any existing tenant.
        if ((err as { code?: number }).code !== 11000) throw err;
      }
    }
    // $unset clears optional fields the new definition dropped. It is only ever sent for an
    // existing document: the in-memory test server fails on $unset in an upsert that inserts.
    const unset: Record<string, 1> = {};
    for (const key of this.sections.absentKeys(def)) unset[key] = 1;
    await this.model.updateOne({ appid: def.appid }, { $set: sealed, ...(Object.keys(unset).length ? { $unset: unset } : {}) }).exec();
    return existing ? 'updated' : 'created';
  }

  async setStatus(appid: string, status: TenantStatus): Promise<boolean> {
    const r = await this.model.updateOne({ appid }, { $set: { status } }).exec();
    return r.matchedCount > 0;
  }

  async remove(appid: string): Promise<boolean> {
    const r = await this.model.deleteOne({ appid }).exec();
    return r.deletedCount > 0;
  }
}
