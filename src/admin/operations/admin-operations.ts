import type { Connection } from 'mongoose';
import type { Redis } from '../../infra/redis';
import { AppError } from '../../kernel/errors';
import type { AuditLog } from '../../audit/audit-log';
import type { SecretBox } from '../../tenancy/secret-box';
import type { TenantRepository, UpsertOutcome } from '../../tenancy/tenant-repository';
import { APPID_PATTERN, type TenantDefinition, type TenantStatus } from '../../tenancy/tenant';
import type { TenantDoc } from '../../tenancy/tenant-model';
import type { TenantSections } from '../../tenancy/tenant-sections';
import { ServiceKeys } from '../../auth/service-keys';
import { endUserSessions } from '../../auth/session-store';
import { WebhookAdmin, type DeadLetter, type WebhookStatus } from '../../delivery/webhook-admin';
import { maskMerchant, MCHID, type Merchant } from '../../merchants/merchant';
import { MerchantRepository } from '../../merchants/merchant-repository';

/**
 * What the operator operations work with: the stores, and how to tell running gateways about a
 * change. The tenants CLI and the gateway (for the /admin API) each provide one.
 */
export interface OperatorStores {
  mongo: Connection;
  redis: Redis;
  repo: TenantRepository;
  box: SecretBox;
  audit: AuditLog;
  /** Number of webhook delivery shards (DELIVERY_SHARDS); the default when absent. */
  deliveryShards?: number;
  /** Drops every gateway's cached copy of the tenant. */
  announce(appid: string): Promise<void>;
  /** The same for many tenants (a bulk apply): batched commands, one message per chunk. */
  announceMany(appids: readonly string[]): Promise<void>;
  /** Drops every gateway's cached copies of a revoked service key. */
  announceKeyRevocation(appid: string, keyId: string): Promise<void>;
  /** Drops every gateway's cached copy of a merchant. */
  announceMerchant(mchid: string): Promise<void>;
}

export interface TenantPageQuery {
  limit: number;
  /** Opaque: the `nextCursor` of the previous page. */
  cursor?: string;
  /** A substring of the appid or (any case) of the name. */
  q?: string;
  status?: TenantStatus;
}

export interface AppliedTenant {
  appid: string;
  name: string;
  status: TenantStatus;
  action: UpsertOutcome;
}

export interface AppliedMerchant {
  mchid: string;
  name: string;
  verification: string;
  action: 'created' | 'updated' | 'unchanged';
}

export interface KeyView {
  id: string;
  name: string;
  createdAt: string;
  revokedAt: string | null;
}

/** A masked tenant, or what is known of one whose sealed values no longer open (wrong key, tampered). */
export type MaskedTenant = Record<string, unknown>;

const KEY_ID = /^[0-9a-f]{16}$/;
/** WeChat openids are 28 characters of this alphabet; anything else has no sessions. */
const OPENID = /^[A-Za-z0-9_-]{1,64}$/;

/**
 * Every operator operation, once: the tenants CLI and the /admin HTTP API both call these, so the
 * same request gives the same stored result and the same error codes through either. Each change
 * is made on behalf of an actor (`cli@host`, `admin:alice`) and written to the audit log with
 * masked before/after views. Failures are AppErrors from the catalogue; the CLI prints them as
 * `error: [CODE] message`, the API answers them through the one error handler.
 */
export class AdminOperations {
  private keysStore: ServiceKeys | undefined;
  private readonly ownsKeys: boolean;
  private readonly webhooks: WebhookAdmin;
  private merchantRepo: MerchantRepository | undefined;

  constructor(
    private readonly s: OperatorStores,
    /** The gateway's own ServiceKeys (so its caches drop a revoked key at once); the CLI gets a private one. */
    keys?: ServiceKeys,
  ) {
    this.keysStore = keys;
    this.ownsKeys = keys === undefined;
    this.webhooks = new WebhookAdmin(s.redis, s.deliveryShards);
  }

  /** The tenant sections definitions are validated against. */
  get sections(): TenantSections {
    return this.s.repo.sections;
  }

  close(): void {
    if (this.ownsKeys) this.keysStore?.close();
  }

  // ---- tenants ----------------------------------------------------------------------------------

