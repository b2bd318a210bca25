import { AppError } from '../kernel/errors';
import type { GatewayContext } from '../http/context';
import { bodyIfArrived, streamRawBody } from '../http/raw-body';

const busy = (why: string) => new AppError(503, 'PORTAL_BUSY', `too many push bodies are being received ${why}; retry shortly`, { headers: { 'Retry-After': '1', Connection: 'close' } });

/**
 * Reads push bodies with a size limit and a deadline, and bounds what slow senders can hold: at
 * most `maxPending` bodies at once per instance, a quarter of that per tenant (one tenant's flood
 * leaves room for the others), and one per signed query (a leaked push URL holds one slot, not all
 * of them). Beyond a bound the answer is 503 at once; WeChat retries real pushes. A body that has
 * already arrived whole holds nothing and waits for nothing, so it needs no slot.
 */
export class BodyReader {
  private pending = 0;
  private readonly perTenant = new Map<string, number>();
  private readonly queries = new Set<string>();
  private readonly maxPerTenant: number;

  constructor(
    private readonly maxBytes: number,
    private readonly timeoutMs: number,
    private readonly maxPending: number,
  ) {
    this.maxPerTenant = Math.max(1, Math.floor(maxPending / 4));
  }

  /** `query` identifies the signed query (appid, timestamp, nonce, signature) the body comes with. */
  async read(ctx: GatewayContext, appid: string, query: string): Promise<Buffer> {
    const arrived = await bodyIfArrived(ctx.req, this.maxBytes);
    if (arrived) return arrived;
    if (this.pending >= this.maxPending) throw busy('on this instance');
    const mine = this.perTenant.get(appid) ?? 0;
    if (mine >= this.maxPerTenant) throw busy('for this mini program');
    if (this.queries.has(query)) throw busy('with this signed query');
    this.pending++;
    this.perTenant.set(appid, mine + 1);
    this.queries.add(query);
    try {
      return await streamRawBody(ctx, this.maxBytes, this.timeoutMs);
    } finally {
      this.pending--;
      this.queries.delete(query);
      const left = (this.perTenant.get(appid) ?? 1) - 1;
      if (left > 0) this.perTenant.set(appid, left);
      else this.perTenant.delete(appid);
    }
  }
}
