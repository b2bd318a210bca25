import { AppError, ConfigError } from '../../kernel/errors';
import { AdminOperations } from '../operations/admin-operations';
import { definitionProblemsOf } from '../operations/definitions';
import { printProblems } from './definition-files';
import { toAppError } from '../../http/error-handler';
import { loadConfigSubset } from '../../kernel/config';
import type { CliContext, CliRoot, Output } from './cli-context';
import { applyCommand, CliError, listCommand, loadDefinitions, removeCommand, requireAppid, setStatusCommand, showCommand } from './tenant-commands';
import { keysCommand } from './key-commands';
import { webhookCommand } from './webhook-commands';
import { loadMerchantDefinitions, MERCHANTS_HELP, merchantsCommand } from './merchant-commands';
import { loadPlatformDefinitions, PLATFORMS_HELP, platformsCommand } from './platform-commands';
import { AUDIT_HELP, auditCommand } from './audit-commands';

export const TENANTS_HELP = `Usage: npm run tenants -- <command> [args]

Tenants (definitions in tenants/*.json; see README "Tenant file"):
  apply <file.json>...            validate every file, then create or update each tenant (idempotent)
  list [--json]                   list tenants
  show <appid>                    show one tenant, secrets masked
  disable <appid>                 refuse the tenant's requests (403 TENANT_DISABLED) on every gateway
  enable <appid>                  serve the tenant again
  remove <appid>                  delete the tenant (its users and keys are kept)

Service API keys (for the tenant's own backend services):
  keys create <appid> --name <label>   create a key; it is printed once and stored only as a hash
  keys list <appid>                    list keys (id, label, created, revoked)
  keys revoke <appid> <keyId>          revoke a key (refused everywhere within 5 s)

Webhook deliveries (forwarding of push messages to the tenant's backend):
  webhook status <appid>               backlog, in-flight and dead-letter counts
  webhook dead <appid> [--limit N]     list dead-lettered messages
  webhook redeliver <appid> [--all | <id>...]   move dead letters back to the delivery queue

${MERCHANTS_HELP}

${PLATFORMS_HELP}

${AUDIT_HELP}

Environment: MONGODB_URI, REDIS_URL, SECRETS_KEY, ALLOW_PRIVATE_URLS, WECHAT_API_BASE (as for the gateway).
Changes reach running gateways at once (Redis pub/sub); no restart is needed.
Errors are printed as "error: [CODE] message", with the codes of the admin API (README "Error codes").
Exit codes: 0 done, 1 failed (nothing partial is written by apply), 2 usage error.`;

/** Runs one CLI invocation with the tenant sections of the gateway's features; returns the exit code. */
export async function runTenantsCli(argv: string[], env: NodeJS.ProcessEnv, io: Output, root: CliRoot): Promise<number> {
  const [command, ...rest] = argv;
  if (!command || command === 'help' || command === '--help' || command === '-h') {
    io.out(TENANTS_HELP);
    return command ? 0 : 2;
  }
  let ctx: CliContext | undefined;
  let ops: AdminOperations | undefined;
  try {
    // Validate files before connecting anywhere: a bad file must not depend on the database being up.
    const allowPrivateUrls = loadConfigSubset(env, ['ALLOW_PRIVATE_URLS']).ALLOW_PRIVATE_URLS;
    const defs = command === 'apply' ? await loadDefinitions(rest, root.sections, { allowPrivateUrls }) : undefined;
    const merchantDefs = command === 'merchants' && rest[0] === 'apply' ? await loadMerchantDefinitions(rest.slice(1), { allowPrivateUrls }) : undefined;
    const platformDefs = command === 'platforms' && rest[0] === 'apply' ? await loadPlatformDefinitions(rest.slice(1), io, { allowPrivateUrls }) : undefined;
    ctx = await root.open(env, io);
    ops = new AdminOperations(ctx);
    switch (command) {
      case 'apply':
        await applyCommand(ctx, ops, defs ?? []);
        break;
      case 'list':
        await listCommand(ctx, ops, rest.includes('--json'));
        break;
      case 'show':
        await showCommand(ctx, ops, requireAppid(rest[0]));
        break;
      case 'disable':
        await setStatusCommand(ctx, ops, requireAppid(rest[0]), 'disabled');
        break;
      case 'enable':
        await setStatusCommand(ctx, ops, requireAppid(rest[0]), 'active');
        break;
      case 'remove':
        await removeCommand(ctx, ops, requireAppid(rest[0]));
        break;
      case 'keys':
        await keysCommand(ctx, ops, rest);
        break;
      case 'webhook':
        await webhookCommand(ctx, ops, rest);
        break;
      case 'merchants':
        await merchantsCommand(ctx, ops, rest, merchantDefs);
        break;
      case 'audit':
        await auditCommand(ctx, rest);
        break;
      case 'platforms':
        await platformsCommand(ctx, rest, platformDefs, { wechatApiBase: loadConfigSubset(env, ['WECHAT_API_BASE']).WECHAT_API_BASE, allowPrivateUrls });
        break;
      default:
        throw new CliError(`unknown command ${JSON.stringify(command)}; see --help`, 2);
    }
    return 0;
  } catch (err) {
    if (err instanceof AppError) {
      // The admin API answers the same code for the same failure (the operations are shared).
      if (err.code === 'INVALID_DEFINITION') printProblems(io, definitionProblemsOf(err));
      io.err(`error: [${err.code}] ${err.code === 'INVALID_DEFINITION' ? 'nothing was written' : err.message}`);
      return 1;
    }
    if (err instanceof CliError) {
      io.err(`error: ${err.message}`);
      return err.exitCode;
    }
    if (err instanceof ConfigError) {
      io.err(`error: invalid configuration: ${err.message}`);
      return 1;
    }
    // A store that cannot be reached is STORE_UNAVAILABLE, as the admin API answers it.
    const mapped = toAppError(err);
    io.err(mapped.status === 500 ? `error: ${(err as Error).message}` : `error: [${mapped.code}] ${mapped.message}`);
    return 1;
  } finally {
    ops?.close();
    await ctx?.close();
  }
}
