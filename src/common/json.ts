/**
 * A JSON value from another job (a details field, a step outcome) as text: strings as they are,
 * numbers and booleans printed, objects and arrays as JSON instead of "[object Object]".
 */
export function jsonText(value: unknown): string {
  if (typeof value === 'string') return value;
  if (typeof value === 'number' || typeof value === 'boolean' || typeof value === 'bigint') return String(value);
  if (value === undefined) return '';
  return JSON.stringify(value) ?? '';
}
