import { z } from 'zod';
import { defineSection } from '../tenancy/tenant-section';
import { MCHID } from '../merchants/merchant';

/** A tenant takes payments through one merchant account (applied separately with `merchants apply`). */
export const paySection = defineSection({
  name: 'pay',
  fields: {
    pay: z
      .object({ mchid: z.string().regex(MCHID, 'expected the merchant ID (6 to 16 digits)') })
      .strict()
      .optional(),
  },
  mask: (p) => ({ pay: p.pay ? { mchid: p.pay.mchid } : null }),
});

export type PaySettings = ReturnType<typeof paySection.of>;
