import { createHmac, timingSafeEqual } from 'node:crypto';

/**
 * Deliveries are signed so the tenant's backend can tell them from forgeries:
 * X-Wxgate-Signature: sha256=<hex HMAC-SHA256 of "<timestamp>.<body>" under the webhook secret>.
 * The timestamp is signed too, so a captured delivery cannot be replayed later with a new one.
 */
export function signDelivery(secret: string, timestamp: string, body: string): string {
  return 'sha256=' + createHmac('sha256', secret).update(`${timestamp}.${body}`).digest('hex');
}

export function verifyDelivery(secret: string, timestamp: string, body: string, signature: string): boolean {
  const expected = Buffer.from(signDelivery(secret, timestamp, body));
  const given = Buffer.from(signature);
  return expected.length === given.length && timingSafeEqual(expected, given);
}
