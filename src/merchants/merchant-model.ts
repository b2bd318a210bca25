import { Schema, type Connection, type Model } from 'mongoose';

import type { Merchant } from './merchant';

/** The stored form of a merchant: the same fields, with `privateKey` and `apiV3Key` holding SecretBox ciphertexts bound to mchid and field. */
export type MerchantDoc = Merchant;

const merchantSchema = new Schema<MerchantDoc>(
  {
    mchid: { type: String, required: true, unique: true },
    name: { type: String, required: true },
    serialNo: { type: String, required: true },
    privateKey: { type: String, required: true },
    apiV3Key: { type: String, required: true },
    publicKeyId: { type: String },
    publicKey: { type: String },
    payBase: { type: String },
  },
  { collection: 'merchants', timestamps: true, versionKey: false },
);

export function merchantModel(conn: Connection): Model<MerchantDoc> {
  return (conn.models.Merchant as Model<MerchantDoc> | undefined) ?? conn.model<MerchantDoc>('Merchant', merchantSchema);
}
