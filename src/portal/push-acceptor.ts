import { AppError } from '../kernel/errors';
import type { Logger } from '../kernel/log';
import { SetAsideRecord, SpoolFullError, type SpoolFile } from '../infra/spool-file';
import { unavailableStore } from '../infra/store-errors';
import type { IntakeOutcome, PushClaim, PushIntake } from './push-intake';

export type AcceptOutcome = IntakeOutcome | { kind: 'spooled' };

const DRAIN_EVERY_MS = 1000;

/**
 * Accepts pushes into Redis and, while Redis cannot take them, into the local spool: WeChat gives
 * up on a push after a few retries within about 15 s, so an outage or a failover longer than that
 * must not cost messages. A spooled push was verified and answered like any other; the fleet-wide
 * steps (replay binding, dedup claim, queueing) run when the spool is drained into Redis, so a
 * WeChat retry that another instance accepted meanwhile is dropped there, not delivered twice.
 */
export class PushAcceptor {
  private timer?: NodeJS.Timeout;
  private draining?: Promise<void>;
  private spooling = false;

  constructor(
    private readonly intake: PushIntake,
    private readonly spool: SpoolFile<PushClaim>,
    private readonly redisReady: () => boolean,
    private readonly log: Logger,
    /** Runs the actions of a spooled push that the drain accepted (its rule's customer messages). */
    private readonly onDrainAccepted: (claim: PushClaim) => void = () => undefined,
  ) {}

  async accept(claim: PushClaim): Promise<AcceptOutcome> {
    let cause: unknown;
    // While a spool is waiting, new pushes join it: the drain then keeps their order.
    if (!this.spooling) {
      try {
        return await this.intake.accept(claim);
      } catch (err) {
        // Only Redis as a whole being away calls for the spool; a fault of this tenant's keys
        // (a key of the wrong type, say) must not switch the instance to spooling for everyone.
        if (!redisCannotTakeWrites(err)) {
          throw new AppError(503, 'QUEUE_UNAVAILABLE', 'message store refused this push; WeChat will retry', { headers: { 'Retry-After': '5' }, cause: err });
        }
        cause = err;
      }
    }
    try {
      await this.spool.append(claim);
    } catch (err) {
      const full = err instanceof SpoolFullError;
      throw new AppError(503, 'QUEUE_UNAVAILABLE', full ? 'message store unavailable and the local spool is full; WeChat will retry' : 'message store unavailable; WeChat will retry', {
        headers: { 'Retry-After': '5' },
        cause: cause ?? err,
      });
    }
    if (!this.spooling) {
      this.spooling = true;
      this.log.error({ err: (cause as Error | undefined)?.message }, 'redis cannot take pushes: accepting them into the local spool');
    }
    return { kind: 'spooled' };
  }

  /** Opens the spool and drains what a previous process left in it, then keeps draining when Redis is back. */
  async start(): Promise<void> {
    await this.spool.open();
    if (this.spool.pending()) this.spooling = true;
    await this.drainOnce();
    this.timer = setInterval(() => void this.drainOnce(), DRAIN_EVERY_MS);
    this.timer.unref();
  }

  async stop(): Promise<void> {
    clearInterval(this.timer);
    await this.draining;
    await this.spool.close();
  }

  /** Moves every spooled push into Redis (claim, dedup, queue) while Redis is reachable. */
  drainOnce(): Promise<void> {
    if (this.draining) return this.draining;
    this.draining = this.drain().finally(() => {
      this.draining = undefined;
    });
    return this.draining;
  }

  private async drain(): Promise<void> {
    if (!this.redisReady()) return;
    try {
      if (!this.spool.pending()) {
        this.spooling = false;
        return;
      }
      let replays = 0;
      const n = await this.spool.drain(async (claim) => {
        let r: IntakeOutcome;
        try {
          r = await this.intake.accept(claim);
        } catch (err) {
          // Redis away again: stop, the rest stays spooled. Anything else is this record's own fault.
          if (redisCannotTakeWrites(err)) throw err;
          throw new SetAsideRecord(`redis refused it: ${(err as Error).message}`);
        }
        if (r.kind === 'replayed') replays++;
        if (r.kind === 'accepted') this.onDrainAccepted(claim);
      });
      // Redis took a whole pass: new pushes go to it directly again. Whatever was spooled during the
      // pass is drained by the next one (a retry of it that reaches Redis first wins the claim).
      this.spooling = false;
      if (n > 0) this.log.warn({ drained: n, droppedReplays: replays }, 'local push spool drained into redis');
    } catch (err) {
      this.log.warn({ err: (err as Error).message }, 'push spool drain stopped; it is retried');
    }
  }
}

/** Redis as a whole cannot take writes now: unreachable, hung, loading, or a replica after a failover (READONLY) or full (OOM). */
function redisCannotTakeWrites(err: unknown): boolean {
  if (unavailableStore(err) === 'redis') return true;
  const { name, message } = (err ?? {}) as { name?: unknown; message?: unknown };
  return name === 'ReplyError' && typeof message === 'string' && /^(READONLY|OOM|NOREPLICAS|MISCONF) /.test(message);
}
