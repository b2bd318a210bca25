import { z } from 'zod';

/**
 * Field rules shared by the core tenant file and the sections features add to it. Secret-bearing
 * fields may be written as "env:NAME" and are read from the environment when the file is applied,
 * so the files can be committed.
 */
const ENV_REF = /^env:([A-Za-z_][A-Za-z0-9_]*)$/;

/** A string that may be an env reference; resolved before the field's own rule is checked. */
export function secretField(rule: z.ZodString) {
  return z
    .string()
    .transform((v, ctx) => {
      const m = ENV_REF.exec(v);
      if (!m) return v;
      const value = process.env[m[1] as string];
      if (value === undefined || value === '') {
        ctx.addIssue({ code: 'custom', message: `environment variable ${m[1]} is not set` });
        return z.NEVER;
      }
      return value;
    })
    .pipe(rule);
}

export const httpUrl = z.string().refine((v) => {
  try {
    const u = new URL(v);
    return u.protocol === 'https:' || u.protocol === 'http:';
  } catch {
    return false;
  }
}, 'expected an http(s) URL');

/** Shows that a secret is set and which one (last 4 characters) without revealing it. */
export function maskSecret(s: string): string {
  if (s.length <= 8) return '****';
  return `****${s.slice(-4)} (${s.length} chars)`;
}
