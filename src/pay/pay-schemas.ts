import { z } from 'zod';

/** WeChat Pay's rules: outTradeNo 6-32 of [0-9A-Za-z_-|*], outRefundNo 1-64 of [0-9A-Za-z_-|*@]. */
export const OUT_TRADE_NO = /^[0-9A-Za-z_\-|*]{6,32}$/;
export const OUT_REFUND_NO = /^[0-9A-Za-z_\-|*@]{1,64}$/;
const OPENID = /^[0-9A-Za-z_-]{1,128}$/;
/** RFC 3339 with an explicit offset, as WeChat Pay and the shipping API want it (e.g. 2026-12-03T10:00:00+08:00). */
const RFC3339 = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d{1,3})?(?:Z|[+-]\d{2}:\d{2})$/;
const rfc3339 = z
  .string()
  .regex(RFC3339, 'expected an RFC 3339 time such as 2026-12-03T10:00:00+08:00')
  .refine((v) => Number.isFinite(Date.parse(v)), 'not a real time');
/** Amounts are in fen (1/100 yuan); WeChat Pay takes up to 10 digits. */
const fen = z.number().int('expected an integer amount in fen').min(1).max(9_999_999_999);

export const createOrderBody = z
  .object({
    outTradeNo: z.string().regex(OUT_TRADE_NO, 'expected 6 to 32 of 0-9 A-Z a-z _ - | *'),
    description: z.string().trim().min(1).max(127),
    amount: z.object({ total: fen, currency: z.literal('CNY').default('CNY') }).strict(),
    payer: z
      .object({ openid: z.string().regex(OPENID, 'expected an openid') })
      .strict()
      .optional(),
    attach: z.string().max(128).optional(),
    timeExpire: rfc3339.optional(),
  })
  .strict();

/** Closing takes no parameters: a body, if sent, must be empty (`{}`). */
export const closeBody = z.object({}).strict();

export const refundBody = z
  .object({
    outRefundNo: z.string().regex(OUT_REFUND_NO, 'expected 1 to 64 of 0-9 A-Z a-z _ - | * @'),
    amount: z.object({ refund: fen, total: fen }).strict(),
    reason: z.string().max(80).optional(),
  })
  .strict();

export const shippingBody = z
  .object({
    /** 1 express, 2 same-city delivery, 3 virtual goods, 4 self pick-up. */
    logisticsType: z.union([z.literal(1), z.literal(2), z.literal(3), z.literal(4)]),
    /** 1 everything in one shipment, 2 several shipments. */
    deliveryMode: z.union([z.literal(1), z.literal(2)]).default(1),
    isAllDelivered: z.boolean().optional(),
    shippingList: z
      .array(
        z
          .object({
            trackingNo: z.string().min(1).max(128).optional(),
            expressCompany: z.string().min(1).max(128).optional(),
            itemDesc: z.string().min(1).max(120),
            contact: z
              .object({ consignorContact: z.string().max(1024).optional(), receiverContact: z.string().max(1024).optional() })
              .strict()
              .optional(),
          })
          .strict(),
      )
      .min(1)
      .max(15),
    uploadTime: rfc3339.optional(),
  })
  .strict()
  .refine((s) => s.logisticsType !== 1 || s.shippingList.every((i) => i.trackingNo && i.expressCompany), {
    message: 'express shipments (logisticsType 1) need trackingNo and expressCompany',
    path: ['shippingList'],
  })
  .refine((s) => s.deliveryMode !== 2 || s.isAllDelivered !== undefined, { message: 'several shipments (deliveryMode 2) need isAllDelivered', path: ['isAllDelivered'] });

export type CreateOrderBody = z.output<typeof createOrderBody>;
export type RefundBody = z.output<typeof refundBody>;
export type ShippingBody = z.output<typeof shippingBody>;
