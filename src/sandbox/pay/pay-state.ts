/** Everything the sandbox's WeChat Pay remembers: platform identities, merchants, orders and refunds, notifications, shipping. */
import type { Clock } from '../../kernel/clock';
import { MerchantRegistry } from './merchants';
import { Notifier } from './notifier';
import { OrderBook } from './orders';
import { PlatformIdentities } from './platform';
import { ShippingBook } from './shipping';

export class PayState {
  readonly platform = new PlatformIdentities();
  readonly merchants: MerchantRegistry;
  readonly orders: OrderBook;
  readonly notifier: Notifier;
  readonly shipping: ShippingBook;

  constructor(readonly clock: Clock) {
    this.merchants = new MerchantRegistry(this.platform);
    this.orders = new OrderBook(clock);
    this.notifier = new Notifier(clock, this.merchants);
    this.shipping = new ShippingBook(clock, this.orders);
  }
}
