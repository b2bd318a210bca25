import { mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { expect } from 'chai';
import { loadConfig } from '../../src/kernel/config';
import { createLogger } from '../../src/kernel/log';
import { ERROR_CATALOGUE } from '../../src/kernel/error-catalogue';
import { createRuntime, type RouteShape, type Runtime } from '../../src/composition/runtime';
import { documentedMethods, openApiDocument, openApiPath } from '../../src/composition/openapi';
import { ROUTE_DOCS } from '../../src/composition/openapi-routes-table';
import { TEST_ADMIN_TOKEN, TEST_SECRETS_KEY } from '../support/gateway-process';
import { startHarness, type Harness } from '../support/harness';

/** The methods OpenAPI can describe; HEAD is added by the router to every GET and is not listed. */
const DESCRIBABLE = ['GET', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS', 'TRACE'];
/** A route registered with router.all() holds every method. */
const isAnyMethod = (methods: string[]) => DESCRIBABLE.every((m) => methods.includes(m));

type Doc = ReturnType<typeof openApiDocument>;
const OPERATION_KEYS = ['get', 'put', 'post', 'delete', 'options', 'head', 'patch', 'trace'] as const;

function operations(doc: Doc): { path: string; method: string; op: Record<string, unknown> }[] {
  const out: { path: string; method: string; op: Record<string, unknown> }[] = [];
  for (const [p, item] of Object.entries(doc.paths ?? {})) {
    for (const m of OPERATION_KEYS) {
      const op = (item as Record<string, unknown>)[m];
      if (op) out.push({ path: p, method: m, op: op as Record<string, unknown> });
    }
  }
  return out;
}

/** The router's routes as "METHOD path" (router.all() routes as "ALL path"). */
function routerKeys(shapes: RouteShape[]): Set<string> {
  const out = new Set<string>();
  for (const s of shapes) {
    if (isAnyMethod(s.methods)) out.add(`ALL ${s.path}`);
    else for (const m of s.methods.filter((x) => DESCRIBABLE.includes(x))) out.add(`${m} ${s.path}`);
  }
  return out;
}

describe('ops: OpenAPI document at /openapi.json', function () {
  this.timeout(120_000);
  let runtime: Runtime;
  const doc = openApiDocument();
  const described = new Set(ROUTE_DOCS.map((r) => `${r.method.toUpperCase()} ${r.path}`));

  before(async () => {
    const config = loadConfig({
      MONGODB_URI: process.env.MONGODB_URI,
      REDIS_URL: process.env.REDIS_URL,
      SECRETS_KEY: TEST_SECRETS_KEY,
      ADMIN_TOKEN: TEST_ADMIN_TOKEN,
      LOG_LEVEL: 'silent',
      SPOOL_DIR: mkdtempSync(path.join(os.tmpdir(), 'wxgate-openapi-')),
    });
    runtime = await createRuntime(config, createLogger('silent'));
  });
  after(async () => {
    await runtime?.close();
  });

  it('every route the router serves (system and tenant) is described', () => {
    const served = routerKeys([...runtime.routes.system, ...runtime.routes.tenant]);
    expect(served.size).to.be.greaterThan(30);
    const missing = [...served].filter((k) => !described.has(k));
    expect(missing, 'routes without a description in src/composition/openapi-routes-table.ts').to.deep.equal([]);
  });

  it('every described route exists in the router', () => {
    const served = routerKeys([...runtime.routes.system, ...runtime.routes.tenant]);
    const ghosts = [...described].filter((k) => !served.has(k));
    expect(ghosts, 'descriptions of routes the router does not serve').to.deep.equal([]);
    expect(described.size, 'one description per method and path').to.equal(ROUTE_DOCS.length);
  });

  it('the document holds one operation per described method and path, with the path in OpenAPI form', () => {
    const ops = new Set(operations(doc).map((o) => `${o.method} ${o.path}`));
    const expected = new Set(ROUTE_DOCS.flatMap((r) => documentedMethods(r).map((m) => `${m} ${openApiPath(r.path)}`)));
    expect([...ops].sort()).to.deep.equal([...expected].sort());
    expect(openApiPath('/:appid/pay/orders/:outTradeNo')).to.equal('/{appid}/pay/orders/{outTradeNo}');
    expect(openApiPath('/:appid/wxapi/{*rest}')).to.equal('/{appid}/wxapi/{rest}');
  });

  it('is an OpenAPI 3.1 document: required fields, unique operationIds, path parameters declared', () => {
    expect(doc.openapi).to.match(/^3\.1\.\d+$/);
    expect(doc.info.title).to.be.a('string').with.length.above(0);
    expect(doc.info.version).to.be.a('string').with.length.above(0);
    const ids = new Set<string>();
    for (const { path: p, method, op } of operations(doc)) {
      const where = `${method} ${p}`;
      expect(op.summary, where).to.be.a('string').with.length.above(0);
      expect(op.responses, where).to.be.an('object');
      expect(Object.keys(op.responses as object).length, where).to.be.above(0);
      for (const [status, res] of Object.entries(op.responses as Record<string, { description?: unknown }>)) {
        expect(status, where).to.match(/^[1-5]\d\d$/);
        expect(res.description, `${where} ${status}`).to.be.a('string');
      }
      const id = op.operationId as string;
      expect(ids.has(id), `${where}: duplicate operationId ${id}`).to.equal(false);
      ids.add(id);
      const templated = [...p.matchAll(/\{(\w+)\}/g)].map((m) => m[1]);
      const declared = ((op.parameters ?? []) as { in: string; name: string; required?: boolean }[]).filter((x) => x.in === 'path');
      expect(declared.map((x) => x.name).sort(), where).to.deep.equal([...templated].sort());
      for (const d of declared) expect(d.required, `${where} ${d.name}`).to.equal(true);
    }
  });

  it('names only error codes of the catalogue, each under one of its statuses', () => {
    let named = 0;
    for (const { path: p, method, op } of operations(doc)) {
      const codes = op['x-error-codes'] as string[];
      expect(codes, `${method} ${p}`).to.be.an('array').with.length.above(0);
      for (const code of codes) {
        expect(ERROR_CATALOGUE, `${method} ${p}`).to.have.property(code);
        const statuses = ERROR_CATALOGUE[code as keyof typeof ERROR_CATALOGUE].status;
        const responses = op.responses as Record<string, { content?: Record<string, { schema?: { properties?: { error?: { properties?: { code?: { enum?: string[] } } } } } }> }>;
        for (const s of statuses) {
          const inEnum = responses[String(s)]?.content?.['application/json']?.schema?.properties?.error?.properties?.code?.enum ?? [];
          expect(inEnum, `${method} ${p}: ${code} under ${s}`).to.include(code);
        }
        named++;
      }
    }
    expect(named).to.be.greaterThan(100);
  });

  it('request bodies come from the schemas the routes validate with', () => {
    const login = operations(doc).find((o) => o.method === 'post' && o.path === '/{appid}/auth/login');
    const schema = (login?.op.requestBody as { content: Record<string, { schema: { properties: object; required: string[] } }> }).content['application/json']!.schema;
    expect(schema.properties).to.have.property('code');
    expect(schema.required).to.deep.equal(['code']);
  });

  describe('served by a running gateway', () => {
    let h: Harness;
    before(async () => {
      h = await startHarness(1);
    });
    after(async () => {
      await h?.close();
    });

    it('GET /openapi.json answers the document, without credentials', async () => {
      const r = await h.req('GET', '/openapi.json');
      expect(r.status, r.text).to.equal(200);
      expect(r.headers.get('content-type')).to.match(/^application\/json/);
      expect(r.json).to.deep.equal(JSON.parse(JSON.stringify(doc)));
    });
  });
});
