import type { Connection, Model } from 'mongoose';
import { boundedMongo } from '../infra/mongo';
import { tenantModel, type TenantDoc } from './tenant-model';
import type { SecretBox } from './secret-box';
import type { Tenant, TenantDefinition, TenantStatus } from './tenant';
import type { TenantSections } from './tenant-sections';

export type UpsertOutcome = 'created' | 'updated' | 'unchanged';

/** One definition's result in a bulk apply: the decrypted tenant before, and the definition applied. */
export interface AppliedTenant {
  appid: string;
  outcome: UpsertOutcome;
  before: Tenant | null;
  def: TenantDefinition;
}

export interface ApplyManyOptions {
  /** Definitions read, compared and written per round trip (default 1000). */
  batchSize?: number;
  /**
   * Called after each batch is written, with the tenants it created or updated (never the unchanged
   * ones): the caller announces the change to the fleet and records the audit entries there, so a
   * crash mid-way leaves written tenants announced and audited, and a re-run converges.
   */
  afterBatch?(changed: AppliedTenant[]): Promise<void>;
}

const APPLY_BATCH = 1000;

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
   * Every tenant, opened where its sealed values open; the others by appid, name and status only
   * (sealed under a key no longer in SECRETS_KEYS, or tampered), so one bad document does not hide
   * the rest from an operator who has to find and fix it.
   */
  async listForOperators(): Promise<({ readable: true; tenant: Tenant } | { readable: false; appid: string; name: string; status: string })[]> {
    const docs = await boundedMongo(this.model.find({}).sort({ appid: 1 }).lean<TenantDoc[]>().exec());
    return docs.map((d) => {
      try {
        return { readable: true as const, tenant: this.sections.open(this.box, d) };
      } catch {
        return { readable: false as const, appid: d.appid, name: d.name, status: d.status };
      }
    });
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

  /**
   * Applies many definitions (already validated by the caller: validation of every one happens
   * before the first write) with one read and one bulkWrite per batch instead of three round trips
   * per tenant. Idempotent like `upsert`: a definition equal to the stored tenant (compared on
   * decrypted values) is not written. Each changed tenant's secrets are sealed once. MongoDB without
   * transactions gives no all-or-nothing across batches: a crash mid-way leaves some batches written,
   * and running the same apply again converges (written ones are then "unchanged").
   */
  async applyMany(defs: readonly TenantDefinition[], opts: ApplyManyOptions = {}): Promise<AppliedTenant[]> {
    const size = Math.max(1, opts.batchSize ?? APPLY_BATCH);
    const stored = await this.storedOf(defs.map((d) => d.appid));
    const results: AppliedTenant[] = [];
    for (let i = 0; i < defs.length; i += size) {
      const batch = defs.slice(i, i + size);
      const byAppid =
        stored ??
        new Map(
          (
            await this.model
              .find({ appid: { $in: batch.map((d) => d.appid) } })
              .lean<TenantDoc[]>()
              .exec()
          ).map((d) => [d.appid, d]),
        );
      const changed: AppliedTenant[] = [];
      const ops: Parameters<Model<TenantDoc>['bulkWrite']>[0] = [];
      const inserted: { appid: string; sealed: Omit<TenantDoc, 'createdAt' | 'updatedAt'> }[] = [];
      for (const def of batch) {
        const doc = byAppid.get(def.appid);
        const before = doc ? this.open(doc) : null;
        if (before && this.sections.same(before, def)) {
          results.push({ appid: def.appid, outcome: 'unchanged', before, def });
          continue;
        }
        const sealed = this.sections.seal(this.box, def);
        if (before) {
          ops.push({ updateOne: { filter: { appid: def.appid }, update: this.updateOf(def, sealed) } });
        } else {
          // An insert is cheaper than an upsert; one that a concurrent apply beat becomes an update below.
          ops.push({ insertOne: { document: sealed } });
          inserted.push({ appid: def.appid, sealed });
        }
        const r: AppliedTenant = { appid: def.appid, outcome: before ? 'updated' : 'created', before, def };
        changed.push(r);
        results.push(r);
      }
      if (ops.length) await this.bulkWriteAllowingDuplicates(ops, inserted);
      if (changed.length) await opts.afterBatch?.(changed);
    }
    return results;
  }

  /**
   * The stored documents of a bulk apply that covers a good part of the collection, read in one scan
   * (keeping only the wanted ones), or undefined for a small apply, which reads each batch by appid.
   * The in-memory test server answers $in one index lookup at a time; a scan is one pass.
   */
  private async storedOf(appids: string[]): Promise<Map<string, TenantDoc> | undefined> {
    if (appids.length < APPLY_BATCH) return undefined;
    const total = await this.model.estimatedDocumentCount().exec();
    if (appids.length * 4 < total) return undefined;
    const wanted = new Set(appids);
    const out = new Map<string, TenantDoc>();
    for await (const d of this.model.find({}).lean<TenantDoc>().cursor()) {
      if (wanted.has(d.appid)) out.set(d.appid, d);
    }
    return out;
  }

  private updateOf(def: TenantDefinition, sealed: Omit<TenantDoc, 'createdAt' | 'updatedAt'>): Record<string, unknown> {
    // $unset clears optional fields the new definition dropped (only ever for an existing document).
    const unset: Record<string, 1> = {};
    for (const key of this.sections.absentKeys(def)) unset[key] = 1;
    return { $set: sealed, ...(Object.keys(unset).length ? { $unset: unset } : {}) };
  }

  /** Unordered bulk write; inserts refused as duplicates (created meanwhile by another apply) are applied as updates. */
  private async bulkWriteAllowingDuplicates(
    ops: Parameters<Model<TenantDoc>['bulkWrite']>[0],
    inserted: { appid: string; sealed: Omit<TenantDoc, 'createdAt' | 'updatedAt'> }[],
  ): Promise<void> {
    try {
      await this.model.bulkWrite(ops, { ordered: false });
    } catch (err) {
      const writeErrors = (err as { writeErrors?: { code?: number; index?: number; err?: { code?: number; index?: number } }[] }).writeErrors;
      if (!writeErrors?.length) throw err;
      const dupIndexes = writeErrors.map((e) => ({ code: e.code ?? e.err?.code, index: e.index ?? e.err?.index }));
      if (dupIndexes.some((e) => e.code !== 11000)) throw err;
      const dupAppids = new Set(dupIndexes.map((e) => (e.index === undefined ? undefined : (ops[e.index] as { insertOne?: { document: { appid?: string } } }).insertOne?.document.appid)));
      const retry = inserted.filter((x) => dupAppids.has(x.appid));
      if (retry.length !== dupIndexes.length) throw err;
      await this.model.bulkWrite(
        retry.map((x) => ({ updateOne: { filter: { appid: x.appid }, update: { $set: x.sealed } } })),
        { ordered: false },
      );
    }
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
