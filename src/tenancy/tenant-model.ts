import { Schema, type Connection, type Model } from 'mongoose';
import type { CoreTenant } from './tenant';

/**
 * The stored form of a tenant: the core fields, and each section's fields at the top level. Every
 * secret (the AppSecret and what sections declare as sealed) holds a SecretBox ciphertext, never
 * plaintext. Only features that both real MongoDB and the in-memory test server support are used
 * (a plain unique index; no partial indexes, TTL or transactions).
 */
export type TenantDoc = CoreTenant & { [sectionField: string]: unknown };

const tenantSchema = new Schema<TenantDoc>(
  {
    appid: { type: String, required: true, unique: true },
    name: { type: String, required: true },
    credential: { type: String },
    secret: { type: String },
    component: { type: String },
    tokenMode: { type: String, enum: ['stable', 'classic', 'authorizer'], required: true },
    apiBase: { type: String },
    status: { type: String, enum: ['active', 'disabled'], required: true },
  },
  // Section fields are not listed here (tenancy knows no feature): strict is off so they are stored
  // as given. Nothing reaches this model unvalidated: every write is a definition the registered
  // sections' schemas accepted.
  { collection: 'tenants', timestamps: true, versionKey: false, strict: false },
);

export function tenantModel(conn: Connection): Model<TenantDoc> {
  return (conn.models.Tenant as Model<TenantDoc> | undefined) ?? conn.model<TenantDoc>('Tenant', tenantSchema);
}
