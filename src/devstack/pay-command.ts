import { DEMO_APPID } from './demo-tenant';
import { DEMO_MCHID } from './demo-merchant';

export const PAY_HELP = `pay <appid> <outTradeNo> [--mchid M] [--sandbox URL]
  WeChat Pay "pays" the order in the running sandbox and sends the signed, encrypted payment
  notification to the order's notify_url (the gateway). --mchid defaults to the demo merchant
  (${DEMO_MCHID}) for ${DEMO_APPID}; --sandbox to http://127.0.0.1:$SANDBOX_PORT (3001).`;

function opt(args: string[], name: string): string | undefined {
  const i = args.indexOf(name);
  return i >= 0 ? args[i + 1] : undefined;
}

/** `npm run sandbox -- pay`: asks a running sandbox (over its admin API) to pay an order. */
export async function runPayCommand(args: string[], out: (l: string) => void, err: (l: string) => void): Promise<number> {
  const [appid, outTradeNo] = args;
  if (!appid || !outTradeNo || appid.startsWith('--') || outTradeNo.startsWith('--')) {
    err(PAY_HELP);
    return 2;
  }
  const mchid = opt(args, '--mchid') ?? (appid === DEMO_APPID ? DEMO_MCHID : undefined);
  if (!mchid) {
    err(`--mchid is required for ${appid}`);
    return 2;
  }
  const sandbox = (opt(args, '--sandbox') ?? `http://127.0.0.1:${process.env.SANDBOX_PORT ?? 3001}`).replace(/\/+$/, '');
  let res: Response;
  try {
    res = await fetch(`${sandbox}/__sandbox/pay/orders/${encodeURIComponent(outTradeNo)}/pay`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ mchid }),
      signal: AbortSignal.timeout(15_000),
    });
  } catch (e) {
    err(`cannot reach the sandbox at ${sandbox}: ${(e as Error).message} (is npm run sandbox running?)`);
    return 1;
  }
  const body = (await res.json().catch(() => ({}))) as { error?: string; url?: string; attempts?: { status: number; responseBody: string }[] };
  if (!res.ok) {
    err(`sandbox refused: ${res.status} ${body.error ?? ''}`);
    return 1;
  }
  const last = body.attempts?.at(-1);
  out(`order ${outTradeNo} paid; notification to ${body.url ?? '?'} answered ${last ? `${last.status} ${last.responseBody}` : 'nothing'}`);
  return last && last.status >= 200 && last.status < 300 ? 0 : 1;
}
