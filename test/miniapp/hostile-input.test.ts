/**
 * Hostile input on every users and mini-program endpoint: each case must be answered with a 4xx
 * JSON error carrying a stable code, never a 5xx. Table-driven: every endpoint gets the credential
 * cases that fit its auth, the body cases that fit its input kind, and its own bad values.
 */
import { randomBytes } from 'node:crypto';
import { gzipSync } from 'node:zlib';
import { expect } from 'chai';
import { encryptUserData, rawDataSignature, sessionRedisKey, startHarness, type Harness, type ReqOptions, type TenantHandle } from '../support/harness';

type Auth = 'none' | 'session' | 'key' | 'either';
type Input = 'json' | 'multipart' | 'none';

interface Endpoint {
  name: string;
  method: 'GET' | 'POST';
  path: string;
  auth: Auth;
  input: Input;
  /** Body limit of a JSON endpoint, bytes. */
  limit?: number;
  /** A valid body (JSON endpoints), used to show a case fails for the intended reason only. */
  valid?: () => unknown;
  /** Whether `{}` is a valid body. */
  emptyOk?: boolean;
  /** Whether unknown fields are refused. */
  strict?: boolean;
  /** Endpoint-specific bad bodies: [label, body (or a function computing it at test time), status, code]. */
  bad?: () => [string, unknown, number, string][];
}

interface Case {
  label: string;
  /** `path` is relative to /<appid of tenant A> unless `absolute`. */
  req: () => Promise<ReqOptions & { method?: string; path?: string; absolute?: boolean }>;
  status: number;
  code: string;
}

const forgedSession = () => randomBytes(32).toString('base64url');
const forgedKey = () => `wxk_${randomBytes(8).toString('hex')}_${randomBytes(32).toString('base64url')}`;

