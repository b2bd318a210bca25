import { readFile } from 'node:fs/promises';
import { TenantFileError, type ParseOptions, type TenantSections } from '../../tenancy/tenant-sections';
import { APPID_PATTERN, type TenantDefinition } from '../../tenancy/tenant';
import type { CliContext, Output } from './cli-context';

export class CliError extends Error {
  constructor(
    message: string,
    readonly exitCode = 1,
  ) {
    super(message);
  }
}

/**
 * Why a definition file could not be read. A JSON syntax error's own message quotes the text around
 * the error, which may be a secret: only its position is told.
 */
export function readProblem(err: unknown): string {
  if (!(err instanceof SyntaxError)) return (err as Error).message;
  const at = /at position (\d+)/.exec(err.message)?.[1];
  return `not valid JSON${at ? ` (error at character ${at})` : ''}`;
}

export function requireAppid(appid: string | undefined): string {
  if (!appid) throw new CliError('missing <appid>', 2);
  if (!APPID_PATTERN.test(appid)) throw new CliError(`invalid appid ${JSON.stringify(appid)}: expected "wx" followed by 16 lowercase hex digits`);
  return appid;
}

/** Reads and validates every file before anything is written: one bad file means no change at all. */
export async function loadDefinitions(files: string[], io: Output, sections: TenantSections, opts: ParseOptions = {}): Promise<TenantDefinition[]> {
  if (files.length === 0) throw new CliError('apply needs at least one <file.json>', 2);
  const defs: TenantDefinition[] = [];
  const problems: string[] = [];
  for (const file of files) {
    let raw: unknown;
    try {
      raw = JSON.parse(await readFile(file, 'utf8'));
    } catch (err) {
      problems.push(`${file}: cannot read JSON: ${readProblem(err)}`);
      continue;
    }
    const entries = Array.isArray(raw) ? raw : [raw];
    entries.forEach((entry, i) => {
      const source = Array.isArray(raw) ? `${file}[${i}]` : file;
      try {
        defs.push(sections.parse(entry, source, opts));
      } catch (err) {
        if (!(err instanceof TenantFileError)) throw err;
        problems.push(`${err.source}: invalid fields:`);
        for (const f of err.fields) problems.push(`  ${f.path}: ${f.message}`);
      }
    });
  }
  const seen = new Set<string>();
  for (const d of defs) {
    if (seen.has(d.appid)) problems.push(`appid ${d.appid} is defined more than once`);
    seen.add(d.appid);
  }
  if (problems.length) {
    for (const p of problems) io.err(p);
    throw new CliError('nothing was written');
  }
  return defs;
}

export async function applyCommand(ctx: CliContext, defs: TenantDefinition[]): Promise<void> {
  for (const def of defs) {
    const outcome = await ctx.repo.upsert(def);
    if (outcome !== 'unchanged') await ctx.announce(def.appid);
    ctx.out(`${def.appid} ${outcome} (${def.name}, ${def.status})`);
  }
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
  ctx.out(`${appid} ${status === 'active' ? 'enabled' : 'disabled'}`);
}

export async function removeCommand(ctx: CliContext, appid: string): Promise<void> {
  if (!(await ctx.repo.remove(appid))) throw new CliError(`no tenant ${appid}`);
  await ctx.announce(appid);
  ctx.out(`${appid} removed`);
}
