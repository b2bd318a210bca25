import { createHash } from 'node:crypto';
import { AppError, WeChatApiError } from '../kernel/errors';
import { redisKeys } from '../infra/redis-keys';
import type { Clock } from '../kernel/clock';
import type { Logger } from '../kernel/log';
import type { Redis } from '../infra/redis';
import { publishInvalidation } from '../cache/invalidation-bus';
import type { TenantRepository } from '../tenancy/tenant-repository';
import { announceTenantChange } from '../tenancy/tenant-resolver';
import type { Platform } from '../platforms/platform';
import type { Platforms } from '../platforms/platforms';
import type { AuditLog } from '../audit/audit-log';
import { AUTH_CODE_REFUSED } from '../platforms/component-api';

/** Authorization codes live an hour. */
const AUTH_CODE_MEMORY_S = 3600;

export interface AuthorizationDeps {
  platforms: Platforms;
  tenants: TenantRepository;
  redis: Redis;
  clock: Clock;
  log: Logger;
  allowPrivateUrls: boolean;
  audit: AuditLog;
}

/**
 * What happens when a mini program authorizes a platform (the callback, or the `authorized` /
 * `updateauthorized` event, whichever comes first): the code is exchanged, the refresh token is
 * stored durably (MongoDB, sealed) before anything else, then the tenant is created or updated as
 * an authorizer of the platform (no AppSecret) and every gateway is told.
 */
export class Authorizations {
  constructor(private readonly d: AuthorizationDeps) {}

  async exchange(platform: Platform, authorizationCode: string): Promise<{ appid: string; created: boolean }> {
    // WeChat sends the code twice (the admin's browser to the callback, and the `authorized` event);
    // whichever comes second finds it done.
    const doneKey = redisKeys.platformAuthCode(platform.componentAppid, createHash('sha256').update(authorizationCode).digest('hex'));
    const done = await this.d.redis.get(doneKey).catch(() => null);
    if (done) return { appid: done, created: false };
    let info;
    try {
      info = await this.d.platforms.api.queryAuth(platform, authorizationCode);
    } catch (err) {
      if (err instanceof WeChatApiError && AUTH_CODE_REFUSED.has(err.errcode)) {
        throw new AppError(400, 'AUTHORIZATION_FAILED', 'the authorization code is unknown, used or expired; start the authorization again', { details: { errcode: err.errcode } });
      }
      throw err;
    }
    const appid = info.authorizerAppid;
    await this.d.platforms.store.authorize(platform.componentAppid, appid, info.refreshToken, info.funcInfo, new Date(this.d.clock.now()));
    const created = await this.upsertTenant(platform, appid);
    await this.d.redis.set(doneKey, appid, 'EX', AUTH_CODE_MEMORY_S).catch(() => undefined);
    this.d.log.info({ audit: true, componentAppid: platform.componentAppid, appid, created }, 'mini program authorized the platform');
    await this.d.audit.record({ actor: `wechat:${platform.componentAppid}`, action: 'authorizer.authorized', target: { kind: 'authorizer', id: appid }, appid, details: { created } });
    return { appid, created };
  }

  /** `unauthorized`: the authorizer is marked and the tenant disabled, unless a newer authorization happened since the event. */
  async revoke(platform: Platform, appid: string, eventTimeS: number): Promise<void> {
    const rows = await this.d.platforms.store.listAuthorizers(platform.componentAppid);
    const row = rows.find((r) => r.appid === appid);
    if (!row) return;
    // Event times are whole seconds: an authorization in a later second than the event is newer.
    if (Math.floor(row.authorizedAt.getTime() / 1000) > eventTimeS) return;
    await this.d.platforms.store.setStatus(platform.componentAppid, appid, 'unauthorized');
    const tenant = await this.d.tenants.find(appid);
    if (tenant && tenant.credential === 'authorizer' && tenant.component === platform.componentAppid) {
      await this.d.tenants.setStatus(appid, 'disabled');
      await this.announce(appid);
    }
    this.d.log.warn({ audit: true, componentAppid: platform.componentAppid, appid }, 'mini program revoked its authorization: tenant disabled');
    await this.d.audit.record({ actor: `wechat:${platform.componentAppid}`, action: 'authorizer.unauthorized', target: { kind: 'authorizer', id: appid }, appid });
  }

  private async upsertTenant(platform: Platform, appid: string): Promise<boolean> {
    const repo = this.d.tenants;
    const existing = await repo.find(appid);
    // An existing tenant keeps what the operator configured (webhook, rules, pay, ...); only how the
    // gateway authenticates as it changes.
    const file: Record<string, unknown> = {};
    if (existing) for (const k of repo.sections.fieldNames) if (existing[k] !== undefined) file[k] = existing[k];
    delete file.secret;
    delete file.apiBase;
    Object.assign(file, {
      appid,
      name: existing?.name ?? `Mini program ${appid}`,
      credential: 'authorizer',
      component: platform.componentAppid,
      tokenMode: 'authorizer',
      status: 'active',
      ...(platform.apiBase ? { apiBase: platform.apiBase } : {}),
    });
    const def = repo.sections.parse(file, `authorization of ${appid}`, { allowPrivateUrls: this.d.allowPrivateUrls });
    const outcome = await repo.upsert(def);
    if (outcome !== 'unchanged') await this.announce(appid);
    return outcome === 'created';
  }

  private announce(appid: string): Promise<void> {
    return announceTenantChange(this.d.redis, (a) => publishInvalidation(this.d.redis, { kind: 'tenant', appid: a }), appid);
  }
}
