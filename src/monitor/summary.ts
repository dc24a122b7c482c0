import { formatDuration } from '../common/duration.js';
import { escapeMarkdown, htmlTable, mermaidLabel, SUMMARY_LIMIT_BYTES } from '../common/html.js';
import { describeThreshold } from './checks.js';
import type { CheckOutcome, CheckReport, MonitorReport, Sample } from './types.js';
import { clockTime, formatValue } from './verdict.js';

export interface SummaryContext {
  durationMs: number;
  intervalMs: number;
  failureLimit: number;
  inconclusiveLimit: number;
}

/**
 * The runtime cuts a summary at GitHub's 1 MiB wherever it falls, which could be inside a chart.
 * Plan below it instead, dropping detail first, with room for what scrubbing secrets adds.
 */
export const SUMMARY_BUDGET_BYTES = SUMMARY_LIMIT_BYTES - 64 * 1024;
const MAX_CHART_POINTS = 60;
const MAX_TABLE_ROWS = 60;
const MAX_CELL = 500;

const OUTCOME: Record<CheckOutcome, string> = {
  passed: '✅ passed',
  failed: '❌ failed',
  inconclusive: '❔ inconclusive',
  stopped: '⏹️ stopped early',
};

/**
 * The job summary for the reviewer who was not there: the verdict, a table of the checks, and per
 * check a chart of its samples against the threshold and the samples that did not pass. Everything
 * a user typed (names, queries, messages quoting them) is escaped; past the size budget the detail
 * goes first, the verdict and the table stay.
 */
export function monitorSummary(report: MonitorReport, context: SummaryContext): string {
  const head = [
    '## Metric checks',
    '',
    `<p>${verdictLine(report, context)}</p>`,
    '',
    overviewTable(report.checks),
    '',
  ].join('\n');
  const withCharts = [head, ...report.checks.map((check) => checkSection(check, true))].join('\n');
  if (Buffer.byteLength(withCharts) <= SUMMARY_BUDGET_BYTES) return withCharts;
  const chartsOnly = [head, ...report.checks.map((check) => checkSection(check, false))].join('\n');
  const note = '<p>Sample tables left out to keep the summary under 1 MiB; every sample is in the results output.</p>';
  if (Buffer.byteLength(chartsOnly) + note.length <= SUMMARY_BUDGET_BYTES) return `${chartsOnly}\n${note}\n`;
  return `${head}\n<p>Charts and sample tables left out to keep the summary under 1 MiB; every sample is in the results output.</p>\n`;
}

function verdictLine(report: MonitorReport, context: SummaryContext): string {
  const limits = `failure-limit ${context.failureLimit}, inconclusive-limit ${context.inconclusiveLimit}`;
  const schedule = `every ${formatDuration(context.intervalMs)} for ${formatDuration(context.durationMs)}`;
  if (report.passed)
    return `✅ Every check held its threshold: ${report.rounds} sample(s) each, ${schedule} (${limits}).`;
  return `❌ ${escapeMarkdown(clip(report.failure ?? 'failed'))}<br>Sampled ${schedule} (${limits}); stopped after ${report.rounds} sample(s).`;
}

function overviewTable(checks: readonly CheckReport[]): string {
  const header = ['Check', 'Source', 'Threshold', 'Samples', 'Failing', 'Without data', 'Last value', 'Result'];
  const rows = checks.map((check) => {
    const last = check.samples.at(-1);
    return [
      escapeMarkdown(check.name),
      `<code>${escapeMarkdown(clip(check.source))}</code>`,
      escapeMarkdown(describeThreshold(check.threshold)),
      String(check.samples.length),
      String(check.failures),
      String(check.inconclusive),
      last ? valueCell(last) : '—',
      OUTCOME[check.outcome],
    ];
  });
  return table(header, rows);
}

