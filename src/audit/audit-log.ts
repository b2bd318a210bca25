import { Schema, type Connection, type Model } from 'mongoose';
import { boundedMongo } from '../infra/mongo';

/**
 * One change to the gateway's configuration or to a tenant's standing, as an operator reads it
 * later: who ("cli@host", an operator token's name, "wechat:<component>"), what, on which target,
 * and the before/after views. Views are always the masked ones operators see: no secret enters it.
 */
export interface AuditEntry {
  at: Date;
  actor: string;
  /** e.g. "tenant.apply", "tenant.disable", "key.revoke", "merchant.apply", "platform.authorized". */
  action: string;
  target: { kind: 'tenant' | 'key' | 'merchant' | 'platform' | 'authorizer' | 'webhook' | 'secrets'; id: string };
  /** The tenant concerned, when there is one (for `audit <appid>`). */
  appid?: string;
  before?: Record<string, unknown> | null;
  after?: Record<string, unknown> | null;
  details?: Record<string, unknown>;
}

const auditSchema = new Schema<AuditEntry>(
  {
    at: { type: Date, required: true },
    actor: { type: String, required: true },
    action: { type: String, required: true },
    target: { kind: { type: String, required: true }, id: { type: String, required: true } },
    appid: String,
    before: Schema.Types.Mixed,
    after: Schema.Types.Mixed,
    details: Schema.Types.Mixed,
  },
  { collection: 'audit_log', versionKey: false },
);
auditSchema.index({ at: -1 });
auditSchema.index({ appid: 1, at: -1 });

/** The audit log in MongoDB: append-only from the gateway's side; read newest first. */
export class AuditLog {
  private readonly model: Model<AuditEntry>;

  constructor(
    conn: Connection,
    private readonly now: () => number = Date.now,
  ) {
    this.model = (conn.models.AuditEntry as Model<AuditEntry> | undefined) ?? conn.model<AuditEntry>('AuditEntry', auditSchema);
  }

  async ensureIndexes(): Promise<void> {
    await this.model.createIndexes();
  }

  async record(e: Omit<AuditEntry, 'at'>): Promise<void> {
    await boundedMongo(this.model.create({ ...e, at: new Date(this.now()) }));
  }

  /**
   * Many entries in one round trip per 1000 (a bulk apply of 100 000 tenants would otherwise make
   * 100 000 inserts). Entries are already shaped by the caller: lean, no per-document validation.
   */
  async recordMany(entries: readonly Omit<AuditEntry, 'at'>[]): Promise<void> {
    const at = new Date(this.now());
    for (let i = 0; i < entries.length; i += 1000) {
      const docs = entries.slice(i, i + 1000).map((e) => ({ ...e, at }));
      await this.model.insertMany(docs, { lean: true, ordered: false });
    }
  }

  async list(q: { appid?: string; limit?: number; before?: Date } = {}): Promise<AuditEntry[]> {
    const filter: Record<string, unknown> = {};
    if (q.appid) filter.appid = q.appid;
    if (q.before) filter.at = { $lt: q.before };
    const docs = await boundedMongo(
      this.model
        .find(filter, { _id: 0 })
        .sort({ at: -1 })
        .limit(Math.min(Math.max(q.limit ?? 50, 1), 500))
        .lean<AuditEntry[]>()
        .exec(),
    );
    return docs.map((d) => ({ ...d, at: new Date(d.at) }));
  }
}
