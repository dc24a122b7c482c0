/**
 * The one escaping helper for text shown as HTML (job summaries, Slack's mrkdwn, Markdown records):
 * `@actions/core`'s summary helpers, Slack and GitHub's Markdown all render `<`, `>` and `&` as
 * markup, so whatever a person typed (a reason, a name) or a server answered must pass through here.
 */
export function escapeHtml(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}
