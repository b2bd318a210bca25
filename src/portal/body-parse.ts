/**
 * Parses the body of a WeChat push (or a decrypted inner message) into a record of fields.
 *
 * The format is read from the body itself, with Content-Type only as a tie-breaker: the operator
 * can switch a mini program between XML and JSON at any time, so neither the tenant setting nor
 * the header can be trusted to be current.
 *
 * Every value stays as WeChat wrote it: XML values are strings (MsgId is a 64-bit integer that
 * would lose digits as a JS number), and JSON integers beyond Number.MAX_SAFE_INTEGER are turned
 * into strings of their exact digits. Smaller JSON numbers stay numbers; normalise() accepts both.
 *
 * The size of the body is limited by the HTTP layer; the limits here bound its shape.
 */
import { XMLParser } from 'fast-xml-parser';
import { AppError } from '../kernel/errors';

export type PushFormat = 'xml' | 'json';

export interface BodyLimits {
  /** Maximum nesting: XML elements counting the root `<xml>`, JSON objects/arrays counting the top object. */
  maxDepth: number;
  /**
   * Maximum number of fields in the whole tree: XML elements below the root; JSON object members,
   * where an array member counts as its number of items.
   */
  maxFields: number;
  /** Maximum length (UTF-16 units) of any string value or field name. */
  maxStringLength: number;
}

/**
 * Real pushes are about 3 levels deep with a dozen fields (subscribe events with many templates
 * have a few dozen), so these leave ample room while keeping hostile bodies cheap to reject.
 */
export const DEFAULT_BODY_LIMITS: Readonly<BodyLimits> = Object.freeze({
  maxDepth: 8,
  maxFields: 200,
  maxStringLength: 64 * 1024,
});

export interface ParsedPush {
  format: PushFormat;
  fields: Record<string, unknown>;
}

const malformed = (message: string, cause?: unknown): AppError => new AppError(400, 'MALFORMED_BODY', message, { cause });

const tooComplex = (limit: keyof BodyLimits, value: number): AppError => new AppError(400, 'BODY_TOO_COMPLEX', 'Push body is too complex', { details: { limit, value } });

function isWhitespace(c: number): boolean {
  return c === 0x20 || c === 0x09 || c === 0x0a || c === 0x0d;
}

/** The first significant character (after a UTF-8 byte-order mark and whitespace), if any. */
function firstSignificantChar(body: Uint8Array | string): string | undefined {
  if (typeof body === 'string') {
    for (let i = 0; i < body.length; i++) {
      const c = body.charCodeAt(i);
      if (c === 0xfeff || isWhitespace(c)) continue;
      return body[i];
    }
    return undefined;
  }
  let i = body[0] === 0xef && body[1] === 0xbb && body[2] === 0xbf ? 3 : 0;
  for (; i < body.length; i++) {
    const c = body[i] as number;
    if (isWhitespace(c)) continue;
    return String.fromCharCode(c);
  }
  return undefined;
}

/**
 * XML or JSON. The body decides when it can (`<` vs `{`/`[`); otherwise the Content-Type; otherwise
 * XML, WeChat's default format (the parser will then reject the body as malformed).
 */
export function detectFormat(body: Uint8Array | string, contentType: string | undefined): PushFormat {
  const first = firstSignificantChar(body);
  if (first === '<') return 'xml';
  if (first === '{' || first === '[') return 'json';
  if (contentType && /json/i.test(contentType)) return 'json';
  return 'xml';
}

const utf8 = new TextDecoder('utf-8', { fatal: true });

function decodeBody(body: Uint8Array | string): string {
  if (typeof body === 'string') return body.charCodeAt(0) === 0xfeff ? body.slice(1) : body;
  try {
    return utf8.decode(body); // also drops a leading byte-order mark
  } catch (err) {
    throw malformed('Push body is not valid UTF-8', err);
  }
}

