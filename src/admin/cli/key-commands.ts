import { ServiceKeys, KEY_CACHE_TTL_S } from '../../auth/service-keys';
import type { CliContext } from './cli-context';
import { CliError, requireAppid } from './tenant-commands';

export async function keysCommand(ctx: CliContext, args: string[]): Promise<void> {
  const [sub, ...rest] = args;
  const keys = new ServiceKeys(ctx.mongo);
  try {
    await keys.ensureIndexes();
    switch (sub) {
      case 'create': {
        const appid = requireAppid(rest[0]);
        const i = rest.indexOf('--name');
        const name = i >= 0 ? rest[i + 1] : undefined;
        if (!name) throw new CliError('keys create needs --name <label>', 2);
        if (!(await ctx.repo.find(appid))) throw new CliError(`no tenant ${appid}`);
        const created = await keys.create(appid, name);
        await ctx.audit.record({ actor: ctx.actor, action: 'key.create', target: { kind: 'key', id: created.keyId }, appid, details: { name } });
        ctx.out(`key id: ${created.keyId}`);
        ctx.out(`key:    ${created.key}`);
        ctx.out('Store the key now: it is not shown again.');
        break;
      }
      case 'list': {
        const appid = requireAppid(rest[0]);
        const list = await keys.list(appid);
        if (list.length === 0) ctx.out('no keys');
        for (const k of list) {
          ctx.out(`${k.keyId}  ${k.revokedAt ? 'revoked ' + k.revokedAt.toISOString() : 'active'}  created ${k.createdAt.toISOString()}  ${k.name}`);
        }
        break;
      }
      case 'revoke': {
        const appid = requireAppid(rest[0]);
        const keyId = rest[1];
        if (!keyId) throw new CliError('keys revoke needs <appid> <keyId>', 2);
        if (!(await keys.revoke(appid, keyId))) throw new CliError(`no active key ${keyId} for ${appid}`);
        await ctx.audit.record({ actor: ctx.actor, action: 'key.revoke', target: { kind: 'key', id: keyId }, appid });
        try {
          // Gateways drop their copies at once, including the one they would serve during a MongoDB outage.
          await ctx.announceKeyRevocation(appid, keyId);
        } catch (err) {
          ctx.err(`warning: running gateways were not told (${(err as Error).message}); they refuse the key within ${KEY_CACHE_TTL_S} s while MongoDB is up`);
        }
        ctx.out(`${keyId} revoked (refused everywhere within ${KEY_CACHE_TTL_S} s)`);
        break;
      }
      default:
        throw new CliError('usage: keys create|list|revoke ...', 2);
    }
  } finally {
    keys.close();
  }
}
