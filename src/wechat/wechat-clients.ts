import type { Tenant } from '../tenancy/tenant';
import { WeChatClient, type WeChatClientDeps } from './wechat-client';

/**
 * Hands out the client of a tenant. Keyed by the tenant object itself: when a tenant changes, the
 * resolver produces a new object and so a new client; the old one is garbage-collected.
 */
export class WeChatClients {
  private readonly clients = new WeakMap<Tenant, WeChatClient>();

  constructor(private readonly deps: WeChatClientDeps) {}

  for(tenant: Tenant): WeChatClient {
    let c = this.clients.get(tenant);
    if (!c) {
      c = new WeChatClient(tenant, this.deps);
      this.clients.set(tenant, c);
    }
    return c;
  }
}
