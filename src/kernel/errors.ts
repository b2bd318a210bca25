import type { ErrorCode } from './error-catalogue';

/**
 * Typed errors. Every error that reaches a client is an AppError (HTTP status + stable code);
 * http/error-handler.ts is the single place that turns errors into responses.
 */
export class AppError extends Error {
  readonly status: number;
  readonly code: ErrorCode;
  /** Extra response headers (e.g. Retry-After). */
  readonly headers: Readonly<Record<string, string>>;
  /** Safe, non-secret details that may be sent to the client. */
  readonly details?: Readonly<Record<string, unknown>>;
  /** Details for the gateway's own log only (they would help a prober), never sent to the client. */
  readonly logDetails?: Readonly<Record<string, unknown>>;

  constructor(
    status: number,
    code: ErrorCode,
    message: string,
    opts: { headers?: Record<string, string>; details?: Record<string, unknown>; logDetails?: Record<string, unknown>; cause?: unknown } = {},
  ) {
    super(message, opts.cause === undefined ? undefined : { cause: opts.cause });
    this.name = 'AppError';
    this.status = status;
    this.code = code;
    this.headers = opts.headers ?? {};
    this.details = opts.details;
    this.logDetails = opts.logDetails;
  }
}

/** An errcode answered by WeChat (or the sandbox). `rid` is WeChat's request id, parsed from errmsg. */
export class WeChatApiError extends Error {
  readonly errcode: number;
  readonly errmsg: string;
  readonly rid?: string;
  /** Path of the API that failed, without query (never contains secrets). */
  readonly api: string;

  constructor(errcode: number, errmsg: string, api: string) {
    super(`WeChat ${api} failed: ${errcode} ${errmsg}`);
    this.name = 'WeChatApiError';
    this.errcode = errcode;
    this.errmsg = errmsg;
    this.api = api;
    const m = /rid:\s*([0-9a-zA-Z-]+)/.exec(errmsg);
    if (m) this.rid = m[1];
  }
}

/** Raised at start-up when an environment variable is missing or malformed. */
export class ConfigError extends Error {
  constructor(
    readonly variable: string,
    readonly expected: string,
  ) {
    super(`${variable}: ${expected}`);
    this.name = 'ConfigError';
  }
}
