/**
 * Every Redis key and channel the gateway uses, in one place: a reader can see the whole layout
 * (and what a FLUSHDB or an eviction takes away), and no two modules can pick the same name.
 * Keys that a Lua script touches together are built here side by side, so that moving to Redis
 * Cluster means adding one hash tag per family in this file only.
 */
const P = 'wxgate';

export const redisKeys = {
  /** Pub/sub channel of the invalidation bus (tenant, token and cool-down changes). */
  invalidationChannel: `${P}:invalidate`,

  /** Sealed L2 copy of a tenant document, and its generation (bumped on every change). */
  tenant: (appid: string) => `${P}:tenant:${appid}`,
  tenantGen: (appid: string) => `${P}:tenant-gen:${appid}`,

  /** The fleet's record of one access token; `fingerprint` changes with the credential behind it. */
  token: (owner: string, fingerprint: string) => `${P}:token:${owner}:${fingerprint}`,
  /** The redlock resource guarding the fetch of one token (its key above). */
  tokenLock: (tokenKey: string) => `${P}:lock:${tokenKey}`,
  /** Set for 10 s by a refused token reported to the central endpoint: `fetching`, then `done`. */
  tokenReportWindow: (tokenKey: string) => `${P}:token-report:${tokenKey}`,

  /** A third-party platform's latest component_verify_ticket (sealed copy; MongoDB holds the durable one). */
  platformTicket: (componentAppid: string) => `${P}:ticket:${componentAppid}`,

  /** A platform event already handled (by the SHA-256 of its msg_signature): a replay inside the timestamp window is answered, not handled again. */
  platformEvent: (componentAppid: string, signatureHash: string) => `${P}:platform-event:${componentAppid}:${signatureHash}`,

  /** An authorization code already exchanged (by its SHA-256) and the appid it authorized: the callback and the event may both bring it. */
  platformAuthCode: (componentAppid: string, codeHash: string) => `${P}:auth-code:${componentAppid}:${codeHash}`,

  /** A user session, by the SHA-256 of its token (the token itself never reaches Redis). */
  session: (tokenHash: string) => `${P}:session:${tokenHash}`,
  /**
   * A user's live sessions: a sorted set of token hashes scored by creation time. The session
   * scripts delete `session(hash)` keys they read from it, so under Redis Cluster both families
   * would need one hash tag (the sessions would then be found by user as well as by token).
   */
  userSessions: (appid: string, openid: string) => `${P}:user-sessions:${appid}:${openid}`,

  /** A push already answered, by its dedup identity. */
  pushDedup: (dedupKey: string) => `${P}:dedup:${dedupKey}`,
  /** First use of a signed plain-mode push query. */
  pushNonce: (appid: string, timestamp: string, nonce: string, signature: string) => `${P}:push-nonce:${appid}:${timestamp}:${nonce}:${signature}`,

  /**
   * Per-tenant rate-limit counters (rate-limiter-flexible, one fixed window each): the library writes
   * `<rateLimitPrefix>:<rateLimitKey>`. One prefix per window length, so a changed window starts a
   * fresh counter; the `{appid}` hash tag keeps all of a tenant's counters in one Cluster slot (each
   * counter is one key touched by one script, so Cluster needs nothing more).
   */
  rateLimitPrefix: (windowS: number) => `${P}:rl:${windowS}s`,
  rateLimitKey: (appid: string, limitClass: string) => `{${appid}}:${limitClass}`,

  /** Webhook delivery: the set of tenant streams, each tenant's stream, retry schedule and dead letters. */
  deliveryStreams: `${P}:wh:streams`,
  deliveryStream: (appid: string) => `${P}:wh:${appid}`,
  deliveryRetries: (appid: string) => `${P}:wh-retry:${appid}`,
  deliveryDead: (appid: string) => `${P}:wh-dead:${appid}`,
  /** An event other than a push (a payment, a refund) already queued for a tenant's webhook, by its identity. */
  deliveryEventOnce: (appid: string, eventId: string) => `${P}:wh-once:${appid}:${eventId}`,
  /** The consumer group every gateway's delivery worker joins on each tenant stream. */
  deliveryGroup: `${P}-webhook`,

  /**
   * Operator console activity of a tenant in one clock hour (hours since the epoch): a hash of
   * counters, fields `<minute>:<a|r|l>` (pushes accepted, pushes rejected, rate-limited requests),
   * kept two hours. The `{appid}` hash tag puts each tenant's activity and token keys in one Cluster
   * slot, so one pipeline per tenant is Cluster-safe; nothing reads two tenants in one command.
   */
  activity: (appid: string, hour: number) => `${P}:activity:{${appid}}:${hour}`,
  /** When a tenant's access token was last fetched from WeChat (epoch ms), for the console's token age. */
  tokenFetchedAt: (appid: string) => `${P}:token-fetched:{${appid}}`,
  /** The last failed token fetch of a tenant (JSON `{at, code, message}`), expiring an hour after it. */
  tokenLastError: (appid: string) => `${P}:token-error:{${appid}}`,
} as const;
