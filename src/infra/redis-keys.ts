/**
 * Every Redis key and channel the gateway uses, in one place: a reader can see the whole layout
 * (and what a FLUSHDB or an eviction takes away), and no two modules can pick the same name.
 * Keys that a Lua script or a transaction touches together are built here side by side, with one
 * Redis Cluster hash tag per family (`{...}`: only the tag is hashed to pick the slot), so every
 * multi-key command lands in one slot. Two ways are used:
 * - a tag naming the owner (`{appid}`, a session bucket), for families created together;
 * - `{<other key>}` for a key that must live beside an existing untagged key: a key's slot is the
 *   hash of its whole name when it has no tag, so `{wxgate:tenant:x}` hashes exactly like
 *   `wxgate:tenant:x`. The older key keeps its name, and nothing it holds is lost on upgrade.
 */
const P = 'wxgate';

/** A tag that puts a key in the slot of `untaggedKey` (which must itself contain no `{...}` tag). */
const slotOf = (untaggedKey: string) => `{${untaggedKey}}`;

export const redisKeys = {
  /** Pub/sub channel of the invalidation bus (tenant, token and cool-down changes). */
  invalidationChannel: `${P}:invalidate`,

  /** Sealed L2 copy of a tenant document, and its generation (bumped on every change). */
  tenant: (appid: string) => `${P}:tenant:${appid}`,
  tenantGen: (appid: string) => `${P}:tenant-gen:${slotOf(`${P}:tenant:${appid}`)}`,

  /** The fleet's record of one access token; `fingerprint` changes with the credential behind it. */
  token: (owner: string, fingerprint: string) => `${P}:token:${owner}:${fingerprint}`,
  /** The redlock resource guarding the fetch of one token (its key above), in the token's slot: the write that ends a fetch checks it. */
  tokenLock: (tokenKey: string) => `${P}:lock:${slotOf(tokenKey)}`,
  /** Set for 10 s by a refused token reported to the central endpoint: `fetching`, then `done`. */
  tokenReportWindow: (tokenKey: string) => `${P}:token-report:${slotOf(tokenKey)}`,

  /** A third-party platform's latest component_verify_ticket (sealed copy; MongoDB holds the durable one). */
  platformTicket: (componentAppid: string) => `${P}:ticket:${componentAppid}`,

  /** A platform event already handled (by the SHA-256 of its msg_signature): a replay inside the timestamp window is answered, not handled again. */
  platformEvent: (componentAppid: string, signatureHash: string) => `${P}:platform-event:${componentAppid}:${signatureHash}`,

  /** An authorization code already exchanged (by its SHA-256) and the appid it authorized: the callback and the event may both bring it. */
  platformAuthCode: (componentAppid: string, codeHash: string) => `${P}:auth-code:${componentAppid}:${codeHash}`,

  /**
   * A user session, by the SHA-256 of its token (the token itself never reaches Redis). `bucket` is
   * derived from the user and carried at the start of the token (see session-store.ts), so a lookup
   * by token finds the slot of the user's sessions without knowing the user.
   */
  session: (bucket: string, tokenHash: string) => `${P}:session:{s:${bucket}}:${tokenHash}`,
  /**
   * A user's live sessions: a sorted set of token hashes scored by creation time. The session
   * scripts delete `session(bucket, hash)` keys they read from it: same bucket tag, same slot.
   */
  userSessions: (bucket: string, appid: string, openid: string) => `${P}:user-sessions:{s:${bucket}}:${appid}:${openid}`,

  /**
   * A push already answered, by its dedup identity, and the first use of a signed push query. The
   * push script claims both and queues the push on the tenant's delivery shard stream in one step,
   * so both carry the tag of that shard (`slotTag`: deliveryShardTag of the tenant's shard).
   */
  pushDedup: (slotTag: string, dedupKey: string) => `${P}:dedup:${slotTag}:${dedupKey}`,
  pushNonce: (slotTag: string, appid: string, timestamp: string, nonce: string, signature: string) => `${P}:push-nonce:${slotTag}:${appid}:${timestamp}:${nonce}:${signature}`,

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
