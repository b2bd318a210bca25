import { AppError, WeChatApiError } from '../kernel/errors';
import type { Tenant } from '../tenancy/tenant';
import { WeChatTransportError, assertOk, type WeChatHttp, type WeChatResponse } from '../transport/wechat-http';
import { TENANT_MISCONFIGURED } from '../transport/errcodes';
import { answeredBusy, retryWhileBusy } from '../transport/busy-retry';
import type { Cooldowns } from '../transport/cooldowns';

export interface FetchedToken {
  accessToken: string;
  expiresIn: number;
}

export const STABLE_TOKEN_API = '/cgi-bin/stable_token';
export const CLASSIC_TOKEN_API = '/cgi-bin/token';

/**
 * The only code that asks WeChat for an access token. stable_token is called in normal mode only:
 * force_refresh would kill the token every other system of the tenant is using.
 */
export class TokenFetcher {
  constructor(
    private readonly http: WeChatHttp,
    private readonly defaultApiBase: string,
    private readonly cooldowns: Cooldowns,
    private readonly sleep: (ms: number) => Promise<void>,
  ) {}

  async fetch(tenant: Tenant): Promise<FetchedToken> {
    const api = tenant.tokenMode === 'classic' ? CLASSIC_TOKEN_API : STABLE_TOKEN_API;
    this.cooldowns.check(tenant.appid, api);
    try {
      const res = await retryWhileBusy(() => this.request(tenant, api), answeredBusy, this.sleep);
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
    } catch (err) {
      if (err instanceof WeChatApiError) throw this.explain(tenant, api, err);
      if (err instanceof WeChatTransportError) {
        throw new AppError(502, 'WECHAT_UNAVAILABLE', `cannot reach WeChat for ${tenant.appid}'s access token`, { cause: err });
      }
      throw err;
    }
  }

  private request(tenant: Tenant, api: string): Promise<WeChatResponse> {
    const base = tenant.apiBase ?? this.defaultApiBase;
    return api === STABLE_TOKEN_API
      ? this.http.send({
          baseUrl: base,
          method: 'POST',
          path: api,
          body: { grant_type: 'client_credential', appid: tenant.appid, secret: tenant.secret, force_refresh: false },
        })
      : this.http.send({
          baseUrl: base,
          method: 'GET',
          path: api,
          query: { grant_type: 'client_credential', appid: tenant.appid, secret: tenant.secret },
        });
  }

  private explain(tenant: Tenant, api: string, err: WeChatApiError): AppError {
    // On the token API itself, 40001 means the secret is wrong, not that a token went stale.
    const reason = TENANT_MISCONFIGURED.get(err.errcode) ?? (err.errcode === 40001 ? 'invalid AppSecret' : undefined);
    if (reason) {
      return new AppError(502, 'TENANT_MISCONFIGURED', `tenant ${tenant.appid} is misconfigured: ${reason} (errcode ${err.errcode}); fix the tenant file and apply it`, {
        details: { errcode: err.errcode, ...(err.rid ? { rid: err.rid } : {}) },
        cause: err,
      });
    }
    if (err.errcode === 45009 || err.errcode === 45011) return this.cooldowns.start(tenant.appid, api, err.errcode);
    return new AppError(502, 'WECHAT_API_ERROR', `WeChat refused ${tenant.appid}'s access token (errcode ${err.errcode})`, {
      details: { errcode: err.errcode, ...(err.rid ? { rid: err.rid } : {}) },
      cause: err,
    });
  }
}
