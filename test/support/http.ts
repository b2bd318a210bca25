/** The one HTTP helper of the tests: a request against a real server, never throwing on an error status. */
import { expect } from 'chai';

export interface HttpResult {
  status: number;
  headers: Headers;
  /** The raw body. */
  buf: Buffer;
  text: string;
  /** The parsed body, or undefined when it is not JSON. */
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- test convenience: bodies are asserted field by field
  json: any;
}

export interface RequestOptions extends RequestInit {
  /** Bearer credential (session token, service key or admin token). */
  auth?: string;
  /** A JSON value to send with Content-Type application/json. */
  jsonBody?: unknown;
  /** Needed by fetch for a stream body (sent chunked, without Content-Length). */
  duplex?: 'half';
  timeoutMs?: number;
}

export async function request(url: string, o: RequestOptions = {}): Promise<HttpResult> {
  const { auth, jsonBody, timeoutMs, ...init } = o;
  const headers = new Headers(init.headers);
  if (auth !== undefined) headers.set('authorization', `Bearer ${auth}`);
  let body = init.body;
  if (jsonBody !== undefined) {
    body = JSON.stringify(jsonBody);
    if (!headers.has('content-type')) headers.set('content-type', 'application/json');
  }
  const res = await fetch(url, { ...init, headers, body, signal: init.signal ?? AbortSignal.timeout(timeoutMs ?? 5000) });
  const buf = Buffer.from(await res.arrayBuffer());
  const text = buf.toString('utf8');
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    json = undefined;
  }
  return { status: res.status, headers: res.headers, buf, text, json };
}

/** Asserts the exact error shape the gateway promises: `{"error":{"code","message"}}`, nothing else. */
export function expectErrorBody(r: HttpResult, status: number, code: string): void {
  expect(r.status, r.text).to.equal(status);
  expect(r.headers.get('content-type') ?? '').to.match(/^application\/json/);
  const body = r.json as { error?: { code?: unknown; message?: unknown } } | undefined;
  expect(body, `not JSON: ${r.text}`).to.be.an('object');
  expect(Object.keys(body as object)).to.deep.equal(['error']);
  expect(Object.keys(body!.error as object).sort()).to.deep.equal(['code', 'message']);
  expect(body!.error!.code).to.equal(code);
  expect(body!.error!.message).to.be.a('string').and.not.equal('');
  // No stack trace, file path or exception name leaks into the answer.
  expect(r.text).to.not.match(/:\d+:\d+\)|\.js:\d+|\.ts:\d+|\\n\s*at |Error:/);
}
