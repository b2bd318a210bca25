import { z } from 'zod';
import { APPID_PATTERN, type Tenant } from './tenant';
import { rulesSchema } from '../portal/rules';

/**
 * The tenant definition file (tenants/*.json): part of the product's interface, documented field
 * by field in the README. Secret-bearing fields may be written as "env:NAME" and are read from the
 * environment when the file is applied, so the files can be committed.
 */
export type TenantDefinition = Omit<Tenant, 'createdAt' | 'updatedAt'>;

const ENV_REF = /^env:([A-Za-z_][A-Za-z0-9_]*)$/;

/** A string that may be an env reference; resolved before the field's own rule is checked. */
function secretField(rule: z.ZodString) {
  return z.string().transform((v, ctx) => {
    const m = ENV_REF.exec(v);
    if (!m) return v;
    const value = process.env[m[1] as string];
    if (value === undefined || value === '') {
      ctx.addIssue({ code: 'custom', message: `environment variable ${m[1]} is not set` });
      return z.NEVER;
    }
    return value;
  }).pipe(rule);
}

const httpUrl = z.string().refine((v) => {
  try {
    const u = new URL(v);
    return u.protocol === 'https:' || u.protocol === 'http:';
  } catch {
    return false;
  }
}, 'expected an http(s) URL');

export const tenantFileSchema = z
  .object({
    appid: z.string().regex(APPID_PATTERN, 'expected "wx" followed by 16 lowercase hex digits'),
    name: z.string().trim().min(1, 'must not be empty').max(100, 'at most 100 characters'),
    secret: secretField(z.string().regex(/^[0-9a-fA-F]{32}$/, 'expected the 32-hex-digit AppSecret')),
    token: secretField(z.string().regex(/^[A-Za-z0-9]{3,32}$/, 'expected 3 to 32 letters or digits (WeChat push Token)')),
    aesKey: secretField(z.string().regex(/^[A-Za-z0-9+/]{43}$/, 'expected the 43-character EncodingAESKey')),
    msgFormat: z.enum(['json', 'xml']).default('json'),
    tokenMode: z.enum(['stable', 'classic']).default('stable'),
    apiBase: httpUrl.optional(),
    status: z.enum(['active', 'disabled']).default('active'),
    webhook: z
      .object({
        url: httpUrl,
        secret: secretField(z.string().min(16, 'at least 16 characters')),
      })
      .strict()
      .optional(),
    rules: rulesSchema.default([]),
  })
  .strict();

export class TenantFileError extends Error {
  constructor(readonly source: string, readonly fields: { path: string; message: string }[]) {
    super(`${source}: ${fields.map((f) => `${f.path}: ${f.message}`).join('; ')}`);
    this.name = 'TenantFileError';
  }
}

/** Validates one parsed file; every failing field is named, none is skipped. */
export function parseTenantDefinition(input: unknown, source: string): TenantDefinition {
  const r = tenantFileSchema.safeParse(input);
  if (!r.success) {
    throw new TenantFileError(
      source,
      r.error.issues.map((i) => ({ path: i.path.length ? i.path.join('.') : '(file)', message: i.message })),
    );
  }
  const d = r.data;
  return {
    appid: d.appid,
    name: d.name,
    secret: d.secret,
    token: d.token,
    aesKey: d.aesKey,
    msgFormat: d.msgFormat,
    tokenMode: d.tokenMode,
    ...(d.apiBase ? { apiBase: d.apiBase } : {}),
    status: d.status,
    ...(d.webhook ? { webhook: d.webhook } : {}),
    rules: d.rules,
  };
}