/** Defaults for what is not given; an explicit `undefined` must not switch a limit off. */
function resolveLimits(limits: Partial<BodyLimits>): BodyLimits {
  const lim: BodyLimits = { ...DEFAULT_BODY_LIMITS };
  for (const name of Object.keys(lim) as Array<keyof BodyLimits>) {
    const v = limits[name];
    if (v === undefined) continue;
    if (!Number.isInteger(v) || v < 1) throw new Error(`body limit ${name} must be a positive integer`);
    lim[name] = v;
  }
  return lim;
}

/** Parses a push body; throws AppError 400 MALFORMED_BODY, BODY_TOO_COMPLEX or XML_FORBIDDEN. */
export function parsePushBody(body: Uint8Array | string, contentType: string | undefined, limits: Partial<BodyLimits> = {}): ParsedPush {
  const lim = resolveLimits(limits);
  const format = detectFormat(body, contentType);
  const text = decodeBody(body);
  if (text.trim() === '') throw malformed('Push body is empty');
  const fields = format === 'xml' ? parseXml(text, lim) : parseJson(text, lim);
  return { format, fields };
}

// ---------------------------------------------------------------------------------------------
// Shape checks shared by both formats

/**
 * Walks a parsed tree once, enforcing field count, string length and safe keys. Depth was already
 * enforced by the format's pre-scan; the check here is a safety net that counts objects only, so it
 * is never stricter than the pre-scan for either format.
 */
function checkTree(root: Record<string, unknown>, lim: BodyLimits): void {
  let fields = 0;
  const visit = (value: unknown, depth: number): void => {
    if (typeof value === 'string') {
      if (value.length > lim.maxStringLength) throw tooComplex('maxStringLength', value.length);
      return;
    }
    if (value === null || typeof value !== 'object') return;
    if (depth > lim.maxDepth) throw tooComplex('maxDepth', depth);
    if (Array.isArray(value)) {
      for (const item of value) {
        if (++fields > lim.maxFields) throw tooComplex('maxFields', fields);
        // Not a level of its own: repeated XML elements become an array at the same depth.
        visit(item, depth);
      }
      return;
    }
    for (const [key, item] of Object.entries(value)) {
      // An array member counts by its items (like repeated XML elements), anything else once.
      if (!Array.isArray(item) && ++fields > lim.maxFields) throw tooComplex('maxFields', fields);
      if (key.length > lim.maxStringLength) throw tooComplex('maxStringLength', key.length);
      // JSON.parse makes "__proto__" an own property, harmless until some later code copies the
      // record with Object.assign or a for-in loop; WeChat never sends it, so refuse it here.
      if (key === '__proto__') throw malformed('Push body has a forbidden field name');
      visit(item, depth + 1);
    }
  };
  visit(root, 1);
}

// ---------------------------------------------------------------------------------------------
// XML

const xmlParserOptions = {
  // No entity expansion at all (the five predefined ones are decoded below, by a fixed table).
  processEntities: false,
  // Keep every value a string: no number parsing, so MsgId keeps all 19 digits.
  parseTagValue: false,
  parseAttributeValue: false,
  ignoreAttributes: true,
  // CDATA apart from text, so entity decoding applies to text only (CDATA is literal).
  cdataPropName: '#cdata',
  textNodeName: '#text',
  ignoreDeclaration: true,
  ignorePiTags: true,
  trimValues: true,
} as const;

/**
 * A linear pre-scan of the raw XML, before the parser sees it:
 * - refuses any markup declaration (`<!DOCTYPE`, `<!ENTITY`, ...; in any letter case) outside
 *   CDATA sections and comments: WeChat never sends one, and it is where entity bombs and external
 *   entities live. Looking only outside CDATA keeps a user's text message "<!DOCTYPE html>" valid;
 *   tags are skipped respecting quoted attribute values so `a="<![CDATA["` cannot hide one.
 * - enforces depth and element count early, so a hostile body never reaches the parser's
 *   recursive tree building.
 */
