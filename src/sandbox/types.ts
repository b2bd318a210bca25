/** Public types of the WeChat sandbox. */
import type { Clock } from '../kernel/clock';
import type { SandboxApp } from './apps';
import type { CallCounts } from './counters';
import type { SandboxFault } from './faults';
import type { LoginCodeOptions } from './login';
import type { MessageKind, SentMessage } from './messages';
import type { PayApi } from './pay/types';
import type { PlatformApi } from './platform/types';

export type { SandboxApp, CallCounts, SandboxFault, LoginCodeOptions, MessageKind, SentMessage };

export interface SandboxOptions {
  /** Time source for token expiry, quotas, code expiry; default systemClock. */
  clock?: Clock;
  /** Lifetime of classic and stable tokens; default 7200. */
  tokenTtlSeconds?: number;
  /** Classic /cgi-bin/token issues per appid per UTC day of the clock; default 2000. */
  dailyTokenQuota?: number;
  apps?: SandboxApp[];
}

export interface SandboxServer {
  /** e.g. `http://127.0.0.1:54321` (no trailing slash). */
  url: string;
  port: number;
  close(): Promise<void>;
}

export interface Sandbox {
  readonly clock: Clock;
  /** Starts an HTTP server; port 0 (default) picks a free port; host default 127.0.0.1. Its close() also stops ticket timers. */
  listen(port?: number, host?: string): Promise<SandboxServer>;
  /** Node request listener, for mounting the sandbox in an existing server. */
  callback(): (req: import('node:http').IncomingMessage, res: import('node:http').ServerResponse) => void;

  registerApp(app: SandboxApp): void;

  /** Calls of an endpoint path (e.g. '/cgi-bin/token') by an appid, or by all appids when omitted. */
  calls(endpoint: string, appid?: string): number;
  callCounts(): CallCounts;
  resetCalls(): void;
  /** resetCalls + clearFaults + clearMessages + platform.clearEvents (what POST /__sandbox/reset does). */
  reset(): void;

  injectFault(f: SandboxFault): void;
  pendingFaults(): SandboxFault[];
  clearFaults(): void;

  /** Another system calls /cgi-bin/token: returns the new classic token; the previous one lives 5 more minutes. No quota, not counted. */
  rotateToken(appid: string): string;
  /** Kills every current classic, stable and authorizer token of the appid. */
  revokeToken(appid: string): void;

  /** For a registered app or an appid authorized to a third-party platform (then /sns/component/jscode2session takes it). */
  issueLoginCode(appid: string, opts?: LoginCodeOptions): string;
  sessionKeyOf(appid: string, openid: string): string | undefined;

  /** A one-time code for getuserphonenumber; `phone` without country code, `countryCode` default '86'. */
  issuePhoneCode(appid: string, phone: string, countryCode?: string): string;

  sentMessages(kind: MessageKind): SentMessage[];
  clearMessages(): void;

  setRiskyWords(words: string[]): void;
  setReviewWords(words: string[]): void;

  /** WeChat Pay v3 (merchants, orders, refunds, notifications) and mini-program order shipping. */
  readonly pay: PayApi;

  /** WeChat Open Platform third-party platforms: tickets, component tokens, authorization of mini programs, authorizer tokens. */
  readonly platform: PlatformApi;
}
