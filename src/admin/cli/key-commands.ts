import { KEY_CACHE_TTL_S } from '../../auth/service-keys';
import type { AdminOperations } from '../operations/admin-operations';
import type { CliContext } from './cli-context';
import { CliError, requireAppid } from './tenant-commands';

export async function keysCommand(ctx: CliContext, ops: AdminOperations, args: string[]): Promise<void> {
  const [sub, ...rest] = args;
  switch (sub) {
    case 'create': {
      const appid = requireAppid(rest[0]);
      const i = rest.indexOf('--name');
      const name = i >= 0 ? rest[i + 1] : undefined;
      if (!name) throw new CliError('keys create needs --name <label>', 2);
      const created = await ops.createKey(ctx.actor, appid, name);
      ctx.out(`key id: ${created.key.id}`);
      ctx.out(`key:    ${created.secret}`);
      ctx.out('Store the key now: it is not shown again.');
      break;
    }
    case 'list': {
      const list = await ops.listKeys(requireAppid(rest[0]));
      if (list.length === 0) ctx.out('no keys');
      for (const k of list) ctx.out(`${k.id}  ${k.revokedAt ? 'revoked ' + k.revokedAt : 'active'}  created ${k.createdAt}  ${k.name}`);
      break;
    }
    case 'revoke': {
      const appid = requireAppid(rest[0]);
      const keyId = rest[1];
      if (!keyId) throw new CliError('keys revoke needs <appid> <keyId>', 2);
      const r = await ops.revokeKey(ctx.actor, appid, keyId);
      if (!r.announced) ctx.err(`warning: running gateways were not told; they refuse the key within ${KEY_CACHE_TTL_S} s while MongoDB is up`);
      ctx.out(`${keyId} revoked (refused everywhere within ${KEY_CACHE_TTL_S} s)`);
      break;
    }
    default:
      throw new CliError('usage: keys create|list|revoke ...', 2);
  }
}
