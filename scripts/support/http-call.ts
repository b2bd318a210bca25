/** An answer as the drills count it: status and error code, or what kept it from arriving. */
export type Answer = { status: number; code?: string; text: string } | { error: string };

/** One HTTP request with a deadline; never throws (a drill counts failures, it does not stop on them). */
export async function httpCall(url: string, init: RequestInit, timeoutMs: number): Promise<Answer> {
  try {
    const res = await fetch(url, { ...init, signal: AbortSignal.timeout(timeoutMs) });
    const text = await res.text();
    let code: string | undefined;
    try {
      code = (JSON.parse(text) as { error?: { code?: string } }).error?.code;
    } catch {
      code = undefined;
    }
    return { status: res.status, code, text };
  } catch (err) {
    return { error: (err as Error).name === 'TimeoutError' ? 'timeout' : ((err as { cause?: { code?: string } }).cause?.code ?? (err as Error).message) };
  }
}
