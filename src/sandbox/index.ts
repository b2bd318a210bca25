/**
 * WeChat sandbox: an HTTP imitation of api.weixin.qq.com for tests and local runs.
 *
 * Conventions the gateway can rely on:
 * - WeChat errors are HTTP 200 `{errcode, errmsg}` with errmsg `"<text> rid: xxxxxxxx-xxxxxxxx-xxxxxxxx"`
 *   (hex groups); texts are in ERRMSG. Binary endpoints (wxacode, media/get) answer errors as
 *   application/json.
 * - Every call of a WeChat endpoint is counted under (path, appid) before faults and checks; API
 *   calls count under the token's appid (even a dead token's), else `unknown`.
 * - Admin API under /__sandbox answers plain HTTP statuses and `{error}`; it is never counted or faulted.
 * - WeChat Pay APIv3 endpoints (/v3/...) answer WeChat Pay style: HTTP status + `{code, message}`, every answer
 *   signed (Wechatpay-* headers); they count under the endpoint template and the caller's mchid.
 * - Third-party platform APIs (/cgi-bin/component/..., /sns/component/jscode2session) count under the component
 *   appid (api_authorizer_token and jscode2session: under the authorizer appid); authorizer access tokens are
 *   accepted by every access-token API for the authorizer appid, like the app's own tokens.
 */
export { createSandbox } from './sandbox';
export type { CallCounts, LoginCodeOptions, MessageKind, Sandbox, SandboxApp, SandboxFault, SandboxOptions, SandboxServer, SentMessage } from './types';
export { ERRMSG } from './wx-errors';
export { HANDOVER_MS, STABLE_FORCE_DAILY_LIMIT, STABLE_FORCE_MIN_INTERVAL_MS } from './tokens';
export { LOGIN_CODE_TTL_MS } from './login';
export { MEDIA_RULES, type MediaType } from './media-store';
export { DEFAULT_RISKY_WORDS, DEFAULT_REVIEW_WORDS } from './content-check';
export { UNKNOWN_APPID } from './counters';
export type {
  MerchantRegistration,
  NotificationAttempt,
  PayApi,
  PayEventType,
  PayNotification,
  PayOrderOptions,
  PayRefund,
  PayTransaction,
  PayVerifyMode,
  RefundStatus,
  RegisteredMerchant,
  ShippingUpload,
  TradeState,
} from './pay/types';
export {
  AEAD_ALGORITHM,
  AUTH_SCHEMA,
  buildAuthorization,
  decryptResource,
  encryptResource,
  parseAuthorization,
  requestMessage,
  responseMessage,
  signedHeaders,
  signPayMessage,
  verifyPayMessage,
  type EncryptedResource,
} from './pay/pay-crypto';
export { PAY_TIMESTAMP_TOLERANCE_SECONDS } from './pay/pay-routes';
export { SHIPPING_ERR } from './pay/shipping';
export type {
  AuthorizeOptions,
  AuthorizeResult,
  AuthorizerView,
  PlatformApi,
  PlatformEvent,
  PlatformInfoType,
  PlatformRegistration,
  TicketResult,
  UpdateAuthorizationOptions,
} from './platform/types';
export { TICKET_TTL_MS } from './platform/tickets';
export { PRE_AUTH_CODE_TTL_MS } from './platform/pre-auth';
export { AUTH_CODE_TTL_MS, DEFAULT_FUNC_IDS } from './platform/authorizations';
export { MAX_AUTHORIZER_LIST_COUNT } from './platform/platform-routes';
export { buildEvent } from './platform/events';
