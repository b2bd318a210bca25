/**
 * `npm run tenants -- merchants ...` with hostile merchant files: every bad file is refused with a
 * message naming the field, no secret is ever echoed, nothing is written; what is written is sealed.
 */
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { expect } from 'chai';
import { runTenantsCli, type CliResult } from '../support/gateway-process';
import { applyTenants, withRawMongo } from '../support/gateway-helpers';
import { makeTenant } from '../support/tenant-fixtures';
import { writeJsonFile } from './pay-helpers';

interface MerchantFile {
  mchid: string;
  name: string;
  serialNo: string;
  privateKey: string;
  apiV3Key: string;
  publicKeyId?: string;
  publicKey?: string;
  payBase?: string;
}

const rsa = () => generateKeyPairSync('rsa', { modulusLength: 2048 });
const pem = {
  private: (k: ReturnType<typeof rsa>) => k.privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
  public: (k: ReturnType<typeof rsa>) => k.publicKey.export({ type: 'spki', format: 'pem' }).toString(),
};
const merchantKey = rsa();
const platformKey = rsa();
const ec = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
const ecPrivate = ec.privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
const ecPublic = ec.publicKey.export({ type: 'spki', format: 'pem' }).toString();

function merchantFile(extra: Partial<Record<keyof MerchantFile | string, unknown>> = {}): MerchantFile {
  return {
    mchid: String(1_800_000_000 + Math.floor(Math.random() * 99_999_999)),
    name: 'Hostile Coffee',
    serialNo: randomBytes(20).toString('hex').toUpperCase(),
    privateKey: pem.private(merchantKey),
    apiV3Key: randomBytes(16).toString('hex'),
    publicKeyId: `PUB_KEY_ID_0114${Date.now()}`,
    publicKey: pem.public(platformKey),
    ...extra,
  } as MerchantFile;
}

/** Lines of a PEM body long enough to be recognisable. */
const keyLines = (p: string) => p.split('\n').filter((l) => l.length > 40);

function expectNoSecrets(r: CliResult, ...secrets: string[]): void {
  const all = r.stdout + r.stderr;
  for (const s of secrets) {
    for (const line of s.includes('\n') ? keyLines(s) : [s]) expect(all, 'a secret was echoed').to.not.include(line);
    // Not even a piece of it.
    if (!s.includes('\n') && s.length >= 16) expect(all).to.not.include(s.slice(0, 10));
  }
}

const rawMerchants = (filter: Record<string, unknown>) => withRawMongo((db) => db.collection('merchants').find(filter).toArray());

