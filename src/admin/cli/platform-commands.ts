import { createLogger } from '../../kernel/log';
import { systemClock } from '../../kernel/clock';
import { sleep } from '../../kernel/timers';
import { APPID_PATTERN } from '../../tenancy/tenant';
import { WeChatHttp } from '../../transport/wechat-http';
import { TokenManager } from '../../token/token-manager';
import { maskPlatform, parsePlatformDefinition, type Platform } from '../../platforms/platform';
import { PlatformStore } from '../../platforms/platform-store';
import { TicketStore } from '../../platforms/ticket-store';
import { ComponentApi } from '../../platforms/component-api';
import { authorizerTokenKey } from '../../platforms/authorizers';
import { publishInvalidation } from '../../cache/invalidation-bus';
import type { CliContext, Output } from './cli-context';
import { CliError } from './cli-error';
import { DefinitionError } from '../../tenancy/definition-file';
import { loadDefinitionFiles } from './definition-files';

export const PLATFORMS_HELP = `Third-party platforms (definitions in JSON files; see README "Third-party platform mode"):
  platforms apply <file.json>...       validate every file, then create or update each platform (idempotent)
  platforms list                       list platforms, their ticket age and authorizer counts
  platforms show <componentAppid>      show one platform (secrets masked) and its authorizers
  platforms sync <componentAppid>      re-read the authorizer list from WeChat and restore refresh tokens
                                       (recovers authorizers marked reauthorization_required)
  platforms remove <componentAppid>    delete a platform (refused while authorizers use it, unless --force)`;

/** Reads and validates every platform file before anything is written. */
export function loadPlatformDefinitions(files: string[], io: Output, opts: { allowPrivateUrls?: boolean }): Promise<Platform[]> {
  return loadDefinitionFiles(files, io, {
    command: 'platforms apply',
    keyName: 'componentAppid',
    keyOf: (p) => p.componentAppid,
    parse: (entry, source) => parsePlatformDefinition(entry, source, opts),
    problemsOf: (err) => (err instanceof DefinitionError ? { source: err.source, lines: err.problems } : undefined),
  });
}

function requireComponent(v: string | undefined): string {
  if (!v) throw new CliError('missing <componentAppid>', 2);
  if (!APPID_PATTERN.test(v)) throw new CliError(`invalid componentAppid ${JSON.stringify(v)}: expected "wx" followed by 16 lowercase hex digits`);
  return v;
}

export async function platformsCommand(ctx: CliContext, args: string[], defs: Platform[] | undefined, env: { wechatApiBase: string; allowPrivateUrls: boolean }): Promise<void> {
  const [sub, ...rest] = args;
  const store = new PlatformStore(ctx.mongo, ctx.box);
  await store.ensureIndexes();
  switch (sub) {
    case 'apply':
      for (const p of defs ?? []) {
        const before = await store.find(p.componentAppid);
        const outcome = await store.upsert(p);
        if (outcome !== 'unchanged') {
          await ctx.audit.record({
            actor: ctx.actor,
            action: 'platform.apply',
            target: { kind: 'platform', id: p.componentAppid },
            before: before ? maskPlatform(before) : null,
            after: maskPlatform(p),
            details: { outcome },
          });
        }
        if (outcome !== 'unchanged') await ctx.announcePlatform(p.componentAppid);
        ctx.out(`${p.componentAppid} ${outcome} (${p.name})`);
      }
      return;
    case 'list': {
      const list = await store.list();
      if (list.length === 0) ctx.out('no platforms');
      const times = new Map((await store.ticketTimes()).map((t) => [t.componentAppid, t.at]));
      for (const p of list) {
        const at = times.get(p.componentAppid);
        const authorizers = await store.listAuthorizers(p.componentAppid);
        ctx.out(`${p.componentAppid}  ticket ${at ? `${Math.round((Date.now() - at.getTime()) / 1000)} s old` : 'none yet'}  ${authorizers.length} authorizer(s)  ${p.name}`);
      }
      return;
    }
    case 'show': {
      const c = requireComponent(rest[0]);
      const p = await store.find(c);
      if (!p) throw new CliError(`no platform ${c}`);
      const authorizers = await store.listAuthorizers(c);
      ctx.out(JSON.stringify({ ...maskPlatform(p), authorizers: authorizers.map((a) => ({ appid: a.appid, status: a.status, authorizedAt: a.authorizedAt.toISOString() })) }, null, 2));
      return;
    }
    case 'sync': {
      const c = requireComponent(rest[0]);
      const p = await store.find(c);
      if (!p) throw new CliError(`no platform ${c}`);
      await syncAuthorizers(ctx, store, p, env);
      return;
    }
    case 'remove': {
      const c = requireComponent(rest[0]);
      const users = (await store.listAuthorizers(c)).filter((a) => a.status !== 'unauthorized').length;
      if (users > 0 && !rest.includes('--force')) throw new CliError(`platform ${c} has ${users} authorizer(s); pass --force to remove it anyway (their tenants stop working)`);
      // One whose sealed values no longer open (wrong key, tampered) must still be removable.
      const before = await store.find(c).then(
        (x) => (x ? maskPlatform(x) : null),
        () => ({ unreadable: true }),
      );
      if (!(await store.remove(c))) throw new CliError(`no platform ${c}`);
      await ctx.audit.record({
        actor: ctx.actor,
        action: 'platform.remove',
        target: { kind: 'platform', id: c },
        before,
        after: null,
        details: { authorizers: users },
      });
      await ctx.announcePlatform(c);
      ctx.out(`${c} removed`);
      return;
    }
    default:
      throw new CliError(`unknown platforms command ${JSON.stringify(sub ?? '')}; see --help`, 2);
  }
}

