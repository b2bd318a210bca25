import type { z } from 'zod';
import type { ErrorCode } from '../kernel/error-catalogue';
import { customerBody, linkBody, mediaQuery, subscribeBody, textCheckBody, wxacodeBody } from '../miniapp/schemas';
import { closeBody, createOrderBody, refundBody, shippingBody } from '../pay/pay-schemas';
import { syncQuery } from '../pay/pay-routes';
import { invalidateBody } from '../token-service/token-routes';
import { loginBody, logoutBody, phoneBody, profileBody } from '../users/users-routes';
import { applyMerchantsBody, applyTenantsBody, auditQuery, createKeyBody, deadQuery, emptyBody, forceQuery, redeliverBody, tenantsQuery } from '../admin/admin-routes';
import { overviewQuery } from '../admin/overview';

/**
 * Every route the gateway serves, described once: the OpenAPI document (/openapi.json) is built from
 * this table, and a test checks it against the router both ways (a route without a description, or
 * a description without a route, fails). Request schemas are the very zod objects the routes
 * validate with, imported, never copied.
 */

/** Who may call: the credential a route checks (see `securitySchemes` in openapi.ts). */
export type RouteAuth = 'none' | 'serviceKey' | 'session' | 'sessionOrKey' | 'admin' | 'metricsToken' | 'wechatSignature' | 'wechatPaySignature';

export interface RouteDoc {
  /** `all` is a route taking any method (documented as GET and POST). */
  method: 'get' | 'post' | 'delete' | 'all';
  /** The Koa path exactly as the router holds it (`/:appid/pay/orders/:outTradeNo`). */
  path: string;
  summary: string;
  description?: string;
  tag: string;
  auth: RouteAuth;
  /** The JSON body schema the route validates with. */
  body?: z.ZodType;
  /** A body that is not JSON (multipart upload, XML push, raw passthrough). */
  rawBody?: { contentType: string; description: string };
  /** The query schema the route validates with. */
  query?: z.ZodObject;
  /** Success status and what it answers. */
  success: { status: number; description: string; contentType?: string };
  /** Error codes this route can answer beyond those its kind implies (see `errorCodesOf`). */
  errors: readonly ErrorCode[];
  /** Served outside /:appid, before tenant resolution. */
  system?: boolean;
}

