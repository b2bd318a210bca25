import { z } from 'zod';

/**
 * The body of a customer-service message (POST /cgi-bin/message/custom/send), one schema for every
 * sender: the tenant's backend (which names `touser`) and portal rules (which may not: the gateway
 * always answers the pushing user). The limits are WeChat's.
 */
const MEDIA_ID = z
  .string()
  .min(1)
  .max(256)
  .regex(/^[A-Za-z0-9_-]+$/, 'is not a media id');
const HTTP_URL = z.url({ protocol: /^https?$/ }).max(2048);

export function customerMessageSchema<S extends z.ZodRawShape>(extra: S) {
  return z.discriminatedUnion('msgtype', [
    z.strictObject({ ...extra, msgtype: z.literal('text'), text: z.strictObject({ content: z.string().min(1).max(2048) }) }),
    z.strictObject({ ...extra, msgtype: z.literal('image'), image: z.strictObject({ media_id: MEDIA_ID }) }),
    z.strictObject({
      ...extra,
      msgtype: z.literal('link'),
      link: z.strictObject({
        title: z.string().min(1).max(256),
        description: z.string().max(1024),
        url: HTTP_URL,
        thumb_url: HTTP_URL,
      }),
    }),
    z.strictObject({
      ...extra,
      msgtype: z.literal('miniprogrampage'),
      miniprogrampage: z.strictObject({
        title: z.string().min(1).max(256),
        pagepath: z.string().min(1).max(1024),
        thumb_media_id: MEDIA_ID,
      }),
    }),
  ]);
}

/** A message without its addressee (what a portal rule carries). */
export const unaddressedCustomerMessage = customerMessageSchema({});
export type UnaddressedCustomerMessage = z.output<typeof unaddressedCustomerMessage>;
export type CustomerMessage = UnaddressedCustomerMessage & { touser: string };
