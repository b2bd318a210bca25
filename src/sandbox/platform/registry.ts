/** Registered third-party platforms: credentials, push token and key, event URL, options. */
import { isValidEncodingAESKey } from '../../protocol/msg-crypto';
import { WxError } from '../wx-errors';
import type { PlatformRegistration } from './types';

export interface Platform {
  readonly componentAppid: string;
  readonly secret: string;
  readonly token: string;
  readonly aesKey: string;
  eventUrl?: string;
  rotateRefreshTokens: boolean;
}

const COMPONENT_APPID = /^wx[0-9a-f]{16}$/;
const SECRET = /^[0-9a-f]{32}$/;
const TOKEN = /^[A-Za-z0-9]{3,32}$/;

function checkUrl(url: string): void {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    throw new TypeError(`eventUrl is not a URL: ${url}`);
  }
  if (u.protocol !== 'http:' && u.protocol !== 'https:') throw new TypeError('eventUrl must be http(s)');
}

export class PlatformRegistry {
  private readonly platforms = new Map<string, Platform>();

  /** Adds a platform, or replaces the credentials and options of an existing one. TypeError for malformed values. */
  register(p: PlatformRegistration): Platform {
    if (typeof p.componentAppid !== 'string' || !COMPONENT_APPID.test(p.componentAppid)) throw new TypeError('componentAppid must be wx + 16 hex digits');
    if (typeof p.secret !== 'string' || !SECRET.test(p.secret)) throw new TypeError('secret must be 32 hex digits');
    if (typeof p.token !== 'string' || !TOKEN.test(p.token)) throw new TypeError('token must be 3 to 32 letters or digits');
    if (!isValidEncodingAESKey(p.aesKey)) throw new TypeError('aesKey must be 43 characters of the base64 alphabet');
    if (p.eventUrl !== undefined) checkUrl(p.eventUrl);
    const platform: Platform = {
      componentAppid: p.componentAppid,
      secret: p.secret,
      token: p.token,
      aesKey: p.aesKey,
      ...(p.eventUrl === undefined ? {} : { eventUrl: p.eventUrl }),
      rotateRefreshTokens: p.rotateRefreshTokens === true,
    };
    this.platforms.set(p.componentAppid, platform);
    return platform;
  }

  get(componentAppid: string): Platform | undefined {
    return this.platforms.get(componentAppid);
  }

  /** For the programmatic API: the platform, or TypeError. */
  require(componentAppid: string): Platform {
    const p = this.platforms.get(componentAppid);
    if (!p) throw new TypeError(`unknown component appid ${componentAppid}`);
    return p;
  }

  setEventUrl(componentAppid: string, url: string): void {
    checkUrl(url);
    this.require(componentAppid).eventUrl = url;
  }

  setRotateRefreshTokens(componentAppid: string, rotate: boolean): void {
    this.require(componentAppid).rotateRefreshTokens = rotate;
  }

  /**
   * api_component_token's credential checks: 41002 component_appid missing, 61011 unknown component, 41004 secret
   * missing, 40125 wrong secret.
   */
  verify(componentAppid: unknown, secret: unknown): Platform {
    if (typeof componentAppid !== 'string' || componentAppid === '') throw new WxError(41002);
    const p = this.platforms.get(componentAppid);
    if (!p) throw new WxError(61011);
    if (typeof secret !== 'string' || secret === '') throw new WxError(41004);
    if (secret !== p.secret) throw new WxError(40125);
    return p;
  }
}
