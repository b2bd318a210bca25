import { z } from 'zod';
import { validateDefinition } from '../tenancy/definition-file';
import { httpUrl, maskSecret, secretField } from '../tenancy/tenant-fields';
import { APPID_PATTERN } from '../tenancy/tenant';

/**
 * A WeChat Open Platform third-party platform ("component"): SaaS vendors host mini programs that
 * authorized it, with no AppSecret of theirs. Its secret, push Token and EncodingAESKey are sealed.
 */
export interface Platform {
  componentAppid: string;
  name: string;
  /** component_appsecret. Secret. */
  secret: string;
  /** Message-verification Token of the platform (events and authorized mini programs' pushes). Secret. */
  token: string;
  /** Message-encryption key (43 characters). Secret. */
  aesKey: string;
  /** WeChat API base for the component APIs and its authorizers (default WECHAT_API_BASE; also the authorization page's host). */
  apiBase?: string;
  /** Origins (`https://www.example.com`) the authorization page may send the admin back to, besides PUBLIC_BASE_URL's. */
  redirectOrigins?: string[];
}

const platformSchema = z
  .object({
    componentAppid: z.string().regex(APPID_PATTERN, 'expected the component appid ("wx" followed by 16 lowercase hex digits)'),
    name: z.string().trim().min(1).max(100),
    secret: secretField(z.string().regex(/^[0-9a-fA-F]{32}$/, 'expected the 32-hex-digit component AppSecret')),
    token: secretField(z.string().regex(/^[A-Za-z0-9]{3,32}$/, 'expected 3 to 32 letters or digits (message-verification Token)')),
    aesKey: secretField(z.string().regex(/^[A-Za-z0-9+/]{43}$/, 'expected the 43-character message-encryption key')),
    apiBase: httpUrl.optional(),
    redirectOrigins: z
      .array(httpUrl.refine((v) => new URL(v).origin === v, 'expected an origin such as https://www.example.com (no path, no trailing slash)'))
      .max(20)
      .optional(),
  })
  .strict();

/** Validates a platform file's content; `env:NAME` secrets are read now. Messages never echo values. */
export function parsePlatformDefinition(input: unknown, source: string, opts: { allowPrivateUrls?: boolean } = {}): Platform {
  const p = validateDefinition(platformSchema, input, source, ['apiBase'], opts);
  return {
    componentAppid: p.componentAppid,
    name: p.name,
    secret: p.secret,
    token: p.token,
    aesKey: p.aesKey,
    ...(p.apiBase ? { apiBase: p.apiBase.replace(/\/+$/, '') } : {}),
    ...(p.redirectOrigins?.length ? { redirectOrigins: p.redirectOrigins } : {}),
  };
}

export function maskPlatform(p: Platform): Record<string, unknown> {
  return {
    componentAppid: p.componentAppid,
    name: p.name,
    secret: maskSecret(p.secret),
    token: maskSecret(p.token),
    aesKey: maskSecret(p.aesKey),
    apiBase: p.apiBase ?? null,
    redirectOrigins: p.redirectOrigins ?? [],
  };
}

export function samePlatform(a: Platform, b: Platform): boolean {
  return (
    (['componentAppid', 'name', 'secret', 'token', 'aesKey', 'apiBase'] as const).every((k) => a[k] === b[k]) &&
    JSON.stringify(a.redirectOrigins ?? []) === JSON.stringify(b.redirectOrigins ?? [])
  );
}
