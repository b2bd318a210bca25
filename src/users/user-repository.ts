import type { Connection, Model } from 'mongoose';
import { AppError } from '../kernel/errors';
import { boundedMongo } from '../infra/mongo';
import type { SecretBox } from '../tenancy/secret-box';
import { userModel, type UserDoc, type UserPhone, type UserProfile } from './user-model';

/** AAD of a sealed session key: a ciphertext copied to another user or tenant fails to open. */
export function sessionKeyContext(appid: string, openid: string): string {
  return `user:${appid}:${openid}:session_key`;
}

/** What a client may see of a user: an explicit allow-list, so a new secret field never leaks. */
export interface PublicUser {
  openid: string;
  unionid?: string;
  firstSeenAt: string;
  lastLoginAt: string;
  loginCount: number;
  profile?: UserProfile;
  phone?: UserPhone;
}

export function publicUser(d: UserDoc): PublicUser {
  const out: PublicUser = {
    openid: d.openid,
    firstSeenAt: d.firstSeenAt.toISOString(),
    lastLoginAt: d.lastLoginAt.toISOString(),
    loginCount: d.loginCount,
  };
  if (d.unionid) out.unionid = d.unionid;
  if (d.profile) out.profile = pickProfile(d.profile);
  if (d.phone) out.phone = { phoneNumber: d.phone.phoneNumber, purePhoneNumber: d.phone.purePhoneNumber, countryCode: d.phone.countryCode };
  return out;
}

const PROFILE_KEYS = ['nickName', 'avatarUrl', 'gender', 'city', 'province', 'country', 'language'] as const;

export function pickProfile(p: UserProfile): UserProfile {
  const out: UserProfile = {};
  for (const k of PROFILE_KEYS) {
    const v = p[k];
    if (v !== undefined && v !== null) (out as Record<string, unknown>)[k] = v;
  }
  return out;
}

const DUPLICATE_KEY = 11000;

/** A valid session whose user was deleted meanwhile: the client must log in again. */
export const userGone = (): AppError => new AppError(401, 'INVALID_SESSION', 'the user of this session no longer exists; log in again');

export interface LoginRecord {
  isNewUser: boolean;
}

/**
 * MongoDB access for users. Session keys go in sealed and come out opened; nothing else sees them.
 * Every operation runs on the request path, so each is bounded (an unavailable MongoDB is a 503).
 */
export class UserRepository {
  readonly model: Model<UserDoc>;

  constructor(
    conn: Connection,
    private readonly box: SecretBox,
  ) {
    this.model = userModel(conn);
  }

  async ensureIndexes(): Promise<void> {
    await this.model.createIndexes();
  }

  /**
   * One atomic upsert per login: creates the user on first sight, otherwise bumps loginCount and
   * replaces the session key. Two first logins racing can both try to insert; the loser gets a
   * duplicate-key error from the unique index and simply retries as an update.
   */
  async recordLogin(appid: string, openid: string, unionid: string | undefined, sessionKey: string, now: Date): Promise<LoginRecord> {
    const sealed = this.box.seal(sessionKey, sessionKeyContext(appid, openid));
    const set: Partial<UserDoc> = { lastLoginAt: now, sessionKey: sealed };
    if (unionid) set.unionid = unionid;
    const update = { $setOnInsert: { firstSeenAt: now }, $set: set, $inc: { loginCount: 1 } };
    for (let attempt = 0; ; attempt++) {
      try {
        // Only the count comes back: the caller needs nothing else, and login is the hot path.
        const user = await boundedMongo(
          this.model
            .findOneAndUpdate({ appid, openid }, update, { upsert: true, returnDocument: 'after', setDefaultsOnInsert: false, projection: { _id: 0, loginCount: 1 } })
            .lean<Pick<UserDoc, 'loginCount'>>()
            .exec(),
        );
        if (!user) throw new Error('upsert returned no document');
        return { isNewUser: user.loginCount === 1 };
      } catch (err) {
        if (attempt === 0 && (err as { code?: unknown }).code === DUPLICATE_KEY) continue;
        throw err;
      }
    }
  }

  async find(appid: string, openid: string): Promise<UserDoc | null> {
    return boundedMongo(this.model.findOne({ appid, openid }).lean<UserDoc>().exec());
  }

  /** The user's current session key (plaintext, base64), for decrypting their data. */
  async sessionKey(appid: string, openid: string): Promise<string> {
    const doc = await boundedMongo(this.model.findOne({ appid, openid }, { sessionKey: 1 }).lean<Pick<UserDoc, 'sessionKey'>>().exec());
    if (!doc) throw userGone();
    try {
      return this.box.open(doc.sessionKey, sessionKeyContext(appid, openid));
    } catch {
      // SECRETS_KEY changed or the value was tampered with: a fresh login stores a new key.
      throw new AppError(400, 'SESSION_KEY_STALE', 'the stored session cannot be used; log in again (wx.login, then the login API)');
    }
  }

  async setProfile(appid: string, openid: string, profile: UserProfile, now: Date): Promise<boolean> {
    const r = await boundedMongo(this.model.updateOne({ appid, openid }, { $set: { profile, profileUpdatedAt: now } }).exec());
    return r.matchedCount > 0;
  }

  async setPhone(appid: string, openid: string, phone: UserPhone, now: Date): Promise<boolean> {
    const r = await boundedMongo(this.model.updateOne({ appid, openid }, { $set: { phone, phoneUpdatedAt: now } }).exec());
    return r.matchedCount > 0;
  }
}
