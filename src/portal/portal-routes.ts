import { randomBytes } from 'node:crypto';
import Router from '@koa/router';
import { AppError } from '../kernel/errors';
import { type GatewayContext, type GatewayState } from '../http/context';
import { tenantOf } from '../tenancy/tenant-context';
import { readRawBody } from '../http/raw-body';
import type { Clock } from '../kernel/clock';
import type { Logger } from '../kernel/log';
import type { Tenant } from '../tenancy/tenant';
import type { WeChatClients } from '../wechat/wechat-clients';
import { sendCustomerMessage } from '../wechat/mp-api';
import { webhookSection } from '../delivery/webhook-section';
import { portalSection, type PortalSettings } from './portal-section';
import { openPushRequest, verifyEcho, type PushQuery } from './push-request';
import { dedupKey, type PushMessage } from './message';
import { planActions, type CustomerMessage } from './rules';
import { buildPassiveReply, encryptReply } from './reply';
import { aesKeyFromEncodingKey } from '../protocol/msg-crypto';
import type { PushFormat } from './body-parse';
import type { PushIntake } from './push-intake';
import type { PushReplayGuard } from './push-replay-guard';

export interface PortalOptions {
  clock: Clock;
  log: Logger;
  intake: PushIntake;
  replayGuard: PushReplayGuard;
  clients: WeChatClients;
  maxBodyBytes: number;
  timestampWindowS: number;
}

/**
 * WeChat's push endpoint for a tenant: GET verifies the URL, POST accepts a message or event.
 * The answer is given as soon as the message is safely queued; slow work (customer messages,
 * webhook delivery) happens afterwards, so WeChat always hears back well within its 5 s.
 */
export function portalRoutes(o: PortalOptions): Router<GatewayState> {
  const router = new Router<GatewayState>();
  router.get('/:appid/portal', (ctx) => {
    const { token } = portalSection.of(tenantOf(ctx));
    const echo = verifyEcho(pushQuery(ctx), token, nowS(o.clock), o.timestampWindowS);
    ctx.type = 'text/plain';
    ctx.body = echo;
  });
  router.post('/:appid/portal', async (ctx) => handlePush(ctx, o));
  return router;
}

function pushQuery(ctx: GatewayContext): PushQuery {
  const q: PushQuery = {};
  for (const k of ['signature', 'timestamp', 'nonce', 'encrypt_type', 'msg_signature', 'echostr'] as const) {
    const v = ctx.query[k];
    if (Array.isArray(v)) throw new AppError(400, 'INVALID_QUERY', `${k} given more than once`);
    if (typeof v === 'string') q[k] = v;
  }
  return q;
}

const nowS = (clock: Clock) => Math.floor(clock.now() / 1000);

async function handlePush(ctx: GatewayContext, o: PortalOptions): Promise<void> {
  const tenant = tenantOf(ctx);
  const settings = portalSection.of(tenant);
  const { webhook } = webhookSection.of(tenant);
  const query = pushQuery(ctx);
  const body = await readRawBody(ctx, o.maxBodyBytes);
  const opened = openPushRequest(
    { appid: tenant.appid, token: settings.token, aesKey: settings.aesKey },
    query,
    body,
    ctx.get('content-type') || undefined,
    nowS(o.clock),
    o.timestampWindowS,
  );
  const { msg } = opened;
  // Encrypted pushes are signed over their content; plain ones only over the query.
  if (!opened.encrypted) {
    const fresh = await dependency(() => o.replayGuard.accept(tenant.appid, query.timestamp ?? '', query.nonce ?? '', query.signature ?? '', body));
    if (!fresh) throw new AppError(401, 'REPLAYED_PUSH', 'this signed request was already used with another body');
  }
  // Rules and the reply are pure: decided before the push is claimed, so claiming, queueing and
  // storing the answer for retries happen in one atomic step.
  const plan = planActions(settings.rules, msg);
  if (plan.regexTimeouts.length) ctx.state.log.warn({ rules: plan.regexTimeouts }, 'rule regex ran out of time; treated as no match');
  const plainReply = plan.reply ? buildPassiveReply(msg, plan.reply, opened.format, nowS(o.clock)) : null;
  const outcome = await dependency(() => o.intake.accept(dedupKey(msg), plainReply, webhook ? { appid: tenant.appid, message: msg, receivedAt: o.clock.now() } : undefined));
  if (outcome.kind === 'duplicate') {
    ctx.state.log.info({ msgType: msg.msgType }, 'duplicate push answered without processing');
    respond(ctx, tenant.appid, settings, opened.format, opened.encrypted, outcome.reply, o.clock);
    return;
  }
  respond(ctx, tenant.appid, settings, opened.format, opened.encrypted, plainReply, o.clock);
  if (plan.customerMessages.length) sendCustomerMessages(o, tenant, msg, plan.customerMessages, ctx.state.log);
}

function respond(ctx: GatewayContext, appid: string, settings: PortalSettings, format: PushFormat, encrypted: boolean, plainReply: string | null, clock: Clock): void {
  if (plainReply === null) {
    ctx.type = 'text/plain';
    ctx.body = 'success';
    return;
  }
  const out = encrypted ? encryptReply(aesKeyFromEncodingKey(settings.aesKey), settings.token, appid, plainReply, format, nowS(clock), String(randomBytes(4).readUInt32BE(0))) : plainReply;
  ctx.type = format === 'xml' ? 'text/xml' : 'application/json';
  ctx.body = out;
}

/** Redis trouble while accepting a push: 503 so WeChat retries later; nothing was half-done. */
async function dependency<T>(fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    throw new AppError(503, 'QUEUE_UNAVAILABLE', 'message store unavailable; WeChat will retry', { cause: err });
  }
}

function sendCustomerMessages(o: PortalOptions, tenant: Tenant, msg: PushMessage, messages: CustomerMessage[], log: Logger): void {
  const client = o.clients.for(tenant);
  for (const m of messages) {
    sendCustomerMessage(client, { ...m, touser: msg.fromUser }).catch((err: unknown) => {
      log.warn({ err: (err as Error).message, msgtype: m.msgtype }, 'customer message not sent');
    });
  }
}
