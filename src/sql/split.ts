// Splits query strings into statements with PostgreSQL's own parser (via parser-process.ts),
// keeping each statement's exact text.
import type { Node } from 'libpg-query';
import { parseTexts, scanTexts, type ScanToken } from './parser-process.js';

export interface Piece {
  sql: string;
  stmt?: Node;
  error?: string;
}

/**
 * The parser reports each statement's byte offset and length, so the text handed back is
 * exactly the input's. When a whole input does not parse, the scanner (which knows quoting,
 * dollar quoting and comments) splits it at top-level semicolons, so one bad statement
 * does not hide what its neighbours do. Every input goes to the parser in one request.
 */
export async function splitStatements(inputs: readonly string[]): Promise<Piece[][]> {
  const texts = inputs.map((input) => (input.trim() === '' ? '' : input));
  const parsed = await parseTexts(texts.filter((text) => text !== ''));
  let next = 0;
  return Promise.all(
    texts.map(async (input) => {
      if (input === '') return [];
      const reply = parsed[next++];
      const stmts = reply.ok ? (reply.value.stmts ?? []) : [];
      // One statement spanning the whole input (the common case): its text is the input.
      if (stmts.length === 1 && !stmts[0].stmt_location && !stmts[0].stmt_len)
        return [{ sql: input.trim(), stmt: stmts[0].stmt }];
      const bytes = Buffer.from(input, 'utf8');
      if (reply.ok) {
        return stmts.map((raw) => {
          const start = raw.stmt_location ?? 0;
          // A length of 0 means "to the end of the input" (the last statement, without a `;`).
          const end = raw.stmt_len ? start + raw.stmt_len : bytes.length;
          return { sql: slice(bytes, start, end), stmt: raw.stmt };
        });
      }
      return splitWithScanner(input, bytes, reply.message);
    }),
  );
}

function slice(bytes: Buffer, start: number, end: number): string {
  return bytes.subarray(start, end).toString('utf8').trim();
}

async function splitWithScanner(input: string, bytes: Buffer, parseError: string): Promise<Piece[]> {
  const [scanned] = await scanTexts([input]);
  // Not even tokens (an unterminated quote, say): the whole input is one unreadable statement.
  if (!scanned.ok) return [{ sql: input.trim(), error: parseError }];
  const ranges: { start: number; end: number; tokens: ScanToken[] }[] = [];
  let group: ScanToken[] = [];
  let start = 0;
  const flush = (end: number): void => {
    // Like the parser's own locations, a statement starts at its first token, after any comment.
    const first = group.find((token) => !isComment(token.tokenName));
    if (first) ranges.push({ start: Math.max(start, first.start), end, tokens: group });
    group = [];
  };
  for (const token of scanned.value) {
    if (token.text === ';') {
      flush(token.start);
      start = token.end;
    } else {
      group.push(token);
    }
  }
  flush(bytes.length);
  const replies = await parseTexts(ranges.map((range) => bytes.subarray(range.start, range.end).toString('utf8')));
  return Promise.all(
    ranges.map(async (range, index): Promise<Piece> => {
      const sql = slice(bytes, range.start, range.end);
      const reply = replies[index];
      if (reply.ok) {
        const stmt = reply.value.stmts?.[0]?.stmt;
        return stmt ? { sql, stmt } : { sql, error: 'no statement found' };
      }
      return (await withNumberedPlaceholders(bytes, range)) ?? { sql, error: reply.message };
    }),
  );
}

function isComment(tokenName: string): boolean {
  return tokenName === 'SQL_COMMENT' || tokenName === 'C_COMMENT';
}

/**
 * Knex writes bindings as `?` and its pg client turns them into `$1`, `$2` before sending;
 * text captured before that step still has `?`, which PostgreSQL's grammar does not accept.
 * So the `?` operator tokens are renumbered as parameters (by token position, never by
 * searching the text) and the statement parsed again. The text handed back is the original.
 */
async function withNumberedPlaceholders(
  bytes: Buffer,
  range: { start: number; end: number; tokens: ScanToken[] },
): Promise<Piece | undefined> {
  const placeholders = range.tokens.filter((token) => token.text === '?');
  if (placeholders.length === 0) return undefined;
  const parts: Buffer[] = [];
  let cursor = range.start;
  placeholders.forEach((token, index) => {
    parts.push(bytes.subarray(cursor, token.start), Buffer.from(`$${index + 1}`));
    cursor = token.end;
  });
  parts.push(bytes.subarray(cursor, range.end));
  const [reply] = await parseTexts([Buffer.concat(parts).toString('utf8')]);
  const stmt = reply.ok ? reply.value.stmts?.[0]?.stmt : undefined;
  // When the rewrite does not parse either, the caller reports the error of the text as written.
  return stmt ? { sql: slice(bytes, range.start, range.end), stmt } : undefined;
}
