/**
 * The flat XML WeChat uses for platform events (`<xml><Tag>value</Tag>...</xml>`, values in CDATA or
 * plain text). Pure and deliberately small: no DOCTYPE, entities, processing instructions, attributes
 * or nesting are accepted, so nothing in an event can expand, include or recurse.
 */
export class FlatXmlError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'FlatXmlError';
  }
}

const FIELD = /^<([A-Za-z][A-Za-z0-9_]{0,63})>(?:<!\[CDATA\[([\s\S]*?)\]\]>|([^<]*))<\/\1>/;
const ENTITIES: Readonly<Record<string, string>> = { '&lt;': '<', '&gt;': '>', '&amp;': '&', '&quot;': '"', '&apos;': "'" };

export function parseFlatXml(xml: string, limits: { maxFields?: number; maxValue?: number } = {}): Record<string, string> {
  const maxFields = limits.maxFields ?? 64;
  const maxValue = limits.maxValue ?? 8192;
  let s = xml.trim().replace(/^<\?xml[^?]*\?>\s*/, '');
  if (!s.startsWith('<xml>') || !s.endsWith('</xml>')) throw new FlatXmlError('not an <xml> document');
  s = s.slice(5, -6).trim();
  const out: Record<string, string> = Object.create(null) as Record<string, string>;
  let n = 0;
  while (s.length > 0) {
    const m = FIELD.exec(s);
    if (!m) throw new FlatXmlError('only flat <Tag>value</Tag> fields are accepted');
    const name = m[1] as string;
    const raw = m[2] ?? (m[3] as string).replace(/&(lt|gt|amp|quot|apos);/g, (e) => ENTITIES[e] ?? e);
    if (m[3] !== undefined && /&/.test(m[3].replace(/&(lt|gt|amp|quot|apos);/g, ''))) throw new FlatXmlError('entities other than the five predefined ones are not accepted');
    if (raw.length > maxValue) throw new FlatXmlError(`${name} is too long`);
    if (++n > maxFields) throw new FlatXmlError('too many fields');
    if (name in out) throw new FlatXmlError(`${name} given twice`);
    out[name] = raw;
    s = s.slice(m[0].length).trimStart();
  }
  return out;
}
