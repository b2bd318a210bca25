/**
 * WeChat Pay APIv3 endpoints (/v3/...). Each call is counted under (endpoint template, mchid of the Authorization
 * header, else `unknown`), then faulted, then its signature checked; every answer, errors and 204s included, is
 * JSON signed by the platform identity that serves the merchant.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { UNKNOWN_APPID } from '../counters';
import { isObject, queryParam, type SbxContext, type SbxMiddleware } from '../http';
import type { SbxRouter } from '../router';
import type { SandboxState } from '../state';
import { unixSeconds } from '../time';
import { authorizationMchid, encryptResource, newRequestId, parseAuthorization, requestMessage, signedHeaders, verifyPayMessage } from './pay-crypto';
import { paramError, PayError, payTime, signError } from './pay-errors';
import { parseJsapi, parseRefund } from './orders';

/** Clock skew WeChat Pay tolerates between the request timestamp and its own clock. */
export const PAY_TIMESTAMP_TOLERANCE_SECONDS = 300;

/** What a handler answers: a JSON object, or undefined for 204 No Content. */
type PayHandler = (ctx: SbxContext, mchid: string) => object | undefined;

function faultError(f: { errcode?: number; errmsg?: string; payError?: { status: number; code: string; message?: string } }): PayError | undefined {
  if (f.payError) return new PayError(f.payError.status, f.payError.code, f.payError.message ?? f.errmsg ?? f.payError.code);
  if (f.errcode === undefined) return undefined;
  if (f.errcode >= 45000 && f.errcode < 46000) return new PayError(429, 'FREQUENCY_LIMITED', f.errmsg ?? '频率超限');
  return new PayError(500, 'SYSTEM_ERROR', f.errmsg ?? '系统异常,请稍后重试');
}

/** Checks the Authorization header; returns the caller's mchid. */
function verifyRequest(st: SandboxState, ctx: SbxContext): string {
  const a = parseAuthorization(ctx.get('authorization'));
  if (!a) throw signError('Http头Authorization值格式错误,请参考《微信支付商户REST API签名规则》');
  const m = st.pay.merchants.get(a.mchid);
  if (!m) throw new PayError(400, 'MCH_NOT_EXISTS', '商户号不存在');
  if (a.serial_no !== m.serialNo) throw signError('商户证书序列号有误。请使用签名私钥匹配的证书序列号');
  const now = unixSeconds(st.clock.now());
  if (!/^\d{1,12}$/.test(a.timestamp) || Math.abs(Number(a.timestamp) - now) > PAY_TIMESTAMP_TOLERANCE_SECONDS) {
    throw signError('Http头Authorization中的timestamp与服务器时间相差超过5分钟');
  }
  const message = requestMessage(ctx.method, ctx.originalUrl, a.timestamp, a.nonce_str, ctx.state.rawBody);
  if (!verifyPayMessage(m.publicKey, message, a.signature)) throw signError('错误的签名,验签失败');
  return m.mchid;
}

function payEndpoint(st: SandboxState, endpoint: string, handler: PayHandler): SbxMiddleware {
  return async (ctx) => {
    const claimed = authorizationMchid(ctx.get('authorization'));
    ctx.state.appid = claimed ?? UNKNOWN_APPID;
    let status = 200;
    let text = '';
    try {
      st.counters.record(endpoint, ctx.state.appid);
      const fault = st.faults.take(endpoint, ctx.state.appid);
      if (fault?.delayMs) await sleep(fault.delayMs);
      const faulted = fault && faultError(fault);
      if (faulted) throw faulted;
      const mchid = verifyRequest(st, ctx);
      const answer = handler(ctx, mchid);
      if (answer === undefined) status = 204;
      else text = JSON.stringify(answer);
    } catch (e) {
      const err = e instanceof PayError ? e : new PayError(500, 'SYSTEM_ERROR', `系统异常: ${e instanceof Error ? e.message : String(e)}`);
      status = err.status;
      text = JSON.stringify(err.toBody());
    }
    const signer = st.pay.merchants.signer(claimed);
    ctx.set({ ...signedHeaders(signer.privateKey, signer.serial, text, unixSeconds(st.clock.now())), 'Request-ID': newRequestId() });
    ctx.status = status;
    if (status !== 204) {
      ctx.body = text;
      ctx.type = 'application/json';
    }
  };
}