  /** A page of tenants in appid order, masked; `nextCursor` is null on the last page. */
  async listTenants(p: TenantPageQuery): Promise<{ tenants: MaskedTenant[]; nextCursor: string | null }> {
    const filter: Record<string, unknown> = {};
    if (p.status) filter.status = p.status;
    if (p.cursor !== undefined) filter.appid = { $gt: decodeCursor(p.cursor) };
    if (p.q) {
      const re = p.q.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
      filter.$or = [{ appid: { $regex: re } }, { name: { $regex: re, $options: 'i' } }];
    }
    const docs = await this.s.repo.model
      .find(filter)
      .sort({ appid: 1 })
      .limit(p.limit + 1)
      .lean<TenantDoc[]>()
      .exec();
    const page = docs.slice(0, p.limit);
    return {
      tenants: page.map((d) => this.maskDoc(d)),
      nextCursor: docs.length > p.limit && page.length ? encodeCursor(page[page.length - 1]!.appid) : null,
    };
  }

  /** Every tenant, masked (the CLI's `list`). */
  async allTenants(): Promise<MaskedTenant[]> {
    const docs = await this.s.repo.model.find({}).sort({ appid: 1 }).lean<TenantDoc[]>().exec();
    return docs.map((d) => this.maskDoc(d));
  }

  /** One tenant, masked; 409 TENANT_UNREADABLE when its secrets do not open (lists show it flagged instead). */
  async getTenant(appid: string): Promise<MaskedTenant> {
    const d = await this.requireTenantDoc(appid);
    try {
      return this.s.repo.sections.mask(this.s.repo.open(d));
    } catch (err) {
      // SecretBox's message names the field and the key id, never a value.
      throw new AppError(409, 'TENANT_UNREADABLE', `${err instanceof Error ? err.message : 'cannot decrypt'}; apply the tenant file again or remove the tenant`);
    }
  }

  /**
   * Creates or updates each (already validated) definition; idempotent (an unchanged one writes
   * nothing and is not audited). Validation happens before, for all of them (validateDefinitions):
   * nothing is written when one is bad.
   */
  async applyTenants(actor: string, defs: readonly TenantDefinition[]): Promise<AppliedTenant[]> {
    const now = new Date();
    // Bulk: one read and one write per batch, each batch announced and audited once written, so a
    // crash mid-way leaves whole batches that a re-run of the same apply then finds unchanged.
    const results = await this.s.repo.applyMany(defs, {
      afterBatch: async (changed) => {
        await this.s.announceMany(changed.map((c) => c.appid));
        await this.s.audit.recordMany(
          changed.map((c) => ({
            actor,
            action: 'tenant.apply',
            target: { kind: 'tenant', id: c.appid },
            appid: c.appid,
            before: c.before ? this.s.repo.sections.mask(c.before) : null,
            after: this.s.repo.sections.mask({ ...c.def, createdAt: c.before?.createdAt ?? now, updatedAt: now }),
            details: { outcome: c.outcome },
          })),
        );
      },
    });
    return results.map((r) => ({ appid: r.appid, name: r.def.name, status: r.def.status, action: r.outcome }));
  }

  async setTenantStatus(actor: string, appid: string, status: TenantStatus): Promise<MaskedTenant> {
    checkAppid(appid);
    if (!(await this.s.repo.setStatus(appid, status))) throw tenantNotFound(appid);
    await this.s.announce(appid);
    await this.s.audit.record({ actor, action: status === 'active' ? 'tenant.enable' : 'tenant.disable', target: { kind: 'tenant', id: appid }, appid });
    return this.getTenant(appid);
  }

  /** Deletes the tenant (its users, keys and queued deliveries are kept; see the operating guide). */
  async removeTenant(actor: string, appid: string): Promise<string> {
    checkAppid(appid);
    // A tenant whose sealed values no longer open (wrong key, tampered) must still be removable.
    const before = await this.s.repo.find(appid).then(
      (t) => (t ? this.s.repo.sections.mask(t) : null),
      () => ({ unreadable: true }),
    );
    if (!(await this.s.repo.remove(appid))) throw tenantNotFound(appid);
    await this.s.announce(appid);
    await this.s.audit.record({ actor, action: 'tenant.remove', target: { kind: 'tenant', id: appid }, appid, before, after: null });
    return appid;
  }

  // ---- service keys -----------------------------------------------------------------------------

