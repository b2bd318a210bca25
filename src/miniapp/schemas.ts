/**
 * Request bodies of the mini-program API endpoints. Field names follow WeChat's own (touser,
 * template_id, env_version, ...) so existing knowledge carries over; unknown fields are refused so
 * that a typo is a clear 400 instead of a silently ignored option.
 */
import { z } from 'zod';
import { customerMessageSchema } from '../wechat/customer-message';

export const OPENID = z
  .string()
  .min(1)
  .max(128)
  .regex(/^[A-Za-z0-9_.-]+$/, 'is not an openid (letters, digits, _ . -)');

const ENV_VERSION = z.enum(['release', 'trial', 'develop']);
const BYTE = z.number().int().min(0).max(255);

/** A page path of the mini program, as WeChat wants it: no leading '/', no query. */
const PAGE = z
  .string()
  .min(1)
  .max(1024)
  .regex(/^[^/?]/, "must not start with '/'")
  .regex(/^[^?#\s]*$/, 'must not contain a query, fragment or spaces');

/** Characters WeChat accepts in a wxacode scene, at most 32 of them. */
export const SCENE_RE = /^[0-9A-Za-z!#$&'()*+,/:;=?@\-._~]+$/;

export const wxacodeBody = z.strictObject({
  scene: z.string().min(1).max(32).regex(SCENE_RE, "may only contain letters, digits and !#$&'()*+,/:;=?@-._~"),
  page: PAGE.optional(),
  width: z.number().int().min(280).max(1280).optional(),
  env_version: ENV_VERSION.optional(),
  check_path: z.boolean().optional(),
  auto_color: z.boolean().optional(),
  is_hyaline: z.boolean().optional(),
  line_color: z.strictObject({ r: BYTE, g: BYTE, b: BYTE }).optional(),
});

const TEMPLATE_ID = z
  .string()
  .min(1)
  .max(128)
  .regex(/^[A-Za-z0-9_-]+$/, 'is not a template id');

export const subscribeBody = z.strictObject({
  touser: OPENID,
  template_id: TEMPLATE_ID,
  page: z.string().min(1).max(1024).optional(),
  data: z
    .record(z.string().regex(/^[A-Za-z][A-Za-z0-9_]{0,63}$/, 'keys are template field names such as thing1 or time2'), z.strictObject({ value: z.union([z.string().max(1024), z.number()]) }))
    .refine((d) => Object.keys(d).length > 0 && Object.keys(d).length <= 50, 'must have between 1 and 50 fields'),
  miniprogram_state: z.enum(['developer', 'trial', 'formal']).optional(),
  lang: z.enum(['zh_CN', 'en_US', 'zh_HK', 'zh_TW']).optional(),
});

const MEDIA_ID = z
  .string()
  .min(1)
  .max(256)
  .regex(/^[A-Za-z0-9_-]+$/, 'is not a media id');

export const customerBody = customerMessageSchema({ touser: OPENID });

/** msg_sec_check v2 scenes: 1 profile, 2 comment, 3 forum, 4 social log. */
export const DEFAULT_TEXT_CHECK_SCENE = 1;

export const textCheckBody = z.strictObject({
  content: z.string().min(1).max(2500),
  scene: z.literal([1, 2, 3, 4]).default(DEFAULT_TEXT_CHECK_SCENE),
  title: z.string().min(1).max(256).optional(),
  nickname: z.string().min(1).max(64).optional(),
  signature: z.string().min(1).max(512).optional(),
});

/** A link's target and expiry; the same shape for URL links and URL schemes. */
export const linkBody = z
  .strictObject({
    path: PAGE.optional(),
    query: z
      .string()
      .max(1024)
      .regex(/^[0-9A-Za-z!#$&'()*+,/:;=?@\-._~%]*$/, "may only contain letters, digits and !#$&'()*+,/:;=?@-._~%")
      .optional(),
    env_version: ENV_VERSION.optional(),
    expire_type: z.literal([0, 1]).optional(),
    expire_time: z.number().int().positive().optional(),
    expire_interval: z.number().int().min(1).max(30).optional(),
  })
  .refine((b) => !(b.expire_type === 1 && b.expire_interval === undefined), {
    message: 'is required when expire_type is 1',
    path: ['expire_interval'],
  })
  .refine((b) => !(b.expire_type === 0 && b.expire_time === undefined), {
    message: 'is required when expire_type is 0',
    path: ['expire_time'],
  });

export const MEDIA_TYPES = ['image', 'voice', 'video', 'thumb'] as const;
export const mediaQuery = z.object({ type: z.enum(MEDIA_TYPES) });
export const MEDIA_ID_PARAM = MEDIA_ID;