function prescanXml(xml: string, lim: BodyLimits): void {
  let depth = 0;
  let elements = 0;
  let i = xml.indexOf('<');
  while (i !== -1 && i < xml.length) {
    if (xml.startsWith('<![CDATA[', i)) {
      const end = xml.indexOf(']]>', i + 9);
      if (end === -1) throw malformed('Unterminated CDATA section');
      i = end + 3;
    } else if (xml.startsWith('<!--', i)) {
      const end = xml.indexOf('-->', i + 4);
      if (end === -1) throw malformed('Unterminated comment');
      i = end + 3;
    } else if (xml.startsWith('<!', i)) {
      throw new AppError(400, 'XML_FORBIDDEN', 'XML declarations (DOCTYPE, ENTITY) are not accepted');
    } else if (xml.startsWith('<?', i)) {
      const end = xml.indexOf('?>', i + 2);
      if (end === -1) throw malformed('Unterminated processing instruction');
      i = end + 2;
    } else {
      // A start, end or empty-element tag: find its '>' outside quoted attribute values.
      let j = i + 1;
      let quote = '';
      for (; j < xml.length; j++) {
        const ch = xml[j];
        if (quote) {
          if (ch === quote) quote = '';
        } else if (ch === '"' || ch === "'") {
          quote = ch;
        } else if (ch === '>') {
          break;
        }
      }
      if (j >= xml.length) throw malformed('Unterminated tag');
      if (xml[i + 1] === '/') {
        depth--;
      } else {
        elements++;
        if (elements - 1 > lim.maxFields) throw tooComplex('maxFields', elements - 1);
        if (xml[j - 1] !== '/') {
          depth++;
          if (depth > lim.maxDepth) throw tooComplex('maxDepth', depth);
        }
      }
      i = j + 1;
    }
    i = xml.indexOf('<', i);
  }
}

const PREDEFINED_ENTITIES: Readonly<Record<string, string>> = {
  lt: '<',
  gt: '>',
  amp: '&',
  quot: '"',
  apos: "'",
};

/**
 * Decodes the five predefined entities and character references in text content. A fixed table,
 * so nothing can expand; anything else (an undeclared named entity) is left as written.
 */
function decodeXmlText(s: string): string {
  if (!s.includes('&')) return s;
  return s.replace(/&(#x[0-9a-fA-F]{1,6}|#[0-9]{1,7}|[a-z]{2,4});/g, (whole, ref: string) => {
    if (ref[0] !== '#') return PREDEFINED_ENTITIES[ref] ?? whole;
    const code = ref[1] === 'x' ? parseInt(ref.slice(2), 16) : parseInt(ref.slice(1), 10);
    const valid = code > 0 && code <= 0x10ffff && !(code >= 0xd800 && code <= 0xdfff);
    return valid ? String.fromCodePoint(code) : whole;
  });
}

const joinParts = (v: unknown): string => (Array.isArray(v) ? v.map(String).join('') : String(v));

/**
 * Turns fast-xml-parser's output into plain values: text and CDATA become one string (CDATA
 * verbatim, text entity-decoded), elements become records, repeated elements arrays.
 */
function fromXmlNode(node: unknown): unknown {
  if (typeof node === 'string') return decodeXmlText(node);
  if (Array.isArray(node)) return node.map(fromXmlNode);
  if (node === null || typeof node !== 'object') return node;
  const entries = Object.entries(node);
  const textOnly = entries.every(([k]) => k === '#cdata' || k === '#text');
  if (textOnly) {
    // Mixed text and CDATA in one element loses its order here (text first); WeChat never sends it.
    const rec = node as { '#text'?: unknown; '#cdata'?: unknown };
    const text = rec['#text'] === undefined ? '' : decodeXmlText(joinParts(rec['#text']));
    const cdata = rec['#cdata'] === undefined ? '' : joinParts(rec['#cdata']);
    return text + cdata;
  }
  const out: Record<string, unknown> = {};
  for (const [key, value] of entries) {
    if (key === '#cdata') continue; // stray CDATA between child elements: not a field
    out[key] = fromXmlNode(value);
  }
  return out;
}

