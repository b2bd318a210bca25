/**
 * /wxa/getwxacodeunlimit argument checks and a fake code image: a deterministic pattern derived
 * from the arguments, rendered as a small valid PNG.
 */
import { createHash } from 'node:crypto';
import { encodePngRgba } from './png';
import { isObject } from './http';
import { WxError } from './wx-errors';

/** Characters WeChat allows in `scene`. */
const SCENE_RE = /^[0-9A-Za-z!#$&'()*+,/:;=?@\-._~]{1,32}$/;
/** Versions of the mini program a code or link may open. */
export const ENV_VERSIONS = ['release', 'trial', 'develop'];

export interface WxaCodeArgs {
  scene: string;
  page?: string;
  width: number;
  env_version: string;
  is_hyaline: boolean;
  line_color: { r: number; g: number; b: number };
}

/**
 * 40097 invalid args: scene missing, longer than 32 or with characters WeChat refuses, bad
 * env_version or line_color; 41030 invalid page: page starting with '/'.
 */
export function parseWxaCodeArgs(body: Record<string, unknown>): WxaCodeArgs {
  const { scene, page, width, env_version, is_hyaline, line_color, auto_color } = body;
  if (typeof scene !== 'string' || !SCENE_RE.test(scene)) throw new WxError(40097);
  if (page !== undefined && typeof page !== 'string') throw new WxError(40097);
  if (typeof page === 'string' && page.startsWith('/')) throw new WxError(41030);
  if (width !== undefined && (typeof width !== 'number' || !Number.isFinite(width))) throw new WxError(40097);
  if (env_version !== undefined && !ENV_VERSIONS.includes(String(env_version))) throw new WxError(40097);
  if (auto_color !== undefined && typeof auto_color !== 'boolean') throw new WxError(40097);
  let color = { r: 0, g: 0, b: 0 };
  if (line_color !== undefined) {
    if (!isObject(line_color)) throw new WxError(40097);
    const c = [line_color.r, line_color.g, line_color.b].map(Number);
    if (c.some((n) => !Number.isInteger(n) || n < 0 || n > 255)) throw new WxError(40097);
    color = { r: c[0], g: c[1], b: c[2] };
  }
  return {
    scene,
    page: typeof page === 'string' && page !== '' ? page : undefined,
    // WeChat clamps width into [280, 1280]
    width: Math.min(1280, Math.max(280, typeof width === 'number' ? Math.round(width) : 430)),
    env_version: env_version === undefined ? 'release' : String(env_version),
    is_hyaline: is_hyaline === true,
    line_color: color,
  };
}

const MODULES = 21;
const SCALE = 4;
const QUIET = 2;

/** A 100x100 PNG: a QR-looking 21x21 grid whose cells are derived from the arguments. */
export function renderWxaCode(args: WxaCodeArgs): Buffer {
  const seed = JSON.stringify([args.scene, args.page ?? '', args.env_version, args.width]);
  const bits = Buffer.concat([0, 1].map((i) => createHash('sha256').update(`${i}:${seed}`).digest()));
  const dark = (x: number, y: number): boolean => {
    const finder = (fx: number, fy: number): boolean | undefined => {
      const dx = x - fx;
      const dy = y - fy;
      if (dx < 0 || dy < 0 || dx > 6 || dy > 6) return undefined;
      const ring = Math.max(Math.abs(dx - 3), Math.abs(dy - 3));
      return ring !== 2;
    };
    const f = finder(0, 0) ?? finder(MODULES - 7, 0) ?? finder(0, MODULES - 7);
    if (f !== undefined) return f;
    const i = y * MODULES + x;
    return ((bits[i >> 3] >> (i & 7)) & 1) === 1;
  };
  const size = (MODULES + 2 * QUIET) * SCALE;
  const rgba = new Uint8Array(size * size * 4);
  for (let py = 0; py < size; py++) {
    for (let px = 0; px < size; px++) {
      const mx = Math.floor(px / SCALE) - QUIET;
      const my = Math.floor(py / SCALE) - QUIET;
      const on = mx >= 0 && my >= 0 && mx < MODULES && my < MODULES && dark(mx, my);
      const o = (py * size + px) * 4;
      if (on) {
        rgba[o] = args.line_color.r;
        rgba[o + 1] = args.line_color.g;
        rgba[o + 2] = args.line_color.b;
        rgba[o + 3] = 255;
      } else {
        rgba[o] = rgba[o + 1] = rgba[o + 2] = 255;
        rgba[o + 3] = args.is_hyaline ? 0 : 255;
      }
    }
  }
  return encodePngRgba(size, size, rgba);
}
