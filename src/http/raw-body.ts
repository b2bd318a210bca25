import type { IncomingMessage } from 'node:http';
import getRawBody from 'raw-body';
import { AppError } from '../kernel/errors';
import type { GatewayContext } from './context';

/** Refuses at once a body whose declared length is over the limit, before reading any of it. */
export function assertDeclaredLength(ctx: GatewayContext, limitBytes: number): void {
  if (Number(ctx.get('content-length') || 0) > limitBytes) throw new AppError(413, 'PAYLOAD_TOO_LARGE', `request body is larger than ${limitBytes} bytes`);
}

/**
 * The body, when all of it has already arrived (a small body usually comes in the same packet as
 * the headers): taken from the request's buffer at once, without a reader, its listeners and a
 * deadline timer, which cost a push more than the copy. Undefined when any of it is still on the
 * way, when it is over the limit, or when something already started reading the stream.
 */
function arrivedBody(req: IncomingMessage, limitBytes: number): Buffer | undefined {
  if (req.readableFlowing !== null || req.readableEnded || req.readableLength > limitBytes) return undefined;
  // Whole: as many bytes as declared (the parser never gives a request more than its
  // Content-Length; the end of the message is only signalled a tick later), or, for a chunked
  // body, the parser has seen its end.
  const declared = req.headers['content-length'];
  if (declared !== undefined ? Number(declared) !== req.readableLength : !req.complete) return undefined;
  // read() returns every buffered chunk as one Buffer (null when there is none); resume() lets
  // the stream end as it would after any reader.
  const body = (req.read() as Buffer | null) ?? Buffer.alloc(0);
  req.resume();
  return body;
}

/**
 * The body if it came whole with the headers. Checked now and once more a microtask later: a
 * handler reached without a wait runs inside the request event, before the parser hands over the
 * body that came in the same packet, which it does in that same turn.
 */
export async function bodyIfArrived(req: IncomingMessage, limitBytes: number): Promise<Buffer | undefined> {
  const now = arrivedBody(req, limitBytes);
  if (now) return now;
  await Promise.resolve();
  return arrivedBody(req, limitBytes);
}

/**
 * Reads the request body once, as bytes, with a hard size limit (413 beyond it) and, when given, a
 * deadline (408 BODY_TIMEOUT): a client that trickles its body is cut off and its connection closed
 * once the answer is sent, instead of holding memory and a socket until the server's own timeout.
 */
export async function readRawBody(ctx: GatewayContext, limitBytes: number, timeoutMs?: number): Promise<Buffer> {
  return (await bodyIfArrived(ctx.req, limitBytes)) ?? streamRawBody(ctx, limitBytes, timeoutMs);
}

/** readRawBody for a body still on its way (or one that did not fit): raw-body's reader, the limit, the deadline. */
export async function streamRawBody(ctx: GatewayContext, limitBytes: number, timeoutMs?: number): Promise<Buffer> {
  assertDeclaredLength(ctx, limitBytes);
  let timer: NodeJS.Timeout | undefined;
  try {
    const reading = getRawBody(ctx.req, { limit: limitBytes });
    if (timeoutMs === undefined) return await reading;
    const deadline = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new AppError(408, 'BODY_TIMEOUT', `the request body did not arrive within ${timeoutMs} ms`, { headers: { Connection: 'close' } })), timeoutMs);
    });
    return await Promise.race([reading, deadline]);
  } catch (err) {
    if (err instanceof AppError) {
      // The rest of the body is never read: drop the connection once the 408 is out.
      ctx.res.once('finish', () => ctx.req.socket.destroy());
      throw err;
    }
    const type = (err as { type?: string }).type;
    if (type === 'entity.too.large') throw new AppError(413, 'PAYLOAD_TOO_LARGE', `request body is larger than ${limitBytes} bytes`);
    if (type === 'request.aborted') throw new AppError(400, 'REQUEST_ABORTED', 'the client aborted the request');
    throw new AppError(400, 'BAD_REQUEST', 'could not read the request body');
  } finally {
    clearTimeout(timer);
  }
}
