import { errorMessage } from '../../common/errors.js';
import type { Summary } from '../common/summary.js';

/** A two-column table of facts for the job summary (the Summary escapes every cell). */
export function factsTable(summary: Summary, rows: Array<[string, string | number | undefined]>): Summary {
  return summary.table([
    [
      { data: 'What', header: true },
      { data: 'Value', header: true },
    ],
    ...rows.filter(([, value]) => value !== undefined && value !== '').map(([label, value]) => [label, String(value)]),
  ]);
}

export function iso(date: Date | undefined): string {
  return date ? date.toISOString() : '';
}

/** What a reviewer sees when the step failed after its inputs were accepted. */
export function failureSummary(
  summary: Summary,
  title: string,
  rows: Array<[string, string | number | undefined]>,
  error: unknown,
): void {
  factsTable(summary.heading(title, 2), rows).heading('Error', 3).code(errorMessage(error));
}
