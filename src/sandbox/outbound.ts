/** Outgoing POSTs of the sandbox (WeChat Pay notifications, third-party platform events): one attempt, never throws. */
import http from 'node:http';
import https from 'node:https';

export const POST_TIMEOUT_MS = 5000;
const MAX_ANSWER_CHARS = 64 * 1024;

export interface PostAnswer {
  /** HTTP status; 0 when there was no answer (invalid URL, connection refused, timeout). */
  status: number;
  /** The answer's body (first 64 KiB), or the network error's message. */
  body: string;
}

export function postText(url: string, headers: Record<string, string>, body: string): Promise<PostAnswer> {
  return new Promise((resolve) => {
    let u: URL;
    try {
      u = new URL(url);
    } catch {
      resolve({ status: 0, body: `invalid url ${url}` });
      return;
    }
    const lib = u.protocol === 'https:' ? https : http;
    const req = lib.request(u, { method: 'POST', headers: { ...headers, 'Content-Length': String(Buffer.byteLength(body)) }, timeout: POST_TIMEOUT_MS }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => {
        if (text.length < MAX_ANSWER_CHARS) text += c;
      });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: text }));
      res.on('error', (e) => resolve({ status: res.statusCode ?? 0, body: e.message }));
    });
    req.on('timeout', () => req.destroy(new Error(`no answer within ${POST_TIMEOUT_MS} ms`)));
    req.on('error', (e) => resolve({ status: 0, body: e.message }));
    req.end(body);
  });
}
