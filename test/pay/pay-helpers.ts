/** Merchants, clocks and checks shared by the pay tests. */
import { generateKeyPairSync, randomBytes, verify, type KeyObject } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Clock } from '../../src/kernel/clock';
import type { Sandbox } from '../../src/sandbox';
import type { PayVerifyMode } from '../../src/sandbox/pay/types';

/** A clock that follows real time, shifted on demand (to make the sandbox sign stale notifications). */
export class ShiftedClock implements Clock {
  offsetMs = 0;
  now(): number {
    return Date.now() + this.offsetMs;
  }
}

export interface TestMerchant {
  mchid: string;
  serialNo: string;
  apiV3Key: string;
  privateKeyPem: string;
  publicKey: KeyObject;
  /** The merchant file's content (public-key fields only in public-key and both modes). */
  file: Record<string, unknown>;
}

/** A merchant with a fresh key pair, registered in the sandbox in the given mode, and its merchant file for the gateway. */
export function makeMerchant(sandbox: Sandbox, mode: PayVerifyMode = 'publicKey', payBase?: string): TestMerchant {
  const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const mchid = String(1_900_000_000 + Math.floor(Math.random() * 99_999_999));
  const serialNo = randomBytes(20).toString('hex').toUpperCase();
  const apiV3Key = randomBytes(16).toString('hex');
  const privateKeyPem = privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
  const reg = sandbox.pay.registerMerchant({ mchid, serialNo, merchantPublicKey: publicKey.export({ type: 'spki', format: 'pem' }).toString(), apiV3Key, mode });
  const file: Record<string, unknown> = { mchid, name: `Merchant ${mchid}`, serialNo, privateKey: privateKeyPem, apiV3Key, ...(payBase ? { payBase } : {}) };
  if (mode !== 'certificate') Object.assign(file, { publicKeyId: reg.publicKeyId, publicKey: reg.publicKey });
  return { mchid, serialNo, apiV3Key, privateKeyPem, publicKey, file };
}

export function writeJsonFile(content: unknown): string {
  const file = path.join(mkdtempSync(path.join(os.tmpdir(), 'wxgate-merchant-')), 'merchant.json');
  writeFileSync(file, JSON.stringify(content, null, 2));
  return file;
}

/** Checks wx.requestPayment parameters the way WeChat's client does: RSA-SHA256 over appId, timeStamp, nonceStr, package. */
export function paySignValid(p: Record<string, string>, merchantPublicKey: KeyObject): boolean {
  const message = `${p.appId}\n${p.timeStamp}\n${p.nonceStr}\n${p.package}\n`;
  return verify('sha256', Buffer.from(message), merchantPublicKey, Buffer.from(p.paySign ?? '', 'base64'));
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
