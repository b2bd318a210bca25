import { expect } from 'chai';
import { WeChatApiError, AppError } from '../../../src/kernel/errors';
import { SecretBox } from '../../../src/tenancy/secret-box';
import { loadConfig } from '../../../src/kernel/config';
import { toAppError } from '../../../src/http/error-handler';

const KEY = Buffer.alloc(32, 3).toString('base64');

describe('WeChatApiError', () => {
  it('keeps errcode and parses the rid out of errmsg', () => {
    const e = new WeChatApiError(40001, 'invalid credential, access_token is invalid or not latest rid: 6565a1b2-0c3d4e5f-1a2b3c4d', '/cgi-bin/x');
    expect(e.errcode).to.equal(40001);
    expect(e.rid).to.equal('6565a1b2-0c3d4e5f-1a2b3c4d');
    expect(e.message).not.to.contain('access_token=');
  });

  it('maps to 502 WECHAT_API_ERROR with errcode and rid, and nothing else', () => {
    const e = toAppError(new WeChatApiError(48001, 'api unauthorized rid: abc-def', '/wxa/x'));
    expect(e.status).to.equal(502);
    expect(e.code).to.equal('WECHAT_API_ERROR');
    expect(e.details).to.deep.equal({ errcode: 48001, rid: 'abc-def' });
  });

  it('maps body-parser failures to 4xx codes', () => {
    const syntax = Object.assign(new SyntaxError('Unexpected token'), { status: 400 });
    expect(toAppError(syntax).code).to.equal('MALFORMED_JSON');
    const zlib = Object.assign(new Error('incorrect header check'), { code: 'Z_DATA_ERROR', errno: -3 });
    expect([toAppError(zlib).status, toAppError(zlib).code]).to.deep.equal([400, 'BAD_REQUEST']);
    const big = Object.assign(new Error('too large'), { status: 413, type: 'entity.too.large' });
    expect(toAppError(big).code).to.equal('PAYLOAD_TOO_LARGE');
  });

  it('maps unknown errors to 500 INTERNAL without their message', () => {
    const e = toAppError(new Error('secret stuff at /srv/app.js:1'));
    expect([e.status, e.code, e.message]).to.deep.equal([500, 'INTERNAL', 'internal error']);
    expect(toAppError(new AppError(429, 'WECHAT_RATE_LIMITED', 'x')).code).to.equal('WECHAT_RATE_LIMITED');
  });
});

describe('SecretBox', () => {
  const box = new SecretBox(KEY);

  it('round-trips and never contains the plaintext', () => {
    const sealed = box.seal('my-app-secret', 'tenant:wx1:secret');
    expect(sealed).to.match(/^v2\./);
    expect(sealed).not.to.contain('my-app-secret');
    expect(box.open(sealed, 'tenant:wx1:secret')).to.equal('my-app-secret');
    expect(box.seal('my-app-secret', 'tenant:wx1:secret')).not.to.equal(sealed);
  });

  it('refuses a value moved to another tenant or field, a tampered value, or another key', () => {
    const sealed = box.seal('s', 'tenant:wx1:secret');
    expect(() => box.open(sealed, 'tenant:wx2:secret')).to.throw(/cannot decrypt/);
    expect(() => box.open(sealed, 'tenant:wx1:token')).to.throw(/cannot decrypt/);
    const parts = sealed.split('.');
    // Flip a bit of the ciphertext (a random replacement byte could equal the original).
    const ct = Buffer.from(parts[4]!, 'base64url');
    ct[0] = ct[0]! ^ 1;
    parts[4] = ct.toString('base64url');
    expect(() => box.open(parts.join('.'), 'tenant:wx1:secret')).to.throw(/cannot decrypt/);
    expect(() => new SecretBox(Buffer.alloc(32, 4).toString('base64')).open(sealed, 'tenant:wx1:secret')).to.throw(/cannot decrypt/);
  });
});

describe('config', () => {
  const base = { SECRETS_KEY: KEY, ADMIN_TOKEN: 'x'.repeat(20) };
  it('applies the documented defaults', () => {
    const c = loadConfig(base);
    expect(c.PORT).to.equal(3000);
    expect(c.MONGODB_URI).to.equal('mongodb://127.0.0.1:27017/wxgate');
    expect(c.REDIS_URL).to.equal('redis://127.0.0.1:6379');
    expect(c.WECHAT_API_BASE).to.equal('https://api.weixin.qq.com');
    expect(c.WECHAT_TIMEOUT_MS).to.equal(5000);
  });
  it('names the variable and never echoes a secret', () => {
    expect(() => loadConfig({ ...base, PORT: 'abc' })).to.throw(/^PORT: expected an integer between 0 and 65535/);
    expect(() => loadConfig({ ...base, SECRETS_KEY: 'c2hvcnQ=' })).to.throw(/SECRETS_KEY: .*<8 chars>/);
    expect(() => loadConfig({ ADMIN_TOKEN: 'x'.repeat(20) })).to.throw(/^SECRETS_KEY: is required/);
  });
});
