import { createHash } from 'node:crypto';
import { AppError, WeChatApiError } from '../kernel/errors';
import type { Logger } from '../kernel/log';
import { redisKeys } from '../infra/redis-keys';
import type { Tenant } from '../tenancy/tenant';
import type { AccessTokenSource, FetchedToken } from '../token/access-token-source';
import type { LoginCredentials } from '../contracts/access-tokens';
import { COMPONENT_CODE2SESSION_API, REFRESH_TOKEN_INVALID, type ComponentApi } from './component-api';
import type { PlatformDirectory } from './platform-directory';
import type { PlatformStore } from './platform-store';

export interface AuthorizerDeps {
  api: ComponentApi;
  platforms: PlatformDirectory;
  store: PlatformStore;
  log: Logger;
  /** A refresh token was refused (61023): counted and alerted on. */
  onReauthorizationRequired?(componentAppid: string, appid: string): void;
}

/** The tenant's platform, or the error its calls get when the platform is gone. */
async function platformOf(d: AuthorizerDeps, tenant: Tenant) {
  const componentAppid = tenant.component;
  const platform = componentAppid ? await d.platforms.find(componentAppid) : null;
  if (!platform) throw new AppError(404, 'PLATFORM_NOT_FOUND', `the platform ${componentAppid ?? '?'} of ${tenant.appid} is not applied`);
  return platform;
}

/** The fleet key of an authorizer's access token (it does not change with the refresh token, which rotates). */
export function authorizerTokenKey(componentAppid: string, appid: string): string {
  return redisKeys.token(appid, createHash('sha256').update(`authorizer:${componentAppid}`).digest('hex').slice(0, 16));
}

export const reauthorizationRequired = (appid: string, componentAppid: string) =>
  new AppError(
    403,
    'REAUTHORIZATION_REQUIRED',
    `${appid} must authorize platform ${componentAppid} again (its refresh token was refused), or run: npm run tenants -- platforms sync ${componentAppid}`,
  );

/**
 * An authorizer's access token, from the refresh token stored in MongoDB. A refresh token WeChat
 * returns is saved before the new access token is handed out, so a crash in between cannot leave
 * the fleet holding only a dead refresh token. A refused refresh token (61023) is not retried: the
 * authorizer is marked `reauthorization_required` and its calls get 403 until it is restored.
 */
export function authorizerTokenSource(d: AuthorizerDeps, tenant: Tenant): AccessTokenSource {
  const componentAppid = tenant.component ?? '';
  return {
    key: authorizerTokenKey(componentAppid, tenant.appid),
    owner: tenant.appid,
    kind: 'authorizer',
    async fetch(): Promise<FetchedToken> {
      const platform = await platformOf(d, tenant);
      const auth = await d.store.authorizer(componentAppid, tenant.appid);
      if (!auth || auth.status === 'unauthorized') throw new AppError(403, 'REAUTHORIZATION_REQUIRED', `${tenant.appid} has not authorized platform ${componentAppid}`);
      if (auth.status === 'reauthorization_required') throw reauthorizationRequired(tenant.appid, componentAppid);
      let r;
      try {
        r = await d.api.authorizerToken(platform, tenant.appid, auth.refreshToken);
      } catch (err) {
        if (err instanceof WeChatApiError && err.errcode === REFRESH_TOKEN_INVALID) {
          if (await d.store.setStatus(componentAppid, tenant.appid, 'reauthorization_required')) {
            d.log.warn({ audit: true, componentAppid, appid: tenant.appid, errcode: err.errcode, rid: err.rid }, 'authorizer refresh token refused: reauthorization required');
            d.onReauthorizationRequired?.(componentAppid, tenant.appid);
          }
          throw reauthorizationRequired(tenant.appid, componentAppid);
        }
        throw err;
      }
      if (r.refreshToken !== auth.refreshToken) await d.store.rotateRefreshToken(componentAppid, tenant.appid, auth.refreshToken, r.refreshToken);
      return { accessToken: r.accessToken, expiresIn: r.expiresIn };
    },
  };
}

/** Users of an authorized mini program log in through the component: `/sns/component/jscode2session` with the component token. */
export async function authorizerLogin(d: AuthorizerDeps, tenant: Tenant): Promise<LoginCredentials> {
  const platform = await platformOf(d, tenant);
  return {
    api: COMPONENT_CODE2SESSION_API,
    query: { appid: tenant.appid, component_appid: platform.componentAppid, component_access_token: await d.api.componentToken(platform) },
  };
}
