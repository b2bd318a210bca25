import Router from '@koa/router';
import { z } from 'zod';
import { createDocument, type ZodOpenApiOperationObject, type ZodOpenApiPathsObject, type ZodOpenApiResponsesObject } from 'zod-openapi';
import type { GatewayState } from '../http/context';
import { ERROR_CATALOGUE, type ErrorCode } from '../kernel/error-catalogue';
import { errorCodesOf, ROUTE_DOCS, type RouteAuth, type RouteDoc } from './openapi-routes-table';

/** The version of the described API (info.version), raised when a route or its schema changes incompatibly. */
export const API_VERSION = '1.0.0';

/** `/:appid/media/:mediaId` -> `/{appid}/media/{mediaId}`; a `{*rest}` wildcard becomes `{rest}`. */
export function openApiPath(koaPath: string): string {
  return koaPath.replace(/:(\w+)/g, '{$1}').replace(/\{\*(\w+)\}/g, '{$1}');
}

function pathParams(koaPath: string): string[] {
  return [...koaPath.matchAll(/:(\w+)|\{\*(\w+)\}/g)].map((m) => m[1] ?? m[2] ?? '');
}

const APPID = z
  .string()
  .regex(/^wx[0-9a-f]{16}$/)
  .meta({ description: 'the mini program (or component) appid: `wx` + 16 lowercase hex' });

const SECURITY: Record<RouteAuth, { [scheme: string]: string[] }[] | undefined> = {
  none: undefined,
  serviceKey: [{ serviceKey: [] }],
  session: [{ session: [] }],
  sessionOrKey: [{ session: [] }, { serviceKey: [] }],
  admin: [{ adminToken: [] }],
  metricsToken: [{ metricsToken: [] }, {}],
  wechatSignature: undefined,
  wechatPaySignature: undefined,
};

const AUTH_NOTE: Partial<Record<RouteAuth, string>> = {
  wechatSignature: "Called by WeChat: signed with the tenant's push token (`signature`, `timestamp`, `nonce` in the query; `msg_signature` when encrypted).",
  wechatPaySignature: 'Called by WeChat Pay: signed with the platform certificate (`Wechatpay-Signature`, `Wechatpay-Serial`, `Wechatpay-Timestamp`, `Wechatpay-Nonce` headers).',
};

/** Every error answer is `{error: {code, message, details?}}` (WeChat Pay's notifications: `{code: "FAIL", message, error: {code}}`); one response per status, its codes listed. */
function errorResponses(codes: readonly ErrorCode[], wechatPayShape: boolean): ZodOpenApiResponsesObject {
  const byStatus = new Map<number, ErrorCode[]>();
  for (const code of codes) {
    for (const status of ERROR_CATALOGUE[code].status) byStatus.set(status, [...(byStatus.get(status) ?? []), code]);
  }
  const out: ZodOpenApiResponsesObject = {};
  for (const [status, list] of [...byStatus].sort(([a], [b]) => a - b)) {
    out[String(status) as `${1 | 2 | 3 | 4 | 5}${string}`] = {
      description: list.map((c) => `\`${c}\`: ${ERROR_CATALOGUE[c].meaning}`).join('\n\n'),
      content: {
        'application/json': {
          schema: wechatPayShape
            ? // WeChat Pay retries a notification answered {code: "FAIL", message}; the gateway's code rides along.
              z.object({ code: z.literal('FAIL'), message: z.string(), error: z.object({ code: z.enum(list as [ErrorCode, ...ErrorCode[]]) }) })
            : z.object({
                error: z.object({ code: z.enum(list as [ErrorCode, ...ErrorCode[]]), message: z.string(), details: z.record(z.string(), z.unknown()).optional() }),
              }),
        },
      },
    };
  }
  return out;
}

function operation(r: RouteDoc, method: string): ZodOpenApiOperationObject {
  const params = pathParams(r.path);
  const errorCodes = errorCodesOf(r);
  const description = [r.description, AUTH_NOTE[r.auth]].filter((s) => s !== undefined).join('\n\n');
  const security = SECURITY[r.auth];
  return {
    operationId: `${method}${openApiPath(r.path).replace(/[^A-Za-z0-9]+(\w)?/g, (_m, c: string | undefined) => (c ?? '').toUpperCase())}`,
    summary: r.summary,
    ...(description ? { description } : {}),
    tags: [r.tag],
    ...(security ? { security } : { security: [] }),
    ...(params.length || r.query
      ? {
          requestParams: {
            ...(params.length ? { path: z.object(Object.fromEntries(params.map((p) => [p, p === 'appid' || p === 'componentAppid' ? APPID : z.string()]))) } : {}),
            ...(r.query ? { query: r.query } : {}),
          },
        }
      : {}),
    ...(r.body ? { requestBody: { required: true, content: { 'application/json': { schema: r.body } } } } : {}),
    ...(r.rawBody && method !== 'get' ? { requestBody: { description: r.rawBody.description, content: { [r.rawBody.contentType]: {} } } } : {}),
    responses: {
      [String(r.success.status)]: { description: r.success.description, ...(r.success.contentType ? { content: { [r.success.contentType]: {} } } : {}) },
      ...errorResponses(errorCodes, r.auth === 'wechatPaySignature'),
    },
    'x-error-codes': errorCodes,
  };
}

/** The methods a described route is documented under (a route taking any method: GET and POST). */
export function documentedMethods(r: RouteDoc): ('get' | 'post' | 'delete')[] {
  return r.method === 'all' ? ['get', 'post'] : [r.method];
}

/** The OpenAPI 3.1 document of every route in ROUTE_DOCS. */
export function openApiDocument(): ReturnType<typeof createDocument> {
  const paths: ZodOpenApiPathsObject = {};
  for (const r of ROUTE_DOCS) {
    const item = (paths[openApiPath(r.path)] ??= {});
    for (const m of documentedMethods(r)) item[m] = operation(r, m);
  }
  return createDocument({
    openapi: '3.1.0',
    info: {
      title: 'wxgate',
      version: API_VERSION,
      description:
        'One multi-tenant gateway for many WeChat mini programs. Every error answer is `{error: {code, message, details?}}`; `x-error-codes` lists the codes an operation can answer.',
    },
    components: {
      securitySchemes: {
        serviceKey: { type: 'http', scheme: 'bearer', description: "a tenant's service key" },
        session: { type: 'http', scheme: 'bearer', description: 'a user session token from `POST /{appid}/auth/login`' },
        adminToken: { type: 'http', scheme: 'bearer', description: 'ADMIN_TOKEN, or one operator token of ADMIN_TOKENS' },
        metricsToken: { type: 'http', scheme: 'bearer', description: 'METRICS_TOKEN (when set)' },
      },
    },
    paths,
  });
}

/** `GET /openapi.json`: the document, built once when the routes are. */
export function openApiRoutes(): Router<GatewayState> {
  const body = JSON.stringify(openApiDocument());
  const router = new Router<GatewayState>();
  router.get('/openapi.json', (ctx) => {
    ctx.type = 'application/json';
    ctx.body = body;
  });
  return router;
}
