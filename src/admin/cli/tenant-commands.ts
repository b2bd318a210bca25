import type { ParseOptions, TenantSections } from '../../tenancy/tenant-sections';
import type { TenantDefinition } from '../../tenancy/tenant';
import type { AdminOperations } from '../operations/admin-operations';
import { checkAppid } from '../operations/admin-operations';
import { tenantKind, validateDefinitions } from '../operations/definitions';
import type { CliContext } from './cli-context';
import { CliError } from './cli-error';
import { readDefinitionFiles } from './definition-files';

export { CliError } from './cli-error';

/** The <appid> argument: missing is a usage error (exit 2); malformed is INVALID_APPID, as through the API. */
export function requireAppid(appid: string | undefined): string {
  if (!appid) throw new CliError('missing <appid>', 2);
  checkAppid(appid);
  return appid;
}

/**
 * Reads and validates every tenant file before anything is written (with the admin API's own
 * validation): one bad file means no change at all (INVALID_DEFINITION, every problem listed).
 */
export async function loadDefinitions(files: string[], sections: TenantSections, opts: ParseOptions = {}): Promise<TenantDefinition[]> {
  const { entries, problems } = await readDefinitionFiles(files, 'apply');
  return validateDefinitions(entries, tenantKind(sections, opts), problems);
}

export async function applyCommand(ctx: CliContext, ops: AdminOperations, defs: TenantDefinition[]): Promise<void> {
  for (const r of await ops.applyTenants(ctx.actor, defs)) ctx.out(`${r.appid} ${r.action} (${r.name}, ${r.status})`);
}

export async function listCommand(ctx: CliContext, ops: AdminOperations, json: boolean): Promise<void> {
  if (json) {
    ctx.out(JSON.stringify(await ops.allTenants(), null, 2));
    return;
  }
  // The text listing reads the stored tenants: the sections' summaries need more than the masked view.
  const tenants = await ctx.repo.listForOperators();
  if (tenants.length === 0) {
    ctx.out('no tenants');
    return;
  }
  for (const e of tenants) {
    if (!e.readable) {
      ctx.out(`${e.appid}  ${e.status.padEnd(8)}  UNREADABLE (its secrets do not open with SECRETS_KEYS)  ${e.name}`);
      continue;
    }
    const t = e.tenant;
    ctx.out(`${t.appid}  ${t.status.padEnd(8)}  ${t.tokenMode.padEnd(7)}  ${ctx.repo.sections.summary(t)}  ${t.name}`);
  }
}

export async function showCommand(ctx: CliContext, ops: AdminOperations, appid: string): Promise<void> {
  ctx.out(JSON.stringify(await ops.getTenant(appid), null, 2));
}

export async function setStatusCommand(ctx: CliContext, ops: AdminOperations, appid: string, status: 'active' | 'disabled'): Promise<void> {
  await ops.setTenantStatus(ctx.actor, appid, status);
  ctx.out(`${appid} ${status === 'active' ? 'enabled' : 'disabled'}`);
}

export async function removeCommand(ctx: CliContext, ops: AdminOperations, appid: string): Promise<void> {
  await ops.removeTenant(ctx.actor, appid);
  ctx.out(`${appid} removed`);
}
