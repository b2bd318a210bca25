import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { verifyDelivery } from '../../src/delivery/webhook-signing';

export interface Delivery {
  deliveryId: string;
  attempt: number;
  body: { deliveryId: string; appid: string; attempt: number; message: Record<string, unknown> };
  signatureValid: boolean;
  at: number;
}

/**
 * A tenant's backend as the webhook target: records deliveries and can be made to fail or to be
 * slow, like a real backend having a bad day.
 */
export class WebhookReceiver {
  readonly deliveries: Delivery[] = [];
  /** Attempts answered with an error while `down`. */
  refused = 0;
  down = false;
  delayMs = 0;
  /** Requests being answered right now, and the most there ever were at once. */
  active = 0;
  maxActive = 0;
  private server?: http.Server;
  url = '';

  constructor(private readonly secret: string) {}

  async start(): Promise<void> {
    this.server = http.createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      this.active++;
      this.maxActive = Math.max(this.maxActive, this.active);
      req.on('end', () => {
        const finish = () => {
          this.active--;
          if (this.down) {
            this.refused++;
            res.writeHead(503).end('down');
            return;
          }
          const raw = Buffer.concat(chunks).toString('utf8');
          const body = JSON.parse(raw) as Delivery['body'];
          this.deliveries.push({
            deliveryId: String(req.headers['x-wxgate-delivery']),
            attempt: Number(req.headers['x-wxgate-attempt']),
            body,
            signatureValid: verifyDelivery(this.secret, String(req.headers['x-wxgate-timestamp']), raw, String(req.headers['x-wxgate-signature'])),
            at: Date.now(),
          });
          res.writeHead(200).end('ok');
        };
        if (this.delayMs > 0) setTimeout(finish, this.delayMs);
        else finish();
      });
    });
    await new Promise<void>((r) => this.server!.listen(0, '127.0.0.1', r));
    this.url = `http://127.0.0.1:${(this.server!.address() as AddressInfo).port}/hook`;
  }

  async waitFor(n: number, timeoutMs: number): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (this.deliveries.length < n) {
      if (Date.now() > deadline) throw new Error(`expected ${n} deliveries, got ${this.deliveries.length}`);
      await new Promise((r) => setTimeout(r, 25));
    }
  }

  async stop(): Promise<void> {
    this.server?.closeAllConnections();
    await new Promise<void>((r) => (this.server ? this.server.close(() => r()) : r()));
  }
}
