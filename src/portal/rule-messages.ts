import type { Logger } from '../kernel/log';
import type { Tenant } from '../tenancy/tenant';
import type { WeChatClients } from '../wechat/wechat-clients';
import { sendCustomerMessage } from '../wechat/mp-api';
import type { CustomerMessage } from './rules';

/**
 * Sends the customer messages a rule attached to an accepted push, to the user who pushed, after
 * WeChat was answered. Failures are logged: the push itself is already accepted and queued.
 */
export function sendRuleMessages(clients: WeChatClients, tenant: Tenant, touser: string, messages: readonly CustomerMessage[], log: Logger): void {
  const client = clients.for(tenant);
  for (const m of messages) {
    sendCustomerMessage(client, { ...m, touser }).catch((err: unknown) => {
      log.warn({ appid: tenant.appid, err: (err as Error).message, msgtype: m.msgtype }, 'customer message not sent');
    });
  }
}
