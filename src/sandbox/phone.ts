/** Phone-number codes (the `code` of getPhoneNumber) for /wxa/business/getuserphonenumber. */
import { randomBytes } from 'node:crypto';
import type { Clock } from '../kernel/clock';
import { MINUTE, unixSeconds } from './time';
import { WxError } from './wx-errors';

export interface PhoneInfo {
  phoneNumber: string;
  purePhoneNumber: string;
  countryCode: string;
  watermark: { timestamp: number; appid: string };
}

interface PhoneCode {
  appid: string;
  purePhoneNumber: string;
  countryCode: string;
  expiresAt: number;
  used: boolean;
}

export const PHONE_CODE_TTL_MS = 5 * MINUTE;

export class PhoneCodes {
  private readonly codes = new Map<string, PhoneCode>();

  constructor(private readonly clock: Clock) {}

  /** `phone` without country code (e.g. '13800138000'); `countryCode` without '+', default '86'. */
  issue(appid: string, phone: string, countryCode = '86'): string {
    const pure = phone.replace(/[\s-]/g, '');
    if (!/^\d{4,20}$/.test(pure)) throw new TypeError('phone must be digits');
    if (!/^\d{1,4}$/.test(countryCode)) throw new TypeError('countryCode must be 1-4 digits');
    const code = randomBytes(32).toString('hex');
    const now = this.clock.now();
    for (const [k, c] of this.codes) if (now - c.expiresAt > PHONE_CODE_TTL_MS) this.codes.delete(k);
    this.codes.set(code, { appid, purePhoneNumber: pure, countryCode, expiresAt: now + PHONE_CODE_TTL_MS, used: false });
    return code;
  }

  /** 40029 unknown, expired or another app's code; 40163 already used. */
  redeem(appid: string, code: string): PhoneInfo {
    const now = this.clock.now();
    const c = this.codes.get(code);
    if (!c || c.appid !== appid || now >= c.expiresAt) throw new WxError(40029);
    if (c.used) throw new WxError(40163);
    c.used = true;
    return {
      phoneNumber: c.countryCode === '86' ? c.purePhoneNumber : `+${c.countryCode}${c.purePhoneNumber}`,
      purePhoneNumber: c.purePhoneNumber,
      countryCode: c.countryCode,
      watermark: { timestamp: unixSeconds(now), appid },
    };
  }
}
