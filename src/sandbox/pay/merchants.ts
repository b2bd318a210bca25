/** Registered WeChat Pay merchants: their verification keys, APIv3 keys, and which platform identity signs for them. */
import { createPublicKey, randomInt, type KeyObject } from 'node:crypto';
import type { PlatformIdentities } from './platform';
import type { MerchantRegistration, PayVerifyMode, RegisteredMerchant } from './types';

export interface Merchant {
  mchid: string;
  serialNo: string;
  publicKey: KeyObject;
  apiV3Key: string;
  mode: PayVerifyMode;
  publicKeyId: string;
  /** In 'both' mode: the identity that signs. */
  signWith: 'publicKey' | 'certificate';
}

export interface Signer {
  serial: string;
  privateKey: KeyObject;
}

const MODES: readonly PayVerifyMode[] = ['publicKey', 'certificate', 'both'];

function newPublicKeyId(): string {
  let digits = '';
  for (let i = 0; i < 28; i++) digits += String(randomInt(10));
  return `PUB_KEY_ID_${digits}`;
}

export class MerchantRegistry {
  private readonly merchants = new Map<string, Merchant>();
  /** Serial of answers to callers that are no registered merchant. */
  readonly anonymousKeyId = newPublicKeyId();

  constructor(private readonly platform: PlatformIdentities) {}

  /** Adds a merchant or replaces one (keeping its publicKeyId). TypeError for bad arguments. */
  register(r: MerchantRegistration): RegisteredMerchant {
    if (typeof r.mchid !== 'string' || !/^\d{1,32}$/.test(r.mchid)) throw new TypeError('mchid must be 1-32 digits');
    if (typeof r.serialNo !== 'string' || r.serialNo === '') throw new TypeError('serialNo must be a non-empty string');
    if (typeof r.apiV3Key !== 'string' || Buffer.byteLength(r.apiV3Key, 'utf8') !== 32) throw new TypeError('apiV3Key must be 32 bytes');
    const mode = r.mode ?? 'publicKey';
    if (!MODES.includes(mode)) throw new TypeError(`mode must be one of ${MODES.join(', ')}`);
    let publicKey: KeyObject;
    try {
      publicKey = createPublicKey(r.merchantPublicKey);
    } catch (e) {
      throw new TypeError(`merchantPublicKey is not a PEM public key: ${e instanceof Error ? e.message : String(e)}`);
    }
    if (publicKey.asymmetricKeyType !== 'rsa') throw new TypeError('merchantPublicKey must be an RSA key');
    const previous = this.merchants.get(r.mchid);
    const m: Merchant = {
      mchid: r.mchid,
      serialNo: r.serialNo,
      publicKey,
      apiV3Key: r.apiV3Key,
      mode,
      publicKeyId: previous?.publicKeyId ?? newPublicKeyId(),
      signWith: mode === 'publicKey' ? 'publicKey' : 'certificate',
    };
    this.merchants.set(m.mchid, m);
    return this.describe(m);
  }

  describe(m: Merchant): RegisteredMerchant {
    const certificates = m.mode === 'publicKey' ? [] : [this.platform.certificate()].map((c) => ({ serialNo: c.serialNo, pem: c.pem }));
    return { publicKeyId: m.publicKeyId, publicKey: this.platform.publicKey().publicKeyPem, certificates };
  }

  get(mchid: string): Merchant | undefined {
    return this.merchants.get(mchid);
  }

  setSigningSerial(mchid: string, use: 'publicKey' | 'certificate'): void {
    const m = this.merchants.get(mchid);
    if (!m) throw new TypeError(`unknown mchid ${mchid}`);
    if (use !== 'publicKey' && use !== 'certificate') throw new TypeError("use must be 'publicKey' or 'certificate'");
    if (m.mode !== 'both' && m.mode !== use) throw new TypeError(`merchant ${mchid} is in ${m.mode} mode`);
    m.signWith = use;
  }

  /** Key and Wechatpay-Serial that sign answers and notifications for the merchant (or for an unknown caller). */
  signer(mchid: string | undefined): Signer {
    const m = mchid === undefined ? undefined : this.merchants.get(mchid);
    if (m && m.signWith === 'certificate') {
      const c = this.platform.certificate();
      return { serial: c.serialNo, privateKey: c.privateKey };
    }
    return { serial: m?.publicKeyId ?? this.anonymousKeyId, privateKey: this.platform.publicKey().privateKey };
  }
}
