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

  /**
   * Webhook delivery, sharded (DELIVERY_SHARDS): a tenant hashes to one shard, and every key of a
   * shard carries the hash tag `{wh<n>}`, so each delivery script and transaction touches one Cluster
   * slot. Per shard: the stream of queued deliveries (all its tenants), the retry schedule (sorted
   * set by due time), the entries parked because their tenant was at its concurrency cap (a list per
   * tenant, and an index of tenants with parked entries), and per tenant its dead letters (and an
   * index of tenants that have some, for the retention trim).
   */
  deliveryShardTag: (shard: number) => `{wh${shard}}`,
  deliveryShardStream: (shard: number) => `${P}:wh:{wh${shard}}:stream`,
  deliveryShardRetries: (shard: number) => `${P}:wh:{wh${shard}}:retry`,
  deliveryShardParked: (shard: number, appid: string) => `${P}:wh:{wh${shard}}:parked:${appid}`,
  deliveryShardParkedIndex: (shard: number) => `${P}:wh:{wh${shard}}:parked`,
  deliveryShardDead: (shard: number, appid: string) => `${P}:wh:{wh${shard}}:dead:${appid}`,
  deliveryShardDeadIndex: (shard: number) => `${P}:wh:{wh${shard}}:dead`,
  /** An event other than a push (a payment, a refund) already queued for a tenant's webhook, by its identity (in the tenant's shard). */
  deliveryEventOnce: (shard: number, appid: string, eventId: string) => `${P}:wh:{wh${shard}}:once:${appid}:${eventId}`,
  /**
   * The layout before shards (one stream, retry schedule and dead-letter stream per tenant, and the
   * set of tenant streams): still read at start and every minute, to move what an older version
   * queued into the shards; nothing writes it any more.
   */
  deliveryStreams: `${P}:wh:streams`,
  deliveryStream: (appid: string) => `${P}:wh:${appid}`,
  deliveryRetries: (appid: string) => `${P}:wh-retry:${appid}`,
  deliveryDead: (appid: string) => `${P}:wh-dead:${appid}`,
  /** The consumer group every gateway's delivery worker joins on each shard stream (and, before shards, on each tenant stream). */
  deliveryGroup: `${P}-webhook`,
} as const;
