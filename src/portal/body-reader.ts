import { AppError } from '../kernel/errors';
import type { GatewayContext } from '../http/context';
import { readRawBody } from '../http/raw-body';

/**
 * Reads push bodies with a size limit, a deadline and a cap on how many are read at once per
 * instance: a flood of slow, signed-looking requests gets 503 (WeChat retries real pushes) instead
 * of holding memory and sockets until they run out.
 */
export class BodyReader {
  private pending = 0;

  constructor(
    private readonly maxBytes: number,
    private readonly timeoutMs: number,
    private readonly maxPending: number,
  ) {}

  async read(ctx: GatewayContext): Promise<Buffer> {
    if (this.pending >= this.maxPending) {
      throw new AppError(503, 'PORTAL_BUSY', 'too many push bodies are being received; retry shortly', { headers: { 'Retry-After': '1', Connection: 'close' } });
    }
    this.pending++;
    try {
      return await readRawBody(ctx, this.maxBytes, this.timeoutMs);
    } finally {
      this.pending--;
    }
  }
}
