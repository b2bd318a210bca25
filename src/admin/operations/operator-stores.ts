import { publishInvalidation } from '../../cache/invalidation-bus';
import { announceTenantChange, announceTenantChanges } from '../../tenancy/tenant-resolver';
import type { OperatorStores } from './admin-operations';

/**
 * The stores plus the announcements every change is followed by (over Redis pub/sub, so every
 * gateway drops its cached copy at once), as the CLI's composition root builds them too.
 */
export function operatorStores(s: Omit<OperatorStores, 'announce' | 'announceMany' | 'announceKeyRevocation' | 'announceMerchant'>): OperatorStores {
  const { redis } = s;
  return {
    ...s,
    announce: (appid) => announceTenantChange(redis, (a) => publishInvalidation(redis, { kind: 'tenant', appid: a }), appid),
    announceMany: (appids) => announceTenantChanges(redis, (chunk) => publishInvalidation(redis, { kind: 'tenant', appid: '', appids: chunk }), appids),
    announceKeyRevocation: (appid, keyId) => publishInvalidation(redis, { kind: 'service-key', appid, ref: keyId }),
    announceMerchant: (mchid) => publishInvalidation(redis, { kind: 'merchant', appid: mchid }),
  };
}