/** Any request: a bug answers INTERNAL. */
const ANY: readonly ErrorCode[] = ['INTERNAL'];
/** Routes under /:appid resolve the tenant first (from MongoDB/Redis). */
const TENANT: readonly ErrorCode[] = ['INVALID_APPID', 'TENANT_NOT_FOUND', 'TENANT_DISABLED', 'STORE_UNAVAILABLE'];
/** A JSON body read by jsonInput and checked by parseBody. */
const JSON_BODY: readonly ErrorCode[] = ['MALFORMED_JSON', 'INVALID_BODY', 'BAD_REQUEST', 'PAYLOAD_TOO_LARGE', 'UNSUPPORTED_MEDIA_TYPE', 'REQUEST_ABORTED', 'BODY_TIMEOUT'];
/** A call to WeChat with the tenant's access token (its own, or through its third-party platform). */
const WECHAT: readonly ErrorCode[] = [
  'WECHAT_QUOTA_EXCEEDED',
  'WECHAT_RATE_LIMITED',
  'TENANT_MISCONFIGURED',
  'WECHAT_API_ERROR',
  'WECHAT_UNAVAILABLE',
  'WECHAT_UNEXPECTED_RESPONSE',
  'TOKEN_UNAVAILABLE',
  'REAUTHORIZATION_REQUIRED',
  'PLATFORM_TICKET_MISSING',
  'PLATFORM_MISCONFIGURED',
];
/** A call to WeChat Pay for the tenant's merchant. */
const PAY: readonly ErrorCode[] = [
  'PAY_NOT_ENABLED',
  'PAY_NOT_CONFIGURED',
  'PAY_PARAM_ERROR',
  'PAY_REFUSED',
  'PAY_SIGN_ERROR',
  'PAY_RESPONSE_UNVERIFIED',
  'PAY_RATE_LIMITED',
  'PAY_UNAVAILABLE',
];
/** A WeChat push to the portal (GET: URL verification, POST: a message). */
const PUSH: readonly ErrorCode[] = [
  'INVALID_SIGNATURE',
  'STALE_TIMESTAMP',
  'APPID_MISMATCH',
  'REPLAYED_PUSH',
  'ENCRYPTION_REQUIRED',
  'INVALID_QUERY',
  'MALFORMED_BODY',
  'XML_FORBIDDEN',
  'BODY_TOO_COMPLEX',
  'MALFORMED_MESSAGE',
  'INVALID_CIPHERTEXT',
  'DECRYPT_FAILED',
  'PORTAL_BUSY',
  'QUEUE_UNAVAILABLE',
  'PAYLOAD_TOO_LARGE',
  'UNSUPPORTED_MEDIA_TYPE',
  'REQUEST_ABORTED',
  'BODY_TIMEOUT',
  'BAD_REQUEST',
  'STORE_UNAVAILABLE',
];
const PAY_NOTIFY: readonly ErrorCode[] = [
  'PAY_NOTIFY_UNVERIFIED',
  'PAY_NOTIFY_MALFORMED',
  'PAY_NOTIFY_MISMATCH',
  'PAY_NOT_ENABLED',
  'PAY_NOT_CONFIGURED',
  'UNSUPPORTED_MEDIA_TYPE',
  'PAYLOAD_TOO_LARGE',
  'BODY_TIMEOUT',
  'REQUEST_ABORTED',
  'ORDER_NOT_FOUND',
];
const ORDER: readonly ErrorCode[] = ['ORDER_NOT_FOUND'];
const json = (description: string, status = 200) => ({ status, description, contentType: 'application/json' });

