import { Schema, type Connection, type Model } from 'mongoose';
import { boundedMongo } from '../infra/mongo';
import type { SecretBox } from '../tenancy/secret-box';
import { samePlatform, type Platform } from './platform';

/** Stored platform: secrets sealed (bound to component appid and field), and the latest ticket, sealed too. */
export type PlatformDoc = Platform & { ticket?: string; ticketAt?: Date };

/** A mini program's authorization of a platform: the refresh token (sealed) is what every later token comes from. */
export interface AuthorizerDoc {
  componentAppid: string;
  appid: string;
  refreshToken: string;
  status: AuthorizerStatus;
  funcInfo: number[];
  authorizedAt: Date;
  updatedAt?: Date;
}
export type AuthorizerStatus = 'authorized' | 'unauthorized' | 'reauthorization_required';

const platformSchema = new Schema<PlatformDoc>(
  {
    componentAppid: { type: String, required: true, unique: true },
    name: { type: String, required: true },
    secret: { type: String, required: true },
    token: { type: String, required: true },
    aesKey: { type: String, required: true },
    apiBase: String,
    redirectOrigins: { type: [String], default: undefined },
    ticket: String,
    ticketAt: Date,
  },
  { collection: 'platforms', timestamps: true, versionKey: false },
);

const authorizerSchema = new Schema<AuthorizerDoc>(
  {
    componentAppid: { type: String, required: true },
    appid: { type: String, required: true },
    refreshToken: { type: String, required: true },
    status: { type: String, required: true },
    funcInfo: { type: [Number], default: [] },
    authorizedAt: { type: Date, required: true },
  },
  { collection: 'authorizers', timestamps: true, versionKey: false },
);
authorizerSchema.index({ componentAppid: 1, appid: 1 }, { unique: true });

const SEALED = ['secret', 'token', 'aesKey'] as const;
const ctxOf = (componentAppid: string, field: string) => `platform:${componentAppid}:${field}`;
const refreshCtx = (componentAppid: string, appid: string) => `authorizer:${componentAppid}:${appid}:refreshToken`;

export type PlatformUpsertOutcome = 'created' | 'updated' | 'unchanged';

/**
 * MongoDB is the durable home of everything a platform cannot afford to lose: its definition, the
 * latest component_verify_ticket and every authorizer's refresh token. Redis holds copies only.
 */
export class PlatformStore {
  readonly platforms: Model<PlatformDoc>;
  readonly authorizers: Model<AuthorizerDoc>;

  constructor(
    conn: Connection,
    private readonly box: SecretBox,
  ) {
    this.platforms = (conn.models.Platform as Model<PlatformDoc> | undefined) ?? conn.model<PlatformDoc>('Platform', platformSchema);
    this.authorizers = (conn.models.Authorizer as Model<AuthorizerDoc> | undefined) ?? conn.model<AuthorizerDoc>('Authorizer', authorizerSchema);
  }

  async ensureIndexes(): Promise<void> {
    await Promise.all([this.platforms.createIndexes(), this.authorizers.createIndexes()]);
  }

  async find(componentAppid: string): Promise<Platform | null> {
    const d = await boundedMongo(this.platforms.findOne({ componentAppid }).lean<PlatformDoc>().exec());
    return d ? this.open(d) : null;
  }

  async list(): Promise<Platform[]> {
    const docs = await boundedMongo(this.platforms.find({}).sort({ componentAppid: 1 }).lean<PlatformDoc[]>().exec());
    return docs.map((d) => this.open(d));
  }

  async upsert(p: Platform): Promise<PlatformUpsertOutcome> {
    const existing = await this.find(p.componentAppid);
    if (existing && samePlatform(existing, p)) return 'unchanged';
    const doc: Record<string, unknown> = { componentAppid: p.componentAppid, name: p.name };
    for (const f of SEALED) doc[f] = this.box.seal(p[f], ctxOf(p.componentAppid, f));
    if (p.apiBase) doc.apiBase = p.apiBase;
    doc.redirectOrigins = p.redirectOrigins ?? [];
    if (!existing) {
      try {
        await this.platforms.create(doc);
        return 'created';
      } catch (err) {
        if ((err as { code?: number }).code !== 11000) throw err;
      }
    }
    await this.platforms.updateOne({ componentAppid: p.componentAppid }, { $set: doc, ...(p.apiBase ? {} : { $unset: { apiBase: 1 } }) }).exec();
    return existing ? 'updated' : 'created';
  }

  async remove(componentAppid: string): Promise<boolean> {
    return (await this.platforms.deleteOne({ componentAppid }).exec()).deletedCount > 0;
  }

