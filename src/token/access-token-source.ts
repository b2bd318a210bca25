/** What a source hands back: WeChat's token and its lifetime in seconds. */
export interface FetchedToken {
  accessToken: string;
  expiresIn: number;
}

/**
 * Where one access token comes from. The fleet token manager owns everything else (the two cache
 * levels, the fleet lock, renewal, error memory); a source only knows how to ask WeChat once.
 * A tenant's stable or classic token, a third-party platform's component token, an authorizer's
 * token or a merchant's platform keys are each one implementation.
 */
export interface AccessTokenSource {
  /** The fleet-wide identity of this token (a key from the Redis key catalogue); it changes when the credential behind it changes. */
  readonly key: string;
  /** Whose token it is (an appid, a component appid): for logs, metrics and errors, never a secret. */
  readonly owner: string;
  /** A short label for logs: "stable", "classic", ... */
  readonly kind: string;
  /** Asks upstream for a new token; throws an AppError the caller can answer with. */
  fetch(): Promise<FetchedToken>;
}
