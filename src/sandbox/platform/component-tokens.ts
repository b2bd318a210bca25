/**
 * component_access_token: like the classic /cgi-bin/token, every api_component_token call issues a new one and the
 * previous one keeps working 5 more minutes; each dies at its expiry. A TokenStore of its own, keyed by component
 * appid, so these tokens are never accepted as a mini program's access_token.
 */
import type { Clock } from '../../kernel/clock';
import { TokenStore, type IssuedToken } from '../tokens';
import { WxError } from '../wx-errors';

export interface ComponentToken {
  component_access_token: string;
  expires_in: number;
}

export class ComponentTokens {
  private readonly store: TokenStore;

  constructor(clock: Clock, ttlSeconds: number) {
    this.store = new TokenStore({ clock, ttlSeconds, dailyClassicQuota: 0 });
  }

  issue(componentAppid: string): ComponentToken {
    const t: IssuedToken = this.store.rotateClassic(componentAppid);
    return { component_access_token: t.access_token, expires_in: t.expires_in };
  }

  /** The component appid a token was issued to (even a dead one), for call attribution. */
  ownerOf(token: string): string | undefined {
    return this.store.ownerOf(token);
  }

  /** 41001 missing, 40001 unknown or superseded, 42001 expired; else the component appid. */
  verify(token: string | undefined): string {
    if (!token) throw new WxError(41001, 'component_access_token missing');
    const c = this.store.check(token);
    if (!c.ok) throw new WxError(c.errcode);
    return c.appid;
  }

  revoke(componentAppid: string): void {
    this.store.revoke(componentAppid);
  }
}
