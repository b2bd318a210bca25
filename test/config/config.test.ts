import { spawn } from 'node:child_process';
import path from 'node:path';
import { expect } from 'chai';
import { loadConfig, loadConfigSubset, secretKeys } from '../../src/kernel/config';
import { ConfigError } from '../../src/kernel/errors';
import { repoRoot } from '../../src/devstack/mongo-server';
import { TEST_ADMIN_TOKEN, TEST_SECRETS_KEY } from '../support/gateway-process';

interface Exit {
  code: number | null;
  stdout: string;
  stderr: string;
}

/**
 * Starts the gateway with a complete, valid environment except for `overrides` (undefined removes a
 * variable). The stores point at ports nothing listens on: a config error must be reported before
 * anything is connected, so these runs never need them.
 */
function runGateway(overrides: Record<string, string | undefined>): Promise<Exit> {
  const env: NodeJS.ProcessEnv = {
    PATH: process.env.PATH,
    PORT: '0',
    HOST: '127.0.0.1',
    MONGODB_URI: 'mongodb://127.0.0.1:1/wxgate_config_test',
    REDIS_URL: 'redis://127.0.0.1:1',
    SECRETS_KEY: TEST_SECRETS_KEY,
    ADMIN_TOKEN: TEST_ADMIN_TOKEN,
    LOG_LEVEL: 'info',
  };
  for (const [k, v] of Object.entries(overrides)) {
    if (v === undefined) delete env[k];
    else env[k] = v;
  }
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [path.join(repoRoot(), 'dist/src/main.js')], { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`gateway did not exit within 10 s\nstdout: ${stdout}\nstderr: ${stderr}`));
    }, 10_000);
    child.once('error', reject);
    child.once('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

/** Exit 1, exactly one stderr line naming the variable, nothing on stdout. */
function expectRefused(r: Exit, variable: string, expected: RegExp): string {
  expect(r.code, `stderr: ${r.stderr}`).to.equal(1);
  const lines = r.stderr.split('\n').filter((l) => l !== '');
  expect(lines, `stderr: ${JSON.stringify(r.stderr)}`).to.have.length(1);
  expect(r.stderr.endsWith('\n')).to.equal(true);
  const line = lines[0] as string;
  expect(line).to.include(variable);
  expect(line).to.match(expected);
  expect(line).to.not.match(/:\d+:\d+\)|\.js:\d+|^\s*at /m, 'no stack trace');
  expect(r.stdout).to.equal('');
  return line;
}

