import { randomBytes } from 'node:crypto';
import { expect } from 'chai';
import { AppError } from '../../../src/kernel/errors';
import { aesKeyFromEncodingKey, encryptMessage } from '../../../src/protocol/msg-crypto';
import { msgSignature } from '../../../src/protocol/signature';
import { openPlatformEvent, type EventQuery } from '../../../src/platform/platform-events';

const hex = (n: number) => randomBytes(n).toString('hex');
const COMPONENT = 'wx' + hex(8);
const KEYS = { token: 'platformToken' + hex(3), aesKey: randomBytes(32).toString('base64').slice(0, 43) };
const NOW = 1_700_000_000;
const WINDOW = 300;

const xml = (fields: Record<string, string | number>) =>
  `<xml>${Object.entries(fields)
    .map(([k, v]) => `<${k}><![CDATA[${v}]]></${k}>`)
    .join('')}</xml>`;

/** An event as WeChat posts it: the inner XML encrypted for `cipherAppid`, signed with `token`. */
function build(
  inner: string,
  o: { cipherAppid?: string; aesKey?: string; token?: string; timestamp?: number; nonce?: string; envelope?: (encrypt: string) => string } = {},
): { q: EventQuery; body: string } {
  const encrypt = encryptMessage(aesKeyFromEncodingKey(o.aesKey ?? KEYS.aesKey), o.cipherAppid ?? COMPONENT, inner);
  const timestamp = String(o.timestamp ?? NOW);
  const nonce = o.nonce ?? '123456789';
  const q = { timestamp, nonce, encrypt_type: 'aes', msg_signature: msgSignature(o.token ?? KEYS.token, timestamp, nonce, encrypt) };
  return { q, body: o.envelope ? o.envelope(encrypt) : xml({ AppId: COMPONENT, Encrypt: encrypt }) };
}

const ticketXml = (o: Record<string, string | number> = {}) =>
  xml({ AppId: COMPONENT, CreateTime: NOW, InfoType: 'component_verify_ticket', ComponentVerifyTicket: 'ticket@@@' + hex(20), ...o });
const open = (e: { q: EventQuery; body: string }, now = NOW) => openPlatformEvent(COMPONENT, KEYS, e.q, e.body, now, WINDOW);

function refused(fn: () => unknown, status: number, code: string): AppError {
  let thrown: unknown;
  try {
    fn();
  } catch (err) {
    thrown = err;
  }
  expect(thrown, `expected ${code}`).to.be.instanceOf(AppError);
  const err = thrown as AppError;
  expect([err.status, err.code], err.message).to.deep.equal([status, code]);
  // Nothing secret in what the caller is told.
  expect(err.message).to.not.contain(KEYS.token).and.not.contain(KEYS.aesKey);
  return err;
}

/** Refused with a 4xx AppError whose code depends on where the garbage happens to break decryption. */
function refusedWithin(fn: () => unknown): AppError {
  try {
    fn();
  } catch (err) {
    expect(err).to.be.instanceOf(AppError);
    expect((err as AppError).status).to.be.within(400, 499);
    return err as AppError;
  }
  throw new Error('not refused');
}

