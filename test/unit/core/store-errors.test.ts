import { expect } from 'chai';
import Redis from 'ioredis';
import { StoreTimeoutError, unavailableStore } from '../../../src/infra/store-errors';
import { toAppError } from '../../../src/http/error-handler';
import { AppError } from '../../../src/kernel/errors';

const named = (name: string, extra: Record<string, unknown> = {}) => Object.assign(new Error('x'), { name }, extra);

describe('store errors: one mapping from driver errors to 503 STORE_UNAVAILABLE', () => {
  it('recognises MongoDB driver and mongoose unavailability, through cause chains', () => {
    for (const name of [
      'MongoServerSelectionError',
      'MongooseServerSelectionError',
      'MongoNetworkError',
      'MongoNetworkTimeoutError',
      'MongoPoolClearedError',
      'MongoWaitQueueTimeoutError',
    ]) {
      expect(unavailableStore(named(name)), name).to.equal('mongodb');
    }
    expect(unavailableStore(named('MongoServerError', { code: 50 })), 'maxTimeMS exceeded').to.equal('mongodb');
    expect(unavailableStore(new StoreTimeoutError('mongodb', 1800))).to.equal('mongodb');
    expect(unavailableStore(new Error('wrapped', { cause: named('MongoNetworkError') }))).to.equal('mongodb');
  });

  it('recognises what ioredis really rejects commands with while Redis is unreachable', async () => {
    const client = new Redis('redis://127.0.0.1:1', { lazyConnect: true, enableOfflineQueue: false, maxRetriesPerRequest: 0, retryStrategy: () => null });
    client.on('error', () => undefined);
    let err: unknown;
    try {
      await client.get('k');
    } catch (e) {
      err = e;
    }
    client.disconnect();
    expect(err, 'a command on a client that is not connected fails').to.be.instanceOf(Error);
    expect(unavailableStore(err), String(err)).to.equal('redis');
    expect(unavailableStore(new Error('Connection is closed.'))).to.equal('redis');
    expect(unavailableStore(new Error('Command timed out'))).to.equal('redis');
    expect(unavailableStore(named('ReplyError', { message: 'LOADING Redis is loading the dataset in memory' }))).to.equal('redis');
  });

  it('leaves every other error alone: a bug or a bad request is not an outage', () => {
    expect(unavailableStore(new TypeError('x is undefined'))).to.equal(undefined);
    expect(unavailableStore(named('MongoServerError', { code: 11000 })), 'duplicate key').to.equal(undefined);
    expect(unavailableStore(named('ReplyError', { message: 'WRONGTYPE Operation against a key holding the wrong kind of value' }))).to.equal(undefined);
    expect(unavailableStore(undefined)).to.equal(undefined);
    expect(toAppError(new TypeError('x')).code).to.equal('INTERNAL');
  });

  it('the error handler answers 503 STORE_UNAVAILABLE with Retry-After, and keeps AppErrors as they are', () => {
    const e = toAppError(named('MongoServerSelectionError'));
    expect(e).to.include({ status: 503, code: 'STORE_UNAVAILABLE' });
    expect(Number(e.headers['Retry-After'])).to.be.greaterThan(0);
    expect(e.message).to.not.match(/mongo/i);
    const own = new AppError(503, 'TOKEN_UNAVAILABLE', 'x', { cause: new Error('Connection is closed.') });
    expect(toAppError(own)).to.equal(own);
  });
});
