import { execFileSync } from 'node:child_process';
import { createCipheriv, createPublicKey, generateKeyPairSync, randomBytes, X509Certificate, type KeyObject } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { expect } from 'chai';
// The reference implementation, used here only as an oracle: what the gateway signs, it must verify, and the other way round.
import { Aes, Formatter, Rsa } from 'wechatpay-axios-plugin';
import {
  authorizationHeader,
  parsePrivateKey,
  parsePublicKey,
  requestPaymentParams,
  signedLines,
  verifyPaySignature,
  type PaySignedHeaders,
} from '../../../src/protocol/wechatpay/pay-signature';
import { decryptCertificates, decryptResource, normaliseSerial, PayResourceError } from '../../../src/protocol/wechatpay/pay-resource';

const merchant = generateKeyPairSync('rsa', { modulusLength: 2048 });
const platform = generateKeyPairSync('rsa', { modulusLength: 2048 });
const other = generateKeyPairSync('rsa', { modulusLength: 2048 });
const API_V3_KEY = 'a'.repeat(16) + 'B'.repeat(16);
const pem = (k: KeyObject, type: 'spki' | 'pkcs8' | 'pkcs1') => k.export({ type, format: 'pem' } as never) as unknown as string;

function signedBy(key: KeyObject, serial: string, timestamp: number, nonce: string, body: string): PaySignedHeaders {
  return { timestamp: String(timestamp), nonce, serial, signature: Rsa.sign(Formatter.response(timestamp, nonce, body), key) };
}

function gcm(plaintext: string, key: string, nonce: string, aad: string): string {
  const c = createCipheriv('aes-256-gcm', Buffer.from(key, 'utf8'), Buffer.from(nonce, 'utf8'));
  c.setAAD(Buffer.from(aad, 'utf8'));
  return Buffer.concat([c.update(plaintext, 'utf8'), c.final(), c.getAuthTag()]).toString('base64');
}

