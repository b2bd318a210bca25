import { randomBytes } from 'node:crypto';
import { expect } from 'chai';
import { APP2, classicToken, type Harness, startSandbox, tokenOf, type WxBody } from './helpers';

describe('sandbox: temporary media', () => {
  let h: Harness;
  let token: string;
  beforeEach(async () => {
    h = await startSandbox();
    token = tokenOf(await classicToken(h));
  });
  afterEach(() => h.close());

  const upload = async (type: string, bytes: Buffer, filename: string, mime: string, tok = token): Promise<WxBody> => {
    const form = new FormData();
    form.append('media', new Blob([new Uint8Array(bytes)], { type: mime }), filename);
    const r = await h.http.post<WxBody>('/cgi-bin/media/upload', form, { params: { access_token: tok, type } });
    return r.data;
  };

  it('round-trips an image: upload then get returns the same bytes and type', async () => {
    const bytes = randomBytes(50_000);
    const up = await upload('image', bytes, 'photo.png', 'image/png');
    expect(up.errcode).to.equal(undefined);
    expect(up.type).to.equal('image');
    expect(up.media_id).to.be.a('string');
    expect(up.created_at).to.equal(Math.floor(h.clock.now() / 1000));
    const got = await h.http.get<ArrayBuffer>('/cgi-bin/media/get', {
      params: { access_token: token, media_id: up.media_id },
      responseType: 'arraybuffer',
    });
    expect(got.headers['content-type']).to.equal('image/png');
    expect(Buffer.from(got.data).equals(bytes)).to.equal(true);
  });

  it('derives the content type from the extension when the part is octet-stream', async () => {
    const up = await upload('voice', Buffer.from('#!AMR\n....'), 'v.amr', 'application/octet-stream');
    const got = await h.http.get('/cgi-bin/media/get', { params: { access_token: token, media_id: up.media_id }, responseType: 'arraybuffer' });
    expect(got.headers['content-type']).to.equal('audio/amr');
  });

  it('answers JSON 40007 for unknown media ids and for another app', async () => {
    const r = await h.http.get('/cgi-bin/media/get', { params: { access_token: token, media_id: 'nope' } });
    expect(r.headers['content-type']).to.match(/^application\/json/);
    expect(r.data.errcode).to.equal(40007);
    const up = await upload('image', Buffer.from('x'), 'a.jpg', 'image/jpeg');
    const other = tokenOf(await classicToken(h, APP2));
    const r2 = await h.http.get('/cgi-bin/media/get', { params: { access_token: other, media_id: up.media_id } });
    expect(r2.data.errcode).to.equal(40007);
  });

  it('forgets media after 3 days', async () => {
    const up = await upload('image', Buffer.from('x'), 'a.jpg', 'image/jpeg');
    h.clock.advance(3 * 24 * 3600 * 1000);
    const fresh = tokenOf(await classicToken(h));
    const r = await h.http.get('/cgi-bin/media/get', { params: { access_token: fresh, media_id: up.media_id } });
    expect(r.data.errcode).to.equal(40007);
  });

  it('refuses images over 10 MB with 40006, also when the body is refused unread', async () => {
    expect((await upload('image', Buffer.alloc(10 * 1024 * 1024 + 1), 'big.png', 'image/png')).errcode).to.equal(40006);
    expect((await upload('file', Buffer.alloc(3 * 1024 * 1024), 'big.png', 'image/png')).errcode).to.equal(40004);
    expect((await upload('image', Buffer.alloc(10 * 1024 * 1024), 'max.png', 'image/png')).type).to.equal('image');
  });

  it('checks type (40004), file type (40005), size (40006) and a missing part (41005)', async () => {
    expect((await upload('file', Buffer.from('x'), 'a.png', 'image/png')).errcode).to.equal(40004);
    expect((await upload('image', Buffer.from('x'), 'a.txt', 'text/plain')).errcode).to.equal(40005);
    expect((await upload('image', Buffer.from('x'), 'noext', 'image/png')).errcode).to.equal(40005);
    expect((await upload('thumb', Buffer.alloc(64 * 1024 + 1), 't.jpg', 'image/jpeg')).errcode).to.equal(40006);
    expect((await upload('thumb', Buffer.alloc(64 * 1024), 't.jpg', 'image/jpeg')).type).to.equal('thumb');
    const form = new FormData();
    form.append('other', new Blob([new Uint8Array([1])]), 'a.png');
    const r = await h.http.post('/cgi-bin/media/upload', form, { params: { access_token: token, type: 'image' } });
    expect(r.data.errcode).to.equal(41005);
  });
});
