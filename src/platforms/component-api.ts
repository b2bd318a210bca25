import { createHash } from 'node:crypto';
import { AppError, WeChatApiError } from '../kernel/errors';
import { redisKeys } from '../infra/redis-keys';
import { assertOk, WeChatTransportError, type WeChatHttp } from '../transport/wechat-http';
import { answeredBusy, retryWhileBusy } from '../transport/busy-retry';
import { TOKEN_DEAD } from '../transport/errcodes';
import type { AccessTokenSource, FetchedToken } from '../token/access-token-source';
import type { TokenManager } from '../token/token-manager';
import { APPID_PATTERN } from '../tenancy/tenant';
import type { Platform } from './platform';
import type { TicketStore } from './ticket-store';

export const COMPONENT_TOKEN_API = '/cgi-bin/component/api_component_token';
export const PREAUTH_API = '/cgi-bin/component/api_create_preauthcode';
export const QUERY_AUTH_API = '/cgi-bin/component/api_query_auth';
export const AUTHORIZER_TOKEN_API = '/cgi-bin/component/api_authorizer_token';
export const AUTHORIZER_LIST_API = '/cgi-bin/component/api_get_authorizer_list';
export const COMPONENT_CODE2SESSION_API = '/sns/component/jscode2session';

/** 61005: ticket expired; 61006: ticket invalid. */
const TICKET_REFUSED = new Set([61005, 61006]);
/** The component AppSecret or appid is wrong. */
const PLATFORM_MISCONFIGURED = new Set([40013, 40125, 41002, 41004, 61003]);
/** The authorization code is unknown, used or expired. */
export const AUTH_CODE_REFUSED = new Set([61009, 61010, 61011, 61024]);
export const REFRESH_TOKEN_INVALID = 61023;

export interface ComponentApiDeps {
  http: WeChatHttp;
  tokens: TokenManager;
  tickets: TicketStore;
  defaultApiBase: string;
  sleep: (ms: number) => Promise<void>;
}

export interface AuthorizationInfo {
  authorizerAppid: string;
  accessToken: string;
  expiresIn: number;
  refreshToken: string;
  funcInfo: number[];
}

/**
 * The component APIs of a third-party platform. The component_access_token is one token source of
 * the fleet token manager (one fetch per refresh for the fleet, fenced, renewed ahead of expiry);
 * a call refused for a dead component token invalidates it once for the fleet and retries once.
 */
export class ComponentApi {
  /** One source per platform object (the directory hands out the same object until the platform changes), so the hot path hashes nothing. */
  private readonly sources = new WeakMap<Platform, AccessTokenSource>();

  constructor(private readonly d: ComponentApiDeps) {}

  base(p: Platform): string {
    return p.apiBase ?? this.d.defaultApiBase;
  }

  componentSource(p: Platform): AccessTokenSource {
    let s = this.sources.get(p);
    if (!s) {
      s = { key: componentTokenKey(p), owner: p.componentAppid, kind: 'component', fetch: () => this.fetchComponentToken(p) };
      this.sources.set(p, s);
    }
    return s;
  }

  async componentToken(p: Platform): Promise<string> {
    return (await this.d.tokens.get(this.componentSource(p))).accessToken;
  }

  async preAuthCode(p: Platform): Promise<{ preAuthCode: string; expiresIn: number }> {
    const r = await this.call(p, PREAUTH_API, { component_appid: p.componentAppid });
    if (typeof r.pre_auth_code !== 'string') throw unexpected(PREAUTH_API);
    return { preAuthCode: r.pre_auth_code, expiresIn: Number(r.expires_in ?? 1800) };
  }

  async queryAuth(p: Platform, authorizationCode: string): Promise<AuthorizationInfo> {
    const r = await this.call(p, QUERY_AUTH_API, { component_appid: p.componentAppid, authorization_code: authorizationCode });
    const info = r.authorization_info as Record<string, unknown> | undefined;
    if (
      !info ||
      typeof info.authorizer_appid !== 'string' ||
      !APPID_PATTERN.test(info.authorizer_appid) ||
      typeof info.authorizer_refresh_token !== 'string' ||
      typeof info.authorizer_access_token !== 'string'
    )
      throw unexpected(QUERY_AUTH_API);
    const funcInfo = Array.isArray(info.func_info) ? info.func_info.map((f) => Number((f as { funcscope_category?: { id?: unknown } }).funcscope_category?.id)).filter(Number.isFinite) : [];
    return {
      authorizerAppid: info.authorizer_appid,
      accessToken: info.authorizer_access_token,
      expiresIn: Number(info.expires_in ?? 7200),
      refreshToken: info.authorizer_refresh_token,
      funcInfo,
    };
  }

