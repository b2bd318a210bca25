/**
 * Every error code a client can receive, with its HTTP status(es) and meaning: the one catalogue.
 * AppError only takes a code from here (the compiler checks it), and the README's "Error codes"
 * table is checked against it by a test, so code, docs and answers cannot drift apart.
 */
export interface ErrorEntry {
  readonly status: readonly number[];
  readonly meaning: string;
}

export const ERROR_CATALOGUE = {
  // requests and routing
  INVALID_APPID: { status: [400], meaning: "the path's appid is not `wx` + 16 lowercase hex" },
  TENANT_NOT_FOUND: { status: [404], meaning: 'no such tenant' },
  TENANT_DISABLED: { status: [403], meaning: 'the tenant is disabled' },
  NOT_FOUND: { status: [404], meaning: 'no such route (reserved gateway paths included)' },
  METHOD_NOT_ALLOWED: { status: [405], meaning: 'the route does not take this method' },
  MALFORMED_JSON: { status: [400], meaning: 'the request body is not valid JSON' },
  INVALID_BODY: { status: [400], meaning: 'the request body fails validation (the field is named)' },
  BAD_REQUEST: { status: [400], meaning: 'the request could not be read (e.g. a corrupt compressed body)' },
  PAYLOAD_TOO_LARGE: { status: [413], meaning: 'the body is over the limit' },
  UNSUPPORTED_MEDIA_TYPE: { status: [415], meaning: 'a JSON route got another content type, or a media file of a type WeChat refuses' },
  REQUEST_ABORTED: { status: [400], meaning: 'the client went away while sending the body' },
  BODY_TIMEOUT: { status: [408], meaning: 'the body did not arrive within its deadline; the connection is closed' },
  INTERNAL: { status: [500], meaning: 'a bug; logged with its stack, never shown' },
  NOT_READY: { status: [503], meaning: '`/readyz`: a dependency is unavailable' },
  STORE_UNAVAILABLE: { status: [503], meaning: 'MongoDB or Redis is down, hung or not serving (`Retry-After`; see "Store outages")' },
  RATE_LIMITED: { status: [429], meaning: 'the tenant\'s rate limit for this kind of route is used up, on every instance together (`Retry-After`; see "Rate limits")' },

  // credentials
  UNAUTHENTICATED: { status: [401], meaning: 'no `Authorization: Bearer` credential' },
  FORBIDDEN: { status: [403], meaning: 'the admin token is wrong' },
  INVALID_API_KEY: { status: [401], meaning: "the service key is unknown, revoked or another tenant's" },
  INVALID_SESSION: { status: [401], meaning: "the session is unknown, expired, another tenant's, or its user is gone: log in again" },

  // admin API and tenants CLI (the same codes through both)
  INVALID_DEFINITION: { status: [400], meaning: 'admin: a tenant or merchant definition fails validation (every problem is in `details.problems`, by entry and field); nothing was written' },
  KEY_NOT_FOUND: { status: [404], meaning: 'admin: no such active service key of this tenant' },
  TENANT_UNREADABLE: {
    status: [409],
    meaning: "admin: the tenant's sealed secrets do not open with SECRETS_KEYS (sealed under another key, or tampered): apply its file again or remove it",
  },
  MERCHANT_NOT_FOUND: { status: [404], meaning: 'admin: no such merchant (mchid)' },
  MERCHANT_IN_USE: { status: [409], meaning: "admin: a tenant's `pay` names the merchant; remove it there first, or force" },

  // push portal
  INVALID_SIGNATURE: { status: [401, 400], meaning: 'push: signature or msg_signature forged (401); profile: `signature` is not `sha1(rawData + session_key)` (400)' },
  STALE_TIMESTAMP: { status: [401], meaning: 'push: the timestamp is outside the accepted window' },
  APPID_MISMATCH: { status: [401], meaning: 'push: the decrypted message is for another mini program' },
  REPLAYED_PUSH: { status: [401], meaning: 'push: a signed query already used with another body, method or mode' },
  ENCRYPTION_REQUIRED: { status: [401], meaning: 'push: the tenant takes encrypted pushes only (`pushEncryption: "required"`)' },
  INVALID_QUERY: { status: [400], meaning: 'push: timestamp, nonce, echostr or encrypt_type malformed; media upload: bad `type`' },
  MALFORMED_BODY: { status: [400], meaning: 'push: the body is not a push (or an encrypted push without Encrypt)' },
  XML_FORBIDDEN: { status: [400], meaning: 'push: DOCTYPE, entities or processing instructions in the XML' },
  BODY_TOO_COMPLEX: { status: [400], meaning: 'push: too deep, too many fields or too long a field' },
  MALFORMED_MESSAGE: { status: [400], meaning: 'push: required message fields missing or malformed' },
  INVALID_CIPHERTEXT: { status: [400], meaning: 'push: Encrypt is not a valid ciphertext' },
  DECRYPT_FAILED: { status: [400], meaning: 'push: Encrypt does not decrypt with the tenant key (the reason is logged, not answered)' },
  PORTAL_BUSY: { status: [503], meaning: 'push: too many bodies being read at once on this instance (`Retry-After`; WeChat retries)' },
  QUEUE_UNAVAILABLE: { status: [503], meaning: 'push: Redis unavailable and the local spool full (`Retry-After`; WeChat retries)' },

  // users
  LOGIN_CODE_INVALID: { status: [400], meaning: 'WeChat 40029 / 40163 on login: call wx.login again' },
  LOGIN_BLOCKED: { status: [403], meaning: 'WeChat 40226: the user is flagged as high risk' },
  PHONE_CODE_INVALID: { status: [400], meaning: 'WeChat 40029 / 40163 on `getuserphonenumber`' },
  SESSION_KEY_STALE: { status: [400], meaning: 'encryptedData does not decrypt with the current session key: log in again' },
  WATERMARK_MISMATCH: { status: [400], meaning: 'encryptedData is for another mini program' },
  INVALID_ENCRYPTED_DATA: { status: [400], meaning: 'encryptedData or iv malformed' },

  // mini-program APIs
  INVALID_OPENID: { status: [400], meaning: 'WeChat 40003: unknown openid for this mini program' },
  INVALID_TEMPLATE: { status: [400], meaning: 'WeChat 40037: not a subscribe-message template of this mini program' },
  USER_REFUSED_SUBSCRIPTION: { status: [400], meaning: 'WeChat 43101: the user has not accepted (or used up) the subscription' },
  INVALID_PAGE: { status: [400], meaning: 'WeChat 41030 / 40165: no such page in the mini program' },
  INVALID_MEDIA_ID: { status: [400], meaning: 'WeChat 40007, or a malformed media id' },
  USER_INACTIVE: { status: [400], meaning: 'WeChat 61010: the user has not used the mini program recently' },
  WECHAT_REJECTED_INPUT: { status: [400], meaning: 'WeChat 47001 / 47003 / 40097 / 40008: WeChat refused the request data' },
  WECHAT_API_UNAUTHORIZED: { status: [403], meaning: 'WeChat 48001: the mini program may not use this API' },
  REPLY_WINDOW_CLOSED: { status: [403], meaning: 'WeChat 45015: the user has not written in the last 48 hours' },
  REPLY_LIMIT_REACHED: { status: [403], meaning: 'WeChat 45047: too many customer-service messages since the user last wrote' },
  MEDIA_MISSING: { status: [400], meaning: 'media upload: no `media` part' },
  MALFORMED_MULTIPART: { status: [400], meaning: 'media upload: broken multipart body' },
  INVALID_MEDIA_TYPE: { status: [400], meaning: 'media upload: unknown file type' },
  MEDIA_NOT_FOUND: { status: [404], meaning: 'media download: no such media' },

  // tokens, passthrough and WeChat
  PASSTHROUGH_FORBIDDEN: { status: [403], meaning: 'passthrough to the token APIs (the gateway owns tokens)' },
  INVALID_API_PATH: { status: [400], meaning: 'passthrough path with characters or `.`/`..`/empty segments that are not allowed' },
  WECHAT_QUOTA_EXCEEDED: { status: [429], meaning: "WeChat 45009: the API's daily quota is used up; calls pause (`Retry-After`)" },
  WECHAT_RATE_LIMITED: { status: [429], meaning: 'WeChat 45011: rate limited; calls pause (`Retry-After`)' },
  TENANT_MISCONFIGURED: { status: [502], meaning: 'WeChat 40013 / 40125 / 40164 on the token call: fix the tenant file' },
  WECHAT_API_ERROR: { status: [502], meaning: 'WeChat answered an errcode the gateway does not map' },
  WECHAT_UNAVAILABLE: { status: [502], meaning: 'WeChat could not be reached' },
  WECHAT_UNEXPECTED_RESPONSE: { status: [502], meaning: 'WeChat answered the wrong kind of body' },
  TOKEN_UNAVAILABLE: { status: [503], meaning: "waiting for another instance's token fetch timed out" },

  // third-party platforms
  PLATFORM_NOT_FOUND: { status: [404], meaning: 'no such third-party platform (component appid)' },
  REAUTHORIZATION_REQUIRED: {
    status: [403],
    meaning: "the platform's refresh token for this mini program was refused (61023): its admin must authorize the platform again, or run `platforms sync`",
  },
  PLATFORM_TICKET_MISSING: { status: [503], meaning: 'no `component_verify_ticket` has arrived for the platform yet (WeChat pushes one every 10 minutes; `Retry-After`)' },
  PLATFORM_MISCONFIGURED: { status: [502], meaning: "WeChat refused the platform's component appid or secret: fix the platform file and apply it" },
  PLATFORM_NOT_CONFIGURED: { status: [503], meaning: 'the authorization page needs `PUBLIC_BASE_URL` (where WeChat sends the admin back to)' },
  AUTHORIZATION_FAILED: { status: [400], meaning: 'the authorization code is unknown, used or expired; start the authorization again' },

  // WeChat Pay
  PAY_NOT_ENABLED: { status: [404], meaning: 'the tenant has no `pay` section' },
  PAY_NOT_CONFIGURED: { status: [503], meaning: "the tenant's merchant is not applied, or `PUBLIC_BASE_URL` is not set" },
  PAYER_MISMATCH: { status: [403], meaning: "a user session may only create orders the user pays (`payer.openid` is another user's)" },
  ORDER_NOT_FOUND: { status: [404], meaning: 'no such order of this mini program' },
  ORDER_CONFLICT: { status: [409], meaning: 'the outTradeNo (or outRefundNo) was used with other content' },
  ORDER_PAID: { status: [409], meaning: 'WeChat Pay: the order is already paid' },
  ORDER_CLOSED: { status: [409], meaning: 'WeChat Pay: the order is closed' },
  ORDER_NOT_PAID: { status: [409], meaning: 'refund or shipping of an order that is not paid' },
  PAY_PARAM_ERROR: { status: [400], meaning: 'WeChat Pay PARAM_ERROR / INVALID_REQUEST: it refused the order or refund data (its message is passed on)' },
  PAY_REFUSED: { status: [403], meaning: 'WeChat Pay refused the merchant (NO_AUTH, RULE_LIMIT, NOT_ENOUGH, ...; its code is in `details`)' },
  PAY_SIGN_ERROR: { status: [502], meaning: "WeChat Pay refused the gateway's signature: the merchant's serialNo or privateKey is wrong" },
  PAY_RESPONSE_UNVERIFIED: { status: [502], meaning: "a WeChat Pay answer's signature did not verify; it was not trusted" },
  PAY_RATE_LIMITED: { status: [429], meaning: 'WeChat Pay FREQUENCY_LIMITED (`Retry-After`)' },
  PAY_UNAVAILABLE: { status: [503], meaning: 'WeChat Pay SYSTEM_ERROR / BANKERROR or unreachable (`Retry-After`)' },
  PAY_NOTIFY_UNVERIFIED: { status: [401], meaning: 'pay notification: signature missing, forged, stale (over 5 minutes) or by an unknown serial' },
  PAY_NOTIFY_MALFORMED: { status: [400], meaning: 'pay notification: not a notification, or its resource does not decrypt with the APIv3 key' },
  PAY_NOTIFY_MISMATCH: { status: [400], meaning: "pay notification: merchant, appid, order or amount is not this mini program's stored order" },
} as const satisfies Record<string, ErrorEntry>;

export type ErrorCode = keyof typeof ERROR_CATALOGUE;
