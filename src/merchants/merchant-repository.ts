import type { Connection, Model } from 'mongoose';
import { boundedMongo } from '../infra/mongo';
import type { SecretBox } from '../tenancy/secret-box';
import { sameMerchant, type Merchant } from './merchant';
import { merchantModel, type MerchantDoc } from './merchant-model';

export type MerchantUpsertOutcome = 'created' | 'updated' | 'unchanged';

const SEALED = ['privateKey', 'apiV3Key'] as const;
/** AAD of a sealed merchant value: a ciphertext copied to another merchant or field fails to open. */
const context = (mchid: string, field: string) => `merchant:${mchid}:${field}`;

/** MongoDB access for merchants. Everything it returns is decrypted; everything it stores is sealed. */
export class MerchantRepository {
  readonly model: Model<MerchantDoc>;

  constructor(
    conn: Connection,
    private readonly box: SecretBox,
  ) {
    this.model = merchantModel(conn);
  }

  async ensureIndexes(): Promise<void> {
    await this.model.createIndexes();
  }

  /** Bounded: the gateway calls it on the request path. */
  async find(mchid: string): Promise<Merchant | null> {
    const d = await boundedMongo(this.model.findOne({ mchid }).lean<MerchantDoc>().exec());
    return d ? this.open(d) : null;
  }

  async list(): Promise<Merchant[]> {
    const docs = await boundedMongo(this.model.find({}).sort({ mchid: 1 }).lean<MerchantDoc[]>().exec());
    return docs.map((d) => this.open(d));
  }

  async upsert(m: Merchant): Promise<MerchantUpsertOutcome> {
    const existing = await this.find(m.mchid);
    if (existing && sameMerchant(existing, m)) return 'unchanged';
    const doc: MerchantDoc = { ...m };
    for (const f of SEALED) doc[f] = this.box.seal(m[f], context(m.mchid, f));
    const unset: Record<string, 1> = {};
    for (const f of ['publicKeyId', 'publicKey', 'payBase'] as const) if (m[f] === undefined) unset[f] = 1;
    if (!existing) {
      try {
        await this.model.create(doc);
        return 'created';
      } catch (err) {
        if ((err as { code?: number }).code !== 11000) throw err;
      }
    }
    await this.model.updateOne({ mchid: m.mchid }, { $set: doc, ...(Object.keys(unset).length ? { $unset: unset } : {}) }).exec();
    return existing ? 'updated' : 'created';
  }

  async remove(mchid: string): Promise<boolean> {
    const r = await this.model.deleteOne({ mchid }).exec();
    return r.deletedCount > 0;
  }

  private open(d: MerchantDoc): Merchant {
    const m: Merchant = {
      mchid: d.mchid,
      name: d.name,
      serialNo: d.serialNo,
      privateKey: this.box.open(d.privateKey, context(d.mchid, 'privateKey')),
      apiV3Key: this.box.open(d.apiV3Key, context(d.mchid, 'apiV3Key')),
    };
    if (d.publicKeyId && d.publicKey) {
      m.publicKeyId = d.publicKeyId;
      m.publicKey = d.publicKey;
    }
    if (d.payBase) m.payBase = d.payBase;
    return m;
  }
}
