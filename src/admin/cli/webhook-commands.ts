import { WebhookAdmin } from '../../delivery/webhook-admin';
import type { CliContext } from './cli-context';
import { CliError, requireAppid } from './tenant-commands';

export async function webhookCommand(ctx: CliContext, args: string[], shards?: number): Promise<void> {
  const [sub, appidArg, ...rest] = args;
  const admin = new WebhookAdmin(ctx.redis, shards);
  const appid = requireAppid(appidArg);
  switch (sub) {
    case 'status': {
      const s = await admin.status(appid);
      ctx.out(`${appid}  backlog ${s.backlog}  in-flight ${s.inFlight}  retrying ${s.retrying}  dead ${s.dead}`);
      break;
    }
    case 'dead': {
      const i = rest.indexOf('--limit');
      const limit = i >= 0 ? Number(rest[i + 1]) : 50;
      if (!Number.isInteger(limit) || limit < 1) throw new CliError('--limit takes a positive whole number', 2);
      const list = await admin.dead(appid, limit);
      if (list.length === 0) ctx.out('no dead letters');
      for (const d of list) ctx.out(`${d.id}  delivery ${d.deliveryId}  attempts ${d.attempts}  ${d.deadAt}  ${d.lastError}`);
      break;
    }
    case 'redeliver': {
      const all = rest.includes('--all');
      const ids = rest.filter((a) => a !== '--all');
      if (!all && ids.length === 0) throw new CliError('redeliver needs --all or dead-letter ids', 2);
      const n = await admin.redeliver(appid, all ? 'all' : ids);
      await ctx.audit.record({ actor: ctx.actor, action: 'webhook.redeliver', target: { kind: 'webhook', id: appid }, appid, details: { count: n } });
      ctx.out(`${n} message(s) queued for delivery again`);
      break;
    }
    default:
      throw new CliError('usage: webhook status|dead|redeliver <appid> ...', 2);
  }
}
