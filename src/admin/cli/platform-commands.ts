import { readFile } from 'node:fs/promises';
import { createLogger } from '../../kernel/log';
import { systemClock } from '../../kernel/clock';
import { sleep } from '../../kernel/timers';
import { APPID_PATTERN } from '../../tenancy/tenant';
import { WeChatHttp } from '../../transport/wechat-http';
import { TokenManager } from '../../token/token-manager';
import { maskPlatform, parsePlatformDefinition, PlatformDefinitionError, type Platform } from '../../platforms/platform';
import { PlatformStore } from '../../platforms/platform-store';
import { TicketStore } from '../../platforms/ticket-store';
import { ComponentApi } from '../../platforms/component-api';
import { authorizerTokenKey } from '../../platforms/authorizers';
import { publishInvalidation } from '../../cache/invalidation-bus';
import type { CliContext, Output } from './cli-context';
import { CliError, readProblem } from './tenant-commands';

export const PLATFORMS_HELP = `Third-party platforms (definitions in JSON files; see README "Third-party platform mode"):
  platforms apply <file.json>...       validate every file, then create or update each platform (idempotent)
  platforms list                       list platforms, their ticket age and authorizer counts
  platforms show <componentAppid>      show one platform (secrets masked) and its authorizers
  platforms sync <componentAppid>      re-read the authorizer list from WeChat and restore refresh tokens
                                       (recovers authorizers marked reauthorization_required)
  platforms remove <componentAppid>    delete a platform (refused while authorizers use it, unless --force)`;

export async function loadPlatformDefinitions(files: string[], io: Output, opts: { allowPrivateUrls?: boolean }): Promise<Platform[]> {
  if (files.length === 0) throw new CliError('platforms apply needs at least one <file.json>', 2);
  const defs: Platform[] = [];
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
      try {
        defs.push(parsePlatformDefinition(entry, Array.isArray(raw) ? `${file}[${i}]` : file, opts));
      } catch (err) {
        if (!(err instanceof PlatformDefinitionError)) throw err;
        problems.push(`${err.source}: invalid fields:`);
        for (const p of err.problems) problems.push(`  ${p}`);
      }
    });
  }
  const seen = new Set<string>();
  for (const d of defs) {
    if (seen.has(d.componentAppid)) problems.push(`componentAppid ${d.componentAppid} is defined more than once`);
    seen.add(d.componentAppid);
  }
  if (problems.length) {
    for (const p of problems) io.err(p);
    throw new CliError('nothing was written');
  }
  return defs;
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
        const outcome = await store.upsert(p);
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
      if (!(await store.remove(c))) throw new CliError(`no platform ${c}`);
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
