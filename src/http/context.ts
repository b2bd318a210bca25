import type { ParameterizedContext, Next } from 'koa';
import type { Logger } from '../kernel/log';

/**
 * What middleware puts on ctx.state as a request goes through the gateway. Layers above add their
 * own slots by declaration merging (tenancy adds `tenant`), so this layer depends on none of them.
 */
export interface GatewayState {
  reqId: string;
  log: Logger;
  /** Set by auth middleware: who is calling. */
  principal?: { kind: 'service'; keyId: string } | { kind: 'user'; openid: string; sessionId: string };
  /**
   * Set by a route whose caller reads errors in its own shape (WeChat Pay reads `{"code":"FAIL"}`):
   * the error handler still decides status, headers and logging, and uses this for the body.
   */
  errorBody?: (e: { status: number; code: string; message: string }) => unknown;
}

export type GatewayContext = ParameterizedContext<GatewayState>;
export type GatewayMiddleware = (ctx: GatewayContext, next: Next) => Promise<void>;
