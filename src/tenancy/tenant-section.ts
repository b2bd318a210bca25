import type { z } from 'zod';
import type { Tenant } from './tenant';

/**
 * A feature's part of the tenant record. Tenancy knows no feature: each feature declares the
 * tenant-file keys it owns (with their rules and defaults), which of its values are secrets (sealed
 * at rest, bound to appid and field), and how an operator sees them; the composition root registers
 * the sections. The keys stay at the top level of the file and of the stored document, so files and
 * data written before a field moved into a section keep working.
 */
export interface TenantSection<T extends object = object> {
  readonly name: string;
  /** The tenant-file keys this section owns, with their rules and defaults. */
  readonly fields: z.ZodRawShape;
  /** Dotted paths of the secret values among those fields (e.g. "webhook.secret"). */
  readonly sealed: readonly string[];
  /** Dotted paths of URLs the gateway will send requests to (e.g. "webhook.url"): the outbound address policy applies. */
  readonly urls: readonly string[];
  /** The operator's view of the section's values, secrets masked. */
  mask(value: T): Record<string, unknown>;
  /** A few words for one-line tenant listings, if the section has something worth showing. */
  summary?(value: T): string;
  /** The section's values of a tenant (typed; validated when the tenant was applied). */
  of(tenant: Tenant): T;
  /** Rules across the whole file (e.g. a field required for one credential kind only): the problems found. */
  check?(file: Readonly<Record<string, unknown>>): { path: string; message: string }[];
}

/** Declares a section from its field rules; its value type follows from them. */
export function defineSection<S extends z.ZodRawShape>(spec: {
  name: string;
  fields: S;
  sealed?: readonly string[];
  urls?: readonly string[];
  mask(value: z.output<z.ZodObject<S>>): Record<string, unknown>;
  summary?(value: z.output<z.ZodObject<S>>): string;
  check?(file: Readonly<Record<string, unknown>>): { path: string; message: string }[];
}): TenantSection<z.output<z.ZodObject<S>>> {
  type T = z.output<z.ZodObject<S>>;
  return {
    name: spec.name,
    fields: spec.fields,
    sealed: spec.sealed ?? [],
    urls: spec.urls ?? [],
    mask: spec.mask,
    ...(spec.summary ? { summary: spec.summary } : {}),
    ...(spec.check ? { check: spec.check } : {}),
    // The section's keys live at the top level of the tenant: reading them costs nothing.
    of: (tenant: Tenant) => tenant as unknown as T,
  };
}
