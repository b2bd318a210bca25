import { z } from 'zod';
import type { SecretBox } from './secret-box';
import { APPID_PATTERN, type Tenant, type TenantDefinition } from './tenant';
import { httpUrl, maskSecret, secretField } from './tenant-fields';
import { urlProblem } from '../transport/address-policy';
import type { TenantSection } from './tenant-section';
import type { TenantDoc } from './tenant-model';

/** The fields tenancy itself owns; every other key of a tenant file belongs to a registered section. */
const coreFields = {
  appid: z.string().regex(APPID_PATTERN, 'expected "wx" followed by 16 lowercase hex digits'),
  name: z.string().trim().min(1, 'must not be empty').max(100, 'at most 100 characters'),
  credential: z.enum(['appsecret', 'authorizer']).default('appsecret'),
  secret: secretField(z.string().regex(/^[0-9a-fA-F]{32}$/, 'expected the 32-hex-digit AppSecret')).optional(),
  component: z.string().regex(APPID_PATTERN, 'expected the component appid ("wx" followed by 16 lowercase hex digits)').optional(),
  tokenMode: z.enum(['stable', 'classic', 'authorizer']).optional(),
  apiBase: httpUrl.optional(),
  status: z.enum(['active', 'disabled']).default('active'),
};
const CORE_SEALED = ['secret'];
const CORE_URLS = ['apiBase'];

export interface ParseOptions {
  /** ALLOW_PRIVATE_URLS of whoever applies the file; refused when absent. */
  allowPrivateUrls?: boolean;
}

export class TenantFileError extends Error {
  constructor(
    readonly source: string,
    readonly fields: { path: string; message: string }[],
  ) {
    super(`${source}: ${fields.map((f) => `${f.path}: ${f.message}`).join('; ')}`);
    this.name = 'TenantFileError';
  }
}

/**
 * The tenant record as the registered sections make it up: the tenant-file schema, sealing at rest,
 * the operator's masked view and change detection, all derived from the core fields plus each
 * section's declaration. Built once by the composition root (and by the tenants CLI) from the same
 * list of sections.
 */
export class TenantSections {
  readonly fileSchema: z.ZodType<Record<string, unknown>>;
  private readonly keys: string[];
  private readonly sealedPaths: string[];
  private readonly urlPaths: string[];
  /** Values for keys a stored document predates (a field added to a section later). */
  private readonly defaults: Record<string, unknown> = {};

  constructor(readonly sections: readonly TenantSection[]) {
    const shape: Record<string, z.ZodType> = { ...coreFields };
    for (const s of sections) {
      for (const [key, rule] of Object.entries(s.fields)) {
        if (key in shape) throw new Error(`tenant section ${s.name} declares "${key}", which another section or the core already owns`);
        shape[key] = rule as z.ZodType;
      }
    }
    this.fileSchema = z.object(shape).strict() as unknown as z.ZodType<Record<string, unknown>>;
    this.keys = Object.keys(shape);
    this.sealedPaths = [...CORE_SEALED, ...sections.flatMap((s) => s.sealed)];
    this.urlPaths = [...CORE_URLS, ...sections.flatMap((s) => s.urls)];
    for (const [key, rule] of Object.entries(shape)) {
      const r = rule.safeParse(undefined);
      if (r.success && r.data !== undefined) this.defaults[key] = r.data;
    }
  }

  /** Every key a tenant file may have: the core's, then each section's. */
  get fieldNames(): readonly string[] {
    return this.keys;
  }

  /**
   * Validates one parsed file; every failing field is named, none is skipped. URLs the gateway will
   * call must also pass the outbound address policy (https, no internal address) unless allowed.
   */
  parse(input: unknown, source: string, opts: ParseOptions = {}): TenantDefinition {
    const r = this.fileSchema.safeParse(input);
    const problems = r.success ? [] : r.error.issues.map((i) => ({ path: i.path.length ? i.path.join('.') : '(file)', message: i.message }));
    for (const path of this.urlPaths) {
      const v = typeof input === 'object' && input !== null ? getPath(input as Record<string, unknown>, path) : undefined;
      // A value the schema already refused is named once, with the schema's message.
      if (typeof v !== 'string' || problems.some((p) => p.path === path)) continue;
      const problem = urlProblem(v, { allowPrivateAddresses: opts.allowPrivateUrls === true });
      if (problem) problems.push({ path, message: problem });
    }
    // Rules across fields run on what was given even when other fields failed, so every missing
    // field is named in one go; a path the schema already refused is not named twice.
    const given = r.success ? r.data : typeof input === 'object' && input !== null && !Array.isArray(input) ? { credential: 'appsecret', ...(input as Record<string, unknown>) } : undefined;
    if (given) {
      const cross = [...credentialProblems(given), ...this.sections.flatMap((s) => s.check?.(given) ?? [])];
      for (const c of cross) if (!problems.some((p) => p.path === c.path)) problems.push(c);
    }
    if (!r.success || problems.length) throw new TenantFileError(source, problems);
    const def = this.pick(r.data);
    // The token follows from the credential: an authorizer's comes from its platform.
    def.tokenMode ??= def.credential === 'authorizer' ? 'authorizer' : 'stable';
    return def as TenantDefinition;
  }

