/**
 * Backoff for WeChat's "-1 system busy": at most 2 retries, exponential with full jitter on top,
 * 100-200 ms then 200-400 ms, so the total wait stays well under 2 s. Hand-written on purpose: the
 * decision is driven by the errcode inside a 200 response and interleaves with token invalidation,
 * which a generic retry wrapper would need as much glue to express as these lines.
 */
export const MAX_BUSY_RETRIES = 2;

export function busyBackoffMs(retry: number, random: () => number = Math.random): number {
  const base = 100 * 2 ** retry;
  return Math.round(base + random() * base);
}

/** Runs `attempt` again while it answers -1 (at most MAX_BUSY_RETRIES times) and returns the last answer. */
export async function retryWhileBusy<T>(attempt: () => Promise<T>, isBusy: (answer: T) => boolean, wait: (ms: number) => Promise<void>): Promise<T> {
  for (let retry = 0; ; retry++) {
    const answer = await attempt();
    if (retry >= MAX_BUSY_RETRIES || !isBusy(answer)) return answer;
    await wait(busyBackoffMs(retry));
  }
}

/** True for a JSON answer carrying errcode -1. */
export const answeredBusy = (res: { kind: string; data?: Record<string, unknown> }): boolean => res.kind === 'json' && res.data?.errcode === -1;
