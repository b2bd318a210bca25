import { readFileSync } from 'node:fs';
import net from 'node:net';
import { expect } from 'chai';
import { pushSignature } from '../../src/protocol/signature';
import { Stores } from '../support/fleet';
import { startGateway, type GatewayProcess } from '../support/gateway-process';
import { makeTenant, type TenantFixture } from '../support/tenant-fixtures';

const BODY_TIMEOUT_MS = 2000;
const HEADERS_TIMEOUT_MS = 2000;

function rssBytes(pid: number): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return Number(m?.[1] ?? 0) * 1024;
}

interface Stalled {
  closedAfterMs?: number;
  response: string;
}

/** Opens a connection, sends `head` (and part of a body), and records when and how the server closes it. */
function stall(port: number, head: string, started: number): Promise<Stalled> {
  return new Promise((resolve) => {
    const s = net.connect({ host: '127.0.0.1', port });
    const out: Stalled = { response: '' };
    s.on('data', (d: Buffer) => (out.response += d.toString('latin1')));
    s.on('error', () => undefined);
    s.on('close', () => {
      out.closedAfterMs = Date.now() - started;
      resolve(out);
    });
    s.on('connect', () => s.write(head));
    // The test never waits forever: anything still open after 15 s is reported as not closed.
    setTimeout(() => {
      if (out.closedAfterMs === undefined) {
        s.destroy();
      }
    }, 15_000).unref();
  });
}

