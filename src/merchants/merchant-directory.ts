import type { KeyObject } from 'node:crypto';
import type { InvalidationBus } from '../cache/invalidation-bus';
import { TimedLookup } from '../cache/timed-lookup';
import type { Clock } from '../kernel/clock';
import { parsePrivateKey, parsePublicKey } from '../protocol/wechatpay/pay-signature';
import type { Merchant } from './merchant';
import type { MerchantRepository } from './merchant-repository';

/** A merchant ready to sign and verify: its keys parsed once. */
export interface MerchantAccount {
  readonly merchant: Merchant;
  readonly privateKey: KeyObject;
  /** The WeChat Pay public key of public-key mode, under its id. */
  readonly publicKey?: { id: string; key: KeyObject };
}

/** How long a process trusts its copy of a merchant without being told of a change (pub/sub drops it at once). */
const TTL_MS = 60_000;

/**
 * Merchants as gateways see them: read from MongoDB on first use, kept for a minute, dropped on
 * every instance when the CLI changes one.
 */
export class MerchantDirectory {
  private readonly lookup: TimedLookup<MerchantAccount>;

  constructor(repo: MerchantRepository, clock: Clock, bus: InvalidationBus) {
    this.lookup = new TimedLookup(
      async (mchid) => {
        const m = await repo.find(mchid);
        return m ? toAccount(m) : null;
      },
      clock,
      TTL_MS,
    );
    bus.on('merchant', (m) => this.lookup.drop(m.appid));
  }

  find(mchid: string): Promise<MerchantAccount | null> {
    return this.lookup.get(mchid);
  }
}

export function toAccount(m: Merchant): MerchantAccount {
  return {
    merchant: m,
    privateKey: parsePrivateKey(m.privateKey),
    ...(m.publicKeyId && m.publicKey ? { publicKey: { id: m.publicKeyId, key: parsePublicKey(m.publicKey) } } : {}),
  };
}
