import { createHash } from 'node:crypto';
import { AppError, WeChatApiError } from '../../kernel/errors';
import { redisKeys } from '../../infra/redis-keys';
import { WeChatTransportError, assertOk, type WeChatHttp, type WeChatResponse } from '../../transport/wechat-http';
import { TENANT_MISCONFIGURED } from '../../transport/errcodes';
import { answeredBusy, retryWhileBusy } from '../../transport/busy-retry';
import type { Cooldowns } from '../../transport/cooldowns';
import type { AccessTokenSource, FetchedToken } from '../access-token-source';

export const STABLE_TOKEN_API = '/cgi-bin/stable_token';
export const CLASSIC_TOKEN_API = '/cgi-bin/token';

/** A mini program that holds its own AppSecret: what a token source needs to know of it. */
export interface AppCredential {
  appid: string;
  secret: string;
  /** Override of the default WeChat API base. */
  apiBase?: string;
}

export interface AppSecretSourceDeps {
  http: WeChatHttp;
  cooldowns: Cooldowns;
  defaultApiBase: string;
  sleep: (ms: number) => Promise<void>;
}

/**
 * The fleet key of an AppSecret token: includes a hash of mode and secret, so rotating the secret
 * (or switching modes) retires the old token instead of serving it.
 */
export function appSecretTokenKey(appid: string, secret: string, mode: string): string {
  return redisKeys.token(appid, createHash('sha256').update(`${mode}:${secret}`).digest('hex').slice(0, 16));
}

/**
 * `/cgi-bin/stable_token`, in normal mode only: force_refresh would kill the token every other
 * system of the tenant is using.
 */
export function stableTokenSource(deps: AppSecretSourceDeps, app: AppCredential): AccessTokenSource {
  return appSecretSource(deps, app, 'stable', STABLE_TOKEN_API, (base) =>
    deps.http.send({
      baseUrl: base,
      method: 'POST',
      path: STABLE_TOKEN_API,
      body: { grant_type: 'client_credential', appid: app.appid, secret: app.secret, force_refresh: false },
    }),
  );
}

/** `/cgi-bin/token`: every call issues a new token and retires the previous one within minutes. */
export function classicTokenSource(deps: AppSecretSourceDeps, app: AppCredential): AccessTokenSource {
  return appSecretSource(deps, app, 'classic', CLASSIC_TOKEN_API, (base) =>
    deps.http.send({
      baseUrl: base,
      method: 'GET',
      path: CLASSIC_TOKEN_API,
      query: { grant_type: 'client_credential', appid: app.appid, secret: app.secret },
    }),
  );
}

function appSecretSource(deps: AppSecretSourceDeps, app: AppCredential, kind: string, api: string, request: (apiBase: string) => Promise<WeChatResponse>): AccessTokenSource {
  return {
    key: appSecretTokenKey(app.appid, app.secret, kind),
    owner: app.appid,
    kind,
    async fetch(): Promise<FetchedToken> {
      deps.cooldowns.check(app.appid, api);
      try {
        const res = await retryWhileBusy(() => request(app.apiBase ?? deps.defaultApiBase), answeredBusy, deps.sleep);
        return tokenFrom(api, res);
      } catch (err) {
        if (err instanceof WeChatApiError) throw explain(deps.cooldowns, app.appid, api, err);
        if (err instanceof WeChatTransportError) {
          throw new AppError(502, 'WECHAT_UNAVAILABLE', `cannot reach WeChat for ${app.appid}'s access token`, { cause: err });
        }
        throw err;
      }
    },
  };
}

/** Checks a token endpoint's answer; shared by every source that speaks WeChat's token JSON. */
export function tokenFrom(api: string, res: WeChatResponse): FetchedToken {
  if (res.kind !== 'json') {
    res.stream.resume();
    throw new WeChatTransportError(api, 'token endpoint answered with a non-JSON body');
  }
  assertOk(api, res.data);
  const { access_token: accessToken, expires_in: expiresIn } = res.data;
  if (typeof accessToken !== 'string' || typeof expiresIn !== 'number' || expiresIn <= 0) {
    throw new WeChatTransportError(api, 'token endpoint answered without access_token/expires_in');
  }
  return { accessToken, expiresIn };
}

function explain(cooldowns: Cooldowns, appid: string, api: string, err: WeChatApiError): AppError {
  // On the token API itself, 40001 means the secret is wrong, not that a token went stale.
  const reason = TENANT_MISCONFIGURED.get(err.errcode) ?? (err.errcode === 40001 ? 'invalid AppSecret' : undefined);
  if (reason) {
    return new AppError(502, 'TENANT_MISCONFIGURED', `tenant ${appid} is misconfigured: ${reason} (errcode ${err.errcode}); fix the tenant file and apply it`, {
      details: { errcode: err.errcode, ...(err.rid ? { rid: err.rid } : {}) },
      cause: err,
    });
  }
  if (err.errcode === 45009 || err.errcode === 45011) return cooldowns.start(appid, api, err.errcode);
  return new AppError(502, 'WECHAT_API_ERROR', `WeChat refused ${appid}'s access token (errcode ${err.errcode})`, {
    details: { errcode: err.errcode, ...(err.rid ? { rid: err.rid } : {}) },
    cause: err,
  });
}

/** A tenant as an AppSecret credential; a tenant without a secret cannot have an AppSecret token mode. */
export function appCredentialOf(t: { appid: string; secret?: string; apiBase?: string }): AppCredential {
  if (t.secret === undefined) throw new AppError(500, 'INTERNAL', `tenant ${t.appid} has an AppSecret token mode but no secret`);
  return { appid: t.appid, secret: t.secret, ...(t.apiBase !== undefined ? { apiBase: t.apiBase } : {}) };
}

/** The two AppSecret token modes, by the tenant's `tokenMode`. */
export function appSecretSources(deps: AppSecretSourceDeps): Record<'stable' | 'classic', (t: { appid: string; secret?: string; apiBase?: string }) => AccessTokenSource> {
  return {
    stable: (t) => stableTokenSource(deps, appCredentialOf(t)),
    classic: (t) => classicTokenSource(deps, appCredentialOf(t)),
  };
}
