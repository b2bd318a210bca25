import { Schema, type Connection, type Model } from 'mongoose';

/** A tenant's service API key. Only a SHA-256 of the secret part is stored. */
export interface ServiceKeyDoc {
  keyId: string;
  appid: string;
  name: string;
  hash: string;
  createdAt: Date;
  revokedAt?: Date;
}

const schema = new Schema<ServiceKeyDoc>(
  {
    keyId: { type: String, required: true, unique: true },
    appid: { type: String, required: true, index: true },
    name: { type: String, required: true },
    hash: { type: String, required: true },
    createdAt: { type: Date, required: true },
    revokedAt: { type: Date },
  },
  { collection: 'service_keys', versionKey: false },
);

export function serviceKeyModel(conn: Connection): Model<ServiceKeyDoc> {
  return (conn.models.ServiceKey as Model<ServiceKeyDoc> | undefined) ?? conn.model<ServiceKeyDoc>('ServiceKey', schema);
}