describe('merchants CLI under hostile merchant files', function () {
  this.timeout(30_000);

  const bad: [label: string, file: () => MerchantFile | unknown, field: RegExp][] = [
    ['bad PEM', () => merchantFile({ privateKey: '-----BEGIN PRIVATE KEY-----\nnot-a-key\n-----END PRIVATE KEY-----\n' }), /^\s*privateKey: /m],
    ['EC private key instead of RSA', () => merchantFile({ privateKey: ecPrivate }), /^\s*privateKey: .*RSA/m],
    ['public key as the private key', () => merchantFile({ privateKey: pem.public(merchantKey) }), /^\s*privateKey: /m],
    ['private key a number', () => merchantFile({ privateKey: 42 }), /^\s*privateKey: /m],
    ['private key oversized', () => merchantFile({ privateKey: pem.private(merchantKey).repeat(10) }), /^\s*privateKey: /m],
    ['APIv3 key of 31 characters', () => merchantFile({ apiV3Key: randomBytes(16).toString('hex').slice(1) }), /^\s*apiV3Key: .*32/m],
    ['APIv3 key of 33 characters', () => merchantFile({ apiV3Key: randomBytes(16).toString('hex') + 'x' }), /^\s*apiV3Key: /m],
    ['publicKeyId without publicKey', () => merchantFile({ publicKey: undefined }), /^\s*publicKey: .*publicKeyId/m],
    ['publicKey without publicKeyId', () => merchantFile({ publicKeyId: undefined }), /^\s*publicKey: .*publicKeyId/m],
    ['EC public key', () => merchantFile({ publicKey: ecPublic }), /^\s*publicKey: /m],
    ['publicKeyId malformed', () => merchantFile({ publicKeyId: 'PUB_KEY_ID_../../x' }), /^\s*publicKeyId: /m],
    ['payBase on loopback without ALLOW_PRIVATE_URLS', () => merchantFile({ payBase: 'http://127.0.0.1:9/' }), /^\s*payBase: /m],
    ['payBase on a private address without ALLOW_PRIVATE_URLS', () => merchantFile({ payBase: 'https://10.0.0.8' }), /^\s*payBase: /m],
    ['payBase not http', () => merchantFile({ payBase: 'file:///etc/passwd' }), /^\s*payBase: /m],
    ['unknown field', () => merchantFile({ apiKey: 'a-v2-key-that-is-secret' }), /apiKey/],
    ['env:NAME unset', () => merchantFile({ privateKey: 'env:WXGATE_NO_SUCH_VARIABLE' }), /^\s*privateKey: .*WXGATE_NO_SUCH_VARIABLE/m],
    ['env:NAME holding an EC key', () => merchantFile({ privateKey: 'env:WXGATE_TEST_EC_KEY' }), /^\s*privateKey: /m],
    ['mchid not digits', () => merchantFile({ mchid: '../1900' }), /^\s*mchid: /m],
    ['serialNo not hex', () => merchantFile({ serialNo: 'zz' }), /^\s*serialNo: /m],
    ['name empty', () => merchantFile({ name: '   ' }), /^\s*name: /m],
    ['a string, not an object', () => 'merchant', /file: /],
    ['null', () => null, /file: /],
  ];

  // One CLI run with every bad file (a process costs most of a second): each file must get its own
  // problems, naming the field. Private addresses are not allowed in this run.
  const files = new Map<string, { content: unknown; file: string }>();
  let run: CliResult;
  before(async () => {
    for (const [label, make] of bad) {
      const content = make();
      files.set(label, { content, file: writeJsonFile(content) });
    }
    run = await runTenantsCli(['merchants', 'apply', ...[...files.values()].map((f) => f.file)], { ALLOW_PRIVATE_URLS: 'false', WXGATE_TEST_EC_KEY: ecPrivate });
  });

  /** The stderr lines about one file: its own line and the indented problems under it. */
  function section(stderr: string, file: string): string {
    const lines = stderr.split('\n');
    const start = lines.findIndex((l) => l.startsWith(file));
    if (start < 0) return '';
    let end = start + 1;
    while (end < lines.length && /^\s/.test(lines[end]!)) end++;
    return lines.slice(start, end).join('\n');
  }

  it('the run with the bad files exits 1, says nothing was written, and writes nothing', async () => {
    expect(run.code, run.stdout + run.stderr).to.equal(1);
    expect(run.stderr).to.include('nothing was written');
    expect(run.stdout).to.not.match(/created|updated/);
    expect(run.stderr).to.not.match(/at .*\.js:\d+/);
    const mchids = [...files.values()].map((f) => (f.content as Partial<MerchantFile> | null)?.mchid).filter((m): m is string => typeof m === 'string');
    expect(await rawMerchants({ mchid: { $in: mchids } })).to.have.length(0);
  });

  for (const [label, , field] of bad) {
    it(`${label}: the field is named, no secret echoed`, () => {
      const { content, file } = files.get(label)!;
      expect(section(run.stderr, file), run.stderr).to.match(field);
      const m = content as Partial<MerchantFile> | null;
      const secrets = [pem.private(merchantKey), ecPrivate, ...(typeof m?.apiV3Key === 'string' ? [m.apiV3Key] : [])];
      if (label === 'unknown field') secrets.push('a-v2-key-that-is-secret');
      expectNoSecrets(run, ...secrets);
    });
  }

  it('a JSON syntax error next to a secret names the position, never the text around it', async () => {
    const m = merchantFile();
    const file = writeJsonFile({});
    // The APIv3 key without its quotes: JSON.parse's own message would quote it.
    writeFileSync(file, JSON.stringify(m, null, 2).replace(`"${m.apiV3Key}"`, m.apiV3Key));
    const r = await runTenantsCli(['merchants', 'apply', file]);
    expect(r.code).to.equal(1);
    expect(r.stderr).to.match(/cannot read JSON: not valid JSON/);
    expectNoSecrets(r, m.apiV3Key, m.privateKey);
    expect(await rawMerchants({ mchid: m.mchid })).to.have.length(0);
  });

  it('a bad file among good ones writes none of them; a duplicate mchid too', async () => {
    const good = merchantFile();
    const r = await runTenantsCli(['merchants', 'apply', writeJsonFile(good), writeJsonFile(merchantFile({ apiV3Key: 'short' }))]);
    expect(r.code).to.equal(1);
    expect(await rawMerchants({ mchid: good.mchid })).to.have.length(0);
    const dup = await runTenantsCli(['merchants', 'apply', writeJsonFile([good, { ...good, name: 'Other' }])]);
    expect(dup.code).to.equal(1);
    expect(dup.stderr).to.include(`mchid ${good.mchid} is defined more than once`);
    expect(await rawMerchants({ mchid: good.mchid })).to.have.length(0);
    expectNoSecrets(r, good.privateKey, good.apiV3Key);
    expectNoSecrets(dup, good.privateKey, good.apiV3Key);
  });

  it('secrets are sealed in MongoDB and masked by list and show; bad mchids and removal of a used merchant are refused', async () => {
    const m = merchantFile({ privateKey: 'env:WXGATE_TEST_MCH_KEY' });
    const r = await runTenantsCli(['merchants', 'apply', writeJsonFile(m)], { WXGATE_TEST_MCH_KEY: pem.private(merchantKey) });
    expect(r.code, r.stderr).to.equal(0);
    expect(r.stdout).to.include(`${m.mchid} created`);
    const docs = await rawMerchants({ mchid: m.mchid });
    expect(docs).to.have.length(1);
    const rawDoc = JSON.stringify(docs[0]);
    for (const line of keyLines(pem.private(merchantKey))) expect(rawDoc).to.not.include(line);
    expect(rawDoc).to.not.include(m.apiV3Key);
    expect(rawDoc).to.not.include('BEGIN PRIVATE KEY');

    const calls: [string[], number][] = [
      [['list', '--json'], 0],
      [['show', m.mchid], 0],
      [['show', '../../etc'], 1],
      [['remove', '{"$ne":null}'], 1],
    ];
    const [answers] = await Promise.all([Promise.all(calls.map(([args]) => runTenantsCli(['merchants', ...args]))), applyTenants(makeTenant({ pay: { mchid: m.mchid } }))]);
    answers.forEach((o, i) => {
      const [args, code] = calls[i]!;
      expect(o.code, `${args.join(' ')}: ${o.stderr}`).to.equal(code);
      expect(o.stderr).to.not.match(/at .*\.js:\d+/);
    });
    expect(answers[1]!.stdout).to.include(m.mchid);
    expect(JSON.parse(answers[0]!.stdout)).to.be.an('array');
    const outputs = [r, ...answers];
    const refused = await runTenantsCli(['merchants', 'remove', m.mchid]);
    expect(refused.code).to.equal(1);
    expect(refused.stderr).to.include('used by 1 tenant');
    expect(await rawMerchants({ mchid: m.mchid })).to.have.length(1);
    const forced = await runTenantsCli(['merchants', 'remove', m.mchid, '--force']);
    expect(forced.code, forced.stderr).to.equal(0);
    expect(await rawMerchants({ mchid: m.mchid })).to.have.length(0);
    for (const o of [...outputs, refused, forced]) expectNoSecrets(o, pem.private(merchantKey), m.apiV3Key);
  });
});
