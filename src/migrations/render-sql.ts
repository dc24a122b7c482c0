// Writes a statement's bound values into its text, so a reviewer reads what PostgreSQL ran.
// pg sends each value as text, converted as its prepareValue does; here the same conversion,
// quoted with pg's public escapeLiteral, so the rendered statement means what the
// parameterised one meant.
import pg from 'pg';

/** `$1`..`$n` in `sql` replaced by `values` written as SQL literals (the tokens in strings are left alone only if unnumbered). */
export function renderStatement(sql: string, values: readonly unknown[] = []): string {
  if (values.length === 0) return sql;
  return sql.replace(/\$(\d+)\b/g, (match, index: string) => {
    const position = Number(index) - 1;
    return position < values.length ? renderValue(values[position]) : match;
  });
}

/** One value as the SQL literal PostgreSQL would have received it as. */
export function renderValue(value: unknown): string {
  if (value === null || value === undefined) return 'NULL';
  if (typeof value === 'number' || typeof value === 'bigint') return String(value);
  if (typeof value === 'boolean') return value ? 'true' : 'false';
  if (Buffer.isBuffer(value) || ArrayBuffer.isView(value)) {
    const bytes = Buffer.isBuffer(value) ? value : Buffer.from(value.buffer, value.byteOffset, value.byteLength);
    return `'\\x${bytes.toString('hex')}'`;
  }
  return pg.escapeLiteral(textOf(value));
}

/** The text pg sends for a value (pg's prepareValue): dates with their offset, arrays as array literals, objects as JSON. */
function textOf(value: unknown): string {
  if (value instanceof Date) return value.toISOString();
  if (Array.isArray(value)) return arrayLiteral(value);
  if (typeof value === 'object' && value !== null) {
    const custom = value as { toPostgres?: (prepare: (v: unknown) => unknown) => unknown };
    if (typeof custom.toPostgres === 'function') return textOf(custom.toPostgres((v) => v));
    return JSON.stringify(value);
  }
  return String(value);
}

/** A PostgreSQL array literal: `{"a","b",NULL,{"c"}}`. */
function arrayLiteral(values: readonly unknown[]): string {
  const elements = values.map((value) => {
    if (value === null || value === undefined) return 'NULL';
    if (Array.isArray(value)) return arrayLiteral(value);
    const text = Buffer.isBuffer(value) ? `\\x${value.toString('hex')}` : textOf(value);
    return `"${text.replace(/\\/g, '\\\\').replace(/"/g, '\\"')}"`;
  });
  return `{${elements.join(',')}}`;
}