  async authorizerToken(p: Platform, appid: string, refreshToken: string): Promise<{ accessToken: string; expiresIn: number; refreshToken: string }> {
    const r = await this.call(p, AUTHORIZER_TOKEN_API, { component_appid: p.componentAppid, authorizer_appid: appid, authorizer_refresh_token: refreshToken });
    if (typeof r.authorizer_access_token !== 'string' || typeof r.expires_in !== 'number') throw unexpected(AUTHORIZER_TOKEN_API);
    return {
      accessToken: r.authorizer_access_token,
      expiresIn: r.expires_in,
      refreshToken: typeof r.authorizer_refresh_token === 'string' && r.authorizer_refresh_token ? r.authorizer_refresh_token : refreshToken,
    };
  }

  async authorizerList(p: Platform, offset: number, count: number): Promise<{ total: number; list: { appid: string; refreshToken: string }[] }> {
    const r = await this.call(p, AUTHORIZER_LIST_API, { component_appid: p.componentAppid, offset, count });
    const list = Array.isArray(r.list) ? r.list : [];
    return {
      total: Number(r.total_count ?? list.length),
      list: list.flatMap((x) => {
        const e = x as { authorizer_appid?: unknown; refresh_token?: unknown };
        return typeof e.authorizer_appid === 'string' && typeof e.refresh_token === 'string' ? [{ appid: e.authorizer_appid, refreshToken: e.refresh_token }] : [];
      }),
    };
  }

  /** A component API call with the component token (query `component_access_token`). */
  private async call(p: Platform, api: string, body: Record<string, unknown>): Promise<Record<string, unknown>> {
    let token = await this.componentToken(p);
    for (let retried = false; ; retried = true) {
      const data = await this.send(p, api, body, { component_access_token: token });
      const errcode = typeof data.errcode === 'number' ? data.errcode : 0;
      if (TOKEN_DEAD.has(errcode) && !retried) {
        token = (await this.d.tokens.invalidate(this.componentSource(p), token)).accessToken;
        continue;
      }
      assertOk(api, data);
      return data;
    }
  }

  private async send(p: Platform, api: string, body: Record<string, unknown>, query?: Record<string, string>): Promise<Record<string, unknown>> {
    try {
      const res = await retryWhileBusy(() => this.d.http.send({ baseUrl: this.base(p), method: 'POST', path: api, body, ...(query ? { query } : {}) }), answeredBusy, this.d.sleep);
      if (res.kind !== 'json') {
        res.stream.resume();
        throw unexpected(api);
      }
      return res.data;
    } catch (err) {
      if (err instanceof WeChatTransportError) throw new AppError(502, 'WECHAT_UNAVAILABLE', `cannot reach WeChat for ${api}`, { cause: err });
      throw err;
    }
  }

  private async fetchComponentToken(p: Platform): Promise<FetchedToken> {
    const ticket = await this.d.tickets.get(p.componentAppid);
    if (!ticket) throw noTicket(p.componentAppid);
    const data = await this.send(p, COMPONENT_TOKEN_API, { component_appid: p.componentAppid, component_appsecret: p.secret, component_verify_ticket: ticket.ticket });
    try {
      assertOk(COMPONENT_TOKEN_API, data);
    } catch (err) {
      if (!(err instanceof WeChatApiError)) throw err;
      if (TICKET_REFUSED.has(err.errcode)) throw noTicket(p.componentAppid, err.errcode);
      if (PLATFORM_MISCONFIGURED.has(err.errcode)) {
        throw new AppError(502, 'PLATFORM_MISCONFIGURED', `platform ${p.componentAppid} is misconfigured (errcode ${err.errcode}): fix its file and apply it`, {
          details: { errcode: err.errcode },
        });
      }
      throw new AppError(502, 'WECHAT_API_ERROR', `WeChat refused the component token of ${p.componentAppid} (errcode ${err.errcode})`, { details: { errcode: err.errcode } });
    }
    if (typeof data.component_access_token !== 'string' || typeof data.expires_in !== 'number') throw unexpected(COMPONENT_TOKEN_API);
    return { accessToken: data.component_access_token, expiresIn: data.expires_in };
  }
}

const noTicket = (componentAppid: string, errcode?: number) =>
  new AppError(503, 'PLATFORM_TICKET_MISSING', `no usable component_verify_ticket for ${componentAppid} yet${errcode ? ` (errcode ${errcode})` : ''}; WeChat pushes one every 10 minutes`, {
    headers: { 'Retry-After': '60' },
  });

const unexpected = (api: string) => new AppError(502, 'WECHAT_UNEXPECTED_RESPONSE', `WeChat answered ${api} without the expected fields`);

/** The fleet key of a platform's component token (also derived by `tenants -- rekey` to re-seal it). */
export function componentTokenKey(p: Pick<Platform, 'componentAppid' | 'secret' | 'apiBase'>): string {
  // The key changes with the secret and base: rotating them retires the old token instead of serving it.
  const fingerprint = createHash('sha256')
    .update(`component:${p.secret}:${p.apiBase ?? ''}`)
    .digest('hex')
    .slice(0, 16);
  return redisKeys.token(`component-${p.componentAppid}`, fingerprint);
}
