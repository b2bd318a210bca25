import { z } from 'zod';
import { AppError } from '../kernel/errors';
import { boundedMongo } from '../infra/mongo';
import type { TenantRepository } from '../tenancy/tenant-repository';
import { APPID_PATTERN, type TenantStatus } from '../tenancy/tenant';
import type { Activity, TokenActivity } from '../ops/activity';
import type { WebhookAdmin } from '../delivery/webhook-admin';

export const OVERVIEW_MAX_LIMIT = 200;

/** `GET /admin/overview` query: a page of tenants (`limit`, `cursor` from the previous page), filtered by `q`. */
export const overviewQuery = z
  .object({
    limit: z
      .string()
      .regex(/^[1-9][0-9]{0,2}$/, `a whole number from 1 to ${OVERVIEW_MAX_LIMIT}`)
      .refine((s) => Number(s) <= OVERVIEW_MAX_LIMIT, `at most ${OVERVIEW_MAX_LIMIT}`)
      .optional()
      .meta({ description: `tenants per page, 1 to ${OVERVIEW_MAX_LIMIT} (default 50)` }),
    cursor: z.string().max(200).optional().meta({ description: '`nextCursor` of the previous page' }),
    q: z.string().min(1).max(100).optional().meta({ description: 'a substring of the appid or the name (case-insensitive)' }),
  })
  .strict();

export type OverviewQuery = z.output<typeof overviewQuery>;

/** One tenant at a glance, as the operator console shows it (activity over the last hour, all instances). */
export interface TenantOverview {
  appid: string;
  name: string;
  status: TenantStatus;
  token: TokenActivity;
  pushes: { accepted1h: number; rejected1h: number };
  webhook: { backlog: number; retrying: number; oldestPendingAgeS: number | null; dead: number };
  rateLimited1h: number;
}

export interface OverviewDeps {
  tenants: TenantRepository;
  activity: Activity;
  webhooks: WebhookAdmin;
}

/** Opaque to clients; inside, the last appid of the page. */
const encodeCursor = (appid: string) => Buffer.from(JSON.stringify({ after: appid })).toString('base64url');

function decodeCursor(cursor: string): string {
  try {
    const v = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')) as { after?: unknown };
    if (typeof v.after === 'string' && APPID_PATTERN.test(v.after)) return v.after;
  } catch {
    // Falls through to the refusal below.
  }
  throw new AppError(400, 'INVALID_QUERY', 'cursor: not a cursor this API gave');
}

const escapeRegex = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/**
 * Every tenant at a glance, a page at a time in appid order: status and name from MongoDB (no
 * secret is opened), activity and token state from the console counters, webhook queue state from
 * the delivery queue. Redis is read per tenant (Cluster-safe), all tenants of the page at once.
 */
export async function tenantOverview(deps: OverviewDeps, query: OverviewQuery): Promise<{ tenants: TenantOverview[]; nextCursor: string | null }> {
  const limit = query.limit === undefined ? 50 : Number(query.limit);
  const filter: Record<string, unknown> = {};
  if (query.cursor !== undefined) filter.appid = { $gt: decodeCursor(query.cursor) };
  if (query.q !== undefined) {
    const re = { $regex: escapeRegex(query.q), $options: 'i' };
    filter.$or = [{ appid: re }, { name: re }];
  }
  const docs = await boundedMongo(
    deps.tenants.model
      .find(filter, { appid: 1, name: 1, status: 1 })
      .sort({ appid: 1 })
      .limit(limit + 1)
      .lean<{ appid: string; name: string; status: TenantStatus }[]>()
      .exec(),
  );
  const page = docs.slice(0, limit);
  const appids = page.map((d) => d.appid);
  const [activity, webhooks] = await Promise.all([deps.activity.read(appids), Promise.all(appids.map((a) => deps.webhooks.status(a)))]);
  const tenants = page.map((d, i): TenantOverview => {
    const a = activity.get(d.appid);
    const w = webhooks[i]!;
    return {
      appid: d.appid,
      name: d.name,
      status: d.status,
      token: a?.token ?? { ageS: null, lastError: null },
      pushes: { accepted1h: a?.activity.accepted1h ?? 0, rejected1h: a?.activity.rejected1h ?? 0 },
      // Backlog: everything not yet delivered (queued, in a worker's hands, waiting for a retry).
      webhook: { backlog: w.backlog + w.inFlight + w.retrying, retrying: w.retrying, oldestPendingAgeS: w.oldestPendingAgeS, dead: w.dead },
      rateLimited1h: a?.activity.rateLimited1h ?? 0,
    };
  });
  return { tenants, nextCursor: docs.length > limit && page.length > 0 ? encodeCursor(page[page.length - 1]!.appid) : null };
}
