import type { Merchant } from '../../merchants/merchant';
import type { AdminOperations } from '../operations/admin-operations';
import { merchantKind, validateDefinitions } from '../operations/definitions';
import type { CliContext } from './cli-context';
import { CliError } from './cli-error';
import { readDefinitionFiles } from './definition-files';

export const MERCHANTS_HELP = `WeChat Pay merchants (definitions in JSON files; see README "Merchant file"):
  merchants apply <file.json>...       validate every file, then create or update each merchant (idempotent)
  merchants list [--json]              list merchants (secrets masked)
  merchants show <mchid>               show one merchant, secrets masked
  merchants remove <mchid> [--force]   delete a merchant (refused while a tenant's "pay" names it, unless --force)`;

/** Reads and validates every merchant file before anything is written (with the admin API's own validation). */
export async function loadMerchantDefinitions(files: string[], opts: { allowPrivateUrls?: boolean }): Promise<Merchant[]> {
  const { entries, problems } = await readDefinitionFiles(files, 'merchants apply');
  return validateDefinitions(entries, merchantKind(opts), problems);
}

function requireMchid(mchid: string | undefined): string {
  if (!mchid) throw new CliError('missing <mchid>', 2);
  return mchid;
}

export async function merchantsCommand(ctx: CliContext, ops: AdminOperations, args: string[], defs: Merchant[] | undefined): Promise<void> {
  const [sub, ...rest] = args;
  switch (sub) {
    case 'apply':
      for (const m of await ops.applyMerchants(ctx.actor, defs ?? []))
        ctx.out(`${m.mchid} ${m.action} (${m.name}, ${m.verification === 'public-key' ? 'public key' : 'platform certificates'})`);
      return;
    case 'list': {
      const list = await ops.listMerchants();
      if (rest.includes('--json')) ctx.out(JSON.stringify(list, null, 2));
      else if (list.length === 0) ctx.out('no merchants');
      else for (const m of list) ctx.out(`${String(m.mchid).padEnd(16)} ${String(m.verification === 'public-key' ? 'public-key' : 'certificates').padEnd(12)} ${String(m.name)}`);
      return;
    }
    case 'show':
      ctx.out(JSON.stringify(await ops.getMerchant(requireMchid(rest[0])), null, 2));
      return;
    case 'remove': {
      const mchid = await ops.removeMerchant(ctx.actor, requireMchid(rest[0]), rest.includes('--force'));
      ctx.out(`${mchid} removed`);
      return;
    }
    default:
      throw new CliError(`unknown merchants command ${JSON.stringify(sub ?? '')}; see --help`, 2);
  }
}
