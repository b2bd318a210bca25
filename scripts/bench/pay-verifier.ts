import { createDecipheriv, createPublicKey, verify } from 'node:crypto';
import Koa from 'koa';
import { serveForBench } from './serve';

/**
 * The cryptographic floor of a WeChat Pay notification, on the same Koa as the bare server: read the
 * body, check the timestamp (5 minutes) and serial, verify the RSA-SHA256 signature over
 * `timestamp\nnonce\nbody\n`, parse the envelope, decrypt the AEAD_AES_256_GCM resource with the APIv3
 * key, parse it, answer 204. node:crypto only: no MongoDB, no Redis, no tenant, no order.
 */
const publicKey = createPublicKey(process.env.PAY_PUBLIC_KEY ?? '');
const serial = process.env.PAY_PUBLIC_KEY_ID ?? '';
const apiV3Key = Buffer.from(process.env.PAY_API_V3_KEY ?? '', 'utf8');
if (apiV3Key.length !== 32 || !serial) throw new Error('PAY_PUBLIC_KEY, PAY_PUBLIC_KEY_ID and PAY_API_V3_KEY are required');

const one = (v: string | string[] | undefined) => (typeof v === 'string' ? v : '');

const app = new Koa();
app.use(async (ctx) => {
  const chunks: Buffer[] = [];
  for await (const chunk of ctx.req) chunks.push(chunk as Buffer);
  const body = Buffer.concat(chunks).toString('utf8');
  const h = ctx.req.headers;
  const timestamp = one(h['wechatpay-timestamp']);
  const nonce = one(h['wechatpay-nonce']);
  if (one(h['wechatpay-serial']) !== serial || Math.abs(Date.now() / 1000 - Number(timestamp)) > 300) {
    ctx.status = 401;
    return;
  }
  if (!verify('sha256', Buffer.from(`${timestamp}\n${nonce}\n${body}\n`, 'utf8'), publicKey, Buffer.from(one(h['wechatpay-signature']), 'base64'))) {
    ctx.status = 401;
    return;
  }
  const r = (JSON.parse(body) as { resource: { ciphertext: string; nonce: string; associated_data?: string } }).resource;
  const raw = Buffer.from(r.ciphertext, 'base64');
  const decipher = createDecipheriv('aes-256-gcm', apiV3Key, Buffer.from(r.nonce, 'utf8'));
  decipher.setAAD(Buffer.from(r.associated_data ?? '', 'utf8'));
  decipher.setAuthTag(raw.subarray(raw.length - 16));
  const plain = Buffer.concat([decipher.update(raw.subarray(0, raw.length - 16)), decipher.final()]).toString('utf8');
  const tx = JSON.parse(plain) as { out_trade_no?: unknown };
  if (typeof tx.out_trade_no !== 'string') {
    ctx.status = 400;
    return;
  }
  ctx.status = 204;
});
serveForBench((port, host, ready) => app.listen(port, host, ready));
