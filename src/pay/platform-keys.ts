import { createHash, type KeyObject } from 'node:crypto';
import { redisKeys } from '../infra/redis-keys';
import type { Clock } from '../kernel/clock';
import { AppError } from '../kernel/errors';
import { isRecord } from '../kernel/records';
import type { AccessTokenSource } from '../token/access-token-source';
import type { TokenManager } from '../token/token-manager';
import { decryptCertificates, PayResourceError } from '../protocol/wechatpay/pay-resource';
import { parsePublicKey, signedHeadersOf, verifyPaySignature, type VerifyOutcome } from '../protocol/wechatpay/pay-signature';
import type { MerchantAccount } from '../merchants/merchant-directory';
import type { PayTransport } from './pay-transport';

export const CERTIFICATES_API = '/v3/certificates';
/** Platform certificates change rarely (years); they are re-read twice a day, and at once when an unknown serial signs. */
const CERTIFICATES_LIFETIME_S = 12 * 3600;
/** At most one early re-read per merchant and instance in this time, whatever serials forged messages carry. */
const UNKNOWN_SERIAL_REFRESH_MS = 60_000;

type Headers = Readonly<Record<string, string | string[] | undefined>>;

/**
 * The keys WeChat Pay signs a merchant's answers and notifications with. Public-key mode: the one
 * key under its PUB_KEY_ID. Certificate mode: the platform certificates, downloaded and decrypted
 * once for the fleet through the token manager (the same lock, cache levels and renewal as access
 * tokens). A merchant with both (migrating) is verified by whichever key the serial names.
 */
export class PlatformKeys {
  private readonly sources = new WeakMap<MerchantAccount, AccessTokenSource>();
  private readonly parsed = new Map<string, ReadonlyMap<string, KeyObject>>();
  private readonly lastForced = new Map<string, number>();

  constructor(
    private readonly tokens: TokenManager,
    private readonly transport: PayTransport,
    private readonly clock: Clock,
  ) {}

  /** Verifies a signed answer or notification of this merchant. Certificates that cannot be fetched make a certificate-mode merchant's messages unverifiable: 503. */
  async verify(account: MerchantAccount, headers: Headers, body: string): Promise<VerifyOutcome> {
    const h = signedHeadersOf(headers);
    const nowS = Math.floor(this.clock.now() / 1000);
    const pub = account.publicKey;
    if (pub) {
      const r = verifyPaySignature(h, body, new Map([[pub.id, pub.key]]), nowS);
      if (r.ok || r.reason !== 'unknown-serial') return r;
    }
    let keys: ReadonlyMap<string, KeyObject>;
    try {
      keys = await this.certificates(account);
      const first = verifyPaySignature(h, body, keys, nowS);
      if (first.ok || first.reason !== 'unknown-serial' || !this.mayForce(account)) return first;
      // A serial we have not seen: WeChat Pay may have issued a new certificate. Re-read once.
      keys = await this.certificates(account, true);
    } catch (err) {
      // A public-key merchant may have no certificates at all: an unknown serial is just unknown.
      if (pub) return { ok: false, reason: 'unknown-serial' };
      throw err;
    }
    return verifyPaySignature(h, body, keys, nowS);
  }

  private mayForce(account: MerchantAccount): boolean {
    const now = this.clock.now();
    const last = this.lastForced.get(account.merchant.mchid) ?? -Infinity;
    if (now - last < UNKNOWN_SERIAL_REFRESH_MS) return false;
    this.lastForced.set(account.merchant.mchid, now);
    return true;
  }

  private async certificates(account: MerchantAccount, force = false): Promise<ReadonlyMap<string, KeyObject>> {
    const source = this.sourceFor(account);
    let record = await this.tokens.get(source);
    if (force) record = await this.tokens.invalidate(source, record.accessToken);
    let keys = this.parsed.get(record.accessToken);
    if (!keys) {
      keys = parseCertificateList(record.accessToken);
      if (this.parsed.size > 1000) this.parsed.clear();
      this.parsed.set(record.accessToken, keys);
    }
    return keys;
  }

  private sourceFor(account: MerchantAccount): AccessTokenSource {
    let s = this.sources.get(account);
    if (!s) {
      s = certificateSource(this.transport, account, this.clock);
      this.sources.set(account, s);
    }
    return s;
  }
}

/** The fleet key of a merchant's certificates (also derived by `tenants -- rekey` to re-seal them). */
export function certificateTokenKey(m: { mchid: string; serialNo: string; apiV3Key: string; payBase?: string | undefined }): string {
  const fingerprint = createHash('sha256')
    .update(`certificates:${m.serialNo}:${m.apiV3Key}:${m.payBase ?? ''}`)
    .digest('hex')
    .slice(0, 16);
  return redisKeys.token(`mch-${m.mchid}`, fingerprint);
}

/** The certificates of a merchant as a token source: the "token" is the JSON list of {serialNo, pem}. */
export function certificateSource(transport: PayTransport, account: MerchantAccount, clock: Clock): AccessTokenSource {
  const m = account.merchant;
  return {
    key: certificateTokenKey(m),
    owner: m.mchid,
    kind: 'pay-certificates',
    async fetch() {
      const res = await transport.send(account, { method: 'GET', path: CERTIFICATES_API });
      const text = res.body.toString('utf8');
      if (res.status !== 200) throw new AppError(503, 'PAY_UNAVAILABLE', `WeChat Pay answered ${CERTIFICATES_API} with HTTP ${res.status}`, { headers: { 'Retry-After': '5' } });
      let certs;
      try {
        certs = decryptCertificates(JSON.parse(text), m.apiV3Key);
      } catch (err) {
        const why = err instanceof PayResourceError ? err.message : 'not JSON';
        throw new AppError(502, 'PAY_RESPONSE_UNVERIFIED', `the certificate list of merchant ${m.mchid} is unusable: ${why}`);
      }
      // The list is trusted only if it is signed by one of the certificates it carries (and they
      // decrypted with the APIv3 key, which only WeChat Pay and the merchant hold).
      const keys = new Map(certs.map((c) => [c.serialNo, parsePublicKey(c.pem)] as const));
      const check = verifyPaySignature(signedHeadersOf(res.headers), text, keys, Math.floor(clock.now() / 1000));
      if (!check.ok) throw new AppError(502, 'PAY_RESPONSE_UNVERIFIED', `the certificate list of merchant ${m.mchid} is not signed by its certificates (${check.reason})`);
      return { accessToken: JSON.stringify(certs.map((c) => ({ serialNo: c.serialNo, pem: c.pem }))), expiresIn: CERTIFICATES_LIFETIME_S };
    },
  };
}

function parseCertificateList(json: string): ReadonlyMap<string, KeyObject> {
  const out = new Map<string, KeyObject>();
  const list: unknown = JSON.parse(json);
  if (!Array.isArray(list)) return out;
  for (const c of list) if (isRecord(c) && typeof c.serialNo === 'string' && typeof c.pem === 'string') out.set(c.serialNo, parsePublicKey(c.pem));
  return out;
}