/** The JSON object body of a /v3 POST. */
function payBody(ctx: SbxContext): Record<string, unknown> {
  if (ctx.state.bodyMalformed) throw paramError('请求体不是合法的JSON');
  const b = ctx.state.body;
  if (!isObject(b)) throw paramError('请求体必须是JSON对象');
  return b;
}

function sameMchid(given: unknown, mchid: string, where: string): void {
  if (typeof given !== 'string' || given === '') throw paramError(`${where}必填性规则校验失败,此字段为必填项`);
  if (given !== mchid) throw paramError(`${where}与签名的商户号不一致`);
}

export function payRoutes(router: SbxRouter, st: SandboxState): void {
  const { orders, merchants } = st.pay;

  router.post(
    '/v3/pay/transactions/jsapi',
    payEndpoint(st, '/v3/pay/transactions/jsapi', (ctx, mchid) => ({ prepay_id: orders.prepay(parseJsapi(payBody(ctx), mchid)) })),
  );

  router.get(
    '/v3/pay/transactions/out-trade-no/:outTradeNo',
    payEndpoint(st, '/v3/pay/transactions/out-trade-no/{out_trade_no}', (ctx, mchid) => {
      sameMchid(queryParam(ctx, 'mchid'), mchid, 'query参数mchid');
      return orders.transaction(orders.mustGet(mchid, String(ctx.params.outTradeNo)));
    }),
  );

  router.post(
    '/v3/pay/transactions/out-trade-no/:outTradeNo/close',
    payEndpoint(st, '/v3/pay/transactions/out-trade-no/{out_trade_no}/close', (ctx, mchid) => {
      sameMchid(payBody(ctx).mchid, mchid, 'body参数mchid');
      orders.close(mchid, String(ctx.params.outTradeNo));
      return undefined;
    }),
  );

  router.post(
    '/v3/refund/domestic/refunds',
    payEndpoint(st, '/v3/refund/domestic/refunds', (ctx, mchid) => orders.refundView(orders.createRefund(mchid, parseRefund(payBody(ctx))))),
  );

  router.get(
    '/v3/refund/domestic/refunds/:outRefundNo',
    payEndpoint(st, '/v3/refund/domestic/refunds/{out_refund_no}', (ctx, mchid) => {
      const r = orders.getRefund(String(ctx.params.outRefundNo), mchid);
      if (!r) throw new PayError(404, 'RESOURCE_NOT_EXISTS', '退款单不存在');
      return orders.refundView(r);
    }),
  );

  router.get(
    '/v3/certificates',
    payEndpoint(st, '/v3/certificates', (_ctx, mchid) => {
      const m = merchants.get(mchid);
      if (!m || m.mode === 'publicKey') throw new PayError(404, 'RESOURCE_NOT_EXISTS', '无可用的平台证书,请在商户平台-API安全申请使用微信支付公钥');
      const c = st.pay.platform.certificate();
      const encrypted = encryptResource(m.apiV3Key, c.pem, 'certificate');
      return {
        data: [
          {
            serial_no: c.serialNo,
            effective_time: payTime(Date.parse(c.effectiveTime)),
            expire_time: payTime(Date.parse(c.expireTime)),
            encrypt_certificate: { algorithm: encrypted.algorithm, nonce: encrypted.nonce, associated_data: encrypted.associated_data, ciphertext: encrypted.ciphertext },
          },
        ],
      };
    }),
  );
}
