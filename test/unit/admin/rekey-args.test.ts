import { expect } from 'chai';
import { parseRekeyArgs } from '../../../src/admin/cli/rekey-command';
import { CliError } from '../../../src/admin/cli/cli-error';

describe('tenants -- rekey arguments', () => {
  it('defaults to a real run in batches of 200 without a limit', () => {
    expect(parseRekeyArgs([])).to.deep.equal({ dryRun: false, batchSize: 200 });
  });

  it('reads --dry-run, --batch-size and --limit in any order', () => {
    expect(parseRekeyArgs(['--limit', '7', '--dry-run', '--batch-size', '50'])).to.deep.equal({ dryRun: true, batchSize: 50, limit: 7 });
  });

  it('refuses bad numbers and unknown arguments as usage errors (exit 2)', () => {
    for (const args of [['--batch-size', '0'], ['--batch-size', '10001'], ['--batch-size'], ['--limit', '-1'], ['--limit', '1.5'], ['--force'], ['wx0123456789abcdef']]) {
      let err: unknown;
      try {
        parseRekeyArgs(args);
      } catch (e) {
        err = e;
      }
      expect(err, args.join(' ')).to.be.instanceOf(CliError);
      expect((err as CliError).exitCode, args.join(' ')).to.equal(2);
    }
  });
});