/**
 * Re-reads api_get_authorizer_list and stores each authorizer's current refresh token: the way back
 * for authorizers marked reauthorization_required (or after refresh tokens were lost), without
 * asking every merchant to authorize again. The component token comes through the fleet's token
 * manager, so running this does not start a second token for the platform.
 */
async function syncAuthorizers(ctx: CliContext, store: PlatformStore, p: Platform, env: { wechatApiBase: string; allowPrivateUrls: boolean }): Promise<void> {
  const log = createLogger('silent');
  const tokens = new TokenManager({ redis: ctx.redis, box: ctx.box, clock: systemClock, log, sleep });
  try {
    const api = new ComponentApi({
      http: new WeChatHttp(10_000, { allowPrivateAddresses: env.allowPrivateUrls, trustedHosts: [new URL(env.wechatApiBase).hostname] }),
      tokens,
      tickets: new TicketStore(store, ctx.redis, ctx.box, log),
      defaultApiBase: env.wechatApiBase,
      sleep,
    });
    const known = new Map((await store.listAuthorizers(p.componentAppid)).map((a) => [a.appid, a.status]));
    let restored = 0;
    let added = 0;
    for (let offset = 0; ; offset += 500) {
      const page = await api.authorizerList(p, offset, 500);
      for (const a of page.list) {
        const status = known.get(a.appid);
        if (status === 'unauthorized') continue;
        const before = await store.authorizer(p.componentAppid, a.appid);
        await store.restore(p.componentAppid, a.appid, a.refreshToken, new Date());
        if (!before) added++;
        else if (before.status !== 'authorized' || before.refreshToken !== a.refreshToken) restored++;
        if (before?.status === 'reauthorization_required') {
          // Gateways remember the refusal for a while; tell them it is over.
          await publishInvalidation(ctx.redis, { kind: 'token', appid: a.appid, ref: authorizerTokenKey(p.componentAppid, a.appid) });
          await ctx.audit.record({
            actor: ctx.actor,
            action: 'authorizer.restored',
            target: { kind: 'authorizer', id: a.appid },
            appid: a.appid,
            details: { componentAppid: p.componentAppid },
          });
          ctx.out(`${a.appid} restored (was reauthorization_required)`);
        }
      }
      if (page.list.length < 500 || offset + 500 >= page.total) break;
    }
    ctx.out(`${p.componentAppid}: ${restored} refresh token(s) restored, ${added} authorizer(s) not known before (authorize them through the page to create their tenants)`);
  } finally {
    tokens.close();
  }
}