describe('platform events (pure)', () => {
  it('opens the four event kinds and an unknown one', () => {
    const appid = 'wx' + hex(8);
    expect(open(build(ticketXml({ ComponentVerifyTicket: 'ticket@@@abc' })))).to.deep.equal({ kind: 'ticket', ticket: 'ticket@@@abc', createTime: NOW });
    for (const kind of ['authorized', 'updateauthorized'] as const) {
      const e = open(
        build(xml({ AppId: COMPONENT, CreateTime: NOW, InfoType: kind, AuthorizerAppid: appid, AuthorizationCode: 'queryauthcode@@@x', AuthorizationCodeExpiredTime: NOW + 3600 })),
      );
      expect(e).to.deep.equal({ kind, authorizerAppid: appid, authorizationCode: 'queryauthcode@@@x', createTime: NOW });
    }
    expect(open(build(xml({ AppId: COMPONENT, CreateTime: NOW, InfoType: 'unauthorized', AuthorizerAppid: appid })))).to.deep.equal({
      kind: 'unauthorized',
      authorizerAppid: appid,
      createTime: NOW,
    });
    expect(open(build(xml({ AppId: COMPONENT, CreateTime: NOW, InfoType: 'notify_third_fasteregister'.repeat(5) }))).kind).to.equal('other');
  });

  it('missing, malformed or oversized query parameters: 400 INVALID_QUERY, before the body is looked at', () => {
    const e = build(ticketXml());
    for (const q of [
      {},
      { ...e.q, timestamp: undefined },
      { ...e.q, nonce: undefined },
      { ...e.q, msg_signature: undefined },
      { ...e.q, msg_signature: '' },
      { ...e.q, timestamp: '17e8' },
      { ...e.q, timestamp: '-1' },
      { ...e.q, timestamp: '1'.repeat(13) },
      { ...e.q, nonce: 'a b' },
      { ...e.q, nonce: 'n'.repeat(65) },
      { ...e.q, nonce: '<script>' },
    ])
      refused(() => openPlatformEvent(COMPONENT, KEYS, q as EventQuery, 'garbage', NOW, WINDOW), 400, 'INVALID_QUERY');
  });

  it('forged msg_signature (another token, another Encrypt, another timestamp or nonce): 401 INVALID_SIGNATURE before decrypting', () => {
    const e = build(ticketXml());
    refused(() => open(build(ticketXml(), { token: 'someoneElsesToken' })), 401, 'INVALID_SIGNATURE');
    refused(() => open({ q: { ...e.q, msg_signature: '0'.repeat(40) }, body: e.body }), 401, 'INVALID_SIGNATURE');
    refused(() => open({ q: { ...e.q, msg_signature: e.q.msg_signature!.toUpperCase() + 'x' }, body: e.body }), 401, 'INVALID_SIGNATURE');
    refused(() => open({ q: { ...e.q, nonce: '987654321' }, body: e.body }), 401, 'INVALID_SIGNATURE');
    refused(() => open({ q: { ...e.q, timestamp: String(NOW + 1) }, body: e.body }), 401, 'INVALID_SIGNATURE');
    const other = build(ticketXml());
    refused(() => open({ q: e.q, body: other.body }), 401, 'INVALID_SIGNATURE');
    // A signature over a garbage Encrypt still has to match before anything is decrypted.
    refused(() => open({ q: e.q, body: xml({ Encrypt: 'not base64 at all' }) }), 401, 'INVALID_SIGNATURE');
  });

  it('stale or future timestamps: 401 STALE_TIMESTAMP', () => {
    refused(() => open(build(ticketXml()), NOW + WINDOW + 1), 401, 'STALE_TIMESTAMP');
    refused(() => open(build(ticketXml()), NOW - WINDOW - 1), 401, 'STALE_TIMESTAMP');
    refused(() => open(build(ticketXml(), { timestamp: 0 })), 401, 'STALE_TIMESTAMP');
    expect(open(build(ticketXml()), NOW + WINDOW).kind).to.equal('ticket');
  });

  it('an event encrypted for another platform (same key and token): 401 APPID_MISMATCH', () => {
    refused(() => open(build(ticketXml(), { cipherAppid: 'wx' + hex(8) })), 401, 'APPID_MISMATCH');
  });

  it('an event whose inner AppId differs from the component (or is missing): 401 APPID_MISMATCH', () => {
    refused(() => open(build(ticketXml({ AppId: 'wx' + hex(8) }))), 401, 'APPID_MISMATCH');
    refused(() => open(build(xml({ CreateTime: NOW, InfoType: 'component_verify_ticket', ComponentVerifyTicket: 't' }))), 401, 'APPID_MISMATCH');
  });

  it('a ciphertext of another key, or not a ciphertext: 400 DECRYPT_FAILED / INVALID_CIPHERTEXT', () => {
    const wrongKey = build(ticketXml(), { aesKey: randomBytes(32).toString('base64').slice(0, 43) });
    const err = refusedWithin(() => open(wrongKey));
    expect(['DECRYPT_FAILED', 'INVALID_CIPHERTEXT', 'APPID_MISMATCH']).to.include(err.code);
    const ts = String(NOW);
    const encrypt = 'QUJD';
    const q = { timestamp: ts, nonce: '1', msg_signature: msgSignature(KEYS.token, ts, '1', encrypt) };
    const e = refusedWithin(() => open({ q, body: xml({ Encrypt: encrypt }) }));
    expect(e.status).to.equal(400);
    expect(['INVALID_CIPHERTEXT', 'DECRYPT_FAILED']).to.include(e.code);
  });

  it('envelope problems: not XML, no Encrypt, duplicated Encrypt, DOCTYPE, too long a field', () => {
    const e = build(ticketXml());
    refused(() => open({ q: e.q, body: '' }), 400, 'MALFORMED_BODY');
    refused(() => open({ q: e.q, body: '{"Encrypt":"x"}' }), 400, 'MALFORMED_BODY');
    refused(() => open({ q: e.q, body: xml({ AppId: COMPONENT }) }), 400, 'MALFORMED_BODY');
    refused(() => open(build(ticketXml(), { envelope: (enc) => `<xml><Encrypt>${enc}</Encrypt><Encrypt>${enc}</Encrypt></xml>` })), 400, 'MALFORMED_BODY');
    refused(() => open(build(ticketXml(), { envelope: (enc) => `<!DOCTYPE xml [<!ENTITY e "${enc}">]><xml><Encrypt>&e;</Encrypt></xml>` })), 400, 'XML_FORBIDDEN');
    refused(() => open(build(ticketXml(), { envelope: (enc) => `<?xml-stylesheet href="x"?><xml><Encrypt>${enc}</Encrypt></xml>` })), 400, 'XML_FORBIDDEN');
    refused(() => open(build(ticketXml(), { envelope: (enc) => `<xml><Encrypt><![CDATA[${enc}]]>]]></Encrypt></xml>` })), 400, 'MALFORMED_BODY');
    refused(() => open({ q: e.q, body: xml({ Encrypt: 'A'.repeat(9000) }) }), 400, 'BODY_TOO_COMPLEX');
  });

  it('inner problems: not flat XML, DOCTYPE inside the ciphertext, duplicated fields, bad CreateTime, ticket and code sizes, authorizer appid', () => {
    refused(() => open(build('plain text')), 400, 'MALFORMED_MESSAGE');
    refused(() => open(build(`<!DOCTYPE xml [<!ENTITY t "x">]>${ticketXml()}`)), 400, 'XML_FORBIDDEN');
    refused(() => open(build(ticketXml().replace('</xml>', '<InfoType>unauthorized</InfoType></xml>'))), 400, 'MALFORMED_MESSAGE');
    refused(() => open(build(ticketXml().replace('</xml>', '<ComponentVerifyTicket>second</ComponentVerifyTicket></xml>'))), 400, 'MALFORMED_MESSAGE');
    for (const t of ['', '0', '-5', '1.5', 'soon', '99999999999999999999'])
      refused(() => open(build(xml({ AppId: COMPONENT, CreateTime: t, InfoType: 'component_verify_ticket', ComponentVerifyTicket: 't' }))), 400, 'MALFORMED_MESSAGE');
    refused(() => open(build(ticketXml({ ComponentVerifyTicket: '' }))), 400, 'MALFORMED_MESSAGE');
    refused(() => open(build(ticketXml({ ComponentVerifyTicket: 't'.repeat(513) }))), 400, 'MALFORMED_MESSAGE');
    refused(() => open(build(ticketXml({ ComponentVerifyTicket: 't'.repeat(9000) }))), 400, 'BODY_TOO_COMPLEX');
    const auth = (o: Record<string, string | number>) => xml({ AppId: COMPONENT, CreateTime: NOW, InfoType: 'authorized', AuthorizerAppid: 'wx' + hex(8), AuthorizationCode: 'code', ...o });
    refused(() => open(build(auth({ AuthorizationCode: '' }))), 400, 'MALFORMED_MESSAGE');
    refused(() => open(build(auth({ AuthorizationCode: 'c'.repeat(513) }))), 400, 'MALFORMED_MESSAGE');
    for (const a of ['', 'wx123', 'WX' + hex(8), 'wx' + hex(8).toUpperCase(), `wx${hex(8)}<x>`]) refused(() => open(build(auth({ AuthorizerAppid: a }))), 400, 'MALFORMED_MESSAGE');
    refused(() => open(build(xml({ AppId: COMPONENT, CreateTime: NOW, InfoType: 'unauthorized' }))), 400, 'MALFORMED_MESSAGE');
  });

  it('an unknown InfoType is cut to 64 characters (it reaches the log)', () => {
    const e = open(build(xml({ AppId: COMPONENT, CreateTime: NOW, InfoType: 'x'.repeat(500) })));
    expect(e).to.deep.equal({ kind: 'other', infoType: 'x'.repeat(64), createTime: NOW });
  });
});
