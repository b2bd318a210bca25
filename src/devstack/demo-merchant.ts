import { generateKeyPairSync, randomBytes } from 'node:crypto';
import type { Sandbox } from '../sandbox';

/** The merchant `npm run sandbox` sets up for the demo tenant (its keys are made fresh on every start). */
export const DEMO_MCHID = '1900000109';

/** Registers a fresh demo merchant with the sandbox's WeChat Pay and returns its merchant file content. */
export function demoMerchant(sandbox: Sandbox, payBase: string): Record<string, string> {
  const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const serialNo = randomBytes(20).toString('hex').toUpperCase();
  const apiV3Key = randomBytes(16).toString('hex');
  const reg = sandbox.pay.registerMerchant({ mchid: DEMO_MCHID, serialNo, merchantPublicKey: publicKey.export({ type: 'spki', format: 'pem' }).toString(), apiV3Key });
  return {
    mchid: DEMO_MCHID,
    name: 'Demo shop merchant',
    serialNo,
    privateKey: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
    apiV3Key,
    publicKeyId: reg.publicKeyId,
    publicKey: reg.publicKey,
    payBase,
  };
}
