/** WeChat Pay v3 errors: an HTTP status and a body `{code, message}`; thrown by pay handlers, rendered (and signed) by pay-routes. */

export class PayError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
    this.name = 'PayError';
  }

  toBody(): { code: string; message: string } {
    return { code: this.code, message: this.message };
  }
}

export const paramError = (message: string): PayError => new PayError(400, 'PARAM_ERROR', message);
export const invalidRequest = (message: string): PayError => new PayError(400, 'INVALID_REQUEST', message);
export const signError = (message: string): PayError => new PayError(401, 'SIGN_ERROR', message);

/** RFC 3339 time in China Standard Time, as WeChat Pay writes times: `2024-01-01T08:00:00+08:00`. */
export function payTime(ms: number): string {
  const shifted = new Date(ms + 8 * 3600 * 1000).toISOString();
  return `${shifted.slice(0, 19)}+08:00`;
}

/** True for an RFC 3339 date-time with seconds and an explicit offset (what time_expire / upload_time require). */
export function isRfc3339(s: unknown): s is string {
  return typeof s === 'string' && /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$/.test(s) && !Number.isNaN(Date.parse(s));
}
