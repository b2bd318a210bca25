/** POST /cgi-bin/media/upload?type= (multipart field `media`) and GET /cgi-bin/media/get?media_id=. */
import busboy from 'busboy';
import { apiCall } from './auth';
import { queryParam, type SbxContext } from './http';
import { contentTypeFor, extensionOf, isMediaType, MEDIA_RULES } from './media-store';
import type { SbxRouter } from './router';
import type { SandboxState } from './state';
import { WxError } from './wx-errors';

interface MediaPart {
  bytes: Buffer;
  filename: string;
  mimeType: string;
  tooLarge: boolean;
}

/** Reads the multipart body; resolves the first file part named `media` (undefined when absent). */
function readMediaPart(ctx: SbxContext, maxBytes: number): Promise<MediaPart | undefined> {
  return new Promise((resolve, reject) => {
    let bb: busboy.Busboy;
    try {
      bb = busboy({ headers: ctx.req.headers, limits: { fileSize: maxBytes + 1, files: 10, fields: 50 } });
    } catch {
      reject(new WxError(41005));
      return;
    }
    let part: MediaPart | undefined;
    const chunks: Buffer[] = [];
    const malformed = () => reject(new WxError(41005, 'media data missing, malformed multipart body'));
    bb.on('file', (name, stream, info) => {
      // A body cut short errors the file stream; unhandled, that would take the process down.
      stream.on('error', malformed);
      if (name !== 'media' || part) {
        stream.resume();
        return;
      }
      const p: MediaPart = { bytes: Buffer.alloc(0), filename: info.filename ?? '', mimeType: info.mimeType, tooLarge: false };
      part = p;
      stream.on('data', (c: Buffer) => chunks.push(c));
      // busboy signals 'limit' on reaching fileSize (here maxBytes + 1), i.e. on exceeding maxBytes
      stream.on('limit', () => {
        p.tooLarge = true;
      });
    });
    bb.on('close', () => {
      if (part) part.bytes = Buffer.concat(chunks);
      resolve(part);
    });
    bb.on('error', malformed);
    ctx.req.on('aborted', malformed);
    ctx.req.pipe(bb);
  });
}

export function mediaRoutes(router: SbxRouter, st: SandboxState): void {
  router.post('/cgi-bin/media/upload', ...apiCall(st), async (ctx) => {
    const type = queryParam(ctx, 'type');
    if (!isMediaType(type)) throw new WxError(40004);
    const rule = MEDIA_RULES[type];
    const part = await readMediaPart(ctx, rule.maxBytes);
    if (!part || part.bytes.length === 0) throw new WxError(41005);
    if (part.tooLarge) throw new WxError(40006);
    if (!rule.extensions.includes(extensionOf(part.filename))) throw new WxError(40005);
    ctx.body = st.media.put(ctx.state.appid, type, part.bytes, part.filename, contentTypeFor(part.filename, part.mimeType));
  });

  router.get('/cgi-bin/media/get', ...apiCall(st), (ctx) => {
    const id = queryParam(ctx, 'media_id');
    const m = id ? st.media.get(ctx.state.appid, id) : undefined;
    if (!m) throw new WxError(40007);
    ctx.type = m.contentType;
    ctx.set('Content-Disposition', `attachment; filename="${m.filename.replace(/["\\\r\n]/g, '_')}"`);
    ctx.body = m.bytes;
  });
}