/** Parsers hold no per-document state; building one per push costs more than parsing the push. */
const parsers = new Map<number, XMLParser>();
function parserFor(maxDepth: number): XMLParser {
  let p = parsers.get(maxDepth);
  if (!p) {
    p = new XMLParser({ ...xmlParserOptions, maxNestedTags: maxDepth + 1 });
    parsers.set(maxDepth, p);
  }
  return p;
}

/** Where the name of an opening tag `<Name>` at `i` ends (the '>'), or -1: a letter or '_', then up to 127 of letters, digits, '_', '.', '-'. */
function flatTagNameEnd(s: string, i: number): number {
  if (s.charCodeAt(i) !== 0x3c) return -1;
  const first = s.charCodeAt(i + 1);
  if (!(isAsciiLetter(first) || first === 0x5f)) return -1;
  const limit = Math.min(s.length, i + 2 + 127);
  let j = i + 2;
  for (; j < limit; j++) {
    const c = s.charCodeAt(j);
    if (!(isAsciiLetter(c) || (c >= 0x30 && c <= 0x39) || c === 0x5f || c === 0x2e || c === 0x2d)) break;
  }
  return s.charCodeAt(j) === 0x3e ? j : -1;
}

const isAsciiLetter = (c: number): boolean => (c >= 0x41 && c <= 0x5a) || (c >= 0x61 && c <= 0x7a);

function skipXmlWhitespace(s: string, i: number): number {
  while (i < s.length && isWhitespace(s.charCodeAt(i))) i++;
  return i;
}

/**
 * The fast path for what WeChat sends almost always: `<xml>` holding flat `<Tag>value</Tag>` fields,
 * each value one CDATA section or plain text. One linear pass, no tree: a push's envelope and its
 * inner message are both parsed here. It gives exactly what the full parser gives for such a
 * document, and answers undefined (the full parser then decides, with its checks and its errors)
 * for anything else or anything it would have to interpret: a declaration, comments, attributes,
 * nesting, a repeated or `__`-prefixed field, an entity or a CR (the XML parser normalises line
 * ends), mixed text and CDATA, a limit reached.
 */
function parseFlatXmlFast(xml: string, lim: BodyLimits): Record<string, unknown> | undefined {
  if (lim.maxDepth < 2) return undefined;
  let i = skipXmlWhitespace(xml, 0);
  if (!xml.startsWith('<xml>', i)) return undefined;
  i += 5;
  const out: Record<string, unknown> = {};
  let fields = 0;
  for (;;) {
    i = skipXmlWhitespace(xml, i);
    if (xml.startsWith('</xml>', i)) return skipXmlWhitespace(xml, i + 6) === xml.length ? out : undefined;
    const nameEnd = flatTagNameEnd(xml, i);
    if (nameEnd < 0) return undefined;
    const name = xml.slice(i + 1, nameEnd);
    i = nameEnd + 1;
    let value: string;
    if (xml.startsWith('<![CDATA[', i)) {
      const end = xml.indexOf(']]>', i + 9);
      if (end === -1) return undefined;
      value = xml.slice(i + 9, end);
      i = end + 3;
    } else {
      const end = xml.indexOf('<', i);
      if (end === -1) return undefined;
      value = xml.slice(i, end);
      if (value.includes('&')) return undefined;
      value = value.trim();
      i = end;
    }
    if (value.includes('\r')) return undefined;
    // The closing tag must follow at once and match.
    if (xml.charCodeAt(i) !== 0x3c || xml.charCodeAt(i + 1) !== 0x2f || !xml.startsWith(name, i + 2) || xml.charCodeAt(i + 2 + name.length) !== 0x3e) return undefined;
    i += name.length + 3;
    if (++fields > lim.maxFields || value.length > lim.maxStringLength || name.length > lim.maxStringLength) return undefined;
    if (name.startsWith('__') || Object.prototype.hasOwnProperty.call(out, name)) return undefined;
    out[name] = value;
  }
}

