import fs from 'node:fs/promises';
import { errorMessage } from '../../common/errors.js';
import { escapeHtml, escapeMarkdown, htmlTable, SUMMARY_LIMIT_BYTES, type TableCell } from '../../common/html.js';
import type { Logger } from '../../common/logger.js';

export { SUMMARY_LIMIT_BYTES };
const CUT_NOTE = '\n\n<p><em>The summary was cut here: GitHub shows at most 1 MiB. The log has everything.</em></p>\n';

export type Cell = TableCell;

/**
 * The job summary, built by the action and written once by the runtime, on every path. Everything
 * given as text is escaped here, HTML and backticks (core.summary.addTable and friends insert it
 * raw), so a reason such as `<h1>FAKE: approved</h1>` or a name with ``` shows as typed. `html` and `markdown` take markup that the caller
 * built, and must escape what it interpolates with escapeMarkdown (src/common/html.ts).
 */
export class Summary {
  private readonly parts: string[] = [];

  heading(text: string, level: 1 | 2 | 3 | 4 | 5 | 6 = 2): this {
    this.parts.push(`<h${level}>${escapeMarkdown(text)}</h${level}>\n`);
    return this;
  }

  paragraph(text: string): this {
    this.parts.push(`<p>${escapeMarkdown(text)}</p>\n`);
    return this;
  }

  /** A table of text cells: a cell `{ data, header: true }` is a header cell. */
  table(rows: Cell[][]): this {
    return this.addTable(rows, escapeMarkdown);
  }

  /** A table whose cells are markup the caller escaped (for <code>, <br>, <pre> inside cells). */
  htmlTable(rows: Cell[][]): this {
    return this.addTable(rows, (markup) => markup);
  }

  private addTable(rows: Cell[][], escape: (text: string) => string): this {
    const escaped = rows.map((row) =>
      row.map((cell) =>
        typeof cell === 'object' ? { ...cell, data: escape(String(cell.data)) } : escape(String(cell)),
      ),
    );
    this.parts.push(`${htmlTable(escaped)}\n`);
    return this;
  }

  list(items: string[]): this {
    this.parts.push(`<ul>${items.map((item) => `<li>${escapeMarkdown(item)}</li>`).join('')}</ul>\n`);
    return this;
  }

  code(text: string, language?: string): this {
    this.parts.push(
      `<pre${language ? ` lang="${escapeHtml(language)}"` : ''}><code>${escapeMarkdown(text)}</code></pre>\n`,
    );
    return this;
  }

  /** Markup built by the caller, escaped where it interpolates. */
  html(markup: string): this {
    this.parts.push(`${markup}\n`);
    return this;
  }

  /** GitHub-flavoured Markdown built by the caller (it renders inline HTML: escape what a person typed). */
  markdown(text: string): this {
    this.parts.push(`${text}\n`);
    return this;
  }

  isEmpty(): boolean {
    return this.parts.length === 0;
  }

  toString(): string {
    return this.parts.join('');
  }

  /** Drops what was built (the runtime writes nothing twice). */
  clear(): void {
    this.parts.length = 0;
  }
}

/** The content capped to `limit` bytes of UTF-8, cut on a character boundary, with a note. */
export function capSummary(content: string, limit = SUMMARY_LIMIT_BYTES): string {
  if (Buffer.byteLength(content, 'utf8') <= limit) return content;
  const room = limit - Buffer.byteLength(CUT_NOTE, 'utf8');
  const bytes = Buffer.from(content, 'utf8').subarray(0, room);
  // A multi-byte character cut in half decodes to U+FFFD: drop it.
  const cut = bytes.toString('utf8').replace(/\uFFFD+$/, '');
  return `${cut}${CUT_NOTE}`;
}

/**
 * Writes the summary once: scrubbed of secrets, capped, and guarded, because a summary that cannot
 * be written (no GITHUB_STEP_SUMMARY when run by hand, a full disk) must never replace the step's
 * real outcome: it becomes a warning.
 */
export async function writeSummary(summary: Summary, scrub: (text: string) => string, logger: Logger): Promise<void> {
  if (summary.isEmpty()) return;
  const content = capSummary(scrub(summary.toString()));
  summary.clear();
  try {
    // The file the runner reads after the step, as core.summary.write() appends to it.
    const file = process.env.GITHUB_STEP_SUMMARY;
    if (!file) throw new Error('GITHUB_STEP_SUMMARY is not set (not running on a GitHub runner?)');
    await fs.appendFile(file, content, 'utf8');
  } catch (error) {
    logger.warning(`The job summary was not written: ${errorMessage(error)}`);
  }
}
