import { rekey, REKEY_STORES } from '../rekey';
import type { CliContext } from './cli-context';
import { CliError } from './cli-error';

export const REKEY_HELP = `Secrets-key rotation (README "Rotating the secrets key": every instance on SECRETS_KEYS=new,old first):
  rekey [--dry-run] [--batch-size N] [--limit N]
        re-encrypt every sealed value (MongoDB and the Redis copies) under the first key of SECRETS_KEYS,
        in batches of N documents (default 200) while gateways keep serving; re-running touches only what
        is not under the first key yet. --dry-run only counts; --limit stops after N writes`;

interface RekeyArgs {
  dryRun: boolean;
  batchSize: number;
  limit?: number;
}

export function parseRekeyArgs(args: string[]): RekeyArgs {
  const out: RekeyArgs = { dryRun: false, batchSize: 200 };
  for (let i = 0; i < args.length; i++) {
    const a = args[i];
    if (a === '--dry-run') out.dryRun = true;
    else if (a === '--batch-size' || a === '--limit') {
      const n = Number(args[++i]);
      if (!Number.isInteger(n) || n < 1 || (a === '--batch-size' && n > 10000)) throw new CliError(`${a} takes a whole number${a === '--batch-size' ? ' from 1 to 10000' : ' above 0'}`, 2);
      if (a === '--batch-size') out.batchSize = n;
      else out.limit = n;
    } else throw new CliError(`rekey: unknown argument ${JSON.stringify(a)}; see --help`, 2);
  }
  return out;
}

export async function rekeyCommand(ctx: CliContext, args: string[]): Promise<void> {
  const opts = parseRekeyArgs(args);
  const kids = ctx.box.kids;
  ctx.out(`rekey: sealing key ${ctx.box.primaryKid}; keys that open: ${kids.join(', ')}${opts.dryRun ? ' (dry run: nothing is written)' : ''}`);
  const startedAt = Date.now();
  const { counts, stopped } = await rekey({ mongo: ctx.mongo, redis: ctx.redis, box: ctx.box, sections: ctx.repo.sections }, opts);
  const cols = ['scanned', 'current', opts.dryRun ? 'to-rekey' : 'rekeyed', 'unreadable', 'changed-meanwhile'];
  ctx.out(['store'.padEnd(22), ...cols.map((c) => c.padStart(17))].join(''));
  for (const s of REKEY_STORES) {
    const c = counts[s];
    ctx.out([s.padEnd(22), ...[c.scanned, c.current, c.rekeyed, c.unreadable, c.contended].map((n) => String(n).padStart(17))].join(''));
  }
  const total = (k: 'rekeyed' | 'unreadable' | 'contended') => REKEY_STORES.reduce((n, s) => n + counts[s][k], 0);
  if (!opts.dryRun) {
    await ctx.audit.record({
      actor: ctx.actor,
      action: 'secrets.rekey',
      target: { kind: 'secrets', id: ctx.box.primaryKid },
      // Key ids only: they name keys without revealing them.
      details: { keys: kids, stopped, batchSize: opts.batchSize, ...(opts.limit !== undefined ? { limit: opts.limit } : {}), ms: Date.now() - startedAt, counts },
    });
  }
  if (stopped) ctx.out(`stopped after --limit ${opts.limit ?? ''} writes; run rekey again to continue`);
  const unreadable = total('unreadable');
  const contended = total('contended');
  if (unreadable > 0 || contended > 0) {
    throw new CliError(
      [
        unreadable > 0 ? `${unreadable} sealed value(s) open with no key of SECRETS_KEYS and were left as they are (was an old key dropped too early?)` : '',
        contended > 0 ? `${contended} document(s) or key(s) kept changing while being re-sealed; run rekey again` : '',
      ]
        .filter(Boolean)
        .join('; '),
    );
  }
  ctx.out(opts.dryRun ? `dry run: ${total('rekeyed')} value(s) would be re-sealed or dropped` : `done: ${total('rekeyed')} value(s) re-sealed or dropped`);
}
