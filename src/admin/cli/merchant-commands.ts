import { maskMerchant, MCHID, parseMerchantDefinition, type Merchant } from '../../merchants/merchant';
import { MerchantRepository } from '../../merchants/merchant-repository';
import type { CliContext, Output } from './cli-context';
import { CliError } from './cli-error';
import { DefinitionError } from '../../tenancy/definition-file';
import { loadDefinitionFiles } from './definition-files';

export const MERCHANTS_HELP = `WeChat Pay merchants (definitions in JSON files; see README "Merchant file"):
  merchants apply <file.json>...       validate every file, then create or update each merchant (idempotent)
  merchants list [--json]              list merchants (secrets masked)
  merchants show <mchid>               show one merchant, secrets masked
  merchants remove <mchid> [--force]   delete a merchant (refused while a tenant's "pay" names it, unless --force)`;

/** Reads and validates every merchant file before anything is written. */
export function loadMerchantDefinitions(files: string[], io: Output, opts: { allowPrivateUrls?: boolean }): Promise<Merchant[]> {
  return loadDefinitionFiles(files, io, {
    command: 'merchants apply',
    keyName: 'mchid',
    keyOf: (m) => m.mchid,
    parse: (entry, source) => parseMerchantDefinition(entry, source, opts),
    problemsOf: (err) => (err instanceof DefinitionError ? { source: err.source, lines: err.problems } : undefined),
  });
}

function requireMchid(mchid: string | undefined): string {
  if (!mchid) throw new CliError('missing <mchid>', 2);
  if (!MCHID.test(mchid)) throw new CliError(`invalid mchid ${JSON.stringify(mchid)}: expected 6 to 16 digits`);
  return mchid;
}

export async function merchantsCommand(ctx: CliContext, args: string[], defs: Merchant[] | undefined): Promise<void> {
  const [sub, ...rest] = args;
  const repo = new MerchantRepository(ctx.mongo, ctx.box);
  await repo.ensureIndexes();
  switch (sub) {
    case 'apply':
      for (const m of defs ?? []) {
        const before = await repo.find(m.mchid);
        const outcome = await repo.upsert(m);
        if (outcome !== 'unchanged') {
          await ctx.audit.record({
            actor: ctx.actor,
            action: 'merchant.apply',
            target: { kind: 'merchant', id: m.mchid },
            before: before ? maskMerchant(before) : null,
            after: maskMerchant(m),
            details: { outcome },
          });
        }
        if (outcome !== 'unchanged') await ctx.announceMerchant(m.mchid);
        ctx.out(`${m.mchid} ${outcome} (${m.name}, ${m.publicKeyId ? 'public key' : 'platform certificates'})`);
      }
      return;
    case 'list': {
      const list = await repo.list();
      if (rest.includes('--json')) ctx.out(JSON.stringify(list.map(maskMerchant), null, 2));
      else if (list.length === 0) ctx.out('no merchants');
      else for (const m of list) ctx.out(`${m.mchid.padEnd(16)} ${(m.publicKeyId ? 'public-key' : 'certificates').padEnd(12)} ${m.name}`);
      return;
    }
    case 'show': {
      const mchid = requireMchid(rest[0]);
      const m = await repo.find(mchid);
      if (!m) throw new CliError(`no merchant ${mchid}`);
      const users = await ctx.repo.model.find({ 'pay.mchid': mchid }, { appid: 1 }).lean<{ appid: string }[]>().exec();
      ctx.out(JSON.stringify({ ...maskMerchant(m), tenants: users.map((u) => u.appid).sort() }, null, 2));
      return;
    }
    case 'remove': {
      const mchid = requireMchid(rest[0]);
      const users = await ctx.repo.model.countDocuments({ 'pay.mchid': mchid }).exec();
      if (users > 0 && !rest.includes('--force')) throw new CliError(`merchant ${mchid} is used by ${users} tenant(s); remove their "pay" first, or pass --force`);
      // One whose sealed values no longer open (wrong key, tampered) must still be removable.
      const before = await repo.find(mchid).then(
        (x) => (x ? maskMerchant(x) : null),
        () => ({ unreadable: true }),
      );
      if (!(await repo.remove(mchid))) throw new CliError(`no merchant ${mchid}`);
      await ctx.audit.record({
        actor: ctx.actor,
        action: 'merchant.remove',
        target: { kind: 'merchant', id: mchid },
        before,
        after: null,
        details: { forced: users > 0 },
      });
      await ctx.announceMerchant(mchid);
      ctx.out(`${mchid} removed`);
      return;
    }
    default:
      throw new CliError(`unknown merchants command ${JSON.stringify(sub ?? '')}; see --help`, 2);
  }
}
