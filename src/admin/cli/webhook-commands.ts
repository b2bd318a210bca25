import type { CliContext } from './cli-context';
import { CliError } from './tenant-commands';

/** Filled in with the webhook forwarder (portal issue). */
export async function webhookCommand(_ctx: CliContext, _args: string[]): Promise<void> {
  throw new CliError('webhook commands are not available yet', 1);
}