describe('config: configuration', function () {
  this.timeout(20_000);

  describe('the gateway refuses to start with a bad environment', () => {
    it('missing SECRETS_KEY', async () => {
      const line = expectRefused(await runGateway({ SECRETS_KEY: undefined }), 'SECRETS_KEY', /required/);
      expect(line).to.match(/32-byte/);
      expect(line).to.match(/base64/);
    });

    it('empty SECRETS_KEY counts as missing', async () => {
      expectRefused(await runGateway({ SECRETS_KEY: '' }), 'SECRETS_KEY', /required/);
    });

    it('SECRETS_KEY of 16 bytes is refused without echoing it', async () => {
      const bad = Buffer.from('0123456789abcdef').toString('base64');
      const line = expectRefused(await runGateway({ SECRETS_KEY: bad }), 'SECRETS_KEY', /32-byte key, base64/);
      expect(line).to.not.include(bad);
      expect(line).to.not.include(bad.slice(0, 8));
    });

    it('SECRETS_KEY that is not base64 is refused without echoing it', async () => {
      const bad = 'this is not base64 but it is a secret!!';
      const line = expectRefused(await runGateway({ SECRETS_KEY: bad }), 'SECRETS_KEY', /32-byte key, base64/);
      expect(line).to.not.include('secret!!');
      expect(line).to.not.include('not base64');
    });

    it('SECRETS_KEY and SECRETS_KEYS both set are refused, naming both and echoing neither', async () => {
      const other = Buffer.alloc(32, 9).toString('base64');
      const line = expectRefused(await runGateway({ SECRETS_KEYS: `${other},${TEST_SECRETS_KEY}` }), 'SECRETS_KEYS', /both set; set only one/);
      expect(line).to.include('SECRETS_KEY ');
      expect(line).to.not.include(other.slice(0, 8));
      expect(line).to.not.include(TEST_SECRETS_KEY.slice(0, 8));
    });

    it('SECRETS_KEYS with a malformed or a repeated key is refused, naming the key by position only', async () => {
      const a = Buffer.alloc(32, 9).toString('base64');
      const short = Buffer.from('0123456789abcdef').toString('base64');
      const malformed = expectRefused(await runGateway({ SECRETS_KEY: undefined, SECRETS_KEYS: `${a},${short}` }), 'SECRETS_KEYS', /key 2 is not/);
      expect(malformed).to.not.include(short);
      expect(malformed).to.not.include(a.slice(0, 8));
      const repeated = expectRefused(await runGateway({ SECRETS_KEY: undefined, SECRETS_KEYS: `${a},${TEST_SECRETS_KEY},${a}` }), 'SECRETS_KEYS', /key 3 repeats key 1/);
      expect(repeated).to.not.include(a.slice(0, 8));
    });

    it('ADMIN_TOKEN too short is refused without echoing it', async () => {
      const bad = 'short-tok';
      const line = expectRefused(await runGateway({ ADMIN_TOKEN: bad }), 'ADMIN_TOKEN', /at least 16 characters/);
      expect(line).to.not.include(bad);
    });

    it('PORT=abc', async () => {
      const line = expectRefused(await runGateway({ PORT: 'abc' }), 'PORT', /integer between 0 and 65535/);
      expect(line).to.include('abc');
    });

    it('PORT=70000', async () => {
      const line = expectRefused(await runGateway({ PORT: '70000' }), 'PORT', /an integer between 0 and 65535/);
      expect(line).to.include('70000');
    });

    it('MONGODB_URI=http://x', async () => {
      expectRefused(await runGateway({ MONGODB_URI: 'http://x' }), 'MONGODB_URI', /mongodb:\/\/.*mongodb\+srv:\/\//);
    });

    it('REDIS_URL that is not a redis URL', async () => {
      expectRefused(await runGateway({ REDIS_URL: 'not a url' }), 'REDIS_URL', /redis:\/\//);
    });

    it('LOG_LEVEL=loud', async () => {
      const line = expectRefused(await runGateway({ LOG_LEVEL: 'loud' }), 'LOG_LEVEL', /expected one of fatal, error/);
      for (const level of ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']) expect(line).to.include(level);
      expect(line).to.include('loud');
    });

    it('a secret is never echoed even when another variable is the bad one', async () => {
      const r = await runGateway({ PORT: 'abc', ADMIN_TOKEN: 'a-very-recognisable-admin-token' });
      expectRefused(r, 'PORT', /integer/);
      expect(r.stderr).to.not.include('a-very-recognisable-admin-token');
      expect(r.stderr).to.not.include(TEST_SECRETS_KEY);
    });
  });

  describe('loadConfig', () => {
    const required = { SECRETS_KEY: TEST_SECRETS_KEY, ADMIN_TOKEN: TEST_ADMIN_TOKEN };

    it('SECRETS_KEYS is a key ring (first seals); SECRETS_KEY a one-key ring', () => {
      const other = Buffer.alloc(32, 9).toString('base64');
      expect(secretKeys(loadConfig({ ADMIN_TOKEN: TEST_ADMIN_TOKEN, SECRETS_KEYS: ` ${other} , ${TEST_SECRETS_KEY}` }))).to.deep.equal([other, TEST_SECRETS_KEY]);
      expect(secretKeys(loadConfig({ ...required }))).to.deep.equal([TEST_SECRETS_KEY]);
      expect(() => loadConfig({ ADMIN_TOKEN: TEST_ADMIN_TOKEN, SECRETS_KEYS: `${other},` })).to.throw(ConfigError, /key 2 is not/);
      expect(() => loadConfig({ ADMIN_TOKEN: TEST_ADMIN_TOKEN })).to.throw(ConfigError, /SECRETS_KEY: is required \(or SECRETS_KEYS\)/);
    });

    it('applies the documented defaults', () => {
      const c = loadConfig({ ...required });
      expect(c.PORT).to.equal(3000);
      expect(c.HOST).to.equal('0.0.0.0');
      expect(c.MONGODB_URI).to.equal('mongodb://127.0.0.1:27017/wxgate');
      expect(c.REDIS_URL).to.equal('redis://127.0.0.1:6379');
      expect(c.WECHAT_API_BASE).to.equal('https://api.weixin.qq.com');
      expect(c.LOG_LEVEL).to.equal('info');
      expect(c.TENANT_CACHE_TTL_S).to.equal(60);
      expect(c.SHUTDOWN_GRACE_MS).to.equal(10_000);
      expect(c.SECRETS_KEY).to.equal(TEST_SECRETS_KEY);
    });

    it('treats empty strings as unset', () => {
      const c = loadConfig({ ...required, PORT: '', REDIS_URL: '' });
      expect(c.PORT).to.equal(3000);
      expect(c.REDIS_URL).to.equal('redis://127.0.0.1:6379');
    });

    it('parses numbers and keeps given values', () => {
      const c = loadConfig({ ...required, PORT: '8080', MONGODB_URI: 'mongodb+srv://db.example.com/x', LOG_LEVEL: 'debug' });
      expect(c.PORT).to.equal(8080);
      expect(c.MONGODB_URI).to.equal('mongodb+srv://db.example.com/x');
      expect(c.LOG_LEVEL).to.equal('debug');
    });

    it('throws ConfigError naming the variable', () => {
      let caught: unknown;
      try {
        loadConfig({ ...required, PORT: '-1' });
      } catch (err) {
        caught = err;
      }
      expect(caught).to.be.instanceOf(ConfigError);
      expect((caught as ConfigError).variable).to.equal('PORT');
    });

    it('the CLI subset does not need ADMIN_TOKEN or PORT', () => {
      const c = loadConfigSubset({ SECRETS_KEY: TEST_SECRETS_KEY, PORT: 'abc' }, ['MONGODB_URI', 'REDIS_URL', 'SECRETS_KEY']);
      expect(c).to.deep.equal({ MONGODB_URI: 'mongodb://127.0.0.1:27017/wxgate', REDIS_URL: 'redis://127.0.0.1:6379', SECRETS_KEY: TEST_SECRETS_KEY });
    });
  });
});
