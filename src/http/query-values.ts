/** The wanted parameters of a query string, and the first of them that was given more than once. */
export interface QueryValues<K extends string> {
  values: Partial<Record<K, string>>;
  repeated?: K;
}

/**
 * Reads the named parameters of a query string exactly as URLSearchParams would, in one pass over
 * it. Koa's `ctx.query` builds an object of every parameter with URLSearchParams and a `getAll` per
 * key; WeChat's push URLs carry six plain ASCII parameters on every push, so the hot route reads
 * those by splitting. A string with percent-escapes or '+' (which need URLSearchParams' decoding)
 * goes through URLSearchParams itself.
 */
export function queryValues<K extends string>(querystring: string, wanted: readonly K[]): QueryValues<K> {
  const out: QueryValues<K> = { values: {} };
  if (querystring === '') return out;
  const take = (key: K, value: string) => {
    if (out.values[key] !== undefined) out.repeated ??= key;
    else out.values[key] = value;
  };
  if (querystring.includes('%') || querystring.includes('+')) {
    const params = new URLSearchParams(querystring);
    for (const k of wanted) for (const v of params.getAll(k)) take(k, v);
    return out;
  }
  // URLSearchParams drops one leading '?'.
  let start = querystring.charCodeAt(0) === 0x3f ? 1 : 0;
  while (start <= querystring.length) {
    let end = querystring.indexOf('&', start);
    if (end < 0) end = querystring.length;
    if (end > start) {
      const eq = querystring.indexOf('=', start);
      const keyEnd = eq >= 0 && eq < end ? eq : end;
      const key = querystring.slice(start, keyEnd) as K;
      if (wanted.includes(key)) take(key, keyEnd < end ? querystring.slice(keyEnd + 1, end) : '');
    }
    start = end + 1;
  }
  return out;
}
