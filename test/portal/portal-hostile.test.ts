import http from 'node:http';
import axios from 'axios';
import { expect } from 'chai';
import { buildPush, samplePush, toXml } from '../../src/sandbox/push-simulator';
import { aesKeyFromEncodingKey, encryptMessage } from '../../src/protocol/msg-crypto';
import { msgSignature, pushSignature } from '../../src/protocol/signature';
import { Stores, startFleet, stopFleet } from '../support/fleet';
import { makeTenant, type TenantFixture } from '../support/tenant-fixtures';
import type { GatewayProcess } from '../support/gateway-process';

interface Hostile {
  kind: string;
  query: Record<string, string>;
  body: Buffer | string;
  contentType: string;
}

/** Deterministic pseudo-random numbers, so a failing case can be reproduced. */
function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s * 1664525 + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

function generate(t: TenantFixture, n: number): Hostile[] {
  const r = rng(42);
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(r() * xs.length)] as T;
  const now = Math.floor(Date.now() / 1000);
  const key = aesKeyFromEncodingKey(t.aesKey);
  const signedQuery = (timestamp = String(now), nonce = String(Math.floor(r() * 1e9))) => ({ signature: pushSignature(t.token, timestamp, nonce), timestamp, nonce });
  const encryptedQuery = (encrypt: string, timestamp = String(now)) => {
    const nonce = String(Math.floor(r() * 1e9));
    return { ...signedQuery(timestamp, nonce), encrypt_type: 'aes', msg_signature: msgSignature(t.token, timestamp, nonce, encrypt) };
  };
  const validXml = () => toXml(samplePush('text', { content: 'x'.repeat(Math.floor(r() * 50)) }));
  const makers: Record<string, () => Hostile> = {
    brokenXml: () => {
      const xml = validXml();
      return { kind: 'brokenXml', query: signedQuery(), body: xml.slice(0, Math.floor(r() * (xml.length - 1))) + pick(['<', '</x', '<![CDATA[', '&', '']), contentType: 'text/xml' };
    },
    doctype: () => ({
      kind: 'doctype',
      query: signedQuery(),
      body: `<?xml version="1.0"?><!DOCTYPE xml [<!ENTITY a "${'A'.repeat(100)}"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;">]><xml><ToUserName>&b;</ToUserName></xml>`,
      contentType: 'text/xml',
    }),
    externalEntity: () => ({
      kind: 'externalEntity',
      query: signedQuery(),
      body: '<!DOCTYPE xml [<!ENTITY x SYSTEM "file:///etc/passwd">]><xml><Content>&x;</Content></xml>',
      contentType: 'text/xml',
    }),
    deepXml: () => ({ kind: 'deepXml', query: signedQuery(), body: '<xml>' + '<a>'.repeat(50 + Math.floor(r() * 5000)) + '</a>'.repeat(10) + '</xml>', contentType: 'text/xml' }),
    manyFields: () => ({ kind: 'manyFields', query: signedQuery(), body: '<xml>' + Array.from({ length: 500 }, (_, i) => `<F${i}>v</F${i}>`).join('') + '</xml>', contentType: 'text/xml' }),
    brokenJson: () => {
      const json = JSON.stringify(samplePush('text'));
      return { kind: 'brokenJson', query: signedQuery(), body: json.slice(0, Math.floor(r() * json.length)), contentType: 'application/json' };
    },
    jsonNotObject: () => ({ kind: 'jsonNotObject', query: signedQuery(), body: pick(['[]', '1', '"x"', 'null', '[{"a":1}]']), contentType: 'application/json' }),
    missingFields: () => ({ kind: 'missingFields', query: signedQuery(), body: JSON.stringify({ MsgType: 'text' }), contentType: 'application/json' }),
    randomBytes: () => ({
      kind: 'randomBytes',
      query: signedQuery(),
      body: Buffer.from(Array.from({ length: 1 + Math.floor(r() * 2000) }, () => Math.floor(r() * 256))),
      contentType: pick(['text/xml', 'application/json', 'application/octet-stream', '']),
    }),
    badBase64: () => {
      const encrypt = pick(['!!!notbase64!!!', 'abc', '====', 'YWJj\u0000ZGVm', '%%%' + 'A'.repeat(30)]);
      return { kind: 'badBase64', query: encryptedQuery(encrypt), body: JSON.stringify({ ToUserName: 'gh_x', Encrypt: encrypt }), contentType: 'application/json' };
    },
    wrongLength: () => {
      const full = encryptMessage(key, t.appid, validXml());
      const raw = Buffer.from(full, 'base64');
      const encrypt = raw.subarray(0, Math.max(1, Math.floor(r() * raw.length) - 1)).toString('base64');
      return { kind: 'wrongLength', query: encryptedQuery(encrypt), body: toXml({ ToUserName: 'gh_x', Encrypt: encrypt }), contentType: 'text/xml' };
    },
    wrongAppid: () => {
      const encrypt = encryptMessage(key, 'wx' + 'f'.repeat(16), validXml());
      return { kind: 'wrongAppid', query: encryptedQuery(encrypt), body: toXml({ ToUserName: 'gh_x', Encrypt: encrypt }), contentType: 'text/xml' };
    },
    wrongKey: () => {
      const encrypt = encryptMessage(Buffer.alloc(32, Math.floor(r() * 255)), t.appid, validXml());
      return { kind: 'wrongKey', query: encryptedQuery(encrypt), body: toXml({ ToUserName: 'gh_x', Encrypt: encrypt }), contentType: 'text/xml' };
    },
    wrongSignature: () => {
      const push = buildPush(t, samplePush('text'), { format: pick(['xml', 'json'] as const), mode: pick(['plain', 'safe', 'compatible'] as const) });
      const q = { ...push.query };
      if (q.msg_signature) q.msg_signature = q.msg_signature.replace(/^./, (c) => (c === 'a' ? 'b' : 'a'));
      else q.signature = (q.signature ?? '').replace(/^./, (c) => (c === 'a' ? 'b' : 'a'));
      return { kind: 'wrongSignature', query: q, body: push.body, contentType: push.contentType };
    },
    missingSignature: () => {
      const push = buildPush(t, samplePush('text'), { format: 'xml', mode: 'plain' });
      const { signature: _s, ...q } = push.query;
      return { kind: 'missingSignature', query: q, body: push.body, contentType: push.contentType };
    },
    staleTimestamp: () => {
      const ts = now + pick([-1, 1]) * (301 + Math.floor(r() * 100000));
      const push = buildPush(t, samplePush('text'), { format: pick(['xml', 'json'] as const), mode: pick(['plain', 'safe'] as const), timestamp: ts });
      return { kind: 'staleTimestamp', query: push.query, body: push.body, contentType: push.contentType };
    },
    badQuery: () => ({
      kind: 'badQuery',
      query: { signature: 'x', timestamp: pick(['', 'abc', '1'.repeat(40), '-5']), nonce: pick(['', 'a b', '<script>']) },
      body: validXml(),
      contentType: 'text/xml',
    }),
    badEncryptType: () => ({ kind: 'badEncryptType', query: { ...signedQuery(), encrypt_type: pick(['des', 'AES', 'x']) }, body: validXml(), contentType: 'text/xml' }),
    oversize: () => ({
      kind: 'oversize',
      query: signedQuery(),
      body: '<xml><Content><![CDATA[' + 'x'.repeat(262_144 + Math.floor(r() * 100_000)) + ']]></Content></xml>',
      contentType: 'text/xml',
    }),
    emptyBody: () => ({ kind: 'emptyBody', query: signedQuery(), body: pick(['', '   ', '\n']), contentType: 'text/xml' }),
  };
  const kinds = Object.keys(makers);
  return Array.from({ length: n }, (_, i) => makers[kinds[i % kinds.length] as string]!());
}