/** Issue 8 item 4: unauthenticated and slow bodies cost neither memory nor sockets for long. */
describe('portal: slow and large unauthenticated bodies', function () {
  this.timeout(90_000);
  let stores: Stores;
  let gw: GatewayProcess;
  let t: TenantFixture;

  before(async () => {
    stores = await Stores.open();
    t = makeTenant({ msgFormat: 'xml' });
    await stores.seed(t);
    gw = await startGateway({ PORTAL_BODY_TIMEOUT_MS: String(BODY_TIMEOUT_MS), HTTP_HEADERS_TIMEOUT_MS: String(HEADERS_TIMEOUT_MS), LOG_LEVEL: 'warn' });
    // Resolve the tenant once so every stalled request below finds it in memory.
    await fetch(`${gw.url}/${t.appid}`);
  });
  after(async () => {
    await gw?.stop();
    await stores.close();
  });

  const signedPath = (nonce: string, signature?: string) => {
    const timestamp = String(Math.floor(Date.now() / 1000));
    return `/${t.appid}/portal?signature=${signature ?? pushSignature(t.token, timestamp, nonce)}&timestamp=${timestamp}&nonce=${nonce}`;
  };

  it('a forged signature is refused (401) before the body is read: a 100 kB body that never comes is not waited for', async () => {
    const started = Date.now();
    const r = await stall(gw.port, `POST ${signedPath('1', '0'.repeat(40))} HTTP/1.1\r\nHost: x\r\nContent-Type: text/xml\r\nContent-Length: 100000\r\nConnection: close\r\n\r\n`, started);
    expect(r.response).to.match(/^HTTP\/1\.1 401/);
    expect(r.response).to.contain('INVALID_SIGNATURE');
    expect(r.closedAfterMs).to.be.lessThan(1000);
  });

  it('a stale timestamp is refused (401 STALE_TIMESTAMP) before the body is read', async () => {
    const ts = String(Math.floor(Date.now() / 1000) - 3600);
    const r = await stall(
      gw.port,
      `POST /${t.appid}/portal?signature=${pushSignature(t.token, ts, '2')}&timestamp=${ts}&nonce=2 HTTP/1.1\r\nHost: x\r\nContent-Length: 100000\r\nConnection: close\r\n\r\n`,
      Date.now(),
    );
    expect(r.response).to.match(/^HTTP\/1\.1 401/);
    expect(r.response).to.contain('STALE_TIMESTAMP');
    expect(r.closedAfterMs).to.be.lessThan(1000);
  });

  it('500 connections with a valid signed query that send half a body and stall: each is closed within the deadline, RSS grows < 50 MB', async () => {
    const before = rssBytes(gw.child.pid!);
    let peak = before;
    const sampler = setInterval(() => (peak = Math.max(peak, rssBytes(gw.child.pid!))), 100);
    const started = Date.now();
    const half = '<xml><ToUserName><![CDATA[gh]]></ToUserName>' + 'x'.repeat(1000);
    const stalled = Promise.all(
      Array.from({ length: 500 }, (_, i) =>
        stall(gw.port, `POST ${signedPath(String(1000 + i))} HTTP/1.1\r\nHost: x\r\nContent-Type: text/xml\r\nContent-Length: 4000\r\n\r\n${half}`, started),
      ),
    );
    // Every read slot is held now; a push whose body arrives with its headers needs none and is answered.
    await new Promise((r) => setTimeout(r, 500));
    const body =
      '<xml><ToUserName><![CDATA[gh]]></ToUserName><FromUserName><![CDATA[o1]]></FromUserName><CreateTime>1</CreateTime><MsgType><![CDATA[text]]></MsgType><Content><![CDATA[hi]]></Content><MsgId>501</MsgId></xml>';
    const whole = await stall(
      gw.port,
      `POST ${signedPath('9501')} HTTP/1.1\r\nHost: x\r\nContent-Type: text/xml\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
      Date.now(),
    );
    expect(whole.response, whole.response).to.match(/^HTTP\/1\.1 200/);
    const all = await stalled;
    clearInterval(sampler);
    const closed = all.map((r) => r.closedAfterMs ?? Infinity);
    const latest = Math.max(...closed);
    const statuses = new Map<string, number>();
    for (const r of all) {
      const s = /^HTTP\/1\.1 (\d{3})/.exec(r.response)?.[1] ?? 'none';
      statuses.set(s, (statuses.get(s) ?? 0) + 1);
    }
    // Reads past the per-instance cap are refused at once (503, WeChat retries); the rest time out (408).
    expect([...statuses.keys()].sort(), JSON.stringify([...statuses])).to.satisfy((ks: string[]) => ks.every((k) => k === '408' || k === '503'));
    expect(statuses.get('408') ?? 0).to.be.greaterThan(0);
    expect(latest, `slowest close after ${latest} ms`).to.be.lessThan(BODY_TIMEOUT_MS + 2500);
    expect(peak - before, `RSS grew ${Math.round((peak - before) / 1e6)} MB`).to.be.lessThan(50 * 1024 * 1024);
    // The gateway still answers.
    expect((await fetch(`${gw.url}/healthz`)).status).to.equal(200);
  });

  it('a request whose headers never finish is closed after HTTP_HEADERS_TIMEOUT_MS', async () => {
    const started = Date.now();
    const r = await stall(gw.port, `GET /healthz HTTP/1.1\r\nHost: x\r\nX-Slow: `, started);
    expect(r.closedAfterMs, 'not closed').to.be.within(HEADERS_TIMEOUT_MS - 100, HEADERS_TIMEOUT_MS + 2000);
  });

  it('a refused request with a large body is answered and its connection closed, not read to the end', async () => {
    const started = Date.now();
    const s = net.connect({ host: '127.0.0.1', port: gw.port });
    let response = '';
    let sent = 0;
    const closed = new Promise<number>((resolve) => s.on('close', () => resolve(Date.now() - started)));
    s.on('data', (d: Buffer) => (response += d.toString('latin1')));
    s.on('error', () => undefined);
    await new Promise<void>((r) => s.on('connect', () => r()));
    s.write(`POST ${signedPath('77', '0'.repeat(40))} HTTP/1.1\r\nHost: x\r\nContent-Type: text/xml\r\nContent-Length: 1000000000\r\n\r\n`);
    const chunk = Buffer.alloc(64 * 1024, 'x');
    const pump = setInterval(() => {
      if (!s.destroyed && s.writable) {
        s.write(chunk);
        sent += chunk.length;
      }
    }, 5);
    const ms = await closed;
    clearInterval(pump);
    expect(response).to.match(/^HTTP\/1\.1 401/);
    expect(ms, `closed after ${ms} ms, ${sent} bytes sent`).to.be.lessThan(2000);
  });

  it('one signed query holds one body slot: 50 stalled requests reusing it leave room for another tenant', async () => {
    const other = makeTenant({ msgFormat: 'xml' });
    await stores.seed(other);
    expect((await fetch(`${gw.url}/${other.appid}`)).status).to.equal(200);
    const path1 = signedPath('4242');
    const started = Date.now();
    const head = `POST ${path1} HTTP/1.1\r\nHost: x\r\nContent-Type: text/xml\r\nContent-Length: 4000\r\n\r\n<xml>`;
    const stalled = Promise.all(Array.from({ length: 50 }, () => stall(gw.port, head, started)));
    await new Promise((r) => setTimeout(r, 300));
    const ts = String(Math.floor(Date.now() / 1000));
    const body =
      '<xml><ToUserName><![CDATA[gh]]></ToUserName><FromUserName><![CDATA[o1]]></FromUserName><CreateTime>1</CreateTime><MsgType><![CDATA[text]]></MsgType><Content><![CDATA[hi]]></Content><MsgId>99</MsgId></xml>';
    const ok = await fetch(`${gw.url}/${other.appid}/portal?signature=${pushSignature(other.token, ts, '55')}&timestamp=${ts}&nonce=55`, { method: 'POST', body });
    expect(ok.status).to.equal(200);
    const all = await stalled;
    const busy = all.filter((r) => /^HTTP\/1\.1 503/.test(r.response) && r.response.includes('PORTAL_BUSY'));
    expect(busy.length).to.equal(49);
    expect(Math.max(...busy.map((r) => r.closedAfterMs ?? Infinity))).to.be.lessThan(1500);
  });
});
