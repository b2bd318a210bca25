/** Everything the sandbox's third-party platforms remember. Authorizer access tokens live in the sandbox's TokenStore. */
import type { Clock } from '../../kernel/clock';
import { AuthorizationBook } from './authorizations';
import { ComponentTokens } from './component-tokens';
import { PlatformEvents } from './events';
import { PreAuthCodes } from './pre-auth';
import { PlatformRegistry } from './registry';
import { TicketBook } from './tickets';
import { TicketTimers } from './ticket-timers';

export class PlatformState {
  readonly registry = new PlatformRegistry();
  readonly tickets: TicketBook;
  readonly componentTokens: ComponentTokens;
  readonly preAuth: PreAuthCodes;
  readonly authorizations: AuthorizationBook;
  readonly events: PlatformEvents;
  readonly timers = new TicketTimers();

  constructor(clock: Clock, tokenTtlSeconds: number) {
    this.tickets = new TicketBook(clock);
    this.componentTokens = new ComponentTokens(clock, tokenTtlSeconds);
    this.preAuth = new PreAuthCodes(clock);
    this.authorizations = new AuthorizationBook(clock);
    this.events = new PlatformEvents(clock);
  }
}
