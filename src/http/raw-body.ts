import getRawBody from 'raw-body';
import { AppError } from '../kernel/errors';
import type { GatewayContext } from './context';

/** Refuses at once a body whose declared length is over the limit, before reading any of it. */
export function assertDeclaredLength(ctx: GatewayContext, limitBytes: number): void {
  if (Number(ctx.get('content-length') || 0) > limitBytes) throw new AppError(413, 'PAYLOAD_TOO_LARGE', `request body is larger than ${limitBytes} bytes`);
}

/** Reads the request body once, as bytes, with a hard size limit (413 beyond it). */
export async function readRawBody(ctx: GatewayContext, limitBytes: number): Promise<Buffer> {
  assertDeclaredLength(ctx, limitBytes);
  try {
    return await getRawBody(ctx.req, { limit: limitBytes });
  } catch (err) {
    const type = (err as { type?: string }).type;
    if (type === 'entity.too.large') throw new AppError(413, 'PAYLOAD_TOO_LARGE', `request body is larger than ${limitBytes} bytes`);
    if (type === 'request.aborted') throw new AppError(400, 'REQUEST_ABORTED', 'the client aborted the request');
    throw new AppError(400, 'BAD_REQUEST', 'could not read the request body');
  }
}
