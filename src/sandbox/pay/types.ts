/** Public types of the sandbox's WeChat Pay v3 imitation (`sandbox.pay`). */

/** How WeChat Pay signs for a merchant: with the platform public key (new merchants), a platform certificate, or both (migration). */
export type PayVerifyMode = 'publicKey' | 'certificate' | 'both';

export interface MerchantRegistration {
  mchid: string;
  /** Serial number of the merchant API certificate; requests must carry it as serial_no. */
  serialNo: string;
  /** The merchant's RSA public key, PEM (SPKI or certificate). */
  merchantPublicKey: string;
  /** APIv3 key: 32 characters. */
  apiV3Key: string;
  /** Default 'publicKey'. */
  mode?: PayVerifyMode;
}

export interface RegisteredMerchant {
  /** `PUB_KEY_ID_` + digits; the Wechatpay-Serial of answers in publicKey mode. */
  publicKeyId: string;
  /** Platform public key (SPKI PEM) that verifies answers signed under publicKeyId. */
  publicKey: string;
  /** Platform certificates; empty in publicKey mode. */
  certificates: { serialNo: string; pem: string }[];
}

export type TradeState = 'NOTPAY' | 'SUCCESS' | 'CLOSED' | 'REFUND';

/** A transaction as `GET /v3/pay/transactions/out-trade-no/{out_trade_no}` answers it (and as TRANSACTION.SUCCESS carries it). */
export interface PayTransaction {
  appid: string;
  mchid: string;
  out_trade_no: string;
  transaction_id?: string;
  trade_type: 'JSAPI';
  trade_state: TradeState;
  trade_state_desc: string;
  bank_type?: string;
  attach?: string;
  success_time?: string;
  payer: { openid: string };
  amount: { total: number; payer_total?: number; currency: string; payer_currency: string };
}

export type RefundStatus = 'PROCESSING' | 'SUCCESS';

/** A refund as `POST /v3/refund/domestic/refunds` and the refund query answer it. */
export interface PayRefund {
  refund_id: string;
  out_refund_no: string;
  transaction_id: string;
  out_trade_no: string;
  channel: 'ORIGINAL';
  user_received_account: string;
  success_time?: string;
  create_time: string;
  status: RefundStatus;
  funds_account: 'AVAILABLE';
  amount: {
    total: number;
    refund: number;
    payer_total: number;
    payer_refund: number;
    settlement_total: number;
    settlement_refund: number;
    discount_refund: number;
    currency: string;
  };
}

export interface NotificationAttempt {
  /** Clock milliseconds of the attempt. */
  at: number;
  /** HTTP status of the merchant's answer; 0 when there was none (connection refused, timeout). */
  status: number;
  /** The answer's body, or the network error's message. */
  responseBody: string;
  /** The signed headers sent in this attempt (each attempt is signed afresh). */
  headers: Record<string, string>;
}

export type PayEventType = 'TRANSACTION.SUCCESS' | 'REFUND.SUCCESS';

export interface PayNotification {
  id: string;
  mchid: string;
  url: string;
  eventType: PayEventType;
  /** Headers of the latest attempt. */
  headers: Record<string, string>;
  /** The JSON body, exactly as posted (the same in every attempt). */
  body: string;
  attempts: NotificationAttempt[];
  /** True once an attempt was answered with a 2xx status. */
  delivered: boolean;
}

export interface ShippingUpload {
  /** Appid of the access token used. */
  appid: string;
  /** Clock milliseconds of the upload. */
  at: number;
  mchid: string;
  out_trade_no: string;
  transaction_id: string;
  /** The request body as sent. */
  body: Record<string, unknown>;
}

export interface PayOrderOptions {
  /** What the payer paid; default the order total. */
  payerTotal?: number;
  /** Default 'OTHERS'. */
  bankType?: string;
}

export interface PayApi {
  registerMerchant(m: MerchantRegistration): RegisteredMerchant;
  /** In 'both' mode: which identity signs answers and notifications (default 'certificate'). */
  setSigningSerial(mchid: string, use: 'publicKey' | 'certificate'): void;
  /** Marks a NOTPAY order SUCCESS and posts TRANSACTION.SUCCESS to its notify_url; resolves with the notification record. */
  payOrder(mchid: string, outTradeNo: string, opts?: PayOrderOptions): Promise<PayNotification>;
  /** Marks a PROCESSING refund SUCCESS and posts REFUND.SUCCESS to its notify_url, if it had one. */
  succeedRefund(outRefundNo: string, mchid?: string): Promise<PayNotification | undefined>;
  notifications(): PayNotification[];
  /** Posts the notification again with a fresh timestamp, nonce and signature; resolves with the updated record. */
  resendNotification(id: string): Promise<PayNotification>;
  order(mchid: string, outTradeNo: string): PayTransaction | undefined;
  refund(outRefundNo: string, mchid?: string): PayRefund | undefined;
  shippingUploads(): ShippingUpload[];
  /** What /wxa/sec/order/is_trade_managed answers for the appid (default true). */
  setTradeManaged(appid: string, managed: boolean): void;
}
