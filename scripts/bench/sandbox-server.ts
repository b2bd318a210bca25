import { createSandbox } from '../../src/sandbox';

/** The WeChat sandbox in its own process, for benchmarks. Apps are registered over its admin API. */
async function main(): Promise<void> {
  const sb = createSandbox();
  const srv = await sb.listen(0, '127.0.0.1');
  process.stdout.write(`LISTENING ${srv.port}\n`);
  process.on('SIGTERM', () => void srv.close().then(() => process.exit(0)));
}
void main();
