import type { Connection } from 'mongoose';
import type { InvalidationBus } from '../cache/invalidation-bus';
import type { Redis } from '../infra/redis';
import type { Clock } from '../kernel/clock';
import type { Logger } from '../kernel/log';
import type { SecretBox } from '../tenancy/secret-box';
import type { Tenant } from '../tenancy/tenant';
import type { WeChatHttp } from '../transport/wechat-http';
import type { TokenManager } from '../token/token-manager';
import type { AccessTokenSource } from '../token/access-token-source';
import type { LoginCredentials } from '../contracts/access-tokens';
import type { PlatformKeyring, PlatformPushKeys } from '../contracts/platform-keys';
import { PlatformStore } from './platform-store';
import { TicketStore } from './ticket-store';
import { PlatformDirectory } from './platform-directory';
import { ComponentApi } from './component-api';
import { authorizerLogin, authorizerTokenSource, type AuthorizerDeps } from './authorizers';

export interface PlatformsDeps {
  mongo: Connection;
  redis: Redis;
  box: SecretBox;
  bus: InvalidationBus;
  clock: Clock;
  log: Logger;
  http: WeChatHttp;
  tokens: TokenManager;
  defaultApiBase: string;
  sleep: (ms: number) => Promise<void>;
  onReauthorizationRequired?(componentAppid: string, appid: string): void;
}

/**
 * Third-party platforms as one service: their store (definitions, tickets, refresh tokens in
 * MongoDB), the ticket cache, the cached directory, the component APIs, and the token source and
 * login of their authorizers (registered with the tenant tokens by the composition root).
 */
export class Platforms implements PlatformKeyring {
  readonly store: PlatformStore;
  readonly tickets: TicketStore;
  readonly directory: PlatformDirectory;
  readonly api: ComponentApi;
  private readonly authorizerDeps: AuthorizerDeps;

  constructor(d: PlatformsDeps) {
    this.store = new PlatformStore(d.mongo, d.box);
    this.tickets = new TicketStore(this.store, d.redis, d.box, d.log);
    this.directory = new PlatformDirectory(this.store, d.clock, d.bus);
    this.api = new ComponentApi({ http: d.http, tokens: d.tokens, tickets: this.tickets, defaultApiBase: d.defaultApiBase, sleep: d.sleep });
    this.authorizerDeps = {
      api: this.api,
      platforms: this.directory,
      store: this.store,
      log: d.log,
      ...(d.onReauthorizationRequired ? { onReauthorizationRequired: d.onReauthorizationRequired } : {}),
    };
  }

  ensureIndexes(): Promise<void> {
    return this.store.ensureIndexes();
  }

  pushKeys(componentAppid: string): Promise<PlatformPushKeys | null> {
    return this.directory.pushKeys(componentAppid);
  }

  authorizerSource(tenant: Tenant): AccessTokenSource {
    return authorizerTokenSource(this.authorizerDeps, tenant);
  }

  authorizerLogin(tenant: Tenant): Promise<LoginCredentials> {
    return authorizerLogin(this.authorizerDeps, tenant);
  }
}
