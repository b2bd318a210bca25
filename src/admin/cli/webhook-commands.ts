import type { AdminOperations } from '../operations/admin-operations';
import type { CliContext } from './cli-context';
import { CliError, requireAppid } from './tenant-commands';

export async function webhookCommand(ctx: CliContext, ops: AdminOperations, args: string[]): Promise<void> {
  const [sub, appidArg, ...rest] = args;
  if (sub !== 'status' && sub !== 'dead' && sub !== 'redeliver') throw new CliError('usage: webhook status|dead|redeliver <appid> ...', 2);
  const appid = requireAppid(appidArg);
  switch (sub) {
    case 'status': {
      const s = await ops.webhookStatus(appid);
      ctx.out(`${appid}  backlog ${s.backlog}  in-flight ${s.inFlight}  retrying ${s.retrying}  dead ${s.dead}`);
      break;
    }
    case 'dead': {
      const i = rest.indexOf('--limit');
      const limit = i >= 0 ? Number(rest[i + 1]) : 50;
      if (!Number.isInteger(limit) || limit < 1 || limit > 1000) throw new CliError('--limit takes 1 to 1000', 2);
      const list = await ops.deadLetters(appid, limit);
      if (list.length === 0) ctx.out('no dead letters');
      for (const d of list) ctx.out(`${d.id}  delivery ${d.deliveryId}  attempts ${d.attempts}  ${d.deadAt}  ${d.lastError}`);
      break;
    }
    case 'redeliver': {
      const all = rest.includes('--all');
      const ids = rest.filter((a) => a !== '--all');
      if (!all && ids.length === 0) throw new CliError('redeliver needs --all or dead-letter ids', 2);
      const n = await ops.redeliver(ctx.actor, appid, all ? 'all' : ids);
      ctx.out(`${n} message(s) queued for delivery again`);
      break;
    }
  }
}
