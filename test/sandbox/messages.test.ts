import { expect } from 'chai';
import { api, APP, classicToken, type Harness, startSandbox, tokenOf } from './helpers';

describe('sandbox: subscribe and custom messages', () => {
  let h: Harness;
  let token: string;
  beforeEach(async () => {
    h = await startSandbox();
    token = tokenOf(await classicToken(h));
  });
  afterEach(() => h.close());

  const SUB = '/cgi-bin/message/subscribe/send';
  const CUSTOM = '/cgi-bin/message/custom/send';
  const goodSub = {
    touser: 'o_user',
    template_id: 'TPL1',
    page: 'pages/index/index',
    data: { thing1: { value: 'hello' }, number2: { value: 3 } },
    miniprogram_state: 'trial',
    lang: 'zh_CN',
  };

  it('accepts and records a subscribe message', async () => {
    const r = await api(h, SUB, token, goodSub);
    expect(r).to.include({ errcode: 0, errmsg: 'ok' });
    expect(r.msgid).to.be.a('number');
    const sent = h.sb.sentMessages('subscribe');
    expect(sent).to.have.length(1);
    expect(sent[0].appid).to.equal(APP.appid);
    expect(sent[0].body).to.deep.equal(goodSub);
    expect(h.sb.sentMessages('custom')).to.have.length(0);
  });

  it('validates subscribe messages like WeChat and records nothing on error', async () => {
    const { touser: _t, ...noUser } = goodSub;
    const { template_id: _id, ...noTpl } = goodSub;
    expect((await api(h, SUB, token, noUser)).errcode).to.equal(40003);
    expect((await api(h, SUB, token, noTpl)).errcode).to.equal(40037);
    expect((await api(h, SUB, token, { ...goodSub, data: 'x' })).errcode).to.equal(47001);
    expect((await api(h, SUB, token, { ...goodSub, data: { a: 'x' } })).errcode).to.equal(47003);
    expect((await api(h, SUB, token, { ...goodSub, miniprogram_state: 'prod' })).errcode).to.equal(47001);
    expect(h.sb.sentMessages('subscribe')).to.have.length(0);
  });

  it('answers 47001 for a malformed JSON body and 44002 for an empty one', async () => {
    const bad = await h.http.post(SUB, '{"touser":', { params: { access_token: token }, headers: { 'content-type': 'application/json' } });
    expect(bad.data.errcode).to.equal(47001);
    const empty = await h.http.post(SUB, '', { params: { access_token: token } });
    expect(empty.data.errcode).to.equal(44002);
  });

  it('accepts and records custom messages of each type', async () => {
    const bodies = [
      { touser: 'o1', msgtype: 'text', text: { content: 'hi' } },
      { touser: 'o1', msgtype: 'image', image: { media_id: 'MID' } },
      { touser: 'o1', msgtype: 'link', link: { title: 't', description: 'd', url: 'https://x', thumb_url: 'https://x/t.png' } },
      { touser: 'o1', msgtype: 'miniprogrampage', miniprogrampage: { title: 't', pagepath: 'pages/a', thumb_media_id: 'M' } },
    ];
    for (const b of bodies) expect(await api(h, CUSTOM, token, b), b.msgtype).to.deep.equal({ errcode: 0, errmsg: 'ok' });
    expect(h.sb.sentMessages('custom').map((m) => m.body)).to.deep.equal(bodies);
  });

  it('validates custom messages', async () => {
    expect((await api(h, CUSTOM, token, { msgtype: 'text', text: { content: 'x' } })).errcode).to.equal(40003);
    const r = await api(h, CUSTOM, token, { touser: 'o1', msgtype: 'video', video: {} });
    expect(r.errcode).to.equal(40008);
    expect(r.errmsg).to.match(/^invalid message type rid: /);
    expect((await api(h, CUSTOM, token, { touser: 'o1', msgtype: 'text' })).errcode).to.equal(47001);
    expect((await api(h, CUSTOM, token, { touser: 'o1', msgtype: 'text', text: {} })).errcode).to.equal(47001);
    expect(h.sb.sentMessages('custom')).to.have.length(0);
  });

  it('sentMessages returns copies', async () => {
    await api(h, SUB, token, goodSub);
    h.sb.sentMessages('subscribe')[0].body.touser = 'changed';
    expect(h.sb.sentMessages('subscribe')[0].body.touser).to.equal('o_user');
  });
});
