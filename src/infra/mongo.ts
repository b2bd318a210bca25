import mongoose, { type Connection } from 'mongoose';
import { withTimeout } from '../kernel/timers';

/** One mongoose connection per process; created explicitly, never at import time. */
export async function connectMongo(uri: string): Promise<Connection> {
  const conn = mongoose.createConnection(uri, {
    serverSelectionTimeoutMS: 5000,
    // Indexes are created by syncIndexes at start-up, not lazily on first use.
    autoIndex: false,
  });
  await conn.asPromise();
  return conn;
}

export async function pingMongo(conn: Connection, timeoutMs = 1000): Promise<void> {
  const db = conn.db;
  if (!db || conn.readyState !== 1) throw new Error('mongodb not connected');
  await withTimeout(db.command({ ping: 1 }), timeoutMs, 'mongodb ping timed out');
}
