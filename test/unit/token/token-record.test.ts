import { expect } from 'chai';
import { isFresh, isUsable, makeRecord, secondsLeft } from '../../../src/token/token-record';
import { appSecretTokenKey as tokenKey } from '../../../src/token/sources/app-secret-token';
import { busyBackoffMs, MAX_BUSY_RETRIES } from '../../../src/transport/busy-retry';

describe('token record math', () => {
  const t0 = 1_700_000_000_000;

  it('renews 300 s before expires_in and serves until 60 s before it', () => {
    const r = makeRecord('T', 7200, t0);
    expect(r.refreshAt).to.equal(t0 + 6900_000);
    expect(r.expiresAt).to.equal(t0 + 7140_000);
    expect(isFresh(r, t0 + 6899_999)).to.equal(true);
    expect(isFresh(r, t0 + 6900_000)).to.equal(false);
    expect(isUsable(r, t0 + 7139_999)).to.equal(true);
    expect(isUsable(r, t0 + 7140_000)).to.equal(false);
  });

  it('gives a short-lived stable token (near its rotation) a usable window', () => {
    const r = makeRecord('T', 310, t0);
    expect(r.refreshAt).to.equal(t0 + 155_000);
    expect(r.expiresAt).to.be.greaterThan(r.refreshAt);
    expect(r.expiresAt).to.be.lessThan(t0 + 310_000);
  });

  it('tells consumers how long to keep the token', () => {
    const r = makeRecord('T', 7200, t0);
    expect(secondsLeft(r, t0)).to.equal(6900);
    expect(secondsLeft(r, t0 + 7000_000)).to.equal(140);
    expect(secondsLeft(r, t0 + 7200_000)).to.equal(1);
  });

  it('keys tokens by appid, mode and a hash of the secret', () => {
    const a = tokenKey('wx0123456789abcdef', 'secret-1', 'stable');
    expect(a).to.match(/^wxgate:token:wx0123456789abcdef:[0-9a-f]{16}$/);
    expect(a).not.to.contain('secret-1');
    expect(tokenKey('wx0123456789abcdef', 'secret-2', 'stable')).not.to.equal(a);
    expect(tokenKey('wx0123456789abcdef', 'secret-1', 'classic')).not.to.equal(a);
  });
});

describe('busy (-1) backoff', () => {
  it('waits at most 2 retries, well under 2 s in total', () => {
    const worst = Array.from({ length: MAX_BUSY_RETRIES }, (_, i) => busyBackoffMs(i, () => 0.999999)).reduce((a, b) => a + b, 0);
    expect(MAX_BUSY_RETRIES).to.equal(2);
    expect(worst).to.be.lessThan(2000);
    expect(busyBackoffMs(0, () => 0)).to.equal(100);
    expect(busyBackoffMs(1, () => 0)).to.equal(200);
  });
});
