import { expect } from 'chai';
import { buildPush, deliverPush, samplePush } from '../../src/sandbox/push-simulator';
import { CONSOLE_CSP } from '../../src/admin/console/console-routes';
import { startHarness, type Harness, type TenantHandle } from '../support/harness';
import { TEST_ADMIN_TOKEN } from '../support/gateway-process';
import { pollUntil } from '../support/gateway-helpers';
import { WebhookReceiver } from '../support/webhook-receiver';
import { launchBrowser, type TestBrowser } from '../support/browser';

const WEBHOOK_SECRET = 'console-webhook-secret-0123456789';

/**
 * The operator console in headless Chromium against a real gateway process: sign in, see the
 * tenant, disable and enable it (and watch its requests refused meanwhile), redeliver a dead letter
 * to a receiver that was down, create and revoke a service key. The page only uses the admin API.
 */
describe('admin: operator console in a browser (/admin/console)', function () {
  this.timeout(180_000);
  let h: Harness;
  let hook: WebhookReceiver;
  let demo: TenantHandle;
  let b: TestBrowser;

  before(async () => {
    // Two attempts and short retries: a delivery to a receiver that is down is dead-lettered in a second.
    h = await startHarness(1, { WEBHOOK_MAX_ATTEMPTS: '2', WEBHOOK_RETRY_BASE_MS: '100', WEBHOOK_RETRY_MAX_MS: '200' });
    hook = new WebhookReceiver(WEBHOOK_SECRET);
    await hook.start();
    demo = await h.tenant({ name: 'Demo coffee shop', webhook: { url: hook.url, secret: WEBHOOK_SECRET } });
    b = await launchBrowser();
  });
  after(async () => {
    await b?.close();
    await h?.close();
    await hook?.stop();
  });

  const page = () => b.page;
  const row = () => page().locator(`tr[data-appid="${demo.appid}"]`);
  const statusIs = (s: string) => page().locator(`tr[data-appid="${demo.appid}"] [data-field=status]`, { hasText: new RegExp(`^${s}$`) });
  const tokenCall = () => h.req('GET', `/${demo.appid}/access-token`, { auth: demo.key });

  it('serves the page with its own strict CSP, the script and style from the gateway only', async () => {
    const res = await page().goto(`${h.url()}/admin/console`);
    expect(res?.status()).to.equal(200);
    const headers = res!.headers();
    expect(headers['content-security-policy']).to.equal(CONSOLE_CSP);
    expect(headers['content-security-policy']).to.contain("script-src 'self'").and.not.contain('unsafe');
    expect(headers['x-frame-options']).to.equal('SAMEORIGIN');
    await page().locator('#sign-in-form').waitFor();
    // The rest of the gateway keeps the API policy.
    const api = await h.req('GET', '/healthz');
    expect(api.headers.get('content-security-policy')).to.equal("default-src 'none';base-uri 'none';form-action 'none';frame-ancestors 'none'");
  });

  it('refuses a wrong token (nothing kept) and signs in with the right one', async () => {
    await page().fill('#token', 'not-the-admin-token');
    await page().click('#sign-in-form button[type=submit]');
    await page().locator('#message', { hasText: 'Token refused (FORBIDDEN)' }).waitFor();
    expect(await page().isVisible('#sign-in-form')).to.equal(true);
    expect(await page().isVisible('#overview')).to.equal(false);
    expect(await page().evaluate(() => sessionStorage.getItem('wxgate.adminToken'))).to.equal(null);

    await page().fill('#token', TEST_ADMIN_TOKEN);
    await page().click('#sign-in-form button[type=submit]');
    await row().waitFor();
    expect(await page().isVisible('#sign-in-form')).to.equal(false);
    expect(await row().textContent())
      .to.contain('Demo coffee shop')
      .and.contain(demo.appid);
    await statusIs('active').waitFor();
    // Kept for this tab only: a reload stays signed in.
    await page().reload();
    await row().waitFor();
  });

  it('disables the tenant (its requests get 403 TENANT_DISABLED) and enables it again', async () => {
    expect((await tokenCall()).status).to.equal(200);
    await row().locator('[data-action=disable]').click();
    await statusIs('disabled').waitFor();
    let last = 0;
    await pollUntil(
      async () => {
        const r = await tokenCall();
        last = r.status;
        return r.status === 403 && (r.json as { error: { code: string } }).error.code === 'TENANT_DISABLED';
      },
      { withinMs: 15_000, everyMs: 200, what: 'requests of the disabled tenant refused', last: () => String(last) },
    );
    await row().locator('[data-action=enable]').click();
    await statusIs('active').waitFor();
    await pollUntil(async () => (await tokenCall()).status === 200, { withinMs: 15_000, everyMs: 200, what: 'requests served again' });
  });

  it('shows the pushes and the dead letter, and redelivers it once the receiver is back', async () => {
    hook.down = true;
    const [a] = await deliverPush(`${h.url()}/${demo.appid}/portal`, buildPush(demo.t, samplePush('text', { content: 'console redelivery' }), { format: 'json', mode: 'safe' }));
    expect(a!.status).to.equal(200);
    await pollUntil(
      async () => {
        const r = await h.req('GET', `/admin/overview?q=${demo.appid}`, { auth: TEST_ADMIN_TOKEN });
        const t = (r.json as { tenants: { webhook: { dead: number }; pushes: { accepted1h: number } }[] }).tenants[0];
        return t !== undefined && t.webhook.dead === 1 && t.pushes.accepted1h === 1;
      },
      { withinMs: 30_000, everyMs: 250, what: 'the delivery dead-lettered and the push counted' },
    );
    expect(hook.refused).to.be.at.least(2);
    expect(hook.deliveries).to.have.length(0);

    await page().click('#refresh');
    await page().locator(`tr[data-appid="${demo.appid}"] [data-field=dead]`, { hasText: /^1$/ }).waitFor();
    expect(await row().locator('[data-field=pushes]').textContent()).to.equal('1 / 0');

    hook.down = false;
    await row().locator('[data-action=redeliver]').click();
    await page().locator('#message', { hasText: '1 dead letter(s)' }).waitFor();
    await hook.waitFor(1, 20_000);
    const got = hook.deliveries[0]!;
    expect(got.signatureValid).to.equal(true);
    expect(got.body.appid).to.equal(demo.appid);
    expect(JSON.stringify(got.body.message)).to.contain('console redelivery');
    await page().locator(`tr[data-appid="${demo.appid}"] [data-field=dead]`, { hasText: /^0$/ }).waitFor();
  });

  it('creates a service key (secret shown once, and it works) and revokes it', async () => {
    await row().locator('[data-action=details]').click();
    await page().locator('#detail-title', { hasText: demo.appid }).waitFor();
    await page().fill('#key-name', 'console-made');
    await page().click('#key-form button[type=submit]');
    await page().locator('#new-secret').waitFor();
    const secret = (await page().textContent('#new-secret-value'))!.trim();
    expect(secret.length).to.be.greaterThan(20);
    const made = await h.req('GET', `/${demo.appid}/access-token`, { auth: secret });
    expect(made.status, made.text).to.equal(200);

    const item = page().locator('#keys li', { hasText: 'console-made' });
    await item.waitFor();
    await item.locator('[data-action=revoke]').click();
    await page().locator('#message', { hasText: 'revoked' }).waitFor();
    await item.waitFor({ state: 'detached' });
    // Not shown again anywhere on the page.
    await page().locator('#new-secret').waitFor({ state: 'hidden' });
    expect(await page().content()).not.to.contain(secret);
    let last = 0;
    await pollUntil(
      async () => {
        const r = await h.req('GET', `/${demo.appid}/access-token`, { auth: secret });
        last = r.status;
        return r.status === 401 || r.status === 403;
      },
      { withinMs: 15_000, everyMs: 200, what: 'the revoked key refused', last: () => String(last) },
    );
    // The detail view lists the changes made through the console, by the admin operator.
    await page().click('#back');
    await row().locator('[data-action=details]').click();
    await page().locator('#audit li', { hasText: 'key' }).first().waitFor();
  });

  it('reported no script errors and no CSP violations', () => {
    // Refused sign-ins and API errors are logged by Chromium as failed loads; those are expected.
    expect(b.problems.filter((p) => !/Failed to load resource/.test(p))).to.deep.equal([]);
  });
});
