import { DEMO_APPID, demoTenant } from './demo-tenant';
import { PUSH_KINDS, buildPush, deliverPush, samplePush, type PushFormat, type PushKind, type PushMode } from '../sandbox/push-simulator';

export const PUSH_HELP = `push <appid> <kind> [--gateway URL] [--mode plain|compatible|safe] [--format json|xml]
                     [--token T --aes-key K] [--content TEXT] [--times N]
  kinds: ${PUSH_KINDS.join(', ')}
  The demo tenant's token and key are used for ${DEMO_APPID}; give --token/--aes-key for others.
  Like WeChat, a push that gets no answer within 5 s is retried up to three times.`;

function opt(args: string[], name: string): string | undefined {
  const i = args.indexOf(name);
  return i >= 0 ? args[i + 1] : undefined;
}

export async function runPushCommand(args: string[], out: (l: string) => void, err: (l: string) => void): Promise<number> {
  const [appid, kind] = args;
  if (!appid || !kind || !(PUSH_KINDS as readonly string[]).includes(kind)) {
    err(PUSH_HELP);
    return 2;
  }
  const demo = appid === DEMO_APPID ? demoTenant('') : undefined;
  const token = opt(args, '--token') ?? demo?.token;
  const aesKey = opt(args, '--aes-key') ?? demo?.aesKey;
  if (!token || !aesKey) {
    err(`--token and --aes-key are required for ${appid}`);
    return 2;
  }
  const mode = (opt(args, '--mode') ?? 'safe') as PushMode;
  const format = (opt(args, '--format') ?? 'json') as PushFormat;
  if (!['plain', 'compatible', 'safe'].includes(mode) || !['json', 'xml'].includes(format)) {
    err('--mode must be plain|compatible|safe and --format json|xml');
    return 2;
  }
  const gateway = opt(args, '--gateway') ?? `http://localhost:${process.env.PORT ?? 3000}`;
  const times = Number(opt(args, '--times') ?? 1);
  const content = opt(args, '--content');
  for (let i = 0; i < times; i++) {
    const push = buildPush({ appid, token, aesKey }, samplePush(kind as PushKind, content ? { content } : {}), { format, mode });
    const attempts = await deliverPush(`${gateway}/${appid}/portal`, push);
    attempts.forEach((a, n) => out(`attempt ${n + 1}: ${a.error ? 'no answer (' + a.error + ')' : a.status + ' ' + (a.body ?? '')} [${a.ms} ms]`));
  }
  return 0;
}