/** The operator API (src/admin/admin-routes.ts): an admin token, served before tenant resolution; MongoDB or Redis may be away. */
const admin = (r: Omit<RouteDoc, 'tag' | 'auth' | 'system' | 'errors'> & { errors?: readonly ErrorCode[] }): RouteDoc => ({
  ...r,
  tag: 'admin',
  auth: 'admin',
  system: true,
  errors: [...(r.errors ?? []), 'STORE_UNAVAILABLE'],
});
const ADMIN_TENANT: readonly ErrorCode[] = ['INVALID_APPID', 'TENANT_NOT_FOUND'];
const ADMIN_ROUTES: readonly RouteDoc[] = [
  admin({
    method: 'get',
    path: '/admin/tenants',
    summary: 'A page of tenants in appid order, secrets masked (`?q=` filters by appid or name, `?status=`)',
    query: tenantsQuery,
    success: json('`{tenants, nextCursor}` (`nextCursor` is null on the last page)'),
  }),
  admin({
    method: 'post',
    path: '/admin/tenants',
    summary: 'Create or update tenants: one definition (as in a tenant file) or `{tenants: [...]}`',
    description:
      'Every definition is validated first, as `npm run tenants -- apply` validates files: one bad entry means nothing is written (400 `INVALID_DEFINITION`, each problem in `details.problems`). Idempotent.',
    body: applyTenantsBody,
    success: json('`{applied: [{appid, name, status, action: "created"|"updated"|"unchanged"}]}`'),
    errors: ['INVALID_DEFINITION'],
  }),
  admin({ method: 'get', path: '/admin/tenants/:appid', summary: 'One tenant, secrets masked', success: json('`{tenant}`'), errors: [...ADMIN_TENANT, 'TENANT_UNREADABLE'] }),
  admin({
    method: 'post',
    path: '/admin/tenants/:appid/disable',
    summary: "Refuse the tenant's requests (403 `TENANT_DISABLED`) on every gateway",
    body: emptyBody,
    success: json('`{tenant}`'),
    errors: ADMIN_TENANT,
  }),
  admin({ method: 'post', path: '/admin/tenants/:appid/enable', summary: 'Serve the tenant again', body: emptyBody, success: json('`{tenant}`'), errors: ADMIN_TENANT }),
  admin({
    method: 'delete',
    path: '/admin/tenants/:appid',
    summary: 'Delete the tenant (its users, keys and queued deliveries are kept)',
    success: json('`{removed: appid}`'),
    errors: ADMIN_TENANT,
  }),
  admin({
    method: 'get',
    path: '/admin/tenants/:appid/keys',
    summary: "The tenant's service keys, revoked ones included (never a secret)",
    success: json('`{keys: [{id, name, createdAt, revokedAt}]}`'),
    errors: ['INVALID_APPID'],
  }),
  admin({
    method: 'post',
    path: '/admin/tenants/:appid/keys',
    summary: 'Create a service key; its secret is in this answer only',
    body: createKeyBody,
    success: json('`{key: {id, name, createdAt, revokedAt}, secret}`', 201),
    errors: ADMIN_TENANT,
  }),
  admin({
    method: 'delete',
    path: '/admin/tenants/:appid/keys/:keyId',
    summary: 'Revoke a service key (refused by every gateway at once)',
    success: json('`{revoked: keyId, announced}` (`announced` false: gateways refuse it within 5 s)'),
    errors: ['INVALID_APPID', 'KEY_NOT_FOUND'],
  }),
  admin({
    method: 'get',
    path: '/admin/tenants/:appid/webhook',
    summary: "The tenant's webhook deliveries: backlog, in flight, retrying, dead",
    success: json('`{webhook}`'),
    errors: ADMIN_TENANT,
  }),
  admin({
    method: 'get',
    path: '/admin/tenants/:appid/webhook/dead',
    summary: 'Dead-lettered deliveries, oldest first',
    query: deadQuery,
    success: json('`{dead: [{id, deliveryId, attempts, lastError, deadAt}]}`'),
    errors: ADMIN_TENANT,
  }),
  admin({
    method: 'post',
    path: '/admin/tenants/:appid/webhook/redeliver',
    summary: 'Move dead letters (`ids`, or all without it) back to the delivery queue',
    body: redeliverBody,
    success: json('`{redelivered: n}`'),
    errors: ADMIN_TENANT,
  }),
  admin({
    method: 'delete',
    path: '/admin/tenants/:appid/users/:openid/sessions',
    summary: 'End every session of one user of the tenant',
    success: json('`{revoked: n}`'),
    errors: [...ADMIN_TENANT, 'INVALID_OPENID'],
  }),
  admin({ method: 'get', path: '/admin/merchants', summary: 'Every WeChat Pay merchant, secrets masked', success: json('`{merchants}`') }),
  admin({
    method: 'post',
    path: '/admin/merchants',
    summary: 'Create or update merchants: one definition (as in a merchant file) or `{merchants: [...]}`',
    description: 'Validated as `npm run tenants -- merchants apply` validates files; nothing partial.',
    body: applyMerchantsBody,
    success: json('`{applied: [{mchid, name, verification, action}]}`'),
    errors: ['INVALID_DEFINITION'],
  }),
  admin({
    method: 'get',
    path: '/admin/merchants/:mchid',
    summary: 'One merchant, secrets masked, with the tenants that use it',
    success: json('`{merchant}`'),
    errors: ['MERCHANT_NOT_FOUND'],
  }),
  admin({
    method: 'delete',
    path: '/admin/merchants/:mchid',
    summary: "Delete a merchant (refused while a tenant's `pay` names it, unless `?force=true`)",
    query: forceQuery,
    success: json('`{removed: mchid}`'),
    errors: ['MERCHANT_NOT_FOUND', 'MERCHANT_IN_USE'],
  }),
  admin({
    method: 'get',
    path: '/admin/audit',
    summary: 'The audit log, newest first (`?appid=` one tenant, `?limit=` 1 to 500)',
    query: auditQuery,
    success: json('`{entries}`'),
  }),
];

