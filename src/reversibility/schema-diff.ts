import type { SchemaSnapshot } from './schema-capture.js';

/**
 * What a down() failed to undo, against the schema before its up():
 * `left` are objects (or properties) that are there now and were not before,
 * `lost` are those that were there before and are gone.
 * Entries read as `index tickets_state_idx` or `column tickets.priority: NOT NULL`;
 * describeDifference() adds "left behind" / "lost".
 */
export interface SchemaDifference {
  left: string[];
  lost: string[];
}

export function isEmptyDifference(difference: SchemaDifference): boolean {
  return difference.left.length === 0 && difference.lost.length === 0;
}

/**
 * Compares the schema before a migration with the schema after its up() and down().
 * An object that is wholly left behind or lost hides its own columns, indexes and
 * constraints: `table audit_log left behind` says it all, not once per column.
 */
export function diffSchemas(before: SchemaSnapshot, after: SchemaSnapshot): SchemaDifference {
  const left: string[] = [];
  const lost: string[] = [];
  const tablesLeft = new Set<string>();
  const tablesLost = new Set<string>();
  for (const key of after.keys()) if (!before.has(key) && TABLE.test(key)) tablesLeft.add(key.replace(TABLE, ''));
  for (const key of before.keys()) if (!after.has(key) && TABLE.test(key)) tablesLost.add(key.replace(TABLE, ''));

  for (const [key, object] of after) {
    const previous = before.get(key);
    if (!previous) {
      if (!(object.table && tablesLeft.has(object.table))) left.push(key);
      continue;
    }
    const had = new Set(previous.properties);
    const has = new Set(object.properties);
    for (const property of object.properties) if (!had.has(property)) left.push(`${key}: ${property}`);
    for (const property of previous.properties) if (!has.has(property)) lost.push(`${key}: ${property}`);
  }
  for (const [key, object] of before) {
    if (!after.has(key) && !(object.table && tablesLost.has(object.table))) lost.push(key);
  }
  return { left: left.sort(), lost: lost.sort() };
}

const TABLE = /^(foreign )?table /;

/** Every difference as one line: `index tickets_state_idx left behind`, `column tickets.priority: NOT NULL lost`. */
export function describeDifference(difference: SchemaDifference): string[] {
  return [
    ...difference.left.map((entry) => `${entry} left behind`),
    ...difference.lost.map((entry) => `${entry} lost`),
  ];
}