  /** A tenant's keys, revoked ones included (a removed tenant's leftover keys too, so they can be revoked). */
  async listKeys(appid: string): Promise<KeyView[]> {
    checkAppid(appid);
    const list = await (await this.keys()).list(appid);
    return list.map((k) => ({ id: k.keyId, name: k.name, createdAt: k.createdAt.toISOString(), revokedAt: k.revokedAt ? k.revokedAt.toISOString() : null }));
  }

  /** Creates a key; its secret is in the answer only, stored as a hash. */
  async createKey(actor: string, appid: string, name: string): Promise<{ key: KeyView; secret: string }> {
    await this.requireTenantDoc(appid);
    const label = name.trim();
    if (!label || label.length > 100) throw new AppError(400, 'INVALID_BODY', 'name: 1 to 100 characters');
    const created = await (await this.keys()).create(appid, label);
    await this.s.audit.record({ actor, action: 'key.create', target: { kind: 'key', id: created.keyId }, appid, details: { name: label } });
    return { key: { id: created.keyId, name: label, createdAt: new Date().toISOString(), revokedAt: null }, secret: created.key };
  }

  /**
   * Revokes an active key. `announced` is false when running gateways could not be told at once
   * (they then refuse the key within KEY_CACHE_TTL_S while MongoDB is up).
   */
  async revokeKey(actor: string, appid: string, keyId: string): Promise<{ revoked: string; announced: boolean }> {
    checkAppid(appid);
    if (!KEY_ID.test(keyId) || !(await (await this.keys()).revoke(appid, keyId))) throw new AppError(404, 'KEY_NOT_FOUND', `no active key ${safeId(keyId)} for ${appid}`);
    await this.s.audit.record({ actor, action: 'key.revoke', target: { kind: 'key', id: keyId }, appid });
    let announced = true;
    try {
      // Gateways drop their copies at once, including the one they would serve during a MongoDB outage.
      await this.s.announceKeyRevocation(appid, keyId);
    } catch {
      announced = false;
    }
    return { revoked: keyId, announced };
  }

  // ---- webhook deliveries -----------------------------------------------------------------------

  async webhookStatus(appid: string): Promise<WebhookStatus> {
    await this.requireTenantDoc(appid);
    return this.webhooks.status(appid);
  }

  async deadLetters(appid: string, limit: number): Promise<DeadLetter[]> {
    await this.requireTenantDoc(appid);
    return this.webhooks.dead(appid, limit);
  }

  /** Moves dead letters (all, or those ids) back to the delivery queue; returns how many moved. */
  async redeliver(actor: string, appid: string, ids: readonly string[] | 'all'): Promise<number> {
    await this.requireTenantDoc(appid);
    const n = await this.webhooks.redeliver(appid, ids === 'all' ? 'all' : [...ids]);
    await this.s.audit.record({ actor, action: 'webhook.redeliver', target: { kind: 'webhook', id: appid }, appid, details: { count: n, ...(ids === 'all' ? { all: true } : {}) } });
    return n;
  }

  // ---- users ------------------------------------------------------------------------------------

  /** Ends every session of one user of the tenant; returns how many there were. */
  async revokeUserSessions(actor: string, appid: string, openid: string): Promise<number> {
    await this.requireTenantDoc(appid);
    if (!OPENID.test(openid)) throw new AppError(400, 'INVALID_OPENID', 'openid: 1 to 64 characters of A-Z, a-z, 0-9, _ and -');
    const n = await endUserSessions(this.s.redis, { appid, openid });
    await this.s.audit.record({ actor, action: 'user.sessions_revoke', target: { kind: 'tenant', id: appid }, appid, details: { openid, count: n } });
    return n;
  }

  // ---- merchants --------------------------------------------------------------------------------

  async listMerchants(): Promise<Record<string, unknown>[]> {
    return (await (await this.merchants()).list()).map(maskMerchant);
  }

  /** One merchant, masked, with the tenants whose `pay` names it. */
  async getMerchant(mchid: string): Promise<Record<string, unknown>> {
    checkMchid(mchid);
    const m = await (await this.merchants()).find(mchid);
    if (!m) throw merchantNotFound(mchid);
    const users = await this.s.repo.model.find({ 'pay.mchid': mchid }, { appid: 1 }).lean<{ appid: string }[]>().exec();
    return { ...maskMerchant(m), tenants: users.map((u) => u.appid).sort() };
  }