describe('protocol/wechatpay: signatures', () => {
  it('builds the signed message of the official example (GET /v3/certificates)', () => {
    // WeChat Pay's documentation, "签名生成": the string to sign for its example request.
    expect(signedLines('GET', '/v3/certificates', '1554208460', '593BEC0C930BF1AFEB40B4A08C8FB242', '')).to.equal('GET\n/v3/certificates\n1554208460\n593BEC0C930BF1AFEB40B4A08C8FB242\n\n');
    expect(signedLines('GET', '/v3/certificates', '1554208460', '593BEC0C930BF1AFEB40B4A08C8FB242', '')).to.equal(
      Formatter.request('GET', '/v3/certificates', 1554208460, '593BEC0C930BF1AFEB40B4A08C8FB242', ''),
    );
  });

  it('signs a request the way the reference implementation verifies it, in its Authorization format', () => {
    const body = JSON.stringify({ mchid: '1900000109', out_trade_no: 'T20261203001', amount: { total: 1 } });
    const header = authorizationHeader({
      mchid: '1900000109',
      serialNo: 'ABCDEF0123456789',
      privateKey: merchant.privateKey,
      method: 'post',
      pathAndQuery: '/v3/pay/transactions/jsapi',
      body,
      timestamp: 1764720000,
      nonce: 'n0nce',
    });
    const m = /^WECHATPAY2-SHA256-RSA2048 mchid="1900000109",serial_no="ABCDEF0123456789",timestamp="1764720000",nonce_str="n0nce",signature="([^"]+)"$/.exec(header);
    expect(m, header).to.not.equal(null);
    const signature = (m as RegExpExecArray)[1] as string;
    expect(header).to.equal(Formatter.authorization('1900000109', 'n0nce', signature, 1764720000, 'ABCDEF0123456789'));
    expect(Rsa.verify(Formatter.request('POST', '/v3/pay/transactions/jsapi', 1764720000, 'n0nce', body), signature, merchant.publicKey)).to.equal(true);
    // Query strings are part of what is signed.
    const q = authorizationHeader({ mchid: '1', serialNo: 'S', privateKey: merchant.privateKey, method: 'GET', pathAndQuery: '/v3/x?mchid=1', body: '', timestamp: 1, nonce: 'n' });
    const sig = /signature="([^"]+)"/.exec(q)?.[1] as string;
    expect(Rsa.verify(Formatter.request('GET', '/v3/x?mchid=1', 1, 'n', ''), sig, merchant.publicKey)).to.equal(true);
    expect(Rsa.verify(Formatter.request('GET', '/v3/x?mchid=2', 1, 'n', ''), sig, merchant.publicKey)).to.equal(false);
  });

  describe('verifyPaySignature', () => {
    const keys = new Map([['PUB_KEY_ID_0119000001092025000000000000', platform.publicKey]]);
    const serial = 'PUB_KEY_ID_0119000001092025000000000000';
    const now = 1764720000;
    const body = '{"prepay_id":"wx201410272009395522657a690389285100"}';

    it('accepts an answer signed by the reference implementation with the key its serial names', () => {
      expect(verifyPaySignature(signedBy(platform.privateKey, serial, now, 'abc', body), body, keys, now)).to.deep.equal({ ok: true, serial });
    });
    it('refuses a changed body, another key, an unknown serial', () => {
      expect(verifyPaySignature(signedBy(platform.privateKey, serial, now, 'abc', body), body + ' ', keys, now)).to.deep.equal({ ok: false, reason: 'bad-signature' });
      expect(verifyPaySignature(signedBy(other.privateKey, serial, now, 'abc', body), body, keys, now)).to.deep.equal({ ok: false, reason: 'bad-signature' });
      expect(verifyPaySignature(signedBy(platform.privateKey, 'PUB_KEY_ID_OTHER', now, 'abc', body), body, keys, now)).to.deep.equal({ ok: false, reason: 'unknown-serial' });
    });
    it('refuses timestamps more than 5 minutes away, either way, and accepts the edge', () => {
      expect(verifyPaySignature(signedBy(platform.privateKey, serial, now - 301, 'abc', body), body, keys, now)).to.deep.equal({ ok: false, reason: 'stale' });
      expect(verifyPaySignature(signedBy(platform.privateKey, serial, now + 301, 'abc', body), body, keys, now)).to.deep.equal({ ok: false, reason: 'stale' });
      expect(verifyPaySignature(signedBy(platform.privateKey, serial, now - 300, 'abc', body), body, keys, now).ok).to.equal(true);
    });
    it('refuses missing, malformed and oversized headers without throwing', () => {
      const good = signedBy(platform.privateKey, serial, now, 'abc', body);
      for (const h of [
        {},
        { ...good, signature: undefined },
        { ...good, timestamp: '1e9' },
        { ...good, timestamp: '-1' },
        { ...good, nonce: 'x'.repeat(65) },
        { ...good, signature: '!!!!' },
      ]) {
        const r = verifyPaySignature(h as PaySignedHeaders, body, keys, now);
        expect(r.ok, JSON.stringify(h)).to.equal(false);
      }
      expect(verifyPaySignature({ ...good, signature: 'AAAA' }, body, keys, now)).to.deep.equal({ ok: false, reason: 'bad-signature' });
    });
  });

  it('makes wx.requestPayment parameters whose paySign the reference implementation verifies', () => {
    const p = requestPaymentParams('wx8888888888888888', 'wx201410272009395522657a690389285100', merchant.privateKey, 1414561699, '5K8264ILTKCH16CQ2502SI8ZNMTM67VS');
    expect(p).to.include({
      appId: 'wx8888888888888888',
      timeStamp: '1414561699',
      nonceStr: '5K8264ILTKCH16CQ2502SI8ZNMTM67VS',
      package: 'prepay_id=wx201410272009395522657a690389285100',
      signType: 'RSA',
    });
    const message = Formatter.joinedByLineFeed(p.appId, p.timeStamp, p.nonceStr, p.package);
    expect(message).to.equal('wx8888888888888888\n1414561699\n5K8264ILTKCH16CQ2502SI8ZNMTM67VS\nprepay_id=wx201410272009395522657a690389285100\n');
    expect(Rsa.verify(message, p.paySign, merchant.publicKey)).to.equal(true);
  });

  it('parses PKCS#8 and PKCS#1 private keys and SPKI public keys, and refuses the rest without echoing them', () => {
    expect(parsePrivateKey(pem(merchant.privateKey, 'pkcs8')).asymmetricKeyType).to.equal('rsa');
    expect(parsePrivateKey(pem(merchant.privateKey, 'pkcs1')).asymmetricKeyType).to.equal('rsa');
    expect(parsePublicKey(pem(platform.publicKey, 'spki')).asymmetricKeyType).to.equal('rsa');
    const ec = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    expect(() => parsePrivateKey(pem(ec.privateKey, 'pkcs8'))).to.throw('not an RSA private key');
    expect(() => parsePrivateKey('-----BEGIN PRIVATE KEY-----\nc2VjcmV0\n-----END PRIVATE KEY-----')).to.throw(/^not a PEM private key$/);
    expect(() => parsePublicKey('file:///etc/passwd')).to.throw(/^not a PEM public key or certificate$/);
  });
});

