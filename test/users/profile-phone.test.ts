import { expect } from 'chai';
import { encryptUserData, rawDataSignature, startHarness, type Harness, type TenantHandle } from '../support/harness';

describe('users: profile and phone (gateway process + sandbox)', function () {
  this.timeout(60_000);
  let h: Harness;
  let A: TenantHandle;
  let B: TenantHandle;

  before(async () => {
    h = await startHarness(1);
    A = await h.tenant();
    B = await h.tenant();
  });
  after(async () => h.close());

  const userInfo = {
    nickName: '小明 Ming',
    gender: 1,
    language: 'zh_CN',
    city: 'Guangzhou',
    province: 'Guangdong',
    country: 'China',
    avatarUrl: 'https://thirdwx.qlogo.cn/mmopen/vi_32/abc/132',
  };

  async function loggedIn(tenant: TenantHandle, name = 'p' + Date.now() + Math.floor(Math.random() * 1e6)) {
    const u = await h.newUser(tenant.appid, name);
    return { ...u, sessionKey: h.sandbox.sessionKeyOf(tenant.appid, u.openid)! };
  }

  const profileOf = (sessionKey: string, appid: string, openid?: string) =>
    encryptUserData(sessionKey, { ...(openid ? { openId: openid } : {}), ...userInfo, watermark: { appid, timestamp: Math.floor(Date.now() / 1000) } });

  it('stores the decrypted profile when rawData is signed with the session key', async () => {
    const u = await loggedIn(A);
    const rawData = JSON.stringify(userInfo);
    const r = await h.req('POST', `/${A.appid}/users/me/profile`, {
      auth: u.token,
      json: { ...profileOf(u.sessionKey, A.appid, u.openid), rawData, signature: rawDataSignature(rawData, u.sessionKey) },
    });
    expect(r.status, r.text).to.equal(200);
    expect(r.json.profile).to.deep.equal(userInfo);
    expect(r.text).not.to.include(u.sessionKey);

    const doc = await h.users().findOne({ appid: A.appid, openid: u.openid });
    expect(doc!.profile).to.deep.equal(userInfo);
    expect(doc!.profileUpdatedAt).to.be.instanceOf(Date);
    const me = await h.req('GET', `/${A.appid}/users/me`, { auth: u.token });
    expect(me.json.profile).to.deep.equal(userInfo);
    expect(me.text).not.to.include(u.sessionKey);
  });

  it('accepts the whole getUserProfile result (extra fields ignored) and data without rawData', async () => {
    const u = await loggedIn(A);
    const r = await h.req('POST', `/${A.appid}/users/me/profile`, {
      auth: u.token,
      json: { ...profileOf(u.sessionKey, A.appid), errMsg: 'getUserProfile:ok', cloudID: 'x', userInfo },
    });
    expect(r.status, r.text).to.equal(200);
    expect(r.json.profile.nickName).to.equal(userInfo.nickName);
  });

  it("refuses a forged signature, another app's watermark, a stale session key and bad base64", async () => {
    const u = await loggedIn(A);
    const rawData = JSON.stringify(userInfo);
    const data = profileOf(u.sessionKey, A.appid, u.openid);
    const post = (json: unknown) => h.req('POST', `/${A.appid}/users/me/profile`, { auth: u.token, json });

    const forged = await post({ ...data, rawData, signature: rawDataSignature(rawData, 'AAAAAAAAAAAAAAAAAAAAAA==') });
    expect([forged.status, forged.json.error.code]).to.deep.equal([400, 'INVALID_SIGNATURE']);
    const tampered = await post({ ...data, rawData: rawData.replace('Ming', 'Evil'), signature: rawDataSignature(rawData, u.sessionKey) });
    expect([tampered.status, tampered.json.error.code]).to.deep.equal([400, 'INVALID_SIGNATURE']);

    const otherApp = await post(profileOf(u.sessionKey, B.appid, u.openid));
    expect([otherApp.status, otherApp.json.error.code]).to.deep.equal([400, 'WATERMARK_MISMATCH']);

    const otherUser = await post(profileOf(u.sessionKey, A.appid, 'o_somebody_else'));
    expect([otherUser.status, otherUser.json.error.code]).to.deep.equal([400, 'INVALID_ENCRYPTED_DATA']);

    const badB64 = await post({ encryptedData: 'not base64!!', iv: data.iv });
    expect([badB64.status, badB64.json.error.code]).to.deep.equal([400, 'INVALID_ENCRYPTED_DATA']);
    const shortIv = await post({ encryptedData: data.encryptedData, iv: 'AAAA' });
    expect([shortIv.status, shortIv.json.error.code]).to.deep.equal([400, 'INVALID_ENCRYPTED_DATA']);

    // A new wx.login replaces the session key: data encrypted with the old one is stale.
    await h.login(A.appid, `test:${u.openid.slice(`o_${A.appid}_`.length)}`);
    const stale = await post(data);
    expect([stale.status, stale.json.error.code]).to.deep.equal([400, 'SESSION_KEY_STALE']);
    expect(stale.text).not.to.include(u.sessionKey);

    const doc = await h.users().findOne({ appid: A.appid, openid: u.openid });
    expect(doc!.profile).to.equal(undefined);
  });

  it('stores the phone number from a getPhoneNumber code; a used, unknown or foreign code is PHONE_CODE_INVALID', async () => {
    const u = await loggedIn(A);
    const code = h.sandbox.issuePhoneCode(A.appid, '13800138000');
    const r = await h.req('POST', `/${A.appid}/users/me/phone`, { auth: u.token, json: { code } });
    expect(r.status, r.text).to.equal(200);
    expect(r.json.phone).to.deep.equal({ phoneNumber: '13800138000', purePhoneNumber: '13800138000', countryCode: '86' });
    const doc = await h.users().findOne({ appid: A.appid, openid: u.openid });
    expect(doc!.phone).to.deep.equal(r.json.phone);
    expect((await h.req('GET', `/${A.appid}/users/me`, { auth: u.token })).json.phone).to.deep.equal(r.json.phone);

    for (const bad of [code, 'no-such-code', h.sandbox.issuePhoneCode(B.appid, '13900000000')]) {
      const again = await h.req('POST', `/${A.appid}/users/me/phone`, { auth: u.token, json: { code: bad } });
      expect(again.status, again.text).to.equal(400);
      expect(again.json.error.code).to.equal('PHONE_CODE_INVALID');
    }
  });

  it('stores a foreign phone number from the legacy encrypted form', async () => {
    const u = await loggedIn(A);
    const phone = { phoneNumber: '+15550100', purePhoneNumber: '5550100', countryCode: '1' };
    const enc = encryptUserData(u.sessionKey, { ...phone, watermark: { appid: A.appid, timestamp: 1 } });
    const r = await h.req('POST', `/${A.appid}/users/me/phone`, { auth: u.token, json: enc });
    expect(r.status, r.text).to.equal(200);
    expect(r.json.phone).to.deep.equal(phone);
    // userInfo data posted as a phone is refused
    const wrongKind = await h.req('POST', `/${A.appid}/users/me/phone`, { auth: u.token, json: profileOf(u.sessionKey, A.appid) });
    expect([wrongKind.status, wrongKind.json.error.code]).to.deep.equal([400, 'INVALID_ENCRYPTED_DATA']);
  });
});
