import type { Connection } from 'mongoose';
import type { Redis } from '../../infra/redis';
import type { AuditLog } from '../../audit/audit-log';
import type { SecretBox } from '../../tenancy/secret-box';
import type { TenantRepository } from '../../tenancy/tenant-repository';
import type { TenantSections } from '../../tenancy/tenant-sections';

export interface Output {
  out(line: string): void;
  err(line: string): void;
}

/** What CLI commands work with: the stores, and how to tell running gateways about a change. */
export interface CliContext extends Output {
  mongo: Connection;
  redis: Redis;
  repo: TenantRepository;
  box: SecretBox;
  /** Drops every gateway's cached copy of the tenant. */
  announce(appid: string): Promise<void>;
  /** The same for many tenants (a bulk apply): batched commands, one message per chunk. */
  announceMany(appids: readonly string[]): Promise<void>;
  /** Drops every gateway's cached copies of a revoked service key. */
  announceKeyRevocation(appid: string, keyId: string): Promise<void>;
  /** Drops every gateway's cached copy of a merchant. */
  announceMerchant(mchid: string): Promise<void>;
  /** Drops every gateway's cached copy of a platform. */
  announcePlatform(componentAppid: string): Promise<void>;
  /** Where every change is recorded, and who makes it ("cli@<host>"). */
  audit: AuditLog;
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
