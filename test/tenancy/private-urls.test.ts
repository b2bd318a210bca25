import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { LookupAddress } from 'node:dns';
import { expect } from 'chai';
import { isPrivateAddress, publicOnlyLookup, urlProblem, type OutboundPolicy } from '../../src/transport/address-policy';
import { WeChatHttp, WeChatTransportError } from '../../src/transport/wechat-http';
import { parseTenantDefinition } from '../../src/composition/features';
import { TenantFileError } from '../../src/tenancy/tenant-sections';
import { makeTenant, writeTenantFiles } from '../support/tenant-fixtures';
import { runTenantsCli } from '../support/gateway-process';
import { rawTenants } from '../support/gateway-helpers';

/**
 * Tenant URLs (apiBase, webhook) must not reach internal addresses. Refusals are tested on strings
 * and on a lookup fed a fake resolver: nothing here sends traffic anywhere but 127.0.0.1.
 */
describe('outbound address policy for tenant URLs', function () {
  this.timeout(30_000);
  const strict: OutboundPolicy = { allowPrivateAddresses: false };

  it('refuses plain http and internal addresses in a URL (validation only)', () => {
    for (const url of [
      'https://10.0.0.1/x',
      'https://169.254.169.254/',
      'https://100.64.0.1/',
      'https://172.16.5.4/',
      'https://192.168.1.1/',
      'https://0.0.0.0/',
      'https://127.0.0.1:8443/',
      'https://0x7f.1/',
      'https://2130706433/',
      'https://localhost/',
      'https://api.localhost./',
      'https://[::1]/',
      'https://[fe80::1]/',
      'https://[fd00::1]/',
      'https://[::ffff:10.0.0.1]/',
      'https://[::ffff:169.254.169.254]/',
      'http://api.weixin.qq.com/',
      'ftp://api.weixin.qq.com/',
    ]) {
      expect(urlProblem(url, strict), url).to.be.a('string');
    }
    for (const url of ['https://api.weixin.qq.com', 'https://hooks.example.com/wx', 'https://8.8.8.8/', 'https://[2606:4700::1111]/']) {
      expect(urlProblem(url, strict), url).to.equal(undefined);
    }
    expect(urlProblem('http://127.0.0.1:3001', { allowPrivateAddresses: true })).to.equal(undefined);
  });

  it('classifies addresses, IPv4-mapped IPv6 included', () => {
    for (const a of [
      '10.1.2.3',
      '127.0.0.1',
      '169.254.169.254',
      '172.31.255.255',
      '192.168.0.1',
      '100.127.0.1',
      '0.1.2.3',
      '::1',
      'fe80::abcd',
      'fc00::1',
      '::ffff:192.168.1.1',
      '::ffff:7f00:1',
    ]) {
      expect(isPrivateAddress(a), a).to.equal(true);
    }
    for (const a of ['8.8.8.8', '172.32.0.1', '100.128.0.1', '2606:4700::1111', 'not-an-ip']) expect(isPrivateAddress(a), a).to.equal(false);
  });

  /** Calls the lookup with a fake resolver; returns what it answers. */
  function lookupWith(addresses: LookupAddress[], all: boolean, policy = strict, host = 'tenant.example.com'): Promise<{ err: NodeJS.ErrnoException | null; result: unknown }> {
    const lookup = publicOnlyLookup(policy, (_h, _o, cb) => cb(null, addresses));
    return new Promise((resolve) => lookup(host, { all }, (err, result) => resolve({ err, result })));
  }

  it('connect-time lookup: a name resolving to an internal address is refused (DNS rebinding), a public one passes', async () => {
    const rebound = await lookupWith([{ address: '169.254.169.254', family: 4 }], false);
    expect(rebound.err?.code).to.equal('ERR_PRIVATE_ADDRESS');
    const mixed = await lookupWith(
      [
        { address: '93.184.216.34', family: 4 },
        { address: '10.0.0.7', family: 4 },
      ],
      true,
    );
    expect(mixed.err?.code, 'one internal address among public ones is enough').to.equal('ERR_PRIVATE_ADDRESS');
    const v6 = await lookupWith([{ address: 'fd12::1', family: 6 }], true);
    expect(v6.err?.code).to.equal('ERR_PRIVATE_ADDRESS');
    const ok = await lookupWith([{ address: '93.184.216.34', family: 4 }], false);
    expect(ok.err).to.equal(null);
    expect(ok.result).to.equal('93.184.216.34');
    const okAll = await lookupWith([{ address: '2606:4700::1111', family: 6 }], true);
    expect(okAll.result).to.deep.equal([{ address: '2606:4700::1111', family: 6 }]);
    // The operator's own WECHAT_API_BASE host, and ALLOW_PRIVATE_URLS, are not subject to the rule.
    expect((await lookupWith([{ address: '10.0.0.7', family: 4 }], false, { allowPrivateAddresses: false, trustedHosts: ['wechat-proxy.internal'] }, 'wechat-proxy.internal')).err).to.equal(
      null,
    );
    expect((await lookupWith([{ address: '10.0.0.7', family: 4 }], false, { allowPrivateAddresses: true })).err).to.equal(null);
  });

  describe('connections on loopback', () => {
    let server: http.Server;
    let port: number;
    let seen = 0;
    before(async () => {
      server = http.createServer((_req, res) => {
        seen++;
        res.writeHead(200, { 'content-type': 'application/json' }).end('{"errcode":0}');
      });
      await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
      port = (server.address() as AddressInfo).port;
    });
    after(() => {
      server.closeAllConnections();
      server.close();
    });

    async function send(base: string, policy: ConstructorParameters<typeof WeChatHttp>[1]): Promise<unknown> {
      try {
        return await new WeChatHttp(2000, policy).send({ baseUrl: base, method: 'GET', path: '/x' });
      } catch (err) {
        return err;
      }
    }

    it('the WeChat edge refuses 127.0.0.1 and localhost unless allowed or the operator named the host', async () => {
      for (const base of [`http://127.0.0.1:${port}`, `http://localhost:${port}`]) {
        const err = await send(base, strict);
        expect(err, base).to.be.instanceOf(WeChatTransportError);
        expect((err as Error).message, base).to.include('ERR_PRIVATE_ADDRESS');
      }
      expect(seen, 'nothing reached the server').to.equal(0);
      expect(await send(`http://127.0.0.1:${port}`, { allowPrivateAddresses: false, trustedHosts: ['127.0.0.1'] })).to.include({ kind: 'json', status: 200 });
      expect(await send(`http://localhost:${port}`, { allowPrivateAddresses: true })).to.include({ kind: 'json', status: 200 });
      expect(seen).to.equal(2);
    });
  });

  it('a tenant file names the offending URL fields', () => {
    const t = makeTenant({ apiBase: 'https://169.254.169.254/latest', webhook: { url: 'http://hooks.example.com/x', secret: 'hook-secret-0123456789' } });
    let err: unknown;
    try {
      parseTenantDefinition(t, 't.json');
    } catch (e) {
      err = e;
    }
    expect(err).to.be.instanceOf(TenantFileError);
    const fields = (err as TenantFileError).fields;
    expect(fields.map((f) => f.path)).to.deep.equal(['apiBase', 'webhook.url']);
    expect(fields[0]!.message).to.match(/loopback, private or link-local/);
    expect(fields[1]!.message).to.match(/https/);
    expect(parseTenantDefinition(t, 't.json', { allowPrivateUrls: true }).apiBase).to.equal('https://169.254.169.254/latest');
  });

  it('tenants CLI: apiBase http://127.0.0.1:... is refused with a field error unless ALLOW_PRIVATE_URLS=true', async () => {
    const t = makeTenant({ apiBase: 'http://127.0.0.1:9/' });
    const [file] = writeTenantFiles(t);
    const refused = await runTenantsCli(['apply', file!], { ALLOW_PRIVATE_URLS: '' });
    expect(refused.code, refused.stderr).to.equal(1);
    expect(refused.stderr).to.match(/apiBase: must use https/);
    expect(refused.stderr).to.include('nothing was written');
    expect(await rawTenants({ appid: t.appid })).to.have.length(0);
    // A webhook on a private address is refused the same way (validated only; nothing is stored).
    const [hook] = writeTenantFiles(makeTenant({ webhook: { url: 'https://192.168.1.10/hook', secret: 'hook-secret-0123456789' } }));
    const hookRefused = await runTenantsCli(['apply', hook!], { ALLOW_PRIVATE_URLS: 'false' });
    expect(hookRefused.code).to.equal(1);
    expect(hookRefused.stderr).to.match(/webhook\.url: must not point at a loopback, private or link-local address \(192\.168\.1\.10\)/);
    const accepted = await runTenantsCli(['apply', file!], { ALLOW_PRIVATE_URLS: 'true' });
    expect(accepted.code, accepted.stderr).to.equal(0);
    expect(await rawTenants({ appid: t.appid })).to.have.length(1);
  });
});
