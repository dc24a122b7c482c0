import { needsAllowDestructive } from '../sql/risk.js';
import type { ReviewedStatement } from './run-types.js';

/** The statements a run refuses to commit without allow-destructive. */
export function blockedOf(statements: readonly ReviewedStatement[]): ReviewedStatement[] {
  return statements.filter((statement) => needsAllowDestructive(statement.risk));
}

export function describeBlocked(statement: ReviewedStatement): string {
  return `${statement.migration ?? '(bookkeeping)'}: "${oneLine(statement.sql)}" (${statement.risk}: ${statement.reasons.join('; ') || 'no reason given'})`;
}

/** One warning per statement classified `warning`. */
export function warningsOf(statements: readonly ReviewedStatement[]): string[] {
  return statements
    .filter((statement) => statement.risk === 'warning')
    .map(
      (statement) =>
        `${statement.migration ?? '(bookkeeping)'}: "${oneLine(statement.sql)}": ${statement.reasons.join('; ')}`,
    );
}

export function oneLine(sql: string, max = 200): string {
  const flat = escapeControl(sql).replace(/\s+/g, ' ').trim();
  return flat.length > max ? `${flat.slice(0, max - 1)}…` : flat;
}

/** Control characters (a newline in a name, say) written as escapes, so no line of ours can become a workflow command. */
export function escapeControl(text: string, options: { keepLineBreaks?: boolean } = {}): string {
  let escaped = '';
  for (const character of text) {
    const code = character.charCodeAt(0);
    const kept = options.keepLineBreaks === true && (character === '\n' || character === '\t');
    const control = !kept && (code < 0x20 || code === 0x7f);
    escaped += control ? `\\x${code.toString(16).padStart(2, '0')}` : character;
  }
  return escaped;
}
