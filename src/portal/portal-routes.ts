import { hash } from 'node:crypto';
import Router from '@koa/router';
import { AppError } from '../kernel/errors';
import { queryValues } from '../http/query-values';
import { type GatewayContext, type GatewayState } from '../http/context';
import { tenantOf } from '../tenancy/tenant-context';
import type { Clock } from '../kernel/clock';
import type { Logger } from '../kernel/log';
import type { WeChatClients } from '../wechat/wechat-clients';
import { sendRuleMessages } from './rule-messages';
import { webhookSection } from '../delivery/webhook-section';
import { portalSection } from './portal-section';
import { checkSignedQuery, isEncryptedQuery, openPushRequest, verifyEcho, type PushQuery } from './push-request';
import { dedupKey } from './message';
import { planActions } from './rules';
import { buildPassiveReply, encryptReply } from './reply';
import { cachedAesKey } from '../protocol/msg-crypto';
import { pooledRandomBytes } from '../protocol/random-pool';
import type { PushFormat } from './body-parse';
import type { PushClaim } from './push-intake';
import { useDigest, type PushReplayGuard, type SignedTriple } from './push-replay-guard';
import type { PushAcceptor } from './push-acceptor';
import type { BodyReader } from './body-reader';
import { APPID_PATTERN, type Tenant } from '../tenancy/tenant';
import type { TenantResolver } from '../tenancy/tenant-resolver';
import type { PlatformKeyring } from '../contracts/platform-keys';

export interface PortalOptions {
  clock: Clock;
  log: Logger;
  acceptor: PushAcceptor;
  replayGuard: PushReplayGuard;
  bodies: BodyReader;
  clients: WeChatClients;
  timestampWindowS: number;
  resolver: TenantResolver;
  platforms: PlatformKeyring;
}

/**
 * Who signs and encrypts a tenant's pushes: the mini program itself (its Token, EncodingAESKey and
 * appid), or, for a mini program authorized to a third-party platform, the platform (its keys, and
 * its component appid inside the ciphertext).
 */
interface PushSigner {
  cipherAppid: string;
  token: string;
  aesKey: string;
}

/**
 * WeChat's push endpoint for a tenant: GET verifies the URL, POST accepts a message or event.
 * The answer is given as soon as the message is safely queued (in Redis, or in the local spool
 * while Redis is unreachable); slow work (customer messages, webhook delivery) happens afterwards,
 * so WeChat always hears back well within its 5 s.
 */
export function portalRoutes(o: PortalOptions): Router<GatewayState> {
  const router = new Router<GatewayState>();
  router.get('/:appid/portal', async (ctx) => verifyUrl(ctx, o, ownSigner(tenantOf(ctx))));
  router.post('/:appid/portal', portalPush(o));
  return router;
}

/** The handler of POST /:appid/portal (the router's, and the app's fast path's). */
export const portalPush =
  (o: PortalOptions) =>
  (ctx: GatewayContext): Promise<void> =>
    // Not async: koa-compose turns a thrown refusal into a rejection, and handlePush's own promise is passed on as it is.
    handlePush(ctx, o, ownSigner(tenantOf(ctx)));

/**
 * The message URL of a third-party platform for the mini programs that authorized it
 * (`/platform/$COMPONENT$/$APPID$/portal`, WeChat's `$APPID$` pattern): verified with the platform's
 * keys, then handled exactly like the tenant's own pushes (rules, dedup, webhook).
 */
export function platformPortalRoutes(o: PortalOptions): Router<GatewayState> {
  const router = new Router<GatewayState>();
  router.get('/platform/:componentAppid/:appid/portal', async (ctx) => verifyUrl(ctx, o, await platformSigner(ctx, o)));
  router.post('/platform/:componentAppid/:appid/portal', async (ctx) => handlePush(ctx, o, await platformSigner(ctx, o)));
  return router;
}

function ownSigner(tenant: Tenant): PushSigner {
  const { token, aesKey } = portalSection.of(tenant);
  if (token === undefined || aesKey === undefined) {
    throw new AppError(404, 'NOT_FOUND', `pushes of ${tenant.appid} arrive at its platform's URL /platform/${tenant.component ?? '<component>'}/${tenant.appid}/portal`);
  }
  return { cipherAppid: tenant.appid, token, aesKey };
}

/** Resolves the tenant of a platform push URL (it must be an active authorizer of that platform) and the platform's keys. */
async function platformSigner(ctx: GatewayContext, o: PortalOptions): Promise<PushSigner> {
  const componentAppid = String(ctx.params.componentAppid);
  const appid = String(ctx.params.appid);
  if (!APPID_PATTERN.test(componentAppid) || !APPID_PATTERN.test(appid)) throw new AppError(400, 'INVALID_APPID', 'appids must be "wx" followed by 16 lowercase hex digits');
  const keys = await o.platforms.pushKeys(componentAppid);
  if (!keys) throw new AppError(404, 'PLATFORM_NOT_FOUND', `no platform ${componentAppid}`);
  const tenant = await o.resolver.resolve(appid);
  if (!tenant || tenant.credential !== 'authorizer' || tenant.component !== componentAppid)
    throw new AppError(404, 'TENANT_NOT_FOUND', `no mini program ${appid} authorized to ${componentAppid}`);
  ctx.state.tenant = tenant;
  if (tenant.status !== 'active') throw new AppError(403, 'TENANT_DISABLED', `tenant ${appid} is disabled`);
  return { cipherAppid: componentAppid, token: keys.token, aesKey: keys.aesKey };
}

