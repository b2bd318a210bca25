import mongoose, { type Connection, type Schema } from 'mongoose';
import { sleep, withTimeout } from '../kernel/timers';
import { StoreTimeoutError } from './store-errors';

/**
 * How long a request waits for MongoDB before it is answered 503 STORE_UNAVAILABLE. The driver's
 * own bounds (server selection, maxTimeMS) are a little shorter, so a server that is down or slow
 * fails with the driver's error; this client-side bound catches the server that hangs with its
 * sockets open (mongo-java-server, for one, ignores maxTimeMS).
 */
export const MONGO_REQUEST_TIMEOUT_MS = 1800;
const SERVER_SELECTION_TIMEOUT_MS = 1500;
const QUERY_MAX_TIME_MS = 1500;
/** How long start-up (and the CLI) keeps trying to reach MongoDB at all. */
const INITIAL_CONNECT_MS = 5000;

const BOUNDED_QUERIES = ['find', 'findOne', 'findOneAndUpdate', 'findOneAndDelete', 'updateOne', 'updateMany', 'deleteOne', 'deleteMany', 'countDocuments'] as const;

/** The server gives up on a query after QUERY_MAX_TIME_MS instead of working on for a caller that left. */
function maxTimePlugin(schema: Schema): void {
  schema.pre([...BOUNDED_QUERIES], function () {
    if (this.getOptions().maxTimeMS === undefined) this.maxTimeMS(QUERY_MAX_TIME_MS);
  });
}

/** One mongoose connection per process; created explicitly, never at import time. */
export async function connectMongo(uri: string): Promise<Connection> {
  const conn = mongoose.createConnection();
  // Applies to every model compiled on this connection afterwards (they all are: models are made
  // by the repositories, after connecting).
  conn.plugin(maxTimePlugin);
  const options = {
    serverSelectionTimeoutMS: SERVER_SELECTION_TIMEOUT_MS,
    // Also the monitor's heartbeat timeout: a hung server is noticed within heartbeatFrequencyMS
    // plus this, instead of the 30 s default.
    connectTimeoutMS: 2000,
    // A backstop that frees connections stuck on a hung server; requests are bounded well before.
    socketTimeoutMS: 10_000,
    waitQueueTimeoutMS: SERVER_SELECTION_TIMEOUT_MS,
    // Without this, mongoose queues operations while disconnected (up to 10 s each) and runs them
    // after the client was already answered: a login that got a 503 would still be counted later.
    bufferCommands: false,
    // Indexes are created by syncIndexes at start-up, not lazily on first use.
    autoIndex: false,
  };
  const deadline = Date.now() + INITIAL_CONNECT_MS;
  for (;;) {
    try {
      await conn.openUri(uri, options);
      return conn;
    } catch (err) {
      if (Date.now() >= deadline) throw err;
      await sleep(250);
    }
  }
}

/** Bounds one MongoDB operation of a request (see MONGO_REQUEST_TIMEOUT_MS). */
export function boundedMongo<T>(op: Promise<T>, ms = MONGO_REQUEST_TIMEOUT_MS): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  return Promise.race([
    op.finally(() => clearTimeout(timer)),
    new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new StoreTimeoutError('mongodb', ms)), ms);
    }),
  ]);
}

/** Reports every failed heartbeat of the driver's monitor (the store went away with nobody asking). */
export function onMongoHeartbeatFailure(conn: Connection, report: (reason: string) => void): void {
  conn.getClient().on('serverHeartbeatFailed', (e: { failure?: Error }) => report(e.failure?.name ?? 'heartbeat failed'));
}

export async function pingMongo(conn: Connection, timeoutMs = 1000): Promise<void> {
  const db = conn.db;
  if (!db || conn.readyState !== 1) throw new Error('mongodb not connected');
  await withTimeout(db.command({ ping: 1 }), timeoutMs, 'mongodb ping timed out');
}
