import { expect } from 'chai';
import mongoose from 'mongoose';
import { loadConfigSubset } from '../../src/kernel/config';
import { ConfigError } from '../../src/kernel/errors';

/** MONGODB_URI is checked with the driver's own parser, so replica sets (several hosts) are accepted. */
describe('config: MONGODB_URI', () => {
  const accepts = (uri: string) => {
    try {
      return loadConfigSubset({ MONGODB_URI: uri }, ['MONGODB_URI']).MONGODB_URI === uri;
    } catch (err) {
      if (err instanceof ConfigError) return false;
      throw err;
    }
  };
  /** Whether the MongoDB driver itself takes the string (it parses in the constructor, without connecting). */
  const driverAccepts = (uri: string) => {
    try {
      new mongoose.mongo.MongoClient(uri);
      return true;
    } catch {
      return false;
    }
  };

  const good = [
    'mongodb://127.0.0.1:27017/wxgate',
    'mongodb://mongo-0.mongo:27017,mongo-1.mongo:27017,mongo-2.mongo:27017/wxgate?replicaSet=rs0&w=majority',
    'mongodb://user:p%40ss@a.example.com,b.example.com:27018/wxgate?replicaSet=rs0&authSource=admin&readPreference=primary',
    'mongodb://[::1]:27017,[::1]:27018/wxgate?replicaSet=rs0',
    'mongodb+srv://cluster0.example.net/wxgate?w=majority',
  ];
  const bad = ['http://a/wxgate', 'mongodb://', 'mongodb://a:27017,/wxgate', 'mongodb://a b:27017/x', 'redis://a:6379', 'not a uri', 'mongodb://a:27017,b:27017:1/x'];

  for (const uri of good) {
    it(`accepts ${uri}, as the driver does`, () => {
      expect(driverAccepts(uri), 'driver').to.equal(true);
      expect(accepts(uri)).to.equal(true);
    });
  }
  for (const uri of bad) {
    it(`refuses ${uri}`, () => {
      expect(accepts(uri)).to.equal(false);
    });
  }

  it('names the variable and the expected form, without echoing the value', () => {
    // A connection string may carry a password: `secret: true` masks it like the keys and tokens.
    let message = '';
    try {
      loadConfigSubset({ MONGODB_URI: 'http://user:hunter2@x' }, ['MONGODB_URI']);
    } catch (err) {
      message = (err as Error).message;
    }
    expect(message).to.match(/MONGODB_URI.*mongodb:\/\/ or mongodb\+srv:\/\//);
    expect(message).to.contain('<21 chars>');
    expect(message).not.to.contain('hunter2');
  });
});
