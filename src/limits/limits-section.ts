import { z } from 'zod';
import { defineSection } from '../tenancy/tenant-section';
import { parseRate, RATE_FORMAT } from '../kernel/rates';

/** A rate as written in the tenant file (`"20/s"`, `"600/min"`, `"off"`); kept as written, read by parseRate. */
const rateField = z.string().refine((v) => parseRate(v) !== undefined, `expected ${RATE_FORMAT}`);

/** The kinds of route a tenant's rates are counted for, each against its own counter. */
export const LIMIT_CLASSES = ['login', 'users', 'miniapp', 'passthrough'] as const;
export type LimitClass = (typeof LIMIT_CLASSES)[number];

/** A tenant's own rates, overriding the RATE_LIMIT_* defaults class by class. */
export const limitsSection = defineSection({
  name: 'limits',
  fields: {
    limits: z
      .object({
        login: rateField.optional(),
        users: rateField.optional(),
        miniapp: rateField.optional(),
        passthrough: rateField.optional(),
      })
      .strict()
      .optional(),
  },
  mask: (l) => ({ limits: l.limits ?? null }),
});

export type LimitsSettings = ReturnType<typeof limitsSection.of>;
