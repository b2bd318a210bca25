import { z } from 'zod';
import { defineSection } from '../tenancy/tenant-section';
import { maskSecret, secretField } from '../tenancy/tenant-fields';
import { rulesSchema } from './rules';

/** The push settings of a tenant: the mini program's message push Token, EncodingAESKey, format and auto-reply rules. */
export const portalSection = defineSection({
  name: 'portal',
  fields: {
    // An authorizer of a third-party platform has none: its pushes come through the platform, signed with the platform's.
    token: secretField(z.string().regex(/^[A-Za-z0-9]{3,32}$/, 'expected 3 to 32 letters or digits (WeChat push Token)')).optional(),
    aesKey: secretField(z.string().regex(/^[A-Za-z0-9+/]{43}$/, 'expected the 43-character EncodingAESKey')).optional(),
    msgFormat: z.enum(['json', 'xml']).default('json'),
    /** "required": only pushes signed with msg_signature over an Encrypt field are accepted (safe mode). */
    pushEncryption: z.enum(['required', 'optional']).default('optional'),
    rules: rulesSchema.default([]),
  },
  sealed: ['token', 'aesKey'],
  mask: (p) => ({
    msgFormat: p.msgFormat,
    pushEncryption: p.pushEncryption,
    token: p.token === undefined ? null : maskSecret(p.token),
    aesKey: p.aesKey === undefined ? null : maskSecret(p.aesKey),
    rules: p.rules.length,
  }),
  check: (file) =>
    file.credential === 'authorizer'
      ? []
      : [...(file.token === undefined ? [{ path: 'token', message: 'required' }] : []), ...(file.aesKey === undefined ? [{ path: 'aesKey', message: 'required' }] : [])],
  summary: (p) => p.msgFormat.padEnd(4),
});

export type PortalSettings = ReturnType<typeof portalSection.of>;
