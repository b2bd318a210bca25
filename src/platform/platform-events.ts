import { AppError } from '../kernel/errors';
import { aesKeyFromEncodingKey, openPush } from '../protocol/msg-crypto';
import { msgSignature, SIGNED_NONCE, SIGNED_TIMESTAMP, verifySignature } from '../protocol/signature';
import { FlatXmlError, parseFlatXml } from '../protocol/flat-xml';
import type { PlatformPushKeys } from '../contracts/platform-keys';

/** An authorization event of a third-party platform, verified and decrypted. */
export type PlatformEvent =
  | { kind: 'ticket'; ticket: string; createTime: number }
  | { kind: 'authorized' | 'updateauthorized'; authorizerAppid: string; authorizationCode: string; createTime: number }
  | { kind: 'unauthorized'; authorizerAppid: string; createTime: number }
  | { kind: 'other'; infoType: string; createTime: number };

export interface EventQuery {
  timestamp?: string;
  nonce?: string;
  msg_signature?: string;
  encrypt_type?: string;
}

const APPID = /^wx[0-9a-f]{16}$/;

/**
 * Opens an event posted to a platform's authorization-event URL. WeChat always encrypts these (safe
 * mode) with the platform's key, the component appid inside the ciphertext, and signs them with
 * msg_signature over the Encrypt value: the signature and the timestamp window are checked before
 * anything is decrypted. Pure: keys, clock reading and raw body are passed in.
 */
export function openPlatformEvent(componentAppid: string, keys: PlatformPushKeys, q: EventQuery, body: string, nowS: number, windowS: number): PlatformEvent {
  const { timestamp, nonce } = q;
  if (!timestamp || !SIGNED_TIMESTAMP.test(timestamp) || !nonce || !SIGNED_NONCE.test(nonce) || !q.msg_signature) {
    throw new AppError(400, 'INVALID_QUERY', 'timestamp, nonce and msg_signature are required (platform events are always encrypted)');
  }
  let envelope: Record<string, string>;
  try {
    envelope = parseFlatXml(body);
  } catch (err) {
    throw xmlRefused(err, 'MALFORMED_BODY', 'not a platform event');
  }
  const encrypt = envelope.Encrypt;
  if (!encrypt) throw new AppError(400, 'MALFORMED_BODY', 'the event has no Encrypt');
  if (!verifySignature(msgSignature(keys.token, timestamp, nonce, encrypt), q.msg_signature)) throw new AppError(401, 'INVALID_SIGNATURE', 'msg_signature does not match');
  if (Math.abs(nowS - Number(timestamp)) > windowS) throw new AppError(401, 'STALE_TIMESTAMP', `timestamp is more than ${windowS} s away from now`);
  let inner: string;
  try {
    inner = openPush(aesKeyFromEncodingKey(keys.aesKey), componentAppid, encrypt);
  } catch (err) {
    // openPush answers INVALID_CIPHERTEXT, DECRYPT_FAILED or APPID_MISMATCH (another platform's event).
    if (err instanceof AppError) throw err;
    throw new AppError(400, 'DECRYPT_FAILED', 'Encrypt does not decrypt with the platform key');
  }
  let f: Record<string, string>;
  try {
    f = parseFlatXml(inner);
  } catch (err) {
    throw xmlRefused(err, 'MALFORMED_MESSAGE', 'the decrypted event is not flat XML');
  }
  if (f.AppId !== componentAppid) throw new AppError(401, 'APPID_MISMATCH', 'the event is for another platform');
  const createTime = Number(f.CreateTime);
  if (!Number.isSafeInteger(createTime) || createTime <= 0) throw new AppError(400, 'MALFORMED_MESSAGE', 'CreateTime missing or malformed');
  const infoType = f.InfoType ?? '';
  const authorizer = () => {
    const a = f.AuthorizerAppid ?? '';
    if (!APPID.test(a)) throw new AppError(400, 'MALFORMED_MESSAGE', 'AuthorizerAppid missing or malformed');
    return a;
  };
  switch (infoType) {
    case 'component_verify_ticket': {
      const ticket = f.ComponentVerifyTicket ?? '';
      if (ticket.length === 0 || ticket.length > 512) throw new AppError(400, 'MALFORMED_MESSAGE', 'ComponentVerifyTicket missing or malformed');
      return { kind: 'ticket', ticket, createTime };
    }
    case 'authorized':
    case 'updateauthorized': {
      const code = f.AuthorizationCode ?? '';
      if (code.length === 0 || code.length > 512) throw new AppError(400, 'MALFORMED_MESSAGE', 'AuthorizationCode missing or malformed');
      return { kind: infoType, authorizerAppid: authorizer(), authorizationCode: code, createTime };
    }
    case 'unauthorized':
      return { kind: 'unauthorized', authorizerAppid: authorizer(), createTime };
    default:
      return { kind: 'other', infoType: infoType.slice(0, 64), createTime };
  }
}

/** The portal's codes for the same refusals: XML_FORBIDDEN (DOCTYPE, entities, PIs), BODY_TOO_COMPLEX, else `malformed`. */
function xmlRefused(err: unknown, malformed: 'MALFORMED_BODY' | 'MALFORMED_MESSAGE', what: string): AppError {
  if (!(err instanceof FlatXmlError)) return new AppError(400, malformed, `${what}: unreadable`);
  if (err.problem === 'forbidden') return new AppError(400, 'XML_FORBIDDEN', `${what}: ${err.message}`);
  if (err.problem === 'too-complex') return new AppError(400, 'BODY_TOO_COMPLEX', `${what}: ${err.message}`);
  return new AppError(400, malformed, `${what}: ${err.message}`);
}
