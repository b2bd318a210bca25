/** Temporary media (/cgi-bin/media/upload, /cgi-bin/media/get): kinds, limits, storage for 3 days. */
import { randomBytes } from 'node:crypto';
import type { Clock } from '../kernel/clock';
import { DAY, unixSeconds } from './time';

export type MediaType = 'image' | 'voice' | 'video' | 'thumb';

export interface MediaRule {
  maxBytes: number;
  /** Accepted file-name extensions (WeChat decides the file type by the name). */
  extensions: readonly string[];
}

export const MEDIA_RULES: Readonly<Record<MediaType, MediaRule>> = {
  image: { maxBytes: 10 * 1024 * 1024, extensions: ['png', 'jpg', 'jpeg', 'gif', 'bmp'] },
  voice: { maxBytes: 2 * 1024 * 1024, extensions: ['amr', 'mp3'] },
  video: { maxBytes: 10 * 1024 * 1024, extensions: ['mp4'] },
  thumb: { maxBytes: 64 * 1024, extensions: ['jpg', 'jpeg'] },
};

export const MEDIA_TTL_MS = 3 * DAY;

const EXT_CONTENT_TYPES: Readonly<Record<string, string>> = {
  png: 'image/png',
  jpg: 'image/jpeg',
  jpeg: 'image/jpeg',
  gif: 'image/gif',
  bmp: 'image/bmp',
  amr: 'audio/amr',
  mp3: 'audio/mpeg',
  mp4: 'video/mp4',
};

export function isMediaType(t: unknown): t is MediaType {
  return typeof t === 'string' && Object.prototype.hasOwnProperty.call(MEDIA_RULES, t);
}

export function extensionOf(filename: string): string {
  const m = /\.([A-Za-z0-9]+)$/.exec(filename);
  return m ? m[1].toLowerCase() : '';
}

/** The declared MIME type unless it is missing or generic, else one derived from the extension. */
export function contentTypeFor(filename: string, declared: string | undefined): string {
  if (declared && declared !== 'application/octet-stream') return declared;
  return EXT_CONTENT_TYPES[extensionOf(filename)] ?? 'application/octet-stream';
}

export interface StoredMedia {
  appid: string;
  type: MediaType;
  bytes: Buffer;
  contentType: string;
  filename: string;
  createdAt: number;
}

export interface UploadResult {
  type: MediaType;
  media_id: string;
  created_at: number;
}

export class MediaStore {
  private readonly items = new Map<string, StoredMedia>();

  constructor(private readonly clock: Clock) {}

  put(appid: string, type: MediaType, bytes: Buffer, filename: string, contentType: string): UploadResult {
    const now = this.clock.now();
    for (const [id, m] of this.items) if (now - m.createdAt >= MEDIA_TTL_MS) this.items.delete(id);
    const media_id = randomBytes(48).toString('base64url');
    this.items.set(media_id, { appid, type, bytes, contentType, filename, createdAt: now });
    return { type, media_id, created_at: unixSeconds(now) };
  }

  /** The media if it exists, belongs to the appid and is younger than 3 days. */
  get(appid: string, mediaId: string): StoredMedia | undefined {
    const m = this.items.get(mediaId);
    if (!m || m.appid !== appid || this.clock.now() - m.createdAt >= MEDIA_TTL_MS) return undefined;
    return m;
  }
}
