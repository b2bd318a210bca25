import type { Method } from 'axios';
import { AppError } from '../kernel/errors';
import type { Tenant } from '../tenancy/tenant';
import type { AccessTokens, LoginCredentials } from '../contracts/access-tokens';
import { WeChatTransportError, assertOk, type WeChatHttp, type WeChatResponse } from '../transport/wechat-http';
import { ERR_BUSY, ERR_DAILY_QUOTA, ERR_RATE_LIMITED, TOKEN_DEAD } from '../transport/errcodes';
import { MAX_BUSY_RETRIES, answeredBusy, busyBackoffMs, retryWhileBusy } from '../transport/busy-retry';
import type { Cooldowns } from '../transport/cooldowns';

export interface ApiCall {
  method?: Method;
  query?: Record<string, string>;
  /** JSON value or bytes; must be re-sendable, because a call may be retried. */
  body?: unknown;
  headers?: Record<string, string>;
  /** What metrics call this API; defaults to the API path. */
  metricLabel?: string;
}

export interface WeChatClientDeps {
  http: WeChatHttp;
  tokens: AccessTokens;
  cooldowns: Cooldowns;
  defaultApiBase: string;
  sleep: (ms: number) => Promise<void>;
  onCall?: (appid: string, api: string, outcome: string) => void;
}

/**
 * A tenant's WeChat client. The tenant is explicit (held by this object), never ambient.
 * Every call with an access token follows the same rules:
 * - 40001/40014/42001: compare-and-invalidate the token, fetch once, retry once;
 * - -1: at most two retries with backoff and jitter;
 * - 45009/45011: no retry; the tenant's calls to that API fail fast (429) for a cool-down.
 */
export class WeChatClient {
  constructor(
    readonly tenant: Tenant,
    private readonly d: WeChatClientDeps,
  ) {}

  get apiBase(): string {
    return this.tenant.apiBase ?? this.d.defaultApiBase;
  }

  /** A call that needs an access token and answers JSON; a non-zero errcode throws WeChatApiError. */
  async json(api: string, call: ApiCall = {}): Promise<Record<string, unknown>> {
    const res = await this.execute(api, call);
    if (res.kind !== 'json') {
      res.stream.resume();
      throw new AppError(502, 'WECHAT_UNEXPECTED_RESPONSE', `WeChat answered ${api} with ${res.contentType} instead of JSON`);
    }
    assertOk(api, res.data);
    return res.data;
  }

  /** A call that answers bytes (images, media). A JSON answer is WeChat's error, never the payload. */
  async binary(api: string, call: ApiCall = {}): Promise<Extract<WeChatResponse, { kind: 'binary' }>> {
    const res = await this.execute(api, call);
    if (res.kind === 'json') {
      assertOk(api, res.data);
      throw new AppError(502, 'WECHAT_UNEXPECTED_RESPONSE', `WeChat answered ${api} with JSON instead of binary data`);
    }
    return res;
  }

  /** The API and credential fields this tenant's wx.login codes are exchanged with. */
  loginCredentials(): Promise<LoginCredentials> {
    return this.d.tokens.loginCredentials(this.tenant);
  }

  /** A call without an access token (jscode2session); same -1 handling, errcode throws. */
  async jsonWithoutToken(api: string, call: ApiCall = {}): Promise<Record<string, unknown>> {
    this.d.cooldowns.check(this.tenant.appid, api);
    const res = await retryWhileBusy(() => this.send(api, call, undefined), answeredBusy, this.d.sleep);
    if (res.kind !== 'json') {
      res.stream.resume();
      throw new AppError(502, 'WECHAT_UNEXPECTED_RESPONSE', `WeChat answered ${api} with ${res.contentType} instead of JSON`);
    }
    const errcode = res.data.errcode;
    this.d.onCall?.(this.tenant.appid, api, typeof errcode === 'number' && errcode !== 0 ? String(errcode) : 'ok');
    assertOk(api, res.data);
    return res.data;
  }

  /**
   * Runs the retry rules and returns WeChat's answer as it came (errcodes included, apart from the
   * cool-down ones); the passthrough uses this so callers see WeChat's own JSON.
   */
  async execute(api: string, call: ApiCall): Promise<WeChatResponse> {
    const { appid } = this.tenant;
    this.d.cooldowns.check(appid, api);
    let token = await this.d.tokens.get(this.tenant);
    let tokenRetried = false;
    for (let busy = 0; ;) {
      const res = await this.send(api, call, token.accessToken);
      const label = call.metricLabel ?? api;
      if (res.kind === 'binary') {
        this.d.onCall?.(appid, label, 'ok');
        return res;
      }
      const errcode = typeof res.data.errcode === 'number' ? res.data.errcode : 0;
      this.d.onCall?.(appid, label, errcode === 0 ? 'ok' : String(errcode));
      if (TOKEN_DEAD.has(errcode) && !tokenRetried) {
        tokenRetried = true;
        token = await this.d.tokens.invalidate(this.tenant, token.accessToken);
        continue;
      }
      if (errcode === ERR_BUSY && busy < MAX_BUSY_RETRIES) {
        await this.d.sleep(busyBackoffMs(busy++));
        continue;
      }
      if (errcode === ERR_DAILY_QUOTA || errcode === ERR_RATE_LIMITED) {
        throw this.d.cooldowns.start(appid, api, errcode);
      }
      return res;
    }
  }

  private async send(api: string, call: ApiCall, accessToken: string | undefined): Promise<WeChatResponse> {
    try {
      return await this.d.http.send({
        baseUrl: this.apiBase,
        method: call.method ?? (call.body === undefined ? 'GET' : 'POST'),
        path: api,
        query: accessToken === undefined ? call.query : { ...(call.query ?? {}), access_token: accessToken },
        body: call.body,
        headers: call.headers,
      });
    } catch (err) {
      if (err instanceof WeChatTransportError) {
        this.d.onCall?.(this.tenant.appid, call.metricLabel ?? api, 'transport');
        throw new AppError(502, 'WECHAT_UNAVAILABLE', `cannot reach WeChat for ${api}`, { cause: err });
      }
      throw err;
    }
  }
}
