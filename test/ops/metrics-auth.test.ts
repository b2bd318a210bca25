import { expect } from 'chai';
import { loadConfigSubset } from '../../src/kernel/config';
import { ConfigError } from '../../src/kernel/errors';
import { startGateway, type GatewayProcess } from '../support/gateway-process';
import { expectErrorBody, request, stopAll } from '../support/gateway-helpers';

const METRICS_TOKEN = 'metrics-token-0123456789abcdef';

describe('ops: /metrics with and without METRICS_TOKEN', function () {
  this.timeout(30_000);
  let guarded: GatewayProcess | undefined;
  let open: GatewayProcess | undefined;

  before(async () => {
    [guarded, open] = await Promise.all([startGateway({ METRICS_TOKEN }), startGateway()]);
  });
  after(() => stopAll([guarded, open]));

  it('METRICS_TOKEN set: no bearer is 401, a wrong one 403 (JSON errors as for /admin), the right one gets the metrics', async () => {
    expectErrorBody(await request(`${guarded!.url}/metrics`), 401, 'UNAUTHENTICATED');
    expectErrorBody(await request(`${guarded!.url}/metrics`, { auth: 'wrong-token-0123456789abcdef' }), 403, 'FORBIDDEN');
    // The admin token is not the metrics token.
    expectErrorBody(await request(`${guarded!.url}/metrics`, { auth: 'test-admin-token-0123456789' }), 403, 'FORBIDDEN');
    const r = await request(`${guarded!.url}/metrics`, { auth: METRICS_TOKEN });
    expect(r.status).to.equal(200);
    expect(r.text).to.contain('wxgate_http_requests_total');
  });

  it('METRICS_TOKEN unset: /metrics is open', async () => {
    const r = await request(`${open!.url}/metrics`);
    expect(r.status).to.equal(200);
    expect(r.text).to.contain('wxgate_http_requests_total');
  });

  it('METRICS_TOKEN is optional, and too short a token is refused at start-up', () => {
    expect(loadConfigSubset({}, ['METRICS_TOKEN']).METRICS_TOKEN).to.equal(undefined);
    expect(loadConfigSubset({ METRICS_TOKEN }, ['METRICS_TOKEN']).METRICS_TOKEN).to.equal(METRICS_TOKEN);
    expect(() => loadConfigSubset({ METRICS_TOKEN: 'short' }, ['METRICS_TOKEN'])).to.throw(ConfigError, /METRICS_TOKEN.*at least 16 characters/);
    // Required variables stay required.
    expect(() => loadConfigSubset({}, ['ADMIN_TOKEN'])).to.throw(ConfigError, /ADMIN_TOKEN: is required/);
  });
});