  async applyMerchants(actor: string, defs: readonly Merchant[]): Promise<AppliedMerchant[]> {
    const repo = await this.merchants();
    const out: AppliedMerchant[] = [];
    for (const m of defs) {
      const before = await repo.find(m.mchid);
      const outcome = await repo.upsert(m);
      if (outcome !== 'unchanged') {
        await this.s.audit.record({
          actor,
          action: 'merchant.apply',
          target: { kind: 'merchant', id: m.mchid },
          before: before ? maskMerchant(before) : null,
          after: maskMerchant(m),
          details: { outcome },
        });
        await this.s.announceMerchant(m.mchid);
      }
      out.push({ mchid: m.mchid, name: m.name, verification: m.publicKeyId ? 'public-key' : 'certificates', action: outcome });
    }
    return out;
  }

  /** Deletes a merchant; refused (409 MERCHANT_IN_USE) while a tenant's `pay` names it, unless forced. */
  async removeMerchant(actor: string, mchid: string, force: boolean): Promise<string> {
    checkMchid(mchid);
    const repo = await this.merchants();
    const users = await this.s.repo.model.countDocuments({ 'pay.mchid': mchid }).exec();
    if (users > 0 && !force) throw new AppError(409, 'MERCHANT_IN_USE', `merchant ${mchid} is used by ${users} tenant(s); remove their "pay" first, or force`);
    // One whose sealed values no longer open (wrong key, tampered) must still be removable.
    const before = await repo.find(mchid).then(
      (x) => (x ? maskMerchant(x) : null),
      () => ({ unreadable: true }),
    );
    if (!(await repo.remove(mchid))) throw merchantNotFound(mchid);
    await this.s.audit.record({ actor, action: 'merchant.remove', target: { kind: 'merchant', id: mchid }, before, after: null, details: { forced: users > 0 } });
    await this.s.announceMerchant(mchid);
    return mchid;
  }

  // ---- helpers ----------------------------------------------------------------------------------

  private async requireTenantDoc(appid: string): Promise<TenantDoc> {
    checkAppid(appid);
    const d = await this.s.repo.findDoc(appid);
    if (!d) throw tenantNotFound(appid);
    return d;
  }

  private maskDoc(d: TenantDoc): MaskedTenant {
    try {
      return this.s.repo.sections.mask(this.s.repo.open(d));
    } catch {
      // Its sealed values do not open under SECRETS_KEY: show what is plain, so it can be found and removed.
      return { appid: d.appid, name: d.name, status: d.status, unreadable: true };
    }
  }

  private async keys(): Promise<ServiceKeys> {
    if (!this.keysStore) {
      this.keysStore = new ServiceKeys(this.s.mongo);
      await this.keysStore.ensureIndexes();
    }
    return this.keysStore;
  }

  private async merchants(): Promise<MerchantRepository> {
    if (!this.merchantRepo) {
      this.merchantRepo = new MerchantRepository(this.s.mongo, this.s.box);
      await this.merchantRepo.ensureIndexes();
    }
    return this.merchantRepo;
  }
}

export function checkAppid(appid: string): void {
  if (!APPID_PATTERN.test(appid)) throw new AppError(400, 'INVALID_APPID', `invalid appid ${safeId(appid)}: expected "wx" followed by 16 lowercase hex digits`);
}

function checkMchid(mchid: string): void {
  if (!MCHID.test(mchid)) throw new AppError(404, 'MERCHANT_NOT_FOUND', `no merchant ${safeId(mchid)} (a mchid is 6 to 16 digits)`);
}

function tenantNotFound(appid: string): AppError {
  return new AppError(404, 'TENANT_NOT_FOUND', `no tenant ${appid}`);
}

function merchantNotFound(mchid: string): AppError {
  return new AppError(404, 'MERCHANT_NOT_FOUND', `no merchant ${mchid}`);
}

/** An identifier as quoted back in a message: JSON-quoted and cut short (it came from the caller). */
function safeId(id: string): string {
  return JSON.stringify(id.length > 40 ? id.slice(0, 40) + '…' : id);
}

function encodeCursor(appid: string): string {
  return Buffer.from(appid, 'utf8').toString('base64url');
}

function decodeCursor(cursor: string): string {
  const appid = /^[A-Za-z0-9_-]{1,64}$/.test(cursor) ? Buffer.from(cursor, 'base64url').toString('utf8') : '';
  if (!APPID_PATTERN.test(appid)) throw new AppError(400, 'INVALID_QUERY', 'cursor: not a cursor this API gave out');
  return appid;
}
