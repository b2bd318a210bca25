import { AppError } from '../kernel/errors';
import { type GatewayContext, type GatewayMiddleware } from '../http/context';
import { tenantOf } from '../tenancy/tenant-context';
import { bearerOf } from './admin-auth';
import { isServiceKeyShaped, type ServiceKeys } from './service-keys';
import { authenticateServiceKey } from './service-key-auth';
import { SESSION_TOKEN_FORMAT, type SessionStore } from './session-store';

function invalidSession(): AppError {
  // One answer for unknown, expired, malformed and other-tenant sessions: nothing to probe.
  return new AppError(401, 'INVALID_SESSION', 'the session is unknown, expired or not valid for this mini program; log in again');
}

async function authenticateUser(ctx: GatewayContext, sessions: SessionStore, token: string): Promise<void> {
  const session = await sessions.get(token);
  if (!session || session.appid !== tenantOf(ctx).appid) throw invalidSession();
  ctx.state.principal = { kind: 'user', openid: session.openid, sessionId: session.sessionId };
}

/** Routes for mini-program users: `Authorization: Bearer <session token from /auth/login>`. */
export function requireSession(sessions: SessionStore): GatewayMiddleware {
  return async (ctx, next) => {
    const presented = bearerOf(ctx.get('authorization'));
    if (!presented) throw new AppError(401, 'UNAUTHENTICATED', 'missing Authorization: Bearer <session token>');
    await authenticateUser(ctx, sessions, presented);
    await next();
  };
}

/**
 * Routes open to both a mini-program user (session token) and the tenant's backend (service key).
 * The two credential shapes cannot be confused: a session token is exactly 43 base64url characters,
 * a service key is longer and starts with `wxk_`.
 */
export function sessionOrKey(sessions: SessionStore, keys: ServiceKeys): GatewayMiddleware {
  return async (ctx, next) => {
    const presented = bearerOf(ctx.get('authorization'));
    if (!presented) throw new AppError(401, 'UNAUTHENTICATED', 'missing Authorization: Bearer <session token or service key>');
    if (!SESSION_TOKEN_FORMAT.test(presented) && isServiceKeyShaped(presented)) {
      await authenticateServiceKey(ctx, keys, presented);
    } else {
      await authenticateUser(ctx, sessions, presented);
    }
    await next();
  };
}

/** The openid of the session behind a requireSession route. */
export function sessionUser(ctx: GatewayContext): { openid: string; sessionId: string } {
  const p = ctx.state.principal;
  if (!p || p.kind !== 'user') throw new Error('requireSession did not run for this route');
  return { openid: p.openid, sessionId: p.sessionId };
}