  /** The stored form: every secret sealed with the appid and its path bound into the ciphertext. */
  seal(box: SecretBox, def: TenantDefinition): Omit<TenantDoc, 'createdAt' | 'updatedAt'> {
    const doc = structuredClone(this.pick(def));
    for (const path of this.sealedPaths) {
      const v = getPath(doc, path);
      if (typeof v === 'string') setPath(doc, path, box.seal(v, sealContext(def.appid, path)));
    }
    return doc as Omit<TenantDoc, 'createdAt' | 'updatedAt'>;
  }

  open(box: SecretBox, d: TenantDoc): Tenant {
    const t: Record<string, unknown> = { ...this.defaults, ...structuredClone(this.pick(d)) };
    for (const path of this.sealedPaths) {
      const v = getPath(t, path);
      if (typeof v === 'string') setPath(t, path, box.open(v, sealContext(d.appid, path)));
    }
    t.createdAt = new Date(d.createdAt);
    t.updatedAt = new Date(d.updatedAt);
    return t as Tenant;
  }

  /** Where a tenant document holds sealed values, and the context each is bound to (for `tenants -- rekey`). */
  sealedFields(appid: string): { path: string; context: string }[] {
    return this.sealedPaths.map((path) => ({ path, context: sealContext(appid, path) }));
  }

  /** What an operator sees: every secret masked, sections' views merged in. */
  mask(t: Tenant): Record<string, unknown> {
    const view: Record<string, unknown> = {
      appid: t.appid,
      name: t.name,
      status: t.status,
      credential: t.credential,
      tokenMode: t.tokenMode,
      apiBase: t.apiBase ?? null,
      ...(t.secret !== undefined ? { secret: maskSecret(t.secret) } : {}),
      ...(t.component !== undefined ? { component: t.component } : {}),
    };
    for (const s of this.sections) Object.assign(view, s.mask(s.of(t)));
    view.createdAt = t.createdAt.toISOString();
    view.updatedAt = t.updatedAt.toISOString();
    return view;
  }

  /** One-line summary of a tenant for listings. */
  summary(t: Tenant): string {
    return this.sections.flatMap((s) => (s.summary ? [s.summary(s.of(t))] : [])).join('  ');
  }

  /** Whether applying `d` over `t` would change anything (compared on decrypted values). */
  same(t: Tenant | TenantDefinition, d: TenantDefinition): boolean {
    const pick = (x: Record<string, unknown>) => JSON.stringify(this.keys.map((k) => x[k] ?? null));
    return pick(t) === pick(d);
  }

  /** Optional keys a definition leaves out: an update must remove them from the stored tenant. */
  absentKeys(def: TenantDefinition): string[] {
    return this.keys.filter((k) => def[k] === undefined);
  }

  private pick(x: Record<string, unknown>): Record<string, unknown> {
    const out: Record<string, unknown> = {};
    for (const k of this.keys) if (x[k] !== undefined) out[k] = x[k];
    return out;
  }
}

const sealContext = (appid: string, path: string) => `tenant:${appid}:${path}`;

/** What each credential kind needs: an AppSecret tenant its secret, an authorizer its platform and nothing else. */
function credentialProblems(d: Record<string, unknown>): { path: string; message: string }[] {
  if (d.credential === 'authorizer') {
    return [
      ...(d.component === undefined ? [{ path: 'component', message: 'required for credential "authorizer" (the platform\'s component appid)' }] : []),
      ...(d.secret !== undefined ? [{ path: 'secret', message: 'an authorizer has no AppSecret; remove it' }] : []),
      ...(d.tokenMode !== undefined && d.tokenMode !== 'authorizer' ? [{ path: 'tokenMode', message: 'an authorizer\'s token comes from its platform: "authorizer"' }] : []),
    ];
  }
  return [
    ...(d.secret === undefined ? [{ path: 'secret', message: 'required' }] : []),
    ...(d.component !== undefined ? [{ path: 'component', message: 'only for credential "authorizer"' }] : []),
    ...(d.tokenMode === 'authorizer' ? [{ path: 'tokenMode', message: 'only for credential "authorizer"; expected "stable" or "classic"' }] : []),
  ];
}

function getPath(o: Record<string, unknown>, path: string): unknown {
  let cur: unknown = o;
  for (const part of path.split('.')) {
    if (typeof cur !== 'object' || cur === null) return undefined;
    cur = (cur as Record<string, unknown>)[part];
  }
  return cur;
}

function setPath(o: Record<string, unknown>, path: string, value: unknown): void {
  const parts = path.split('.');
  let cur = o;
  for (const part of parts.slice(0, -1)) cur = cur[part] as Record<string, unknown>;
  cur[parts[parts.length - 1] as string] = value;
}