const PUSH_QUERY_KEYS = ['signature', 'timestamp', 'nonce', 'encrypt_type', 'msg_signature', 'echostr'] as const;

function pushQuery(ctx: GatewayContext): PushQuery {
  const { values, repeated } = queryValues(ctx.querystring, PUSH_QUERY_KEYS);
  if (repeated) throw new AppError(400, 'INVALID_QUERY', `${repeated} given more than once`);
  return values;
}

const nowS = (clock: Clock) => Math.floor(clock.now() / 1000);

const signedTriple = (appid: string, q: PushQuery): SignedTriple => ({ appid, timestamp: q.timestamp ?? '', nonce: q.nonce ?? '', signature: q.signature ?? '' });

const replayed = () => new AppError(401, 'REPLAYED_PUSH', 'this signed request was already used with another body or mode');

async function verifyUrl(ctx: GatewayContext, o: PortalOptions, signer: PushSigner): Promise<void> {
  const tenant = tenantOf(ctx);
  const query = pushQuery(ctx);
  const echo = verifyEcho(query, signer.token, nowS(o.clock), o.timestampWindowS);
  let fresh = true;
  try {
    fresh = await o.replayGuard.accept(signedTriple(tenant.appid, query), { method: 'GET', echostr: echo });
  } catch (err) {
    // Without Redis the binding cannot be recorded; answering reveals nothing but the echostr the caller sent.
    ctx.state.log.debug({ err: (err as Error).message }, 'URL verification answered without the replay binding');
  }
  if (!fresh) throw replayed();
  ctx.type = 'text/plain';
  ctx.body = echo;
}

async function handlePush(ctx: GatewayContext, o: PortalOptions, signer: PushSigner): Promise<void> {
  const tenant = tenantOf(ctx);
  const settings = portalSection.of(tenant);
  const { webhook } = webhookSection.of(tenant);
  const query = pushQuery(ctx);
  // WeChat signs every push URL: the signature and the timestamp are checked before a byte of the
  // body is read, so an unsigned or stale request costs no memory and no waiting.
  const signed = checkSignedQuery(query, signer.token, nowS(o.clock), o.timestampWindowS);
  if (settings.pushEncryption === 'required' && (!isEncryptedQuery(query) || !query.msg_signature)) {
    throw new AppError(401, 'ENCRYPTION_REQUIRED', 'this mini program accepts encrypted pushes only (safe mode, msg_signature over Encrypt)');
  }
  const bindingKey = o.replayGuard.key(signedTriple(tenant.appid, query));
  const body = await o.bodies.read(ctx, tenant.appid, bindingKey);
  const opened = openPushRequest({ appid: signer.cipherAppid, token: signer.token, aesKey: signer.aesKey }, query, signed, body, ctx.get('content-type') || undefined);
  const { msg } = opened;
  // Rules and the reply are pure: decided before the push is claimed, so binding the signed query,
  // claiming, queueing and storing the answer for retries happen in one atomic step.
  const plan = planActions(settings.rules, msg);
  if (plan.regexTimeouts.length) ctx.state.log.warn({ rules: plan.regexTimeouts }, 'rule regex ran out of time; treated as no match');
  const plainReply = plan.reply ? buildPassiveReply(msg, plan.reply, opened.format, nowS(o.clock)) : null;
  const identity = dedupKey(msg);
  const claim: PushClaim = {
    replay: { key: bindingKey, digest: useDigest({ method: 'POST', encrypted: opened.encrypted, body }), ttlS: o.replayGuard.ttlS },
    dedupKey: identity,
    plainReply,
    ...(webhook ? { forward: { appid: tenant.appid, message: msg, receivedAt: o.clock.now(), deliveryId: deliveryIdOf(tenant.appid, identity) } } : {}),
    ...(plan.customerMessages.length ? { actions: { appid: tenant.appid, touser: msg.fromUser, customerMessages: plan.customerMessages } } : {}),
  };
  const outcome = await o.acceptor.accept(claim);
  if (outcome.kind === 'replayed') throw replayed();
  if (outcome.kind === 'duplicate') {
    ctx.state.log.info({ msgType: msg.msgType }, 'duplicate push answered without processing');
    respond(ctx, signer, opened.format, opened.encrypted, outcome.reply, o.clock);
    return;
  }
  respond(ctx, signer, opened.format, opened.encrypted, plainReply, o.clock);
  // A spooled push runs its actions when the drain accepts it: a replay or a retry must not send them.
  if (outcome.kind === 'accepted' && plan.customerMessages.length) sendRuleMessages(o.clients, tenant, msg.fromUser, plan.customerMessages, ctx.state.log);
}

/**
 * The delivery id of a push: the same push always gets the same one, so a tenant that de-duplicates
 * on it also drops a copy delivered after an outage longer than the dedup window.
 */
function deliveryIdOf(appid: string, key: string): string {
  const h = hash('sha256', `${appid}\n${key}`, 'hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20, 32)}`;
}

function respond(ctx: GatewayContext, signer: PushSigner, format: PushFormat, encrypted: boolean, plainReply: string | null, clock: Clock): void {
  if (plainReply === null) {
    ctx.type = 'text/plain';
    ctx.body = 'success';
    return;
  }
  const out = encrypted
    ? encryptReply(cachedAesKey(signer.aesKey), signer.token, signer.cipherAppid, plainReply, format, nowS(clock), String(pooledRandomBytes(4).readUInt32BE(0)))
    : plainReply;
  ctx.type = format === 'xml' ? 'text/xml' : 'application/json';
  ctx.body = out;
}
