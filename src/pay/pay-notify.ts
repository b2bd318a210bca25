import { AppError } from '../kernel/errors';
import { isRecord } from '../kernel/records';
import { decryptResource, PayResourceError, type EncryptedResource } from '../protocol/wechatpay/pay-resource';
import type { MerchantAccount } from '../merchants/merchant-directory';
import type { PlatformKeys } from './platform-keys';

type Headers = Readonly<Record<string, string | string[] | undefined>>;

/** What a verified notification carries, decrypted. */
export interface OpenedNotification {
  id: string;
  eventType: string;
  resource: Record<string, unknown>;
}

const RESOURCE_TYPES: Readonly<Record<'transaction' | 'refund', string>> = { transaction: 'transaction', refund: 'refund' };

/**
 * Opens a WeChat Pay notification: the signature first (over the exact body, by the key its
 * serial names, within 5 minutes), then the envelope, then the resource with the APIv3 key. Nothing
 * is parsed before the signature verifies, so a forged body costs one RSA verification.
 */
export async function openNotification(keys: PlatformKeys, account: MerchantAccount, headers: Headers, body: string, kind: 'transaction' | 'refund'): Promise<OpenedNotification> {
  const v = await keys.verify(account, headers, body);
  if (!v.ok) throw new AppError(401, 'PAY_NOTIFY_UNVERIFIED', 'the notification signature does not verify', { logDetails: { reason: v.reason, mchid: account.merchant.mchid } });
  let envelope: unknown;
  try {
    envelope = JSON.parse(body);
  } catch {
    throw malformed('the body is not JSON');
  }
  if (!isRecord(envelope) || typeof envelope.id !== 'string' || typeof envelope.event_type !== 'string' || !isRecord(envelope.resource)) throw malformed('not a WeChat Pay notification');
  const r = envelope.resource;
  if (r.original_type !== undefined && r.original_type !== RESOURCE_TYPES[kind]) throw malformed(`expected a ${kind} notification`);
  if (typeof r.algorithm !== 'string' || typeof r.ciphertext !== 'string' || typeof r.nonce !== 'string' || (r.associated_data !== undefined && typeof r.associated_data !== 'string')) {
    throw malformed('resource malformed');
  }
  let plain: string;
  try {
    plain = decryptResource(r as unknown as EncryptedResource, account.merchant.apiV3Key);
  } catch (err) {
    throw malformed(err instanceof PayResourceError ? err.message : 'resource does not decrypt');
  }
  let resource: unknown;
  try {
    resource = JSON.parse(plain);
  } catch {
    throw malformed('the decrypted resource is not JSON');
  }
  if (!isRecord(resource)) throw malformed('the decrypted resource is not an object');
  return { id: envelope.id, eventType: envelope.event_type, resource };
}

const malformed = (why: string) => new AppError(400, 'PAY_NOTIFY_MALFORMED', why);
