import type { TenantSections } from '../../tenancy/tenant-sections';
import type { OperatorStores } from '../operations/admin-operations';

export interface Output {
  out(line: string): void;
  err(line: string): void;
}

/** What CLI commands work with: the stores, and how to tell running gateways about a change. */
export interface CliContext extends Output, OperatorStores {
  /** Drops every gateway's cached copy of a platform. */
  announcePlatform(componentAppid: string): Promise<void>;
  /** Who makes the changes, for the audit log ("cli@<host>"). */
  actor: string;
  close(): Promise<void>;
}

/**
 * What the CLI is given by its composition root: the tenant sections of the gateway's features, and
 * how to connect to the stores (only once the files are valid, and only the composition root opens
 * connections).
 */
export interface CliRoot {
  sections: TenantSections;
  open(env: NodeJS.ProcessEnv, io: Output): Promise<CliContext>;
}