describe('protocol/wechatpay: resources', () => {
  const tx = JSON.stringify({ mchid: '1900000109', out_trade_no: 'T1', trade_state: 'SUCCESS' });

  it('decrypts what the reference implementation encrypts (AEAD_AES_256_GCM, nonce and associated_data)', () => {
    const nonce = 'fdasflkja484';
    const ciphertext = Aes.AesGcm.encrypt(tx, API_V3_KEY, nonce, 'transaction');
    expect(decryptResource({ algorithm: 'AEAD_AES_256_GCM', ciphertext, nonce, associated_data: 'transaction' }, API_V3_KEY)).to.equal(tx);
    expect(decryptResource({ algorithm: 'AEAD_AES_256_GCM', ciphertext: gcm(tx, API_V3_KEY, nonce, ''), nonce }, API_V3_KEY)).to.equal(tx);
  });

  it('refuses another key, other associated data, a tampered ciphertext, another algorithm and short input', () => {
    const nonce = 'fdasflkja484';
    const ciphertext = gcm(tx, API_V3_KEY, nonce, 'transaction');
    const r = { algorithm: 'AEAD_AES_256_GCM', ciphertext, nonce, associated_data: 'transaction' };
    expect(() => decryptResource(r, 'z'.repeat(32))).to.throw(PayResourceError, 'does not decrypt');
    expect(() => decryptResource({ ...r, associated_data: 'refund' }, API_V3_KEY)).to.throw(PayResourceError, 'does not decrypt');
    const bytes = Buffer.from(ciphertext, 'base64');
    bytes[0] = (bytes[0] as number) ^ 1;
    expect(() => decryptResource({ ...r, ciphertext: bytes.toString('base64') }, API_V3_KEY)).to.throw(PayResourceError, 'does not decrypt');
    expect(() => decryptResource({ ...r, algorithm: 'AES_CBC' }, API_V3_KEY)).to.throw(PayResourceError, 'unsupported algorithm');
    expect(() => decryptResource({ ...r, ciphertext: 'AAAA' }, API_V3_KEY)).to.throw(PayResourceError, 'too short');
    expect(() => decryptResource({ ...r, nonce: '' }, API_V3_KEY)).to.throw(PayResourceError, 'nonce');
    expect(() => decryptResource(r, 'short')).to.throw(PayResourceError, '32 bytes');
  });

  describe('decryptCertificates', () => {
    let dir = '';
    let certPem = '';
    before(() => {
      dir = mkdtempSync(path.join(os.tmpdir(), 'wxgate-cert-'));
      execFileSync(
        'openssl',
        ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', path.join(dir, 'k.pem'), '-out', path.join(dir, 'c.pem'), '-days', '30', '-subj', '/CN=Tenpay.com Root CA'],
        {
          stdio: 'ignore',
        },
      );
      certPem = readFileSync(path.join(dir, 'c.pem'), 'utf8');
    });
    after(() => rmSync(dir, { recursive: true, force: true }));

    const listing = (serial: string, pemText: string) => ({
      data: [
        {
          serial_no: serial,
          effective_time: '2026-01-01T00:00:00+08:00',
          expire_time: '2031-01-01T00:00:00+08:00',
          encrypt_certificate: { algorithm: 'AEAD_AES_256_GCM', nonce: '0123456789ab', associated_data: 'certificate', ciphertext: gcm(pemText, API_V3_KEY, '0123456789ab', 'certificate') },
        },
      ],
    });

    it('decrypts the listing and keeps certificates whose own serial is the listed one', () => {
      const serial = new X509Certificate(certPem).serialNumber;
      const certs = decryptCertificates(listing(serial, certPem), API_V3_KEY);
      expect(certs).to.have.length(1);
      expect(certs[0]?.serialNo).to.equal(serial);
      expect(createPublicKey(certs[0]?.pem as string).asymmetricKeyType).to.equal('rsa');
      expect(certs[0]?.expiresAt).to.equal(Date.parse('2031-01-01T00:00:00+08:00'));
    });

    it('refuses a certificate listed under another serial, a listing encrypted with another key, and a non-certificate', () => {
      expect(() => decryptCertificates(listing('0123ABCD', certPem), API_V3_KEY)).to.throw(PayResourceError, 'serial does not match');
      const serial = new X509Certificate(certPem).serialNumber;
      expect(() => decryptCertificates(listing(serial, certPem), 'y'.repeat(32))).to.throw(PayResourceError, 'does not decrypt');
      expect(() => decryptCertificates(listing(serial, 'hello'), API_V3_KEY)).to.throw(PayResourceError, 'not an X.509');
      expect(() => decryptCertificates({ data: 'x' }, API_V3_KEY)).to.throw(PayResourceError, 'malformed');
    });

    it('compares serials without case or leading zeros', () => {
      expect(normaliseSerial('00abC1')).to.equal('ABC1');
      expect(normaliseSerial('0')).to.equal('0');
    });
  });

  it('never needs the random source: the same inputs give the same paySign', () => {
    const a = requestPaymentParams('wx1', 'p', merchant.privateKey, 1, 'n').paySign;
    expect(requestPaymentParams('wx1', 'p', merchant.privateKey, 1, 'n').paySign).to.equal(a);
    expect(randomBytes(1)).to.have.length(1);
  });
});
