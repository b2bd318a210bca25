/**
 * component_verify_ticket: WeChat pushes a new one every 10 minutes; each is valid 12 hours of the clock, and a
 * newer ticket does not end older ones. api_component_token needs a valid one: 61006 unknown (or another platform's),
 * 61005 expired.
 */
import { randomBytes } from 'node:crypto';
import type { Clock } from '../../kernel/clock';
import { HOUR } from '../time';
import { WxError } from '../wx-errors';

export const TICKET_TTL_MS = 12 * HOUR;

interface Ticket {
  componentAppid: string;
  expiresAt: number;
}

export class TicketBook {
  private readonly tickets = new Map<string, Ticket>();
  private readonly latest = new Map<string, string>();

  constructor(private readonly clock: Clock) {}

  issue(componentAppid: string): string {
    const now = this.clock.now();
    for (const [t, rec] of this.tickets) if (now - rec.expiresAt > TICKET_TTL_MS) this.tickets.delete(t);
    const ticket = `ticket@@@${randomBytes(48).toString('base64url')}`;
    this.tickets.set(ticket, { componentAppid, expiresAt: now + TICKET_TTL_MS });
    this.latest.set(componentAppid, ticket);
    return ticket;
  }

  current(componentAppid: string): string | undefined {
    return this.latest.get(componentAppid);
  }

  check(componentAppid: string, ticket: unknown): void {
    const rec = typeof ticket === 'string' ? this.tickets.get(ticket) : undefined;
    if (!rec || rec.componentAppid !== componentAppid) throw new WxError(61006);
    if (this.clock.now() >= rec.expiresAt) throw new WxError(61005);
  }
}
