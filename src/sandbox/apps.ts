/** Registered mini programs (appid -> secret) and credential checks shared by token and login endpoints. */
import { WxError } from './wx-errors';

export interface SandboxApp {
  appid: string;
  secret: string;
}

export class AppRegistry {
  private readonly apps = new Map<string, string>();

  /** Adds an app, or replaces the secret of an existing one. */
  register(app: SandboxApp): void {
    if (typeof app.appid !== 'string' || app.appid.length === 0) throw new TypeError('appid must be a non-empty string');
    if (typeof app.secret !== 'string' || app.secret.length === 0) throw new TypeError('secret must be a non-empty string');
    this.apps.set(app.appid, app.secret);
  }

  has(appid: string): boolean {
    return this.apps.has(appid);
  }

  list(): string[] {
    return [...this.apps.keys()];
  }

  /**
   * WeChat's credential checks, in this order: 41002 appid missing, 41004 secret missing,
   * 40013 unknown appid, 40125 wrong secret. Returns the appid when all pass.
   */
  verify(appid: unknown, secret: unknown): string {
    if (typeof appid !== 'string' || appid === '') throw new WxError(41002);
    if (typeof secret !== 'string' || secret === '') throw new WxError(41004);
    const expected = this.apps.get(appid);
    if (expected === undefined) throw new WxError(40013);
    if (expected !== secret) throw new WxError(40125);
    return appid;
  }
}