describe('push portal under hostile input', function () {
  this.timeout(180_000);
  let stores: Stores;
  let fleet: GatewayProcess[];
  let tenant: TenantFixture;

  before(async () => {
    stores = await Stores.open();
    tenant = makeTenant({ msgFormat: 'xml' });
    await stores.seed(tenant);
    fleet = await startFleet(1);
  });
  after(async () => {
    await stopFleet(fleet);
    await stores.close();
  });

  it('2000+ generated malformed pushes: every answer is a 4xx JSON error with a code, never a 5xx, and the process stays up', async () => {
    const cases = generate(tenant, 2100);
    const agent = new http.Agent({ keepAlive: true, maxSockets: 32 });
    const url = `${fleet[0]!.url}/${tenant.appid}/portal`;
    const byKind = new Map<string, Map<string, number>>();
    const failures: string[] = [];
    for (let i = 0; i < cases.length; i += 50) {
      await Promise.all(
        cases.slice(i, i + 50).map(async (c) => {
          let status: number;
          let data: unknown;
          try {
            const res = await axios.post(url, c.body, {
              params: c.query,
              headers: { 'content-type': c.contentType },
              httpAgent: agent,
              validateStatus: () => true,
              transformRequest: [(d: unknown) => d],
              timeout: 10_000,
            });
            status = res.status;
            data = res.data;
          } catch (err) {
            failures.push(`${c.kind}: no answer (${(err as Error).message})`);
            return;
          }
          const code = (data as { error?: { code?: string } })?.error?.code;
          if (status < 400 || status >= 500 || typeof code !== 'string') failures.push(`${c.kind}: ${status} ${JSON.stringify(data).slice(0, 200)}`);
          else if (JSON.stringify(data).includes(' at ')) failures.push(`${c.kind}: stack trace in ${JSON.stringify(data)}`);
          const m = byKind.get(c.kind) ?? new Map<string, number>();
          m.set(`${status} ${code}`, (m.get(`${status} ${code}`) ?? 0) + 1);
          byKind.set(c.kind, m);
        }),
      );
    }
    agent.destroy();
    expect(failures, failures.slice(0, 10).join('\n')).to.deep.equal([]);
    expect(fleet[0]!.child.exitCode).to.equal(null);
    // Each class of input fails for its own reason.
    const codes = (kind: string) => [...(byKind.get(kind)?.keys() ?? [])];
    expect(codes('doctype')).to.deep.equal(['400 XML_FORBIDDEN']);
    expect(codes('wrongSignature')).to.deep.equal(['401 INVALID_SIGNATURE']);
    expect(codes('staleTimestamp')).to.deep.equal(['401 STALE_TIMESTAMP']);
    expect(codes('wrongAppid')).to.deep.equal(['401 APPID_MISMATCH']);
    expect(codes('oversize')).to.deep.equal(['413 PAYLOAD_TOO_LARGE']);
    expect(codes('deepXml')).to.deep.equal(['400 BODY_TOO_COMPLEX']);
    expect(codes('badBase64')).to.deep.equal(['400 INVALID_CIPHERTEXT']);
    // The gateway still works for a genuine push afterwards.
    const push = buildPush(tenant, samplePush('text'), { format: 'xml', mode: 'safe' });
    const ok = await axios.post(url, push.body, { params: push.query, headers: { 'content-type': push.contentType }, responseType: 'text' });
    expect(ok.status).to.equal(200);
    expect(ok.data).to.equal('success');
  });

  it('a replayed push (same signed request again) is answered once-processed, and a replay outside the window is refused', async () => {
    const url = `${fleet[0]!.url}/${tenant.appid}/portal`;
    const push = buildPush(tenant, samplePush('text'), { format: 'xml', mode: 'plain' });
    const first = await axios.post(url, push.body, { params: push.query, headers: { 'content-type': push.contentType }, responseType: 'text' });
    const replay = await axios.post(url, push.body, { params: push.query, headers: { 'content-type': push.contentType }, responseType: 'text' });
    expect([first.data, replay.data]).to.deep.equal(['success', 'success']);
    // The same signed query with another body is a forgery, whatever the body says.
    const forged = buildPush(tenant, samplePush('text', { content: 'transfer all money' }), { format: 'xml', mode: 'plain' });
    const reused = await axios.post(url, forged.body, { params: push.query, headers: { 'content-type': push.contentType }, validateStatus: () => true });
    expect(reused.status).to.equal(401);
    expect(reused.data.error.code).to.equal('REPLAYED_PUSH');
    const old = buildPush(tenant, samplePush('text'), { format: 'xml', mode: 'plain', timestamp: Math.floor(Date.now() / 1000) - 3600 });
    const stale = await axios.post(url, old.body, { params: old.query, headers: { 'content-type': old.contentType }, validateStatus: () => true });
    expect(stale.status).to.equal(401);
    expect(stale.data.error.code).to.equal('STALE_TIMESTAMP');
  });
});
