// The one place that makes text safe to show where GitHub, Slack or Mermaid render it: job
// summaries, Slack's mrkdwn, Markdown records and charts. Whatever a person typed (a reason, a check
// name) or a server answered passes through here before it is shown.

/** GitHub drops a job summary over 1 MiB: the runtime cuts there, and builders of long summaries plan below it. */
export const SUMMARY_LIMIT_BYTES = 1024 * 1024;

/**
 * `<`, `>` and `&` as entities: `@actions/core`'s summary helpers, Slack and GitHub's Markdown all
 * render them as markup. Slack decodes only these three, so this is also Slack's escape.
 */
export function escapeHtml(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

/**
 * escapeHtml, and backticks too, for text inside GitHub Markdown (a job summary): three backticks in
 * a name would open a code fence that swallows the rest of the summary. Not for Slack, which shows
 * `&#96;` as typed.
 */
export function escapeMarkdown(text: string): string {
  return escapeHtml(text).replace(/`/g, '&#96;');
}

/**
 * Text for a Mermaid label (a chart title): Mermaid has no escape for a quote inside one, so keep
 * letters, digits and plain punctuation only, at most `most` characters.
 */
export function mermaidLabel(text: string, most = 80): string {
  const clipped = text.length <= most ? text : `${text.slice(0, most - 1)}…`;
  return clipped
    .replace(/[^\p{L}\p{N} _.,:()/%+*=@!?'-]/gu, ' ')
    .replace(/\s+/g, ' ')
    .trim();
}

/** A table cell: markup the caller escaped; `{ data, header: true }` is a header cell. */
export type TableCell = string | number | { data: string | number; header?: boolean };

/** An HTML table of cells that are already markup (escape what they interpolate first). */
export function htmlTable(rows: readonly (readonly TableCell[])[]): string {
  const body = rows
    .map((row) => {
      const cells = row.map((cell) => {
        const { data, header } = typeof cell === 'object' ? cell : { data: cell, header: false };
        const tag = header ? 'th' : 'td';
        return `<${tag}>${String(data)}</${tag}>`;
      });
      return `<tr>${cells.join('')}</tr>`;
    })
    .join('');
  return `<table>${body}</table>`;
}
