import { Schema, type Connection, type Model } from 'mongoose';

/**
 * The stored form of a tenant. `secret`, `token`, `aesKey` and `webhook.secret` hold SecretBox
 * ciphertexts, never plaintext. Only features that both real MongoDB and the in-memory test server
 * support are used (a plain unique index; no partial indexes, TTL or transactions).
 */
export interface TenantDoc {
  appid: string;
  name: string;
  secret: string;
  token: string;
  aesKey: string;
  msgFormat: 'json' | 'xml';
  tokenMode: 'stable' | 'classic';
  apiBase?: string;
  status: 'active' | 'disabled';
  webhook?: { url: string; secret: string };
  rules: unknown[];
  createdAt: Date;
  updatedAt: Date;
}

const tenantSchema = new Schema<TenantDoc>(
  {
    appid: { type: String, required: true, unique: true },
    name: { type: String, required: true },
    secret: { type: String, required: true },
    token: { type: String, required: true },
    aesKey: { type: String, required: true },
    msgFormat: { type: String, enum: ['json', 'xml'], required: true },
    tokenMode: { type: String, enum: ['stable', 'classic'], required: true },
    apiBase: { type: String },
    status: { type: String, enum: ['active', 'disabled'], required: true },
    webhook: { type: new Schema({ url: String, secret: String }, { _id: false }), required: false },
    rules: { type: [Schema.Types.Mixed], default: [] },
  },
  { collection: 'tenants', timestamps: true, versionKey: false },
);

export function tenantModel(conn: Connection): Model<TenantDoc> {
  return (conn.models.Tenant as Model<TenantDoc> | undefined) ?? conn.model<TenantDoc>('Tenant', tenantSchema);
}
