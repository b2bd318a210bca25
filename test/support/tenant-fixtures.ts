import { randomBytes } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { TenantFileContent } from '../../src/devstack/demo-tenant';
/** A tenant file's content (README "Tenant file"), as the dev tools write it; rules may be left out. */
export type TenantFixture = Omit<TenantFileContent, 'rules'> & { rules?: unknown[] };

/** A fresh, valid tenant with random credentials, so tests never collide. */
export function makeTenant(overrides: Partial<TenantFixture> = {}): TenantFixture {
  return {
    appid: 'wx' + randomBytes(8).toString('hex'),
    name: 'Test shop ' + randomBytes(2).toString('hex'),
    secret: randomBytes(16).toString('hex'),
    token: 'tok' + randomBytes(6).toString('hex'),
    aesKey: randomBytes(32).toString('base64').slice(0, 43),
    msgFormat: 'json',
    tokenMode: 'stable',
    status: 'active',
    ...overrides,
  };
}

/** Writes tenant files to a temp dir and returns their paths. */
export function writeTenantFiles(...contents: unknown[]): string[] {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'wxgate-tenants-'));
  return contents.map((c, i) => {
    const file = path.join(dir, `tenant-${i}.json`);
    writeFileSync(file, JSON.stringify(c, null, 2));
    return file;
  });
}
