import { TenantFileError, type ParseOptions, type TenantSections } from '../../tenancy/tenant-sections';
import { APPID_PATTERN, type TenantDefinition } from '../../tenancy/tenant';
import type { CliContext, Output } from './cli-context';
import { CliError } from './cli-error';
import { loadDefinitionFiles } from './definition-files';

export { CliError } from './cli-error';

export function requireAppid(appid: string | undefined): string {
  if (!appid) throw new CliError('missing <appid>', 2);
  if (!APPID_PATTERN.test(appid)) throw new CliError(`invalid appid ${JSON.stringify(appid)}: expected "wx" followed by 16 lowercase hex digits`);
  return appid;
}

/** Reads and validates every tenant file before anything is written: one bad file means no change at all. */
export function loadDefinitions(files: string[], io: Output, sections: TenantSections, opts: ParseOptions = {}): Promise<TenantDefinition[]> {
  return loadDefinitionFiles(files, io, {
    command: 'apply',
    keyName: 'appid',
    keyOf: (d) => d.appid,
    parse: (entry, source) => sections.parse(entry, source, opts),
    problemsOf: (err) => (err instanceof TenantFileError ? { source: err.source, lines: err.fields.map((f) => `${f.path}: ${f.message}`) } : undefined),
  });
}

export async function applyCommand(ctx: CliContext, defs: TenantDefinition[]): Promise<void> {
  // Bulk: one read and one write per batch; each batch announced and audited once written.
  const now = new Date();
  const results = await ctx.repo.applyMany(defs, {
    afterBatch: async (changed) => {
      await ctx.announceMany(changed.map((c) => c.appid));
      await ctx.audit.recordMany(
        changed.map((c) => ({
          actor: ctx.actor,
          action: 'tenant.apply',
          target: { kind: 'tenant', id: c.appid },
          appid: c.appid,
          before: c.before ? ctx.repo.sections.mask(c.before) : null,
          after: ctx.repo.sections.mask({ ...c.def, createdAt: c.before?.createdAt ?? now, updatedAt: now }),
          details: { outcome: c.outcome },
        })),
      );
    },
  });
  for (const r of results) ctx.out(`${r.appid} ${r.outcome} (${r.def.name}, ${r.def.status})`);
}

export async function listCommand(ctx: CliContext, json: boolean): Promise<void> {
  const tenants = await ctx.repo.list();
  if (json) {
    ctx.out(
      JSON.stringify(
        tenants.map((t) => ctx.repo.sections.mask(t)),
        null,
        2,
      ),
    );
    return;
  }
  if (tenants.length === 0) {
    ctx.out('no tenants');
    return;
  }
  for (const t of tenants) ctx.out(`${t.appid}  ${t.status.padEnd(8)}  ${t.tokenMode.padEnd(7)}  ${ctx.repo.sections.summary(t)}  ${t.name}`);
}

export async function showCommand(ctx: CliContext, appid: string): Promise<void> {
  const t = await ctx.repo.find(appid);
  if (!t) throw new CliError(`no tenant ${appid}`);
  ctx.out(JSON.stringify(ctx.repo.sections.mask(t), null, 2));
}

export async function setStatusCommand(ctx: CliContext, appid: string, status: 'active' | 'disabled'): Promise<void> {
  if (!(await ctx.repo.setStatus(appid, status))) throw new CliError(`no tenant ${appid}`);
  await ctx.announce(appid);
  await ctx.audit.record({ actor: ctx.actor, action: status === 'active' ? 'tenant.enable' : 'tenant.disable', target: { kind: 'tenant', id: appid }, appid });
  ctx.out(`${appid} ${status === 'active' ? 'enabled' : 'disabled'}`);
}

export async function removeCommand(ctx: CliContext, appid: string): Promise<void> {
  // A tenant whose sealed values no longer open (wrong key, tampered) must still be removable.
  const before = await ctx.repo.find(appid).then(
    (t) => (t ? ctx.repo.sections.mask(t) : null),
    () => ({ unreadable: true }),
  );
  if (!(await ctx.repo.remove(appid))) throw new CliError(`no tenant ${appid}`);
  await ctx.announce(appid);
  await ctx.audit.record({ actor: ctx.actor, action: 'tenant.remove', target: { kind: 'tenant', id: appid }, appid, before, after: null });
  ctx.out(`${appid} removed`);
}
