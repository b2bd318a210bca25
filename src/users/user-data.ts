/**
 * What the gateway keeps from decrypted open data: profile fields and phone numbers. Decrypted data
 * is authentic (it opened with the user's session key and carries the tenant's watermark), but its
 * field types are still checked before anything is stored.
 */
import { AppError } from '../kernel/errors';
import type { UserPhone, UserProfile } from './user-model';

const STRING_LIMITS = {
  nickName: 256,
  avatarUrl: 2048,
  city: 128,
  province: 128,
  country: 128,
  language: 32,
} as const;

/** The profile fields of a decrypted userInfo; ill-typed fields are dropped. */
export function profileFrom(data: Record<string, unknown>, openid: string): UserProfile {
  // Newer payloads omit openId; when present it must be this session's user.
  if (data.openId !== undefined && data.openId !== openid) {
    throw new AppError(400, 'INVALID_ENCRYPTED_DATA', 'the encrypted data belongs to another user');
  }
  const profile: UserProfile = {};
  for (const [k, max] of Object.entries(STRING_LIMITS) as [keyof typeof STRING_LIMITS, number][]) {
    const v = data[k];
    if (typeof v === 'string' && v.length <= max) profile[k] = v;
  }
  const g = data.gender;
  if (typeof g === 'number' && Number.isInteger(g) && g >= 0 && g <= 2) profile.gender = g;
  if (Object.keys(profile).length === 0) {
    throw new AppError(400, 'INVALID_ENCRYPTED_DATA', 'the encrypted data carries no profile fields (is it the result of getUserProfile?)');
  }
  return profile;
}

/** The phone number of a decrypted getPhoneNumber payload (legacy form). */
export function phoneFrom(data: Record<string, unknown>): UserPhone {
  const { phoneNumber, purePhoneNumber, countryCode } = data;
  const ok = (v: unknown): v is string => typeof v === 'string' && v.length > 0 && v.length <= 32;
  if (!ok(phoneNumber) || !ok(purePhoneNumber) || !(ok(countryCode) || typeof countryCode === 'number')) {
    throw new AppError(400, 'INVALID_ENCRYPTED_DATA', 'the encrypted data carries no phone number (is it the result of getPhoneNumber?)');
  }
  return { phoneNumber, purePhoneNumber, countryCode: String(countryCode) };
}
