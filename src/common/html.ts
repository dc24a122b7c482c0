/** Escapes text for a job-summary table cell: summaries are HTML, and a body or a message may hold `<`. */
export function escapeHtml(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}
