import { expect } from 'chai';
import { AppError, WeChatApiError } from '../../../src/kernel/errors';
import { loginErrorFor } from '../../../src/wechat/login-errors';

const API = '/sns/jscode2session';
const SECRET = 'a1b2c3d4e5f60718293a4b5c6d7e8f90';

function wxErr(errcode: number, errmsg = `some error rid: 64f0a1b2-1c2d3e4f-5a6b7c8d`): WeChatApiError {
  return new WeChatApiError(errcode, errmsg, API);
}

function mapped(errcode: number, errmsg?: string): AppError {
  const out = loginErrorFor(wxErr(errcode, errmsg));
  expect(out, `errcode ${errcode}`).to.be.instanceOf(AppError);
  return out as AppError;
}

describe('users/login-errors', () => {
  it('maps 40029 (invalid code) to 400 LOGIN_CODE_INVALID asking for wx.login again', () => {
    const e = mapped(40029, 'invalid code, rid: 6500-abc');
    expect(e.status).to.equal(400);
    expect(e.code).to.equal('LOGIN_CODE_INVALID');
    expect(e.message).to.match(/call wx\.login again/);
    expect(e.headers).to.deep.equal({});
  });

  it('maps 40163 (code been used) to 400 LOGIN_CODE_INVALID asking for wx.login again', () => {
    const e = mapped(40163, 'code been used, rid: 6500-abc');
    expect(e.status).to.equal(400);
    expect(e.code).to.equal('LOGIN_CODE_INVALID');
    expect(e.message).to.match(/call wx\.login again/);
  });

  it('maps 40226 (high-risk user) to 403 LOGIN_BLOCKED', () => {
    const e = mapped(40226);
    expect(e.status).to.equal(403);
    expect(e.code).to.equal('LOGIN_BLOCKED');
  });

  it('maps 45011 (too frequent) to 429 WECHAT_RATE_LIMITED with Retry-After: 60', () => {
    const e = mapped(45011);
    expect(e.status).to.equal(429);
    expect(e.code).to.equal('WECHAT_RATE_LIMITED');
    expect(e.headers).to.deep.equal({ 'Retry-After': '60' });
  });

  it('returns undefined for every other errcode', () => {
    for (const code of [-1, 0, 40001, 40013, 40125, 40164, 41002, 41004, 45009, 48001, 99999]) {
      expect(loginErrorFor(wxErr(code)), `errcode ${code}`).to.equal(undefined);
    }
  });

  it('passes on only non-secret details (errcode and rid), never errmsg', () => {
    const e = mapped(40029, 'invalid code, rid: 64f0a1b2-1c2d3e4f-5a6b7c8d');
    expect(e.details).to.deep.equal({ errcode: 40029, rid: '64f0a1b2-1c2d3e4f-5a6b7c8d' });
    const noRid = mapped(40226, 'risky user');
    expect(noRid.details).to.deep.equal({ errcode: 40226 });
  });

  it('never puts the secret (or anything else from errmsg) in the message or details', () => {
    for (const code of [40029, 40163, 40226, 45011]) {
      const e = mapped(code, `echo secret=${SECRET} js_code=081abc rid: 1-2-3`);
      expect(e.message).to.not.include(SECRET);
      expect(e.message).to.not.include('js_code');
      expect(JSON.stringify(e.details)).to.not.include(SECRET);
      expect(JSON.stringify(e.headers)).to.not.include(SECRET);
    }
  });

  it('keeps the WeChat error as the cause for server-side logging', () => {
    const src = wxErr(45011);
    const e = loginErrorFor(src) as AppError;
    expect(e.cause).to.equal(src);
  });
});