function parseXml(xml: string, lim: BodyLimits): Record<string, unknown> {
  const flat = parseFlatXmlFast(xml, lim);
  if (flat) return flat;
  prescanXml(xml, lim);
  let doc: unknown;
  try {
    const parser = parserFor(lim.maxDepth);
    // `true` runs the validator first: without it the parser accepts unclosed and mismatched tags.
    doc = parser.parse(xml, true);
  } catch (err) {
    throw malformed('Push body is not well-formed XML', err);
  }
  if (doc === null || typeof doc !== 'object' || Array.isArray(doc)) throw malformed('Push body is not XML');
  const keys = Object.keys(doc);
  if (keys.length !== 1 || keys[0] !== 'xml') throw malformed('XML root element must be <xml>');
  const root = fromXmlNode((doc as { xml: unknown }).xml);
  // `<xml></xml>` parses to an empty string: no fields (normalise reports what is missing).
  let fields: Record<string, unknown>;
  if (root === '') fields = {};
  else if (typeof root === 'object' && root !== null && !Array.isArray(root)) fields = root as Record<string, unknown>;
  else throw malformed('XML root element must contain fields');
  checkTree(fields, lim);
  return fields;
}

// ---------------------------------------------------------------------------------------------
// JSON

interface JsonScan {
  /** Start/end offsets of integer literals that a JS number cannot hold exactly. */
  unsafeIntegers: Array<[number, number]>;
}

const MAX_SAFE = BigInt(Number.MAX_SAFE_INTEGER);

/**
 * A linear lexical pass over JSON text: enforces depth early and finds integer literals beyond
 * 2^53-1 outside strings. Only trusted after JSON.parse accepted the same text, so it does not
 * need to diagnose syntax errors itself.
 */
function scanJson(json: string, lim: BodyLimits): JsonScan {
  const unsafeIntegers: Array<[number, number]> = [];
  let depth = 0;
  for (let i = 0; i < json.length; i++) {
    const ch = json[i];
    if (ch === '"') {
      for (i++; i < json.length && json[i] !== '"'; i++) {
        if (json[i] === '\\') i++;
      }
    } else if (ch === '{' || ch === '[') {
      if (++depth > lim.maxDepth) throw tooComplex('maxDepth', depth);
    } else if (ch === '}' || ch === ']') {
      depth--;
    } else if (ch === '-' || (ch !== undefined && ch >= '0' && ch <= '9')) {
      const start = i;
      let isInteger = true;
      for (i++; i < json.length; i++) {
        const c = json[i] as string;
        if (c === '.' || c === 'e' || c === 'E' || c === '+' || c === '-') isInteger = false;
        else if (c < '0' || c > '9') break;
      }
      const literal = json.slice(start, i);
      i--; // the for loop's i++ must land on the character after the number
      const digits = literal.startsWith('-') ? literal.slice(1) : literal;
      if (isInteger && digits.length >= 16 && BigInt(digits) > MAX_SAFE) unsafeIntegers.push([start, start + literal.length]);
    }
  }
  return { unsafeIntegers };
}

function parseJson(json: string, lim: BodyLimits): Record<string, unknown> {
  let value: unknown;
  try {
    value = JSON.parse(json);
  } catch (err) {
    throw malformed('Push body is not valid JSON', err);
  }
  const { unsafeIntegers } = scanJson(json, lim);
  if (unsafeIntegers.length > 0) {
    // Re-parse with those literals quoted, so e.g. "MsgId": 23237841224789437 arrives as the
    // string "23237841224789437" instead of the number 23237841224789436.
    let rewritten = '';
    let from = 0;
    for (const [start, end] of unsafeIntegers) {
      rewritten += `${json.slice(from, start)}"${json.slice(start, end)}"`;
      from = end;
    }
    rewritten += json.slice(from);
    value = JSON.parse(rewritten);
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    throw malformed('JSON push body must be an object');
  }
  const fields = value as Record<string, unknown>;
  checkTree(fields, lim);
  return fields;
}
