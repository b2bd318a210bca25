import { AppError } from '../kernel/errors';

/** The two stores every request may depend on. */
export type StoreName = 'mongodb' | 'redis';

/**
 * A store operation that outlived the gateway's own bound. A hung server (stopped process, full
 * disk, dead network path) keeps its sockets open, so the driver's timeouts alone do not end the
 * request soon enough.
 */
export class StoreTimeoutError extends Error {
  constructor(
    readonly store: StoreName,
    ms: number,
  ) {
    super(`${store} did not answer within ${ms} ms`);
    this.name = 'StoreTimeoutError';
  }
}

/** MongoDB driver and mongoose errors that mean "cannot reach the server now", never "bad request". */
const MONGO_UNREACHABLE = new Set([
  'MongoServerSelectionError',
  'MongooseServerSelectionError',
  'MongoNetworkError',
  'MongoNetworkTimeoutError',
  'MongoPoolClearedError',
  'MongoWaitQueueTimeoutError',
  'MongoTopologyClosedError',
  'MongoNotConnectedError',
  'MongoServerClosedError',
  'MongoOperationTimeoutError',
]);

/**
 * Server answers that mean "not now": maxTimeMS exceeded (50), shutting down (91, 11600), a primary
 * stepping down or gone (189, 10107, 11602, 13435, 13436).
 */
const MONGO_NOT_NOW_CODES = new Set([50, 91, 189, 10107, 11600, 11602, 13435, 13436]);

/** What ioredis rejects commands with while the server is unreachable, hung, or not serving. */
const REDIS_UNREACHABLE = [
  /^Connection is closed\.$/,
  /^Stream isn't writeable/,
  /^Command timed out$/,
  /^Reached the max retries per request limit/,
  // The Redis Cluster client: no usable slot map yet (cluster unreachable), or a slot that kept moving.
  /^Cluster isn't ready/,
  /^Too many Cluster redirections/,
  /^None of startup nodes is available/,
];
const REDIS_NOT_NOW = /^(LOADING|MASTERDOWN|CLUSTERDOWN|TRYAGAIN|BUSY) /;

/**
 * Which store an error says is unavailable, looking through `cause` chains; undefined for every
 * other error (a bug or a bad request must not be hidden behind a 503).
 */
export function unavailableStore(err: unknown): StoreName | undefined {
  let e: unknown = err;
  for (let depth = 0; depth < 4 && typeof e === 'object' && e !== null; depth++) {
    if (e instanceof StoreTimeoutError) return e.store;
    const { name, code, message } = e as { name?: unknown; code?: unknown; message?: unknown };
    if (typeof name === 'string' && MONGO_UNREACHABLE.has(name)) return 'mongodb';
    if (name === 'MongoServerError' && typeof code === 'number' && MONGO_NOT_NOW_CODES.has(code)) return 'mongodb';
    if (typeof message === 'string') {
      if ((name === 'Error' || name === 'MaxRetriesPerRequestError') && REDIS_UNREACHABLE.some((r) => r.test(message))) return 'redis';
      if (name === 'ReplyError' && REDIS_NOT_NOW.test(message)) return 'redis';
    }
    e = (e as { cause?: unknown }).cause;
  }
  return undefined;
}

/** The answer while a store is unavailable: the client may retry, nothing about the store leaks. */
export function storeUnavailable(cause?: unknown): AppError {
  return new AppError(503, 'STORE_UNAVAILABLE', 'a data store is unavailable; retry shortly', {
    headers: { 'Retry-After': '1' },
    ...(cause === undefined ? {} : { cause }),
  });
}
