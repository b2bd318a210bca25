/** WeChat errcodes the gateway reacts to (README "Access tokens" and "Error codes" say what each one does). */
export const ERR_BUSY = -1;
/** The access token is dead: invalid / not latest (40001), malformed (40014), expired (42001). */
export const TOKEN_DEAD = new Set([40001, 40014, 42001]);
export const ERR_DAILY_QUOTA = 45009;
export const ERR_RATE_LIMITED = 45011;
/** On a token fetch these mean the tenant's own settings are wrong; retrying cannot help. */
export const TENANT_MISCONFIGURED = new Map<number, string>([
  [40013, 'invalid appid'],
  [40125, 'invalid AppSecret'],
  [40164, "the gateway's IP is not on the mini program's IP whitelist"],
  [41002, 'appid missing'],
  [41004, 'secret missing'],
]);
