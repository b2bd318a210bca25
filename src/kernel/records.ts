/** A plain JSON object (not null, not an array): what every parser of WeChat's answers checks first. */
export function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}