/** The error codes a route can answer: those of its kind (tenant, credential, rate) plus its own. */
export function errorCodesOf(r: RouteDoc): ErrorCode[] {
  const auth: Record<RouteAuth, readonly ErrorCode[]> = {
    none: [],
    serviceKey: ['UNAUTHENTICATED', 'INVALID_API_KEY'],
    session: ['UNAUTHENTICATED', 'INVALID_SESSION'],
    sessionOrKey: ['UNAUTHENTICATED', 'INVALID_API_KEY', 'INVALID_SESSION'],
    admin: ['UNAUTHENTICATED', 'FORBIDDEN'],
    metricsToken: ['UNAUTHENTICATED', 'FORBIDDEN'],
    wechatSignature: [],
    wechatPaySignature: [],
  };
  const all = [...ANY, ...(r.system ? [] : TENANT), ...auth[r.auth], ...(r.body ? JSON_BODY : []), ...(r.query ? ['INVALID_QUERY' as const] : []), ...r.errors];
  return [...new Set(all)].sort();
}

export const ROUTE_DOCS: readonly RouteDoc[] = [
  // ---- system -----------------------------------------------------------------------------------
  { method: 'get', path: '/healthz', tag: 'ops', summary: 'Liveness: the process answers', auth: 'none', system: true, success: json('`{status: "ok"}`'), errors: [] },
  {
    method: 'get',
    path: '/readyz',
    tag: 'ops',
    summary: 'Readiness: MongoDB and Redis answer',
    description: 'A 503 answer also carries `checks`, naming each dependency `ok` or `down`.',
    auth: 'none',
    system: true,
    success: json('`{status: "ready", checks}`'),
    errors: ['NOT_READY'],
  },
  {
    method: 'get',
    path: '/favicon.ico',
    tag: 'ops',
    summary: 'Always 404 (the path is reserved, never an appid)',
    auth: 'none',
    system: true,
    success: json('never: always NOT_FOUND', 404),
    errors: ['NOT_FOUND'],
  },
  {
    method: 'get',
    path: '/metrics',
    tag: 'ops',
    summary: 'Prometheus metrics',
    description: 'Open unless `METRICS_TOKEN` is set; then it takes that token as `Authorization: Bearer`.',
    auth: 'metricsToken',
    system: true,
    success: { status: 200, description: 'Prometheus text exposition', contentType: 'text/plain' },
    errors: [],
  },
  { method: 'get', path: '/openapi.json', tag: 'ops', summary: 'This document', auth: 'none', system: true, success: json('the OpenAPI 3.1 document'), errors: [] },
  ...ADMIN_ROUTES,

  {
    method: 'get',
    path: '/admin/overview',
    tag: 'admin',
    summary: 'Every tenant at a glance, a page at a time: status, token age and last fetch error, pushes and rate-limit hits in the last hour, webhook queue',
    description:
      'Answers `{tenants: [{appid, name, status, token: {ageS, lastError}, pushes: {accepted1h, rejected1h}, webhook: {backlog, retrying, oldestPendingAgeS, dead}, rateLimited1h}], nextCursor}`. ' +
      'Activity counts are all instances together, written to Redis every few seconds; `nextCursor` (null on the last page) goes back as `cursor`.',
    auth: 'admin',
    system: true,
    query: overviewQuery,
    success: json('`{tenants, nextCursor}`'),
    errors: ['STORE_UNAVAILABLE'],
  },
  {
    method: 'get',
    path: '/admin/console',
    tag: 'admin',
    summary: 'The operator console (a page that signs in with an admin token and uses the admin API)',
    auth: 'none',
    system: true,
    success: { status: 200, description: 'the page', contentType: 'text/html' },
    errors: [],
  },
  {
    method: 'get',
    path: '/admin/console/console.js',
    tag: 'admin',
    summary: "The operator console's script",
    auth: 'none',
    system: true,
    success: { status: 200, description: 'JavaScript', contentType: 'text/javascript' },
    errors: [],
  },
  {
    method: 'get',
    path: '/admin/console/console.css',
    tag: 'admin',
    summary: "The operator console's style sheet",
    auth: 'none',
    system: true,
    success: { status: 200, description: 'CSS', contentType: 'text/css' },
    errors: [],
  },

  // ---- third-party platforms ------------------------------------------------------------------
  {
    method: 'post',
    path: '/platform/:componentAppid/events',
    tag: 'platform',
    summary: "WeChat's authorization events for a third-party platform (component_verify_ticket, authorized, unauthorized)",
    auth: 'wechatSignature',
    system: true,
    rawBody: { contentType: 'text/xml', description: 'the (encrypted) XML push' },
    success: { status: 200, description: '`success`', contentType: 'text/plain' },
    errors: [...PUSH, 'INVALID_APPID', 'PLATFORM_NOT_FOUND'],
  },
  {
    method: 'get',
    path: '/platform/:componentAppid/authorize',
    tag: 'platform',
    summary: "The page that sends a mini program's admin to WeChat to authorize the platform",
    description: 'Query: `redirect` (optional, an origin of the platform file or PUBLIC_BASE_URL).',
    auth: 'none',
    system: true,
    success: { status: 200, description: 'an HTML page linking to WeChat', contentType: 'text/html' },
    errors: [
      'RATE_LIMITED',
      'INVALID_APPID',
      'PLATFORM_NOT_FOUND',
      'INVALID_QUERY',
      'PLATFORM_NOT_CONFIGURED',
      'PLATFORM_TICKET_MISSING',
      'PLATFORM_MISCONFIGURED',
      'WECHAT_API_ERROR',
      'WECHAT_UNAVAILABLE',
      'WECHAT_UNEXPECTED_RESPONSE',
      'STORE_UNAVAILABLE',
    ],
  },
  {
    method: 'get',
    path: '/platform/:componentAppid/authorized',
    tag: 'platform',
    summary: "WeChat's redirect after the admin authorized: the tenant is created or updated",
    description: 'Query: `auth_code` (required), `next` and `next_sig` (as issued by the authorization page).',
    auth: 'none',
    system: true,
    success: { status: 200, description: 'an HTML page (or a redirect to `next`)', contentType: 'text/html' },
    errors: [
      'INVALID_APPID',
      'PLATFORM_NOT_FOUND',
      'INVALID_QUERY',
      'AUTHORIZATION_FAILED',
      'PLATFORM_TICKET_MISSING',
      'PLATFORM_MISCONFIGURED',
      'WECHAT_API_ERROR',
      'WECHAT_UNAVAILABLE',
      'WECHAT_UNEXPECTED_RESPONSE',
      'STORE_UNAVAILABLE',
    ],
  },
  {
    method: 'get',
    path: '/platform/:componentAppid/:appid/portal',
    tag: 'portal',
    summary: "Push URL verification for a mini program authorized to a platform (WeChat's echostr handshake)",
    auth: 'wechatSignature',
    system: true,
    success: { status: 200, description: 'the echostr', contentType: 'text/plain' },
    errors: [...PUSH, 'INVALID_APPID', 'PLATFORM_NOT_FOUND', 'TENANT_NOT_FOUND', 'TENANT_DISABLED'],
  },
  {
    method: 'post',
    path: '/platform/:componentAppid/:appid/portal',
    tag: 'portal',
    summary: 'A push (message or event) for a mini program authorized to a platform',
    auth: 'wechatSignature',
    system: true,
    rawBody: { contentType: 'text/xml', description: 'the push, XML or JSON, plain or encrypted' },
    success: { status: 200, description: '`success`', contentType: 'text/plain' },
    errors: [...PUSH, 'INVALID_APPID', 'PLATFORM_NOT_FOUND', 'TENANT_NOT_FOUND', 'TENANT_DISABLED'],
  },

  // ---- tenant: info, tokens, passthrough, portal -------------------------------------------------
  { method: 'get', path: '/:appid', tag: 'tenant', summary: "The tenant's public information", auth: 'none', success: json('`{appid, name, ...}`'), errors: [] },
  {
    method: 'get',
    path: '/:appid/access-token',
    tag: 'tokens',
    summary: "The tenant's current access token (the central token service)",
    auth: 'serviceKey',
    success: json('`{access_token, expires_in}`'),
    errors: WECHAT,
  },
  {
    method: 'post',
    path: '/:appid/access-token/invalidate',
    tag: 'tokens',
    summary: 'Report a token WeChat refused; answers the renewed token',
    auth: 'serviceKey',
    body: invalidateBody,
    success: json('`{access_token, expires_in}`'),
    errors: WECHAT,
  },
  {
    method: 'all',
    path: '/:appid/wxapi/{*rest}',
    tag: 'passthrough',
    summary: "Any other WeChat API, called with the tenant's token (`rest` is the WeChat path, e.g. `cgi-bin/...`)",
    description: 'Every method is forwarded; query and body go to WeChat as sent, `access_token` is set by the gateway.',
    auth: 'serviceKey',
    rawBody: { contentType: '*/*', description: 'forwarded as is' },
    success: { status: 200, description: "WeChat's answer, as it came", contentType: '*/*' },
    errors: [...WECHAT, 'RATE_LIMITED', 'INVALID_API_PATH', 'PASSTHROUGH_FORBIDDEN', 'PAYLOAD_TOO_LARGE', 'REQUEST_ABORTED', 'BODY_TIMEOUT', 'BAD_REQUEST'],
  },
  {
    method: 'get',
    path: '/:appid/portal',
    tag: 'portal',
    summary: "Push URL verification (WeChat's echostr handshake)",
    auth: 'wechatSignature',
    success: { status: 200, description: 'the echostr', contentType: 'text/plain' },
    errors: [...PUSH, 'NOT_FOUND'],
  },
  {
    method: 'post',
    path: '/:appid/portal',
    tag: 'portal',
    summary: "A push (message or event) from WeChat, queued for the tenant's webhook",
    auth: 'wechatSignature',
    rawBody: { contentType: 'text/xml', description: 'the push, XML or JSON, plain or encrypted' },
    success: { status: 200, description: '`success`', contentType: 'text/plain' },
    errors: [...PUSH, 'NOT_FOUND'],
  },

  // ---- users ------------------------------------------------------------------------------------
  {
    method: 'post',
    path: '/:appid/auth/login',
    tag: 'users',
    summary: 'Log in with a wx.login code',
    auth: 'none',
    body: loginBody,
    success: json('`{token, expiresIn, openid, unionid?, isNewUser}`'),
    errors: [...WECHAT, 'RATE_LIMITED', 'LOGIN_CODE_INVALID', 'LOGIN_BLOCKED'],
  },
  {
    method: 'post',
    path: '/:appid/auth/logout',
    tag: 'users',
    summary: 'End this session (or every session of the user)',
    auth: 'session',
    body: logoutBody,
    success: { status: 204, description: 'logged out' },
    errors: ['RATE_LIMITED'],
  },
  { method: 'get', path: '/:appid/users/me', tag: 'users', summary: 'The stored user (never the session key)', auth: 'session', success: json('the user'), errors: ['RATE_LIMITED'] },
  {
    method: 'post',
    path: '/:appid/users/me/profile',
    tag: 'users',
    summary: "Store the user's profile from wx.getUserProfile's encryptedData",
    auth: 'session',
    body: profileBody,
    success: json('`{profile}`'),
    errors: ['RATE_LIMITED', 'INVALID_SIGNATURE', 'SESSION_KEY_STALE', 'WATERMARK_MISMATCH', 'INVALID_ENCRYPTED_DATA'],
  },
  {
    method: 'post',
    path: '/:appid/users/me/phone',
    tag: 'users',
    summary: "Store the user's phone number (getPhoneNumber code, or legacy encryptedData)",
    auth: 'session',
    body: phoneBody,
    success: json('`{phone}`'),
    errors: [...WECHAT, 'RATE_LIMITED', 'PHONE_CODE_INVALID', 'SESSION_KEY_STALE', 'WATERMARK_MISMATCH', 'INVALID_ENCRYPTED_DATA'],
  },

  // ---- mini-program APIs ------------------------------------------------------------------------
  {
    method: 'post',
    path: '/:appid/wxacode',
    tag: 'miniapp',
    summary: 'An unlimited mini-program code (getwxacodeunlimit)',
    auth: 'sessionOrKey',
    body: wxacodeBody,
    success: { status: 200, description: 'the image', contentType: 'image/png' },
    errors: [...WECHAT, 'RATE_LIMITED', 'INVALID_PAGE', 'WECHAT_REJECTED_INPUT', 'WECHAT_API_UNAUTHORIZED'],
  },
  {
    method: 'post',
    path: '/:appid/messages/subscribe',
    tag: 'miniapp',
    summary: 'Send a subscribe message',
    auth: 'serviceKey',
    body: subscribeBody,
    success: json('`{sent, msgid}`'),
    errors: [...WECHAT, 'RATE_LIMITED', 'INVALID_OPENID', 'INVALID_TEMPLATE', 'USER_REFUSED_SUBSCRIPTION', 'INVALID_PAGE', 'WECHAT_REJECTED_INPUT', 'WECHAT_API_UNAUTHORIZED'],
  },
  {
    method: 'post',
    path: '/:appid/messages/customer',
    tag: 'miniapp',
    summary: 'Send a customer-service message',
    auth: 'serviceKey',
    body: customerBody,
    success: json('`{sent}`'),
    errors: [...WECHAT, 'RATE_LIMITED', 'INVALID_OPENID', 'INVALID_MEDIA_ID', 'REPLY_WINDOW_CLOSED', 'REPLY_LIMIT_REACHED', 'WECHAT_REJECTED_INPUT', 'WECHAT_API_UNAUTHORIZED'],
  },
  {
    method: 'post',
    path: '/:appid/security/text-check',
    tag: 'miniapp',
    summary: "Check text the session's user wrote (msg_sec_check)",
    auth: 'session',
    body: textCheckBody,
    success: json('`{suggest, label, traceId}`'),
    errors: [...WECHAT, 'RATE_LIMITED', 'USER_INACTIVE', 'WECHAT_REJECTED_INPUT', 'WECHAT_API_UNAUTHORIZED'],
  },
  {
    method: 'post',
    path: '/:appid/media',
    tag: 'miniapp',
    summary: 'Upload temporary media (multipart, one `media` part)',
    auth: 'serviceKey',
    query: mediaQuery,
    rawBody: { contentType: 'multipart/form-data', description: 'one `media` file part' },
    success: json('`{type, mediaId, createdAt}`'),
    errors: [
      ...WECHAT,
      'RATE_LIMITED',
      'MEDIA_MISSING',
      'MALFORMED_MULTIPART',
      'INVALID_MEDIA_TYPE',
      'UNSUPPORTED_MEDIA_TYPE',
      'PAYLOAD_TOO_LARGE',
      'REQUEST_ABORTED',
      'WECHAT_REJECTED_INPUT',
    ],
  },
  {
    method: 'get',
    path: '/:appid/media/:mediaId',
    tag: 'miniapp',
    summary: 'Download temporary media (the bytes, or `{videoUrl}` for videos)',
    auth: 'serviceKey',
    success: { status: 200, description: 'the media bytes, or `{videoUrl}`', contentType: '*/*' },
    errors: [...WECHAT, 'RATE_LIMITED', 'INVALID_MEDIA_ID', 'MEDIA_NOT_FOUND'],
  },
  {
    method: 'post',
    path: '/:appid/links/url',
    tag: 'miniapp',
    summary: 'A URL link into the mini program (generate_urllink)',
    auth: 'serviceKey',
    body: linkBody,
    success: json('`{urlLink}`'),
    errors: [...WECHAT, 'RATE_LIMITED', 'INVALID_PAGE', 'WECHAT_REJECTED_INPUT', 'WECHAT_API_UNAUTHORIZED'],
  },
  {
    method: 'post',
    path: '/:appid/links/scheme',
    tag: 'miniapp',
    summary: 'A URL scheme into the mini program (generatescheme)',
    auth: 'serviceKey',
    body: linkBody,
    success: json('`{openlink}`'),
    errors: [...WECHAT, 'RATE_LIMITED', 'INVALID_PAGE', 'WECHAT_REJECTED_INPUT', 'WECHAT_API_UNAUTHORIZED'],
  },

  // ---- WeChat Pay -------------------------------------------------------------------------------
  {
    method: 'post',
    path: '/:appid/pay/orders',
    tag: 'pay',
    summary: 'Create a JSAPI order; answers what wx.requestPayment needs',
    auth: 'sessionOrKey',
    body: createOrderBody,
    success: json('`{outTradeNo, prepayId, payment}`', 201),
    errors: [...PAY, 'PAYER_MISMATCH', 'ORDER_CONFLICT', 'ORDER_PAID', 'ORDER_CLOSED'],
  },
  {
    method: 'get',
    path: '/:appid/pay/orders/:outTradeNo',
    tag: 'pay',
    summary: 'An order (`?sync=true` asks WeChat Pay first)',
    auth: 'serviceKey',
    query: syncQuery,
    success: json('the order'),
    errors: [...PAY, ...ORDER],
  },
  {
    method: 'post',
    path: '/:appid/pay/orders/:outTradeNo/close',
    tag: 'pay',
    summary: 'Close an unpaid order',
    auth: 'serviceKey',
    body: closeBody,
    success: json('the order'),
    errors: [...PAY, ...ORDER, 'ORDER_PAID'],
  },
  {
    method: 'post',
    path: '/:appid/pay/orders/:outTradeNo/refunds',
    tag: 'pay',
    summary: 'Refund a paid order (in full or in part)',
    auth: 'serviceKey',
    body: refundBody,
    success: json('the refund', 201),
    errors: [...PAY, ...ORDER, 'ORDER_CONFLICT', 'ORDER_NOT_PAID'],
  },
  {
    method: 'get',
    path: '/:appid/pay/orders/:outTradeNo/refunds/:outRefundNo',
    tag: 'pay',
    summary: 'A refund',
    auth: 'serviceKey',
    success: json('the refund'),
    errors: [...PAY, ...ORDER],
  },
  {
    method: 'post',
    path: '/:appid/pay/orders/:outTradeNo/shipping',
    tag: 'pay',
    summary: "Upload a paid order's shipping information (order management)",
    auth: 'serviceKey',
    body: shippingBody,
    success: json('`{uploaded: true}`'),
    errors: [...PAY, ...WECHAT, ...ORDER, 'ORDER_NOT_PAID', 'ORDER_CONFLICT', 'WECHAT_REJECTED_INPUT'],
  },
  {
    method: 'get',
    path: '/:appid/pay/trade-management',
    tag: 'pay',
    summary: 'Whether order management (shipping upload) applies to the mini program',
    auth: 'serviceKey',
    success: json('`{tradeManaged}`'),
    errors: [...PAY, ...WECHAT],
  },
  {
    method: 'post',
    path: '/:appid/pay/notify',
    tag: 'pay',
    summary: "WeChat Pay's payment notification",
    description: 'Errors are answered as WeChat Pay expects, `{code: "FAIL", message, error: {code}}`, so it retries.',
    auth: 'wechatPaySignature',
    rawBody: { contentType: 'application/json', description: "WeChat Pay's signed, encrypted notification" },
    success: { status: 204, description: 'applied' },
    errors: PAY_NOTIFY,
  },
  {
    method: 'post',
    path: '/:appid/pay/refund-notify',
    tag: 'pay',
    summary: "WeChat Pay's refund notification",
    description: 'Errors are answered as WeChat Pay expects, `{code: "FAIL", message, error: {code}}`, so it retries.',
    auth: 'wechatPaySignature',
    rawBody: { contentType: 'application/json', description: "WeChat Pay's signed, encrypted notification" },
    success: { status: 204, description: 'applied' },
    errors: PAY_NOTIFY,
  },
];
