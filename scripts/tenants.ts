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
  (code) => process.exit(code),
  (err: unknown) => {
    process.stderr.write(`error: ${(err as Error).message}\n`);
    process.exit(1);
  },
);