  /** Keeps a ticket only if it is newer than the stored one (events may arrive out of order on several instances); false when it was not. */
  async saveTicket(componentAppid: string, ticket: string, at: Date): Promise<boolean> {
    const r = await boundedMongo(
      this.platforms
        .updateOne(
          { componentAppid, $or: [{ ticketAt: { $exists: false } }, { ticketAt: { $lte: at } }] },
          { $set: { ticket: this.box.seal(ticket, ctxOf(componentAppid, 'ticket')), ticketAt: at } },
        )
        .exec(),
    );
    return r.matchedCount > 0;
  }

  async readTicket(componentAppid: string): Promise<{ ticket: string; at: Date } | null> {
    const d = await boundedMongo(this.platforms.findOne({ componentAppid }, { ticket: 1, ticketAt: 1 }).lean<Pick<PlatformDoc, 'ticket' | 'ticketAt'>>().exec());
    if (!d?.ticket || !d.ticketAt) return null;
    return { ticket: this.box.open(d.ticket, ctxOf(componentAppid, 'ticket')), at: new Date(d.ticketAt) };
  }

  async ticketTimes(): Promise<{ componentAppid: string; at: Date | null }[]> {
    const docs = await boundedMongo(this.platforms.find({}, { componentAppid: 1, ticketAt: 1 }).lean<Pick<PlatformDoc, 'componentAppid' | 'ticketAt'>[]>().exec());
    return docs.map((d) => ({ componentAppid: d.componentAppid, at: d.ticketAt ? new Date(d.ticketAt) : null }));
  }

  /** Records an authorization (new or renewed): the refresh token, status authorized. */
  async authorize(componentAppid: string, appid: string, refreshToken: string, funcInfo: number[], at: Date): Promise<void> {
    await boundedMongo(
      this.authorizers
        .updateOne(
          { componentAppid, appid },
          { $set: { refreshToken: this.box.seal(refreshToken, refreshCtx(componentAppid, appid)), status: 'authorized', funcInfo, authorizedAt: at } },
          { upsert: true },
        )
        .exec(),
    );
  }

  /** Puts back the current refresh token (platforms sync): status authorized, the time of the authorization kept. */
  async restore(componentAppid: string, appid: string, refreshToken: string, at: Date): Promise<void> {
    await boundedMongo(
      this.authorizers
        .updateOne(
          { componentAppid, appid },
          { $set: { refreshToken: this.box.seal(refreshToken, refreshCtx(componentAppid, appid)), status: 'authorized' }, $setOnInsert: { funcInfo: [], authorizedAt: at } },
          { upsert: true },
        )
        .exec(),
    );
  }

  async authorizer(componentAppid: string, appid: string): Promise<{ refreshToken: string; status: AuthorizerStatus } | null> {
    const d = await boundedMongo(this.authorizers.findOne({ componentAppid, appid }).lean<AuthorizerDoc>().exec());
    return d ? { refreshToken: this.box.open(d.refreshToken, refreshCtx(componentAppid, appid)), status: d.status } : null;
  }

  /** Replaces the refresh token only if it is still the one the caller used (two instances never overwrite a newer one with an older one). */
  async rotateRefreshToken(componentAppid: string, appid: string, used: string, next: string): Promise<void> {
    const current = await this.authorizer(componentAppid, appid);
    if (!current || current.refreshToken !== used) return;
    await boundedMongo(this.authorizers.updateOne({ componentAppid, appid }, { $set: { refreshToken: this.box.seal(next, refreshCtx(componentAppid, appid)) } }).exec());
  }

  async setStatus(componentAppid: string, appid: string, status: AuthorizerStatus): Promise<boolean> {
    return (await boundedMongo(this.authorizers.updateOne({ componentAppid, appid }, { $set: { status } }).exec())).matchedCount > 0;
  }

  async listAuthorizers(componentAppid: string): Promise<{ appid: string; status: AuthorizerStatus; authorizedAt: Date }[]> {
    const docs = await boundedMongo(this.authorizers.find({ componentAppid }, { appid: 1, status: 1, authorizedAt: 1 }).sort({ appid: 1 }).lean<AuthorizerDoc[]>().exec());
    return docs.map((d) => ({ appid: d.appid, status: d.status, authorizedAt: new Date(d.authorizedAt) }));
  }

  private open(d: PlatformDoc): Platform {
    return {
      componentAppid: d.componentAppid,
      name: d.name,
      secret: this.box.open(d.secret, ctxOf(d.componentAppid, 'secret')),
      token: this.box.open(d.token, ctxOf(d.componentAppid, 'token')),
      aesKey: this.box.open(d.aesKey, ctxOf(d.componentAppid, 'aesKey')),
      ...(d.apiBase ? { apiBase: d.apiBase } : {}),
      ...(d.redirectOrigins?.length ? { redirectOrigins: [...d.redirectOrigins] } : {}),
    };
  }
}
