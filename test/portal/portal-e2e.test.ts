import axios from 'axios';
import { expect } from 'chai';
import { XMLParser } from 'fast-xml-parser';
import type { Sandbox } from '../../src/sandbox';
import { buildPush, deliverPush, samplePush, type PushFormat, type PushMode } from '../../src/sandbox/push-simulator';
import { aesKeyFromEncodingKey, decryptMessage } from '../../src/protocol/msg-crypto';
import { msgSignature, pushSignature } from '../../src/protocol/signature';
import { startFleet, type Stores } from '../support/fleet';
import type { TenantFixture } from '../support/tenant-fixtures';
import { startHarness, type Harness } from '../support/harness';
import { WebhookReceiver } from '../support/webhook-receiver';
import { runTenantsCli, type GatewayProcess } from '../support/gateway-process';

const RULES = [
  { match: { msgType: 'text', content: 'hello' }, reply: { type: 'text', content: 'hi there' } },
  { match: { msgType: 'text', contentRegex: '^(人工|客服)$' }, reply: { type: 'transfer_customer_service' } },
  { match: { event: 'user_enter_tempsession' }, customerMessage: { msgtype: 'text', text: { content: 'Welcome' } }, continue: true },
];
const WEBHOOK_SECRET = 'webhook-secret-0123456789';

