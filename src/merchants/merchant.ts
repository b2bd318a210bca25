import { z } from 'zod';
import { validateDefinition } from '../tenancy/definition-file';
import { maskSecret, secretField, httpUrl } from '../tenancy/tenant-fields';
import { isApiV3Key } from '../protocol/wechatpay/pay-resource';
import { parsePrivateKey, parsePublicKey } from '../protocol/wechatpay/pay-signature';

export const DEFAULT_PAY_BASE = 'https://api.mch.weixin.qq.com';

/**
 * A WeChat Pay merchant account. One merchant often serves several mini programs, so it is its own
 * resource (tenants name it by `pay.mchid`) rather than a part of each tenant.
 * Public-key mode (`publicKeyId` + `publicKey`) is what new merchants get; without them the
 * gateway downloads the platform certificates; with both, the `Wechatpay-Serial` picks the key.
 */
export interface Merchant {
  mchid: string;
  name: string;
  /** Serial number of the merchant's API certificate (names the private key in our signatures). */
  serialNo: string;
  /** PEM of the merchant's API private key. Secret. */
  privateKey: string;
  /** The 32-character APIv3 key that encrypts notifications and certificates. Secret. */
  apiV3Key: string;
  publicKeyId?: string;
  /** PEM of the WeChat Pay public key (public-key mode). */
  publicKey?: string;
  payBase?: string;
}

export const MCHID = /^\d{6,16}$/;

const pem = (what: string, check: (s: string) => unknown) =>
  z.string().refine((v) => {
    try {
      check(v);
      return true;
    } catch {
      return false;
    }
  }, `expected the ${what} as PEM text`);

const merchantSchema = z
  .object({
    mchid: z.string().regex(MCHID, 'expected the merchant ID (6 to 16 digits)'),
    name: z.string().trim().min(1).max(100),
    serialNo: z.string().regex(/^[0-9A-Fa-f]{8,64}$/, 'expected the API certificate serial number (hex)'),
    privateKey: secretField(z.string().max(16_384)).pipe(pem('merchant API private key (RSA)', parsePrivateKey)),
    apiV3Key: secretField(z.string().refine(isApiV3Key, 'expected the 32-character APIv3 key')),
    publicKeyId: z
      .string()
      .regex(/^PUB_KEY_ID_[0-9A-Za-z_]{1,64}$/, 'expected PUB_KEY_ID_...')
      .optional(),
    publicKey: secretField(z.string().max(16_384)).pipe(pem('WeChat Pay public key (RSA)', parsePublicKey)).optional(),
    payBase: httpUrl.optional(),
  })
  .strict()
  .refine((m) => (m.publicKeyId === undefined) === (m.publicKey === undefined), { message: 'publicKeyId and publicKey go together (public-key mode)', path: ['publicKey'] });

/** Validates a merchant file's content; secrets written as env:NAME are read now. Messages never echo values. */
export function parseMerchantDefinition(input: unknown, source: string, opts: { allowPrivateUrls?: boolean } = {}): Merchant {
  const m = validateDefinition(merchantSchema, input, source, ['payBase'], opts);
  const out: Merchant = { mchid: m.mchid, name: m.name, serialNo: m.serialNo.toUpperCase(), privateKey: m.privateKey, apiV3Key: m.apiV3Key };
  if (m.publicKeyId !== undefined && m.publicKey !== undefined) {
    out.publicKeyId = m.publicKeyId;
    out.publicKey = m.publicKey;
  }
  if (m.payBase !== undefined) out.payBase = m.payBase.replace(/\/+$/, '');
  return out;
}

/** How the gateway verifies this merchant's answers and notifications. */
export function verificationMode(m: Pick<Merchant, 'publicKeyId'>): 'public-key' | 'certificates' {
  return m.publicKeyId ? 'public-key' : 'certificates';
}

/** The operator's view: secrets masked, public material shown. */
export function maskMerchant(m: Merchant): Record<string, unknown> {
  return {
    mchid: m.mchid,
    name: m.name,
    serialNo: m.serialNo,
    privateKey: maskSecret(m.privateKey),
    apiV3Key: maskSecret(m.apiV3Key),
    publicKeyId: m.publicKeyId ?? null,
    verification: verificationMode(m),
    payBase: m.payBase ?? DEFAULT_PAY_BASE,
  };
}

export function sameMerchant(a: Merchant, b: Merchant): boolean {
  const keys: (keyof Merchant)[] = ['mchid', 'name', 'serialNo', 'privateKey', 'apiV3Key', 'publicKeyId', 'publicKey', 'payBase'];
  return keys.every((k) => a[k] === b[k]);
}
