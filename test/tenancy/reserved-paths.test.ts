import { mkdtempSync } from 'node:fs';
import type { Server } from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { expect } from 'chai';
import { loadConfig } from '../../src/kernel/config';
import { createLogger } from '../../src/kernel/log';
import { createRuntime, type Runtime } from '../../src/composition/runtime';
import { TEST_ADMIN_TOKEN, TEST_SECRETS_KEY } from '../support/gateway-process';
import { request } from '../support/http';

/** Issue 8 item 6: the gateway's own first path segments are never taken for an appid. */
describe('tenancy: reserved paths', function () {
  this.timeout(60_000);
  let runtime: Runtime;
  let server: Server;
  let base: string;

  before(async () => {
    const config = loadConfig({
      MONGODB_URI: process.env.MONGODB_URI,
      REDIS_URL: process.env.REDIS_URL,
      SECRETS_KEY: TEST_SECRETS_KEY,
      ADMIN_TOKEN: TEST_ADMIN_TOKEN,
      LOG_LEVEL: 'silent',
      SPOOL_DIR: mkdtempSync(path.join(os.tmpdir(), 'wxgate-reserved-')),
    });
    runtime = await createRuntime(config, createLogger('silent'));
    server = runtime.app.listen(0, '127.0.0.1');
    await new Promise<void>((r) => server.once('listening', r));
    const addr = server.address();
    base = `http://127.0.0.1:${typeof addr === 'object' && addr ? addr.port : 0}`;
  });
  after(async () => {
    server.closeAllConnections();
    await new Promise<void>((r) => server.close(() => r()));
    await runtime.close();
  });

  it('the reserved segments come from the system routes', () => {
    expect([...runtime.routes.reserved].sort()).to.include.members(['admin', 'favicon.ico', 'healthz', 'metrics', 'readyz']);
  });

  it('every reserved first segment against every tenant route shape answers 404 NOT_FOUND, never 500', async () => {
    const shapes = runtime.routes.tenant;
    expect(shapes.length).to.be.greaterThan(10);
    let tried = 0;
    for (const seg of runtime.routes.reserved) {
      for (const shape of shapes) {
        const p = shape.path
          .replace(':appid', seg)
          .replace(/\{\*\w+\}/g, 'cgi-bin/x')
          .replace(/:\w+/g, 'x');
        for (const method of shape.methods.filter((m) => ['GET', 'POST', 'PUT', 'PATCH', 'DELETE'].includes(m))) {
          const r = await request(`${base}${p}`, { method, ...(method === 'GET' ? {} : { body: '{}', headers: { 'content-type': 'application/json' } }) });
          tried++;
          if (p === `/${seg}`) {
            // The system route itself (/healthz, /admin, ...): whatever it answers, never a tenant's 5xx.
            expect(r.status, `${method} ${p}`).to.be.below(500);
            continue;
          }
          expect(r.status, `${method} ${p}: ${r.text}`).to.equal(404);
          expect(r.json?.error?.code, `${method} ${p}`).to.equal('NOT_FOUND');
        }
      }
    }
    expect(tried).to.be.greaterThan(50);
  });

  it('the paths of the review answer 404 NOT_FOUND', async () => {
    for (const p of ['/favicon.ico', '/admin', '/healthz/portal', '/metrics/portal', '/wx/portal/admin', '/readyz/access-token']) {
      const r = await request(`${base}${p}`);
      expect(r.status, p).to.equal(404);
      expect(r.json.error.code, p).to.equal('NOT_FOUND');
    }
  });
});