describe('push portal, end to end through gateway processes', function () {
  this.timeout(120_000);
  let h: Harness;
  let sandbox: Sandbox;
  let stores: Stores;
  let fleet: GatewayProcess[];
  let hook: WebhookReceiver;
  let tenant: TenantFixture;

  before(async () => {
    h = await startHarness(2, { WEBHOOK_RETRY_BASE_MS: '100', WEBHOOK_RETRY_MAX_MS: '400', WEBHOOK_MAX_ATTEMPTS: '100' });
    ({ sandbox, stores, fleet } = h);
    hook = new WebhookReceiver(WEBHOOK_SECRET);
    await hook.start();
    tenant = (await h.tenant({ webhook: { url: hook.url, secret: WEBHOOK_SECRET }, rules: RULES })).t;
  });
  after(async () => {
    await h.close();
    await hook.stop();
  });
  beforeEach(() => {
    hook.down = false;
    hook.delayMs = 0;
  });

  const portal = (gw: GatewayProcess) => `${gw.url}/${tenant.appid}/portal`;
  const deliveriesOf = (fromUser: string) => hook.deliveries.filter((d) => d.body.message.fromUser === fromUser);

  it('verifies the URL (GET): echostr back as text, a forged signature 401', async () => {
    const timestamp = String(Math.floor(Date.now() / 1000));
    const nonce = '12345';
    const ok = await axios.get(portal(fleet[0]!), { params: { signature: pushSignature(tenant.token, timestamp, nonce), timestamp, nonce, echostr: 'echo123' }, responseType: 'text' });
    expect(ok.status).to.equal(200);
    expect(ok.headers['content-type']).to.match(/^text\/plain/);
    expect(ok.data).to.equal('echo123');
    const bad = await axios.get(portal(fleet[0]!), { params: { signature: '0'.repeat(40), timestamp, nonce, echostr: 'echo123' }, validateStatus: () => true });
    expect(bad.status).to.equal(401);
    expect(bad.data.error.code).to.equal('INVALID_SIGNATURE');
    // A signed query is bound to its first use, so the legacy path is verified with a query of its own.
    const nonce2 = '12346';
    const legacy = await axios.get(`${fleet[1]!.url}/wx/portal/${tenant.appid}`, {
      params: { signature: pushSignature(tenant.token, timestamp, nonce2), timestamp, nonce: nonce2, echostr: 'legacy' },
      responseType: 'text',
    });
    expect(legacy.data).to.equal('legacy');
  });

  for (const format of ['xml', 'json'] as PushFormat[]) {
    for (const mode of ['plain', 'compatible', 'safe'] as PushMode[]) {
      it(`${format} / ${mode}: accepted, replied in kind, forwarded to the webhook`, async () => {
        const fields = samplePush('text', { content: 'hello' });
        const push = buildPush(tenant, fields, { format, mode });
        const [attempt] = await deliverPush(portal(fleet[0]!), push);
        expect(attempt!.status).to.equal(200);
        expect(attempt!.contentType).to.contain(format === 'xml' ? 'xml' : 'json');
        let reply: Record<string, unknown>;
        if (mode === 'plain') {
          reply = format === 'xml' ? (new XMLParser().parse(attempt!.body!).xml as Record<string, unknown>) : (JSON.parse(attempt!.body!) as Record<string, unknown>);
        } else {
          const env =
            format === 'xml' ? (new XMLParser({ parseTagValue: false }).parse(attempt!.body!).xml as Record<string, string>) : (JSON.parse(attempt!.body!) as Record<string, string>);
          expect(env.MsgSignature).to.equal(msgSignature(tenant.token, String(env.TimeStamp), String(env.Nonce), String(env.Encrypt)));
          expect(Number(env.TimeStamp)).to.be.closeTo(Date.now() / 1000, 30);
          const inner = decryptMessage(aesKeyFromEncodingKey(tenant.aesKey), String(env.Encrypt));
          expect(inner.appid).to.equal(tenant.appid);
          reply = format === 'xml' ? (new XMLParser().parse(inner.message).xml as Record<string, unknown>) : (JSON.parse(inner.message) as Record<string, unknown>);
        }
        expect(reply.MsgType).to.equal('text');
        expect(reply.Content).to.equal('hi there');
        expect(reply.ToUserName).to.equal(fields.FromUserName);
        expect(reply.FromUserName).to.equal(fields.ToUserName);
        await hook.waitFor(1, 10_000);
        await waitUntil(() => deliveriesOf(String(fields.FromUserName)).length === 1, 10_000);
        const d = deliveriesOf(String(fields.FromUserName))[0]!;
        expect(d.signatureValid).to.equal(true);
        expect(d.body.message.content).to.equal('hello');
        expect(d.body.message.msgId).to.equal(String(fields.MsgId));
      });
    }
  }

  it('no matching rule: "success"; events with List objects are normalised before forwarding', async () => {
    const fields = samplePush('subscribe_msg_change_event');
    const [a] = await deliverPush(portal(fleet[1]!), buildPush(tenant, fields, { format: 'xml', mode: 'safe' }));
    expect(a!.status).to.equal(200);
    expect(a!.body).to.equal('success');
    await waitUntil(() => deliveriesOf(String(fields.FromUserName)).length === 1, 10_000);
    const m = deliveriesOf(String(fields.FromUserName))[0]!.body.message;
    expect(m.event).to.equal('subscribe_msg_change_event');
  });

  it('a rule with a customer message sends it through the API, after answering', async () => {
    const fields = samplePush('user_enter_tempsession');
    const [a] = await deliverPush(portal(fleet[0]!), buildPush(tenant, fields, { format: 'json', mode: 'plain' }));
    expect(a!.body).to.equal('success');
    await waitUntil(() => sandbox.sentMessages('custom').some((m) => (m.body as { touser?: string }).touser === fields.FromUserName), 10_000);
    const sent = sandbox.sentMessages('custom').find((m) => (m.body as { touser?: string }).touser === fields.FromUserName)!;
    expect(sent.body).to.deep.include({ msgtype: 'text', text: { content: 'Welcome' } });
  });

  it('three concurrent deliveries of the same push to two processes: one webhook delivery, the same answer', async () => {
    const fields = samplePush('text', { content: 'hello' });
    const push = buildPush(tenant, fields, { format: 'json', mode: 'safe' });
    const answers = await Promise.all([fleet[0]!, fleet[1]!, fleet[0]!].map((gw) => deliverPush(portal(gw), push)));
    for (const [a] of answers) expect(a!.status).to.equal(200);
    const plain = answers.map(([a]) => {
      const env = JSON.parse(a!.body!) as { Encrypt: string };
      return JSON.parse(decryptMessage(aesKeyFromEncodingKey(tenant.aesKey), env.Encrypt).message) as { Content: string };
    });
    expect(plain.map((p) => p.Content)).to.deep.equal(['hi there', 'hi there', 'hi there']);
    await waitUntil(() => deliveriesOf(String(fields.FromUserName)).length >= 1, 10_000);
    await new Promise((r) => setTimeout(r, 1500));
    expect(deliveriesOf(String(fields.FromUserName))).to.have.length(1);
  });

  it('the webhook down for a while: every message delivered after it returns, none twice, none lost', async () => {
    hook.down = true;
    const users: string[] = [];
    for (let i = 0; i < 40; i++) {
      const fields = samplePush(i % 2 ? 'text' : 'image', { content: `msg ${i}` });
      users.push(String(fields.FromUserName));
      const push = buildPush(tenant, fields, { format: i % 3 ? 'json' : 'xml', mode: 'safe' });
      const [a] = await deliverPush(portal(fleet[i % 2]!), push);
      expect(a!.status).to.equal(200);
      // WeChat retries some of them: they must not be forwarded twice.
      if (i % 5 === 0) await deliverPush(portal(fleet[(i + 1) % 2]!), push);
    }
    await new Promise((r) => setTimeout(r, 3000));
    expect(hook.refused).to.be.greaterThan(40);
    expect(users.flatMap(deliveriesOf)).to.have.length(0);
    hook.down = false;
    await waitUntil(() => users.every((u) => deliveriesOf(u).length >= 1), 20_000);
    await new Promise((r) => setTimeout(r, 1500));
    for (const u of users) expect(deliveriesOf(u), u).to.have.length(1);
    const status = await runTenantsCli(['webhook', 'status', tenant.appid]);
    expect(status.code, status.stderr).to.equal(0);
    expect(status.stdout).to.match(/backlog 0 .*dead 0/);
  });

  it('answers within 5 s while the webhook is slow', async () => {
    hook.delayMs = 8000;
    const started = Date.now();
    const fields = samplePush('text', { content: 'hello' });
    const [a] = await deliverPush(portal(fleet[1]!), buildPush(tenant, fields, { format: 'xml', mode: 'safe' }), { retries: 0 });
    expect(a!.status).to.equal(200);
    expect(Date.now() - started).to.be.lessThan(1000);
    hook.delayMs = 0;
  });

  it('dead letters are listed and can be redelivered with the CLI', async () => {
    const { t: t2 } = await h.tenant({ webhook: { url: 'http://127.0.0.1:9/nowhere', secret: WEBHOOK_SECRET } });
    const gw = (await startFleet(1, { WEBHOOK_RETRY_BASE_MS: '50', WEBHOOK_RETRY_MAX_MS: '100', WEBHOOK_MAX_ATTEMPTS: '2' }))[0]!;
    try {
      const fields = samplePush('text', { content: 'to the dead' });
      const [a] = await deliverPush(`${gw.url}/${t2.appid}/portal`, buildPush(t2, fields, { format: 'json', mode: 'plain' }));
      expect(a!.status).to.equal(200);
      let status = '';
      await waitUntil(async () => {
        status = (await runTenantsCli(['webhook', 'status', t2.appid])).stdout;
        return /dead 1/.test(status);
      }, 20_000);
      const dead = await runTenantsCli(['webhook', 'dead', t2.appid]);
      // Workers of other processes (with larger budgets) share the queue, so the count is at least 2.
      expect(dead.stdout, dead.stdout).to.match(/attempts (?:[2-9]|[1-9]\d+) .*ECONNREFUSED/);
      // Point the webhook somewhere that works, then redeliver.
      await stores.seed({ ...t2, webhook: { url: hook.url, secret: WEBHOOK_SECRET } });
      await runTenantsCli(['enable', t2.appid]);
      const re = await runTenantsCli(['webhook', 'redeliver', t2.appid, '--all']);
      expect(re.stdout).to.contain('1 message(s) queued');
      await waitUntil(() => deliveriesOf(String(fields.FromUserName)).length === 1, 20_000);
    } finally {
      await gw.stop();
    }
  });
});

async function waitUntil(cond: () => boolean | Promise<boolean>, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await cond())) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 50));
  }
}
