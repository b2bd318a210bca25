/**
 * The flat XML WeChat uses for platform events (`<xml><Tag>value</Tag>...</xml>`, values in CDATA or
 * plain text). Pure and deliberately small: no DOCTYPE, entities, processing instructions, attributes
 * or nesting are accepted, so nothing in an event can expand, include or recurse.
 */
export type FlatXmlProblem = 'malformed' | 'forbidden' | 'too-complex';

export class FlatXmlError extends Error {
  constructor(
    message: string,
    /** malformed: not flat XML; forbidden: DOCTYPE, entities or processing instructions; too-complex: too many or too long fields. */
    readonly problem: FlatXmlProblem = 'malformed',
  ) {
    super(message);
    this.name = 'FlatXmlError';
  }
}

const FIELD = /^<([A-Za-z][A-Za-z0-9_]{0,63})>(?:<!\[CDATA\[([\s\S]*?)\]\]>|([^<]*))<\/\1>/;
const ENTITIES: Readonly<Record<string, string>> = { '&lt;': '<', '&gt;': '>', '&amp;': '&', '&quot;': '"', '&apos;': "'" };
/** The XML declaration only (`<?xml version=... ?>`); any other processing instruction is refused. */
const DECLARATION = /^<\?xml(?:\s[^?]*)?\?>\s*/;

export function parseFlatXml(xml: string, limits: { maxFields?: number; maxValue?: number } = {}): Record<string, string> {
  const maxFields = limits.maxFields ?? 64;
  const maxValue = limits.maxValue ?? 8192;
  let s = xml.trim().replace(DECLARATION, '');
  if (/<!DOCTYPE|<!ENTITY|<\?/i.test(s)) throw new FlatXmlError('DOCTYPE, ENTITY and processing instructions are not accepted', 'forbidden');
  if (!s.startsWith('<xml>') || !s.endsWith('</xml>')) throw new FlatXmlError('not an <xml> document');
  s = s.slice(5, -6).trim();
  const out: Record<string, string> = Object.create(null) as Record<string, string>;
  let n = 0;
  while (s.length > 0) {
    const m = FIELD.exec(s);
    if (!m) throw new FlatXmlError('only flat <Tag>value</Tag> fields are accepted');
    const name = m[1] as string;
    // `]]>` ends a CDATA section: one that seems to contain it is two sections (or markup) that XML parsers read differently.
    if (m[2] !== undefined && m[2].includes(']]>')) throw new FlatXmlError(`${name}: only one CDATA section per field is accepted`);
    if (m[3] !== undefined && /&/.test(m[3].replace(/&(lt|gt|amp|quot|apos);/g, ''))) throw new FlatXmlError('entities other than the five predefined ones are not accepted', 'forbidden');
    const raw = m[2] ?? (m[3] as string).replace(/&(lt|gt|amp|quot|apos);/g, (e) => ENTITIES[e] ?? e);
    if (raw.length > maxValue) throw new FlatXmlError(`${name} is too long`, 'too-complex');
    if (++n > maxFields) throw new FlatXmlError('too many fields', 'too-complex');
    if (name in out) throw new FlatXmlError(`${name} given twice`);
    out[name] = raw;
    s = s.slice(m[0].length).trimStart();
  }
  return out;
}
