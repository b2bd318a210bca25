import { z } from 'zod';
import { defineSection } from '../tenancy/tenant-section';
import { httpUrl, maskSecret, secretField } from '../tenancy/tenant-fields';

/** Where a tenant's pushes (and other events) are forwarded, and the secret their HMAC is made with. */
export const webhookSection = defineSection({
  name: 'webhook',
  fields: {
    webhook: z
      .object({
        url: httpUrl,
        secret: secretField(z.string().min(16, 'at least 16 characters')),
      })
      .strict()
      .optional(),
  },
  sealed: ['webhook.secret'],
  urls: ['webhook.url'],
  mask: (w) => ({ webhook: w.webhook ? { url: w.webhook.url, secret: maskSecret(w.webhook.secret) } : null }),
});

export type WebhookSettings = ReturnType<typeof webhookSection.of>;