describe('hostile input on every endpoint: 4xx JSON with a stable code, never 5xx', function () {
  this.timeout(120_000);
  let h: Harness;
  let A: TenantHandle;
  let B: TenantHandle;
  let userA: { token: string; openid: string };
  let userB: { token: string; openid: string };
  let expired: string;
  let revokedKey: string;
  let sessionKeyA: string;

  before(async () => {
    h = await startHarness(1);
    A = await h.tenant();
    B = await h.tenant();
    userA = await h.newUser(A.appid, 'hostile-a');
    userB = await h.newUser(B.appid, 'hostile-b');
    sessionKeyA = h.sandbox.sessionKeyOf(A.appid, userA.openid)!;
    const e = await h.newUser(A.appid, 'hostile-expired');
    await h.redis.del(sessionRedisKey(e.token));
    expired = e.token;
    revokedKey = await h.stores.key(A.appid, 'revoked');
    const keyId = /^wxk_([0-9a-f]{16})_/.exec(revokedKey)![1]!;
    await h.stores.keys.revoke(A.appid, keyId);
  });
  after(async () => h.close());

  const profileData = () => encryptUserData(sessionKeyA, { nickName: 'n', watermark: { appid: A.appid, timestamp: 1 } });

  const endpoints: Endpoint[] = [
    {
      name: 'POST /auth/login',
      method: 'POST',
      path: '/auth/login',
      auth: 'none',
      input: 'json',
      limit: 1024,
      strict: true,
      valid: () => ({ code: 'test:hostile-valid' }),
      bad: () => [
        ['code is a number', { code: 123 }, 400, 'INVALID_BODY'],
        ['code is empty', { code: '' }, 400, 'INVALID_BODY'],
        ['code has spaces', { code: 'a b' }, 400, 'INVALID_BODY'],
        ['code is an array', { code: ['test:x'] }, 400, 'INVALID_BODY'],
        ['code is too long', { code: 'x'.repeat(129) }, 400, 'INVALID_BODY'],
        ['code is null', { code: null }, 400, 'INVALID_BODY'],
        ['code is unknown to WeChat', { code: 'forged-code' }, 400, 'LOGIN_CODE_INVALID'],
      ],
    },
    { name: 'POST /auth/logout', method: 'POST', path: '/auth/logout', auth: 'session', input: 'none' },
    { name: 'GET /users/me', method: 'GET', path: '/users/me', auth: 'session', input: 'none' },
    {
      name: 'POST /users/me/profile',
      method: 'POST',
      path: '/users/me/profile',
      auth: 'session',
      input: 'json',
      limit: 32 * 1024,
      valid: profileData,
      bad: () => {
        let memo: { encryptedData: string; iv: string } | undefined;
        const d = () => (memo ??= profileData());
        return [
          ['encryptedData is a number', () => ({ ...d(), encryptedData: 5 }), 400, 'INVALID_BODY'],
          ['iv is missing', () => ({ encryptedData: d().encryptedData }), 400, 'INVALID_BODY'],
          ['iv is an object', () => ({ ...d(), iv: { a: 1 } }), 400, 'INVALID_BODY'],
          ['encryptedData is not base64', () => ({ ...d(), encryptedData: '%%%not-base64%%%' }), 400, 'INVALID_ENCRYPTED_DATA'],
          ["'+' turned into a space", () => ({ ...d(), encryptedData: d().encryptedData.replace(/[A-Za-z]/, ' ') }), 400, 'INVALID_ENCRYPTED_DATA'],
          ['iv is 8 bytes', () => ({ ...d(), iv: randomBytes(8).toString('base64') }), 400, 'INVALID_ENCRYPTED_DATA'],
          ['ciphertext is not whole blocks', () => ({ ...d(), encryptedData: randomBytes(20).toString('base64') }), 400, 'INVALID_ENCRYPTED_DATA'],
          ['random ciphertext', () => ({ ...d(), encryptedData: randomBytes(64).toString('base64') }), 400, 'SESSION_KEY_STALE'],
          ['rawData without signature', () => ({ ...d(), rawData: '{}' }), 400, 'INVALID_BODY'],
          ['forged signature', () => ({ ...d(), rawData: '{"nickName":"n"}', signature: 'a'.repeat(40) }), 400, 'INVALID_SIGNATURE'],
          ['signature not hex', () => ({ ...d(), rawData: '{"nickName":"n"}', signature: 'zz' }), 400, 'INVALID_SIGNATURE'],
          ['signature of other rawData', () => ({ ...d(), rawData: '{"nickName":"x"}', signature: rawDataSignature('{"nickName":"n"}', sessionKeyA) }), 400, 'INVALID_SIGNATURE'],
          ["another app's watermark", () => encryptUserData(sessionKeyA, { nickName: 'n', watermark: { appid: B.appid } }), 400, 'WATERMARK_MISMATCH'],
          ['no watermark', () => encryptUserData(sessionKeyA, { nickName: 'n' }), 400, 'WATERMARK_MISMATCH'],
          ['not a profile', () => encryptUserData(sessionKeyA, { foo: 1, watermark: { appid: A.appid } }), 400, 'INVALID_ENCRYPTED_DATA'],
          ['encryptedData too long', () => ({ ...d(), encryptedData: 'A'.repeat(17 * 1024) }), 400, 'INVALID_BODY'],
        ];
      },
    },
    {
      name: 'POST /users/me/phone',
      method: 'POST',
      path: '/users/me/phone',
      auth: 'session',
      input: 'json',
      limit: 8 * 1024,
      valid: () => ({ code: 'phone-code' }),
      bad: () => [
        ['code is a number', { code: 5 }, 400, 'INVALID_BODY'],
        ['encryptedData without iv', { encryptedData: 'AAAA' }, 400, 'INVALID_BODY'],
        ['code with spaces', { code: 'a b' }, 400, 'INVALID_BODY'],
        ['forged code', { code: 'forged' }, 400, 'PHONE_CODE_INVALID'],
        ['bad base64', { encryptedData: '@@@@', iv: '@@@@' }, 400, 'INVALID_ENCRYPTED_DATA'],
        ['profile data as a phone', () => encryptUserData(sessionKeyA, { nickName: 'n', watermark: { appid: A.appid } }), 400, 'INVALID_ENCRYPTED_DATA'],
      ],
    },
    {
      name: 'POST /wxacode',
      method: 'POST',
      path: '/wxacode',
      auth: 'either',
      input: 'json',
      limit: 4 * 1024,
      strict: true,
      valid: () => ({ scene: 'a=1' }),
      bad: () => [
        ['scene is a number', { scene: 5 }, 400, 'INVALID_BODY'],
        ['scene too long', { scene: 'x'.repeat(33) }, 400, 'INVALID_BODY'],
        ['scene with a space', { scene: 'a b' }, 400, 'INVALID_BODY'],
        ['width is a string', { scene: 'a', width: 'big' }, 400, 'INVALID_BODY'],
        ['width too small', { scene: 'a', width: 10 }, 400, 'INVALID_BODY'],
        ['width not an integer', { scene: 'a', width: 300.5 }, 400, 'INVALID_BODY'],
        ['page starts with /', { scene: 'a', page: '/pages/index' }, 400, 'INVALID_BODY'],
        ['line_color out of range', { scene: 'a', line_color: { r: 300, g: 0, b: 0 } }, 400, 'INVALID_BODY'],
        ['env_version unknown', { scene: 'a', env_version: 'prod' }, 400, 'INVALID_BODY'],
        ['is_hyaline a string', { scene: 'a', is_hyaline: 'yes' }, 400, 'INVALID_BODY'],
      ],
    },
    {
      name: 'POST /messages/subscribe',
      method: 'POST',
      path: '/messages/subscribe',
      auth: 'key',
      input: 'json',
      limit: 64 * 1024,
      strict: true,
      valid: () => ({ touser: 'o1', template_id: 'T', data: { thing1: { value: 'x' } } }),
      bad: () => [
        ['data missing', { touser: 'o1', template_id: 'T' }, 400, 'INVALID_BODY'],
        ['data empty', { touser: 'o1', template_id: 'T', data: {} }, 400, 'INVALID_BODY'],
        ['data value an object', { touser: 'o1', template_id: 'T', data: { thing1: { value: { a: 1 } } } }, 400, 'INVALID_BODY'],
        ['data item without value', { touser: 'o1', template_id: 'T', data: { thing1: 'x' } }, 400, 'INVALID_BODY'],
        ['touser with bad characters', { touser: 'o1<script>', template_id: 'T', data: { thing1: { value: 'x' } } }, 400, 'INVALID_BODY'],
        ['template_id a number', { touser: 'o1', template_id: 7, data: { thing1: { value: 'x' } } }, 400, 'INVALID_BODY'],
        ['miniprogram_state unknown', { touser: 'o1', template_id: 'T', data: { thing1: { value: 'x' } }, miniprogram_state: 'beta' }, 400, 'INVALID_BODY'],
      ],
    },
    {
      name: 'POST /messages/customer',
      method: 'POST',
      path: '/messages/customer',
      auth: 'key',
      input: 'json',
      limit: 64 * 1024,
      strict: true,
      valid: () => ({ touser: 'o1', msgtype: 'text', text: { content: 'hi' } }),
      bad: () => [
        ['msgtype unknown', { touser: 'o1', msgtype: 'video', video: {} }, 400, 'INVALID_BODY'],
        ['message object missing', { touser: 'o1', msgtype: 'text' }, 400, 'INVALID_BODY'],
        ['content empty', { touser: 'o1', msgtype: 'text', text: { content: '' } }, 400, 'INVALID_BODY'],
        ['link url not http', { touser: 'o1', msgtype: 'link', link: { title: 't', description: 'd', url: 'javascript:alert(1)', thumb_url: 'https://x/y' } }, 400, 'INVALID_BODY'],
        ['image media_id missing', { touser: 'o1', msgtype: 'image', image: {} }, 400, 'INVALID_BODY'],
        ['touser missing', { msgtype: 'text', text: { content: 'hi' } }, 400, 'INVALID_BODY'],
      ],
    },
    {
      name: 'POST /security/text-check',
      method: 'POST',
      path: '/security/text-check',
      auth: 'session',
      input: 'json',
      limit: 16 * 1024,
      strict: true,
      valid: () => ({ content: 'hello' }),
      bad: () => [
        ['content empty', { content: '' }, 400, 'INVALID_BODY'],
        ['content too long', { content: 'x'.repeat(2501) }, 400, 'INVALID_BODY'],
        ['scene 5', { content: 'x', scene: 5 }, 400, 'INVALID_BODY'],
        ['scene a string', { content: 'x', scene: '1' }, 400, 'INVALID_BODY'],
        ['openid smuggled in', { content: 'x', openid: 'someone-else' }, 400, 'INVALID_BODY'],
      ],
    },
    { name: 'POST /media', method: 'POST', path: '/media?type=image', auth: 'key', input: 'multipart' },
    {
      name: 'GET /media/:mediaId',
      method: 'GET',
      path: '/media/abc',
      auth: 'key',
      input: 'none',
    },
    {
      name: 'POST /links/url',
      method: 'POST',
      path: '/links/url',
      auth: 'key',
      input: 'json',
      limit: 8 * 1024,
      strict: true,
      emptyOk: true,
      valid: () => ({ path: 'pages/index/index' }),
      bad: () => [
        ['path a number', { path: 5 }, 400, 'INVALID_BODY'],
        ['path with a query', { path: 'pages/a?x=1' }, 400, 'INVALID_BODY'],
        ['path starts with /', { path: '/pages/a' }, 400, 'INVALID_BODY'],
        ['query with spaces', { query: 'a=b c' }, 400, 'INVALID_BODY'],
        ['expire_type 1 without interval', { expire_type: 1 }, 400, 'INVALID_BODY'],
        ['expire_interval 31', { expire_type: 1, expire_interval: 31 }, 400, 'INVALID_BODY'],
        ['expire_type 2', { expire_type: 2 }, 400, 'INVALID_BODY'],
      ],
    },
    {
      name: 'POST /links/scheme',
      method: 'POST',
      path: '/links/scheme',
      auth: 'key',
      input: 'json',
      limit: 8 * 1024,
      strict: true,
      emptyOk: true,
      valid: () => ({ path: 'pages/index/index' }),
      bad: () => [
        ['path with a fragment', { path: 'pages/a#x' }, 400, 'INVALID_BODY'],
        ['env_version unknown', { env_version: 'beta' }, 400, 'INVALID_BODY'],
        ['expire_time negative', { expire_type: 0, expire_time: -5 }, 400, 'INVALID_BODY'],
        ['jump_wxa smuggled in', { jump_wxa: { path: 'x' } }, 400, 'INVALID_BODY'],
      ],
    },
  ];

  /** A credential that passes the endpoint's auth (tenant A). */
  const goodAuth = (e: Endpoint): string | undefined => (e.auth === 'none' ? undefined : e.auth === 'session' ? userA.token : A.key);

  function authCases(e: Endpoint): Case[] {
    if (e.auth === 'none') return [];
    const takesSession = e.auth === 'session' || e.auth === 'either';
    const takesKey = e.auth === 'key' || e.auth === 'either';
    // A credential of the wrong kind is judged by the kind the endpoint takes.
    const badSession = takesSession ? 'INVALID_SESSION' : 'INVALID_API_KEY';
    const badKey = takesKey ? 'INVALID_API_KEY' : 'INVALID_SESSION';
    const c = (label: string, headers: Record<string, string>, status: number, code: string): Case => ({
      label,
      req: async () => ({ headers, ...(e.input === 'json' ? { json: e.valid?.() ?? {} } : {}) }),
      status,
      code,
    });
    const bearer = (t: string) => ({ authorization: `Bearer ${t}` });
    return [
      c('no Authorization header', {}, 401, 'UNAUTHENTICATED'),
      c('Basic instead of Bearer', { authorization: 'Basic dXNlcjpwYXNz' }, 401, 'UNAUTHENTICATED'),
      c('empty bearer', { authorization: 'Bearer ' }, 401, 'UNAUTHENTICATED'),
      c('forged session token', bearer(forgedSession()), 401, badSession),
      c('forged service key', bearer(forgedKey()), 401, badKey),
      c('garbage token', bearer('x'.repeat(5000)), 401, badSession),
      c('token with odd characters', bearer('"><script>'), 401, badSession),
      { label: 'expired session', req: async () => ({ auth: expired, ...(e.input === 'json' ? { json: e.valid?.() ?? {} } : {}) }), status: 401, code: badSession },
      { label: "another tenant's session", req: async () => ({ auth: userB.token, ...(e.input === 'json' ? { json: e.valid?.() ?? {} } : {}) }), status: 401, code: badSession },
      { label: "another tenant's service key", req: async () => ({ auth: B.key, ...(e.input === 'json' ? { json: e.valid?.() ?? {} } : {}) }), status: 401, code: badKey },
      { label: 'revoked service key', req: async () => ({ auth: revokedKey, ...(e.input === 'json' ? { json: e.valid?.() ?? {} } : {}) }), status: 401, code: badKey },
    ];
  }

  function jsonCases(e: Endpoint): Case[] {
    if (e.input !== 'json') return [];
    const auth = () => goodAuth(e);
    const raw = (
      label: string,
      body: string | Buffer | (() => string | Buffer),
      contentType: string | undefined,
      status: number,
      code: string,
      extra: Record<string, string> = {},
    ): Case => ({
      label,
      req: async () => ({ auth: auth(), body: typeof body === 'function' ? body() : body, headers: { ...(contentType ? { 'content-type': contentType } : {}), ...extra } }),
      status,
      code,
    });
    const validText = () => JSON.stringify(e.valid?.() ?? {});
    const limit = e.limit ?? 64 * 1024;
    const deep = '['.repeat(limit / 4) + ']'.repeat(limit / 4);
    const cases: Case[] = [
      {
        ...raw('JSON sent as text/plain', '', 'text/plain', 415, 'UNSUPPORTED_MEDIA_TYPE'),
        req: async () => ({ auth: auth(), body: validText(), headers: { 'content-type': 'text/plain' } }),
      },
      {
        ...raw('JSON sent as a form', '', 'application/x-www-form-urlencoded', 415, 'UNSUPPORTED_MEDIA_TYPE'),
        req: async () => ({ auth: auth(), body: 'code=abc', headers: { 'content-type': 'application/x-www-form-urlencoded' } }),
      },
      raw('multipart instead of JSON', '--b\r\nContent-Disposition: form-data; name="a"\r\n\r\n1\r\n--b--\r\n', 'multipart/form-data; boundary=b', 415, 'UNSUPPORTED_MEDIA_TYPE'),
      raw('XML instead of JSON', '<xml><code>1</code></xml>', 'application/xml', 415, 'UNSUPPORTED_MEDIA_TYPE'),
      raw('malformed JSON', '{"code":', 'application/json', 400, 'MALFORMED_JSON'),
      raw('JSON with a trailing comma', '{"a":1,}', 'application/json', 400, 'MALFORMED_JSON'),
      raw('a JSON string', '"just a string"', 'application/json', 400, 'MALFORMED_JSON'),
      raw('JSON null', 'null', 'application/json', 400, 'MALFORMED_JSON'),
      raw('a JSON array', '[{"code":"x"}]', 'application/json', 400, 'INVALID_BODY'),
      raw('deeply nested arrays', deep.length < limit ? deep : '[[[[]]]]', 'application/json', 400, 'INVALID_BODY'),
      raw('__proto__ pollution attempt', '{"__proto__":{"admin":true},"constructor":{"prototype":{"x":1}}}', 'application/json', 400, 'INVALID_BODY'),
      raw('invalid UTF-8', Buffer.concat([Buffer.from('{"code":"'), Buffer.from([0xff, 0xfe, 0xc3]), Buffer.from('"}')]), 'application/json', 400, 'INVALID_BODY'),
      raw('body over the limit', JSON.stringify({ pad: 'x'.repeat(limit) }), 'application/json', 413, 'PAYLOAD_TOO_LARGE'),
      {
        label: 'body over the limit, chunked (no Content-Length)',
        req: async () => {
          const chunk = Buffer.from('x'.repeat(1024));
          let sent = 0;
          const stream = new ReadableStream<Uint8Array>({
            pull(ctrl) {
              if (sent === 0) ctrl.enqueue(Buffer.from('{"pad":"'));
              if (sent > limit + 4096) {
                ctrl.enqueue(Buffer.from('"}'));
                ctrl.close();
                return;
              }
              sent += chunk.length;
              ctrl.enqueue(chunk);
            },
          });
          return { auth: auth(), body: stream as unknown as string, headers: { 'content-type': 'application/json' }, duplex: 'half' };
        },
        status: 413,
        code: 'PAYLOAD_TOO_LARGE',
      },
      raw('unsupported Content-Encoding', validText, 'application/json', 415, 'UNSUPPORTED_MEDIA_TYPE', { 'content-encoding': 'br2' }),
      raw('gzip that is not gzip', 'definitely not gzip', 'application/json', 400, 'BAD_REQUEST', { 'content-encoding': 'gzip' }),
      raw('a gzip bomb over the limit', gzipSync(Buffer.from(JSON.stringify({ pad: 'x'.repeat(limit * 50) }))), 'application/json', 413, 'PAYLOAD_TOO_LARGE', { 'content-encoding': 'gzip' }),
      {
        label: 'wrong types everywhere',
        req: async () => ({ auth: auth(), json: { code: {}, scene: [], content: 1, path: true, touser: 1, encryptedData: [], iv: null } }),
        status: 400,
        code: 'INVALID_BODY',
      },
    ];
    if (!e.emptyOk) {
      cases.push({ label: 'empty object', req: async () => ({ auth: auth(), json: {} }), status: 400, code: 'INVALID_BODY' });
      cases.push(raw('empty body', '', 'application/json', 400, 'INVALID_BODY'));
    }
    if (e.strict) {
      cases.push({ label: 'unknown field', req: async () => ({ auth: auth(), json: { ...(e.valid?.() as object), sneaky: 1 } }), status: 400, code: 'INVALID_BODY' });
    }
    for (const [label, body, status, code] of e.bad?.() ?? []) {
      cases.push({ label, req: async () => ({ auth: auth(), json: typeof body === 'function' ? (body as () => unknown)() : body }), status, code });
    }
    return cases;
  }

  function multipartCases(e: Endpoint): Case[] {
    if (e.input !== 'multipart') return [];
    const form = (field: string, bytes: Buffer | string, filename?: string, mime = 'image/png') => {
      const f = new FormData();
      if (typeof bytes === 'string' && filename === undefined) f.append(field, bytes);
      else f.append(field, new Blob([typeof bytes === 'string' ? bytes : new Uint8Array(bytes)], { type: mime }), filename ?? 'x.png');
      return f;
    };
    const png = Buffer.concat([Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]), randomBytes(64)]);
    const c = (label: string, path: string, o: () => ReqOptions, status: number, code: string): Case => ({
      label,
      req: async () => ({ path, auth: A.key, ...o() }),
      status,
      code,
    });
    return [
      c('JSON instead of multipart', '/media?type=image', () => ({ json: { media: 'x' } }), 415, 'UNSUPPORTED_MEDIA_TYPE'),
      c('raw bytes as image/png', '/media?type=image', () => ({ body: png, headers: { 'content-type': 'image/png' } }), 415, 'UNSUPPORTED_MEDIA_TYPE'),
      c('no body', '/media?type=image', () => ({}), 400, 'MEDIA_MISSING'),
      c('multipart without boundary', '/media?type=image', () => ({ body: 'abc', headers: { 'content-type': 'multipart/form-data' } }), 400, 'MALFORMED_MULTIPART'),
      c(
        'multipart cut short',
        '/media?type=image',
        () => ({
          body: '--b\r\nContent-Disposition: form-data; name="media"; filename="a.png"\r\nContent-Type: image/png\r\n\r\n\x89PNG',
          headers: { 'content-type': 'multipart/form-data; boundary=b' },
        }),
        400,
        'MALFORMED_MULTIPART',
      ),
      c('garbage multipart', '/media?type=image', () => ({ body: randomBytes(2000), headers: { 'content-type': 'multipart/form-data; boundary=zzz' } }), 400, 'MALFORMED_MULTIPART'),
      c('file in the wrong field', '/media?type=image', () => ({ body: form('file', png) }), 400, 'MEDIA_MISSING'),
      c('media as a text field', '/media?type=image', () => ({ body: form('media', 'not a file') }), 400, 'MEDIA_MISSING'),
      c('empty file', '/media?type=image', () => ({ body: form('media', Buffer.alloc(0)) }), 400, 'MEDIA_MISSING'),
      c('type missing', '/media', () => ({ body: form('media', png) }), 400, 'INVALID_QUERY'),
      c('type unknown', '/media?type=sticker', () => ({ body: form('media', png) }), 400, 'INVALID_QUERY'),
      c('type repeated', '/media?type=image&type=voice', () => ({ body: form('media', png) }), 400, 'INVALID_QUERY'),
      c('text declared as image/png', '/media?type=image', () => ({ body: form('media', Buffer.from('hello, world'), 'a.png', 'image/png') }), 415, 'UNSUPPORTED_MEDIA_TYPE'),
      c('an image uploaded as voice', '/media?type=voice', () => ({ body: form('media', png, 'a.mp3', 'audio/mpeg') }), 415, 'UNSUPPORTED_MEDIA_TYPE'),
      c('a script named .png', '/media?type=image', () => ({ body: form('media', Buffer.from('#!/bin/sh\nrm -rf /'), '../../etc/passwd.png') }), 415, 'UNSUPPORTED_MEDIA_TYPE'),
      c(
        'thumb over 64 KB',
        '/media?type=thumb',
        () => ({ body: form('media', Buffer.concat([Buffer.from([0xff, 0xd8, 0xff]), randomBytes(70 * 1024)]), 't.jpg', 'image/jpeg') }),
        413,
        'PAYLOAD_TOO_LARGE',
      ),
      c(
        'declared Content-Length over the limit',
        '/media?type=thumb',
        () => ({ body: Buffer.alloc(200 * 1024, 1), headers: { 'content-type': 'multipart/form-data; boundary=b' } }),
        413,
        'PAYLOAD_TOO_LARGE',
      ),
      {
        label: 'chunked body over the limit',
        req: async () => {
          let sent = 0;
          const stream = new ReadableStream<Uint8Array>({
            pull(ctrl) {
              if (sent === 0) ctrl.enqueue(Buffer.from('--b\r\nContent-Disposition: form-data; name="media"; filename="t.jpg"\r\nContent-Type: image/jpeg\r\n\r\n'));
              if (sent > 300 * 1024) {
                ctrl.enqueue(Buffer.from('\r\n--b--\r\n'));
                ctrl.close();
                return;
              }
              sent += 8192;
              ctrl.enqueue(Buffer.alloc(8192, 0xff));
            },
          });
          return { path: '/media?type=thumb', auth: A.key, body: stream as unknown as string, headers: { 'content-type': 'multipart/form-data; boundary=b' }, duplex: 'half' };
        },
        status: 413,
        code: 'PAYLOAD_TOO_LARGE',
      },
    ];
  }

  function pathCases(e: Endpoint): Case[] {
    const cases: Case[] = [
      { label: 'unknown tenant', req: async () => ({ path: `/wx${'0'.repeat(16)}${e.path}`, absolute: true, auth: goodAuth(e) }), status: 404, code: 'TENANT_NOT_FOUND' },
      { label: 'malformed appid', req: async () => ({ path: `/wx<script>${e.path}`, absolute: true, auth: goodAuth(e) }), status: 400, code: 'INVALID_APPID' },
      { label: 'wrong method', req: async () => ({ method: e.method === 'GET' ? 'DELETE' : 'PUT', auth: goodAuth(e) }), status: 405, code: 'METHOD_NOT_ALLOWED' },
    ];
    if (e.name === 'GET /media/:mediaId') {
      cases.push(
        { label: 'media id too long', req: async () => ({ path: `/media/${'a'.repeat(300)}`, auth: A.key }), status: 400, code: 'INVALID_MEDIA_ID' },
        { label: 'media id with odd characters', req: async () => ({ path: `/media/bad*id'`, auth: A.key }), status: 400, code: 'INVALID_MEDIA_ID' },
        { label: 'media id with an encoded path', req: async () => ({ path: `/media/..%2F..%2Fcgi-bin%2Ftoken`, auth: A.key }), status: 400, code: 'INVALID_MEDIA_ID' },
        { label: 'unknown media id', req: async () => ({ path: `/media/${'Z'.repeat(64)}`, auth: A.key }), status: 404, code: 'MEDIA_NOT_FOUND' },
      );
    }
    return cases;
  }

  for (const e of endpoints) {
    describe(e.name, () => {
      for (const c of [...authCases(e), ...jsonCases(e), ...multipartCases(e), ...pathCases(e)]) {
        it(`${c.label} -> ${c.status} ${c.code}`, async () => {
          const o = await c.req();
          const path = o.path ?? e.path;
          const full = o.absolute ? path : `/${A.appid}${path}`;
          const r = await h.req(o.method ?? e.method, full, o);
          expect(r.status, r.text).to.be.within(400, 499);
          expect(r.headers.get('content-type'), r.text).to.match(/^application\/json/);
          expect(r.json?.error?.code, r.text).to.equal(c.code);
          expect(r.status, r.text).to.equal(c.status);
          expect(r.json.error.message).to.be.a('string');
        });
      }
    });
  }

  it('the gateway logged no 5xx and is still healthy after all of it', async () => {
    const r = await h.req('GET', '/healthz');
    expect(r.status).to.equal(200);
    expect(h.fleet[0]!.output()).not.to.match(/"level":"error"/);
    // The sessions used above still work: nothing was corrupted.
    expect((await h.req('GET', `/${A.appid}/users/me`, { auth: userA.token })).status).to.equal(200);
  });
});
