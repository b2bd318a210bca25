/**
 * Reading an uploaded media file (multipart/form-data, file field `media`) with WeChat's limits for
 * temporary media. The file type is decided by the bytes (magic numbers), not by the declared
 * Content-Type or file name, and the file forwarded to WeChat gets a name with the matching
 * extension (WeChat decides the type by the name).
 */
import busboy from 'busboy';
import { AppError } from '../kernel/errors';
import type { GatewayContext } from '../http/context';
import type { MediaFile, MediaType } from '../wechat/mp-api';
import { hasBody } from '../http/http-input';

export type MediaFormat = 'png' | 'jpg' | 'gif' | 'bmp' | 'amr' | 'mp3' | 'mp4';

export const FORMAT_CONTENT_TYPES: Readonly<Record<MediaFormat, string>> = {
  png: 'image/png',
  jpg: 'image/jpeg',
  gif: 'image/gif',
  bmp: 'image/bmp',
  amr: 'audio/amr',
  mp3: 'audio/mpeg',
  mp4: 'video/mp4',
};

export interface MediaRule {
  maxBytes: number;
  formats: readonly MediaFormat[];
}

/** WeChat's limits for temporary media. */
export const MEDIA_LIMITS: Readonly<Record<MediaType, MediaRule>> = {
  image: { maxBytes: 10 * 1024 * 1024, formats: ['png', 'jpg', 'gif', 'bmp'] },
  voice: { maxBytes: 2 * 1024 * 1024, formats: ['amr', 'mp3'] },
  video: { maxBytes: 10 * 1024 * 1024, formats: ['mp4'] },
  thumb: { maxBytes: 64 * 1024, formats: ['jpg'] },
};

/** Room for the multipart framing around the file (boundaries, part headers, small fields). */
const MULTIPART_OVERHEAD = 64 * 1024;

const startsWith = (b: Buffer, sig: number[], at = 0) => b.length >= at + sig.length && sig.every((v, i) => b[at + i] === v);
const ascii = (s: string) => [...s].map((c) => c.charCodeAt(0));

/** The format of a file by its first bytes, or undefined when not one WeChat takes. */
export function sniffFormat(b: Buffer): MediaFormat | undefined {
  if (startsWith(b, [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a])) return 'png';
  if (startsWith(b, [0xff, 0xd8, 0xff])) return 'jpg';
  if (startsWith(b, ascii('GIF87a')) || startsWith(b, ascii('GIF89a'))) return 'gif';
  if (startsWith(b, ascii('BM')) && b.length >= 26) return 'bmp';
  if (startsWith(b, ascii('#!AMR'))) return 'amr';
  if (startsWith(b, ascii('ID3')) || (b.length >= 2 && b[0] === 0xff && (b[1]! & 0xe0) === 0xe0)) return 'mp3';
  if (startsWith(b, ascii('ftyp'), 4)) return 'mp4';
  return undefined;
}

function safeBaseName(filename: string | undefined): string {
  const base = (filename ?? '').split(/[\\/]/).pop() ?? '';
  const stem = base
    .replace(/\.[^.]*$/, '')
    .replace(/[^A-Za-z0-9_-]/g, '')
    .slice(0, 64);
  return stem || 'media';
}

interface Part {
  chunks: Buffer[];
  filename?: string;
  tooLarge: boolean;
}

function tooLarge(type: MediaType, max: number): AppError {
  return new AppError(413, 'PAYLOAD_TOO_LARGE', `${type} media may be at most ${max} bytes`);
}

/** Reads the `media` file of a multipart request and checks it against the rule of `type`. */
export async function readMediaUpload(ctx: GatewayContext, type: MediaType): Promise<MediaFile> {
  const rule = MEDIA_LIMITS[type];
  if (!hasBody(ctx)) throw new AppError(400, 'MEDIA_MISSING', 'send the file as multipart/form-data in a field named media');
  if (!ctx.is('multipart/form-data')) throw new AppError(415, 'UNSUPPORTED_MEDIA_TYPE', 'the request body must be multipart/form-data with a file field named media');
  const bodyLimit = rule.maxBytes + MULTIPART_OVERHEAD;
  if (Number(ctx.get('content-length') || 0) > bodyLimit) throw tooLarge(type, rule.maxBytes);

  let bb: busboy.Busboy;
  try {
    bb = busboy({
      headers: ctx.req.headers,
      limits: { fileSize: rule.maxBytes + 1, files: 1, fields: 20, parts: 21, fieldSize: 4096, headerPairs: 50 },
    });
  } catch {
    throw new AppError(400, 'MALFORMED_MULTIPART', 'the multipart body has no usable boundary');
  }

  const part = await new Promise<Part | undefined>((resolve, reject) => {
    let found: Part | undefined;
    let received = 0;
    let settled = false;
    const fail = (e: AppError) => {
      if (settled) return;
      settled = true;
      // unpipe pauses the request; resume it so the rest of the body is read and dropped, or the
      // connection would stall after the answer.
      ctx.req.unpipe(bb);
      ctx.req.resume();
      reject(e);
    };
    const malformed = () => fail(new AppError(400, 'MALFORMED_MULTIPART', 'the multipart body is malformed or cut short'));
    bb.on('file', (name, stream, info) => {
      // A part cut short errors on its own stream too; unhandled, that would crash the process.
      stream.on('error', malformed);
      if (name !== 'media' || found) {
        stream.resume();
        return;
      }
      const p: Part = { chunks: [], filename: info.filename, tooLarge: false };
      found = p;
      stream.on('data', (c: Buffer) => {
        if (!p.tooLarge) p.chunks.push(c);
      });
      // Emitted on reaching fileSize (maxBytes + 1), i.e. on exceeding maxBytes; the rest is skipped.
      stream.on('limit', () => {
        p.tooLarge = true;
        p.chunks = [];
      });
    });
    bb.on('close', () => {
      if (settled) return;
      settled = true;
      resolve(found);
    });
    bb.on('error', malformed);
    ctx.req.on('data', (c: Buffer) => {
      received += c.length;
      // A body without Content-Length that keeps coming: answer now. The rest is read and dropped
      // (by this listener, then by Node), bounded by the server's request timeout.
      if (received > bodyLimit) fail(tooLarge(type, rule.maxBytes));
    });
    ctx.req.on('aborted', () => fail(new AppError(400, 'REQUEST_ABORTED', 'the client aborted the request')));
    ctx.req.on('error', () => fail(new AppError(400, 'REQUEST_ABORTED', 'the client aborted the request')));
    ctx.req.pipe(bb);
  });

  if (!part) throw new AppError(400, 'MEDIA_MISSING', 'the multipart body has no file field named media');
  if (part.tooLarge) throw tooLarge(type, rule.maxBytes);
  const bytes = Buffer.concat(part.chunks);
  if (bytes.length === 0) throw new AppError(400, 'MEDIA_MISSING', 'the media file is empty');
  const format = sniffFormat(bytes);
  if (!format || !rule.formats.includes(format)) {
    throw new AppError(415, 'UNSUPPORTED_MEDIA_TYPE', `${type} media must be ${rule.formats.join(', ')}; the file is ${format ?? 'of an unrecognised type'}`);
  }
  return { bytes, filename: `${safeBaseName(part.filename)}.${format}`, contentType: FORMAT_CONTENT_TYPES[format] };
}
