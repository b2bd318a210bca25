import { Schema, type Connection, type Model } from 'mongoose';

/** Profile fields a mini program may hand over (wx.getUserInfo / getUserProfile, decrypted). */
export interface UserProfile {
  nickName?: string;
  avatarUrl?: string;
  gender?: number;
  city?: string;
  province?: string;
  country?: string;
  language?: string;
}

export interface UserPhone {
  phoneNumber: string;
  purePhoneNumber: string;
  countryCode: string;
}

/**
 * A mini-program user, one document per (appid, openid). `sessionKey` holds the SecretBox
 * ciphertext of WeChat's session_key (context `user:<appid>:<openid>:session_key`), never plaintext;
 * it is replaced on every login and never leaves the server. Only a plain compound unique index is
 * used (no partial or TTL indexes, no transactions), which the in-memory test server supports.
 */
export interface UserDoc {
  appid: string;
  openid: string;
  unionid?: string;
  sessionKey: string;
  firstSeenAt: Date;
  lastLoginAt: Date;
  loginCount: number;
  profile?: UserProfile;
  profileUpdatedAt?: Date;
  phone?: UserPhone;
  phoneUpdatedAt?: Date;
}

const profileSchema = new Schema<UserProfile>(
  {
    nickName: String,
    avatarUrl: String,
    gender: Number,
    city: String,
    province: String,
    country: String,
    language: String,
  },
  { _id: false },
);

const phoneSchema = new Schema<UserPhone>(
  {
    phoneNumber: { type: String, required: true },
    purePhoneNumber: { type: String, required: true },
    countryCode: { type: String, required: true },
  },
  { _id: false },
);

const userSchema = new Schema<UserDoc>(
  {
    appid: { type: String, required: true },
    openid: { type: String, required: true },
    unionid: { type: String },
    sessionKey: { type: String, required: true },
    firstSeenAt: { type: Date, required: true },
    lastLoginAt: { type: Date, required: true },
    loginCount: { type: Number, required: true },
    profile: { type: profileSchema, required: false },
    profileUpdatedAt: { type: Date },
    phone: { type: phoneSchema, required: false },
    phoneUpdatedAt: { type: Date },
  },
  { collection: 'users', versionKey: false },
);
userSchema.index({ appid: 1, openid: 1 }, { unique: true });

export function userModel(conn: Connection): Model<UserDoc> {
  return (conn.models.User as Model<UserDoc> | undefined) ?? conn.model<UserDoc>('User', userSchema);
}
