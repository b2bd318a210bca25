import { expect } from 'chai';
import mongoose, { Schema, type Connection, type Model } from 'mongoose';
import { testMongoUri } from '../support/root-hooks';

/**
 * Pins down what the test MongoDB (mongo-java-server) does for the features
 * wxgate relies on, so a failure here points at the rig, not the app.
 */

interface Counter {
  key: string;
  value: number;
  createdBy?: string;
}

const counterSchema = new Schema<Counter>(
  {
    key: { type: String, required: true, unique: true },
    value: { type: Number, required: true },
    createdBy: { type: String },
  },
  { versionKey: false },
);

describe('test MongoDB smoke', () => {
  let conn: Connection;
  const used: string[] = [];

  // A collection per test, named uniquely, so tests never see each other's data.
  async function freshModel(label: string): Promise<Model<Counter>> {
    const collection = `smoke_${label}_${Date.now()}_${used.length}`;
    used.push(collection);
    const model = conn.model<Counter>(collection, counterSchema, collection);
    await model.init();
    await model.syncIndexes();
    return model;
  }

  before(async () => {
    conn = await mongoose.createConnection(testMongoUri(), { serverSelectionTimeoutMS: 10_000 }).asPromise();
  });

  afterEach(async () => {
    for (const name of used.splice(0)) {
      await conn.dropCollection(name).catch(() => undefined);
      conn.deleteModel(name);
    }
  });

  after(async () => {
    await conn?.close();
  });

  it('reports wire version 9 (MongoDB 4.4) to the driver', async () => {
    const db = conn.db;
    if (!db) throw new Error('connection has no db');
    const hello = await db.admin().command({ isMaster: 1 });
    expect(hello.maxWireVersion).to.equal(9);
  });

  it('rejects a duplicate on a unique index with E11000 (code 11000)', async () => {
    const Counters = await freshModel('unique');
    await Counters.create({ key: 'a', value: 1 });

    let caught: unknown;
    try {
      await Counters.create({ key: 'a', value: 2 });
    } catch (err) {
      caught = err;
    }
    expect(caught, 'second insert should fail').to.be.instanceOf(Error);
    expect((caught as { code?: unknown }).code).to.equal(11000);
    expect((caught as Error).message).to.contain('E11000');
    expect(await Counters.countDocuments({ key: 'a' })).to.equal(1);
  });

  it('upserts with findOneAndUpdate: creates once, then updates the same doc', async () => {
    const Counters = await freshModel('upsert');
    const opts = { upsert: true, returnDocument: 'after' } as const;

    const created = await Counters.findOneAndUpdate({ key: 'k' }, { $inc: { value: 1 } }, opts).lean();
    expect(created?.value).to.equal(1);

    const updated = await Counters.findOneAndUpdate({ key: 'k' }, { $inc: { value: 5 } }, opts).lean();
    expect(updated?.value).to.equal(6);
    expect(String(updated?._id)).to.equal(String(created?._id));
    expect(await Counters.countDocuments({})).to.equal(1);
  });

  it('applies $setOnInsert only when the upsert inserts', async () => {
    const Counters = await freshModel('setoninsert');
    const opts = { upsert: true, returnDocument: 'after' } as const;

    const first = await Counters.findOneAndUpdate({ key: 'x' }, { $set: { value: 1 }, $setOnInsert: { createdBy: 'first' } }, opts).lean();
    expect(first?.createdBy).to.equal('first');

    const second = await Counters.findOneAndUpdate({ key: 'x' }, { $set: { value: 2 }, $setOnInsert: { createdBy: 'second' } }, opts).lean();
    expect(second?.value).to.equal(2);
    expect(second?.createdBy).to.equal('first');
  });
});
