import { APPID_PATTERN } from '../../tenancy/tenant';
import type { CliContext } from './cli-context';
import { CliError } from './cli-error';

export const AUDIT_HELP = `Audit log (every change made through this CLI, and authorizations WeChat reports):
  audit [appid] [--limit N] [--json]   newest first (default 50, at most 500); secrets are masked`;

export async function auditCommand(ctx: CliContext, args: string[]): Promise<void> {
  const appid = args[0] && !args[0].startsWith('--') ? args[0] : undefined;
  if (appid !== undefined && !APPID_PATTERN.test(appid)) throw new CliError(`invalid appid ${JSON.stringify(appid)}: expected "wx" followed by 16 lowercase hex digits`);
  const i = args.indexOf('--limit');
  const limit = i >= 0 ? Number(args[i + 1]) : 50;
  if (!Number.isInteger(limit) || limit < 1 || limit > 500) throw new CliError('--limit takes 1 to 500', 2);
  const entries = await ctx.audit.list({ ...(appid ? { appid } : {}), limit });
  if (args.includes('--json')) {
    ctx.out(JSON.stringify(entries, null, 2));
    return;
  }
  if (entries.length === 0) ctx.out('no audit entries');
  for (const e of entries)
    ctx.out(`${e.at.toISOString()}  ${e.actor.padEnd(24)}  ${e.action.padEnd(28)}  ${e.target.kind}:${e.target.id}${e.details ? '  ' + JSON.stringify(e.details) : ''}`);
}