function checkSection(check: CheckReport, withTable: boolean): string {
  // An HTML heading: a markdown one would read a typed * or [link](...) as markup.
  const lines = [`<h3>${escapeMarkdown(check.name)}</h3>`, ''];
  lines.push(chart(check), '');
  if (withTable) {
    const notPassing = check.samples.filter((sample) => sample.verdict !== 'pass');
    const shown = check.samples.length <= MAX_TABLE_ROWS ? check.samples : notPassing.slice(0, MAX_TABLE_ROWS);
    if (shown.length) {
      const caption =
        shown === check.samples
          ? `Samples (${check.samples.length})`
          : `Samples that did not pass (${shown.length} of ${notPassing.length}; all ${check.samples.length} are in the results output)`;
      const rows = shown.map((sample) => [
        clockTime(sample.at),
        valueCell(sample),
        verdictCell(sample),
        escapeMarkdown(clip(sample.message ?? '')),
      ]);
      lines.push(
        `<details><summary>${caption}</summary>`,
        '',
        table(['Time', 'Value', 'Verdict', 'Note'], rows),
        '',
        '</details>',
        '',
      );
    }
  }
  return lines.join('\n');
}

/**
 * A Mermaid xychart-beta block (GitHub renders it): the samples as a line, each threshold as a
 * flat line. Samples without data have no point to plot; the caption says how many.
 */
export function chart(check: CheckReport): string {
  const plotted = evenly(
    check.samples.filter((sample): sample is Sample & { value: number } => sample.value !== null),
    MAX_CHART_POINTS,
  );
  if (!plotted.length) return '<p>No sample had data: nothing to chart.</p>';
  const values = plotted.map((sample) => sample.value);
  const limits = [check.threshold.max, check.threshold.min].filter((limit): limit is number => limit !== undefined);
  const low = Math.min(...values, ...limits);
  const high = Math.max(...values, ...limits);
  // Rates, latencies and connection counts are read against zero; only negative figures move the axis down.
  const bottom = low >= 0 ? 0 : low - (high - low) * 0.1;
  const pad = (high - bottom) * 0.1 || Math.abs(high) * 0.1 || 1;
  const missing = check.samples.length - check.samples.filter((sample) => sample.value !== null).length;
  const lines = [
    '```mermaid',
    'xychart-beta',
    `  title "${mermaidLabel(check.name)}"`,
    `  x-axis [${plotted.map((sample) => `"${clockTime(sample.at)}"`).join(', ')}]`,
    `  y-axis "value" ${number(bottom)} --> ${number(high + pad)}`,
    `  line [${values.map(number).join(', ')}]`,
    ...limits.map((limit) => `  line [${plotted.map(() => number(limit)).join(', ')}]`),
    '```',
    '',
    `<p>The samples${plotted.length < check.samples.length - missing ? ` (${plotted.length} evenly chosen)` : ''} against ${escapeMarkdown(describeThreshold(check.threshold))} (the flat line${limits.length > 1 ? 's' : ''})${missing ? `; ${missing} sample(s) without data are not plotted` : ''}.</p>`,
  ];
  return lines.join('\n');
}

function valueCell(sample: Sample): string {
  return sample.value === null ? '—' : formatValue(sample.value);
}

function verdictCell(sample: Sample): string {
  return { pass: '✅ pass', fail: '❌ fail', 'no-data': '❔ no data', error: '❔ query error' }[sample.verdict];
}

function table(header: string[], rows: string[][]): string {
  return htmlTable([header.map((data) => ({ data, header: true })), ...rows]);
}

function number(value: number): string {
  return String(Number(value.toPrecision(6)));
}

function evenly<T>(items: T[], most: number): T[] {
  if (items.length <= most) return items;
  return Array.from({ length: most }, (_, index) => items[Math.round((index * (items.length - 1)) / (most - 1))]);
}

function clip(text: string, most = MAX_CELL): string {
  return text.length <= most ? text : `${text.slice(0, most - 1)}…`;
}
