import { runTenantsCli } from '../src/admin/cli/tenants-cli';
import { cliRoot } from '../src/composition/cli-root';

runTenantsCli(
  process.argv.slice(2),
  process.env,
  {
    out: (line) => process.stdout.write(line + '\n'),
    err: (line) => process.stderr.write(line + '\n'),
  },
  cliRoot,
).then(
  // process.exit drops what a pipe has not taken yet (a bulk apply prints a line per tenant): exit once stdout has drained.
  (code) => process.stdout.write('', () => process.exit(code)),
  (err: unknown) => {
    process.stderr.write(`error: ${(err as Error).message}\n`);
    process.exit(1);
  },
);
