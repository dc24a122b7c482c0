import { chart, monitorSummary, SUMMARY_BUDGET_BYTES } from '../../src/monitor/summary.js';
import type { CheckReport, MonitorReport, Sample } from '../../src/monitor/types.js';

const context = { durationMs: 300_000, intervalMs: 30_000, failureLimit: 0, inconclusiveLimit: 0 };

function samples(values: Array<number | null>, verdicts?: Sample['verdict'][]): Sample[] {
  return values.map((value, index) => ({
    at: new Date(Date.parse('2026-11-29T03:10:00Z') + index * 30_000).toISOString(),
    value,
    verdict: verdicts?.[index] ?? (value === null ? 'no-data' : 'pass'),
    ...(value === null ? { message: 'the query returned no series from http://prom/api/v1/query' } : {}),
  }));
}

function check(fields: Partial<CheckReport>): CheckReport {
  return {
    name: '5xx rate',
    source: 'prometheus: sum(rate(x[5m]))',
    threshold: { max: 0.05 },
    outcome: 'passed',
    failures: 0,
    inconclusive: 0,
    samples: samples([0.01, 0.02, 0.01]),
    ...fields,
  };
}

function report(checks: CheckReport[], fields: Partial<MonitorReport> = {}): MonitorReport {
  return {
    passed: true,
    startedAt: '2026-11-29T03:10:00.000Z',
    endedAt: '2026-11-29T03:15:00.000Z',
    rounds: 3,
    checks,
    ...fields,
  };
}

describe('the monitor summary', () => {
  it('shows the verdict, a table of the checks and a Mermaid xychart of the samples against the threshold', () => {
    const text = monitorSummary(report([check({})]), context);
    expect(text).toContain('✅ Every check held its threshold: 3 sample(s) each, every 30s for 5m 0s');
    expect(text).toContain(
      '<td>5xx rate</td><td><code>prometheus: sum(rate(x[5m]))</code></td><td>max 0.05</td><td>3</td>',
    );
    expect(text).toContain(
      [
        '```mermaid',
        'xychart-beta',
        '  title "5xx rate"',
        '  x-axis ["03:10:00Z", "03:10:30Z", "03:11:00Z"]',
        '  y-axis "value" 0 --> 0.055',
        '  line [0.01, 0.02, 0.01]',
        '  line [0.05, 0.05, 0.05]',
        '```',
      ].join('\n'),
    );
  });

  it('names the failure and lists the samples that did not pass, without plotting the ones without data', () => {
    const failing = check({
      outcome: 'failed',
      failures: 1,
      inconclusive: 1,
      samples: samples([0.01, null, 0.3], ['pass', 'no-data', 'fail']),
    });
    failing.samples[2].message = 'above max 0.05';
    const text = monitorSummary(
      report([failing], { passed: false, failure: '5xx rate: 0.3 at 03:11:00Z, above max 0.05' }),
      context,
    );
    expect(text).toContain('❌ 5xx rate: 0.3 at 03:11:00Z, above max 0.05');
    expect(text).toContain('<td>03:11:00Z</td><td>0.3</td><td>❌ fail</td><td>above max 0.05</td>');
    expect(text).toContain('<td>03:10:30Z</td><td>—</td><td>❔ no data</td>');
    expect(text).toContain('  line [0.01, 0.3]');
    expect(text).toContain('1 sample(s) without data are not plotted');
  });

  it('escapes what the user typed in tables and keeps the chart title to plain text', () => {
    const name = '<img src=x onerror=alert(1)> "rate" ```';
    const text = monitorSummary(
      report([check({ name, source: 'prometheus: sum(x{a="<b>"})' })], { passed: false, failure: `${name}: no data` }),
      context,
    );
    expect(text).not.toContain('<img');
    expect(text).toContain('&lt;img src=x onerror=alert(1)&gt;');
    expect(text).toContain('sum(x{a="&lt;b&gt;"})');
    expect(text).toContain('  title "img src=x onerror=alert(1) rate"');
    expect(text).toContain('<h3>&lt;img src=x onerror=alert(1)&gt; "rate" &#96;&#96;&#96;</h3>');
    expect(text.match(/```/g)).toHaveLength(2);
  });

  it('says so when no sample had data', () => {
    expect(chart(check({ samples: samples([null, null]) }))).toBe('<p>No sample had data: nothing to chart.</p>');
  });

  it('plots at most 60 points and stays under 1 MiB for many long checks', () => {
    const many = Array.from({ length: 1000 }, (_, index) => (index % 7) / 100);
    const checks = Array.from({ length: 40 }, (_, index) =>
      check({
        name: `check ${index} ${'x'.repeat(400)}`,
        source: `prometheus: ${'y'.repeat(5000)}`,
        samples: samples(
          many,
          many.map(() => 'fail'),
        ).map((sample) => ({ ...sample, message: 'z'.repeat(2000) })),
      }),
    );
    const text = monitorSummary(report(checks), context);
    expect(Buffer.byteLength(text)).toBeLessThanOrEqual(SUMMARY_BUDGET_BYTES);
    expect(text).toContain('left out to keep the summary under 1 MiB');
    const single = chart(check({ samples: samples(many) }));
    expect(/line \[([^\]]*)\]/.exec(single)![1].split(', ')).toHaveLength(60);
    expect(single).toContain('(60 evenly chosen)');
  });
});
