import * as core from '@actions/core';
import { escapeHtml } from '../../common/html.js';

// @actions/core's summary helpers insert text as HTML unescaped: everything a person typed or
// AWS answered goes through escapeHtml first.

/** A two-column table of facts for the job summary. */
export function factsTable(
  rows: Array<[string, string | number | undefined]>,
): Parameters<typeof core.summary.addTable>[0] {
  return [
    [
      { data: 'What', header: true },
      { data: 'Value', header: true },
    ],
    ...rows
      .filter(([, value]) => value !== undefined && value !== '')
      .map(([label, value]) => [label, escapeHtml(String(value))]),
  ];
}

export function iso(date: Date | undefined): string {
  return date ? date.toISOString() : '';
}

/** What a reviewer sees when the step failed after its inputs were accepted. */
export async function writeFailureSummary(
  title: string,
  rows: Array<[string, string | number | undefined]>,
  error: unknown,
): Promise<void> {
  core.summary.addHeading(title, 2);
  core.summary.addTable(factsTable(rows));
  core.summary.addHeading('Error', 3);
  core.summary.addCodeBlock(escapeHtml(error instanceof Error ? error.message : String(error)));
  await core.summary.write();
}

export { escapeHtml };
