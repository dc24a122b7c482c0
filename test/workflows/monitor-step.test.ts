import fs from 'node:fs';
import path from 'node:path';
import YAML from 'yaml';
import { parseChecks, validateSchedule } from '../../src/monitor/checks.js';
import { parseDuration } from '../../src/common/duration.js';
import { repoRoot } from '../helpers/run-bundle.js';
import { evaluate } from './expressions.js';

// The monitor step in the reusable pipeline, and the expressions that carry its verdict to the
// notification and the record, evaluated with GitHub's own expression evaluator.
interface Step {
  id?: string;
  uses?: string;
  if?: string;
  with?: Record<string, string>;
}
interface Job {
  steps: Step[];
  outputs?: Record<string, string>;
}

interface Pipeline {
  on: {
    workflow_call: { inputs: Record<string, { default?: unknown }>; secrets: Record<string, unknown> };
  };
  jobs: Record<string, Job>;
}

const pipeline = YAML.parse(
  fs.readFileSync(path.join(repoRoot, '.github/workflows/migration-rollback.yml'), 'utf8'),
) as Pipeline;
const jobs = pipeline.jobs;
const step = (job: string, id: string) => jobs[job].steps.find((candidate) => candidate.id === id)!;

function json(text: string | boolean): Record<string, unknown> {
  return JSON.parse(String(text)) as Record<string, unknown>;
}

const SAMPLES = [
  {
    name: '5xx rate',
    source: 'prometheus: sum(rate(x[5m]))',
    threshold: { max: 0.05 },
    outcome: 'failed',
    failures: 1,
    inconclusive: 0,
    samples: [
      { at: '2026-11-29T03:12:00.000Z', value: 0.01, verdict: 'pass' },
      { at: '2026-11-29T03:12:30.000Z', value: 0.3, verdict: 'fail', message: 'above max 0.05' },
    ],
  },
];
const FAILURE =
  'Monitor failed on sample 2 of 11, 30s into a 5m 0s watch: 5xx rate: 0.3 at 03:12:30Z, above max 0.05 (1 failing sample, failure-limit 0)';

function needs(monitor: { outcome: string; results: string; failure: string }) {
  return {
    plan: { result: 'success', outputs: { plan: '["007_add_security_tables.ts"]' } },
    execute: {
      result: monitor.outcome === 'failure' ? 'failure' : 'success',
      outputs: {
        'outcome-monitor': monitor.outcome,
        'monitor-results': monitor.results,
        'monitor-failure': monitor.failure,
        'outcome-smoke': 'success',
      },
    },
  };
}
const inputs = {
  environment: 'production',
  method: 'rollback',
  reason: 'r',
  ref: 'abc',
  'db-instance-identifier': 'db',
};

describe('the monitor step of the pipeline', () => {
  it('is an input, two secrets and a step of the gated job, after smoke, only when checks are given', () => {
    const call = pipeline.on.workflow_call;
    for (const input of [
      'monitor-checks',
      'prometheus-url',
      'monitor-duration',
      'monitor-interval',
      'monitor-failure-limit',
    ])
      expect(call.inputs).toHaveProperty([input]);
    expect(call.inputs['monitor-checks'].default).toBe('');
    expect(Object.keys(call.secrets)).toEqual(expect.arrayContaining(['prometheus-token', 'prometheus-headers']));

    const ids = jobs.execute.steps.map((candidate) => candidate.id);
    const monitor = step('execute', 'monitor');
    expect(monitor.uses).toBe('$/actions/monitor');
    expect(ids.indexOf('monitor')).toBeGreaterThan(ids.indexOf('smoke'));
    expect(evaluate(monitor.if!, { inputs: { ...inputs, 'monitor-checks': '- name: x' } })).toBe(true);
    expect(evaluate(monitor.if!, { inputs: { ...inputs, 'monitor-checks': '' } })).toBe(false);
    expect(evaluate(monitor.if!, { inputs: { ...inputs, method: 'pitr', 'monitor-checks': '- name: x' } })).toBe(false);
  });

  it("passes every input of the monitor action, each tuning input with the action's own default", () => {
    const action = YAML.parse(fs.readFileSync(path.join(repoRoot, 'actions/monitor/action.yml'), 'utf8')) as {
      inputs: Record<string, { default?: string }>;
    };
    const given = step('execute', 'monitor').with!;
    expect(Object.keys(given).sort()).toEqual(Object.keys(action.inputs).sort());
    const call = pipeline.on.workflow_call.inputs;
    for (const [input, pipelineInput] of [
      ['duration', 'monitor-duration'],
      ['interval', 'monitor-interval'],
      ['failure-limit', 'monitor-failure-limit'],
      ['inconclusive-limit', 'monitor-inconclusive-limit'],
      ['request-timeout', 'monitor-request-timeout'],
    ]) {
      expect({ input, with: given[input] }).toEqual({ input, with: `\${{ inputs.${pipelineInput} }}` });
      expect({ input, default: String(call[pipelineInput]?.default) }).toEqual({
        input,
        default: action.inputs[input].default,
      });
    }
  });

  it('is given the Prometheus headers by the dispatch workflow, as a secret the pipeline declares', () => {
    const dispatch = YAML.parse(fs.readFileSync(path.join(repoRoot, '.github/workflows/rollback.yml'), 'utf8')) as {
      jobs: { rollback: { with: Record<string, string>; secrets: Record<string, string> } };
    };
    const passed = dispatch.jobs.rollback.secrets;
    expect(passed['prometheus-headers']).toBe('${{ secrets.PROMETHEUS_HEADERS }}');
    expect(dispatch.jobs.rollback.with).not.toHaveProperty(['prometheus-headers']);
    for (const secret of Object.keys(passed)) expect(pipeline.on.workflow_call.secrets).toHaveProperty([secret]);
  });

  it("takes the token from the gate environment's secret first, then the caller's", () => {
    const token = step('execute', 'monitor').with!['prometheus-token'];
    expect(evaluate(token, { secrets: { PROMETHEUS_TOKEN: 'env-token', 'prometheus-token': 'caller-token' } })).toBe(
      'env-token',
    );
    expect(evaluate(token, { secrets: { PROMETHEUS_TOKEN: '', 'prometheus-token': 'caller-token' } })).toBe(
      'caller-token',
    );
  });

  it('hands its outcome, samples and failure to the jobs after execute', () => {
    expect(jobs.execute.outputs).toMatchObject({
      'outcome-monitor': '${{ steps.monitor.outcome }}',
      'monitor-results': '${{ steps.monitor.outputs.results }}',
      'monitor-failure': '${{ steps.monitor.outputs.failure }}',
    });
  });

  it('keeps the samples and the failing check in the record', () => {
    const record = step('record', 'record').with!;
    const context = {
      inputs,
      needs: needs({ outcome: 'failure', results: JSON.stringify(SAMPLES), failure: FAILURE }),
    };
    const details = json(evaluate(record.details, context));
    expect(details.monitor).toEqual(SAMPLES);
    expect(details['monitor-failure']).toBe(FAILURE);
    expect(json(evaluate(record.steps, context))).toMatchObject({ smoke: 'success', monitor: 'failure' });

    const skipped = { inputs, needs: needs({ outcome: 'skipped', results: '', failure: '' }) };
    expect(json(evaluate(record.details, skipped))).toMatchObject({
      monitor: null,
      'monitor-failure': '',
    });
  });

  it('says which check failed in the failure notification', () => {
    const notify = jobs['notify-finished'].steps[0].with!;
    const failed = json(
      evaluate(notify.details, { inputs, needs: needs({ outcome: 'failure', results: '[]', failure: FAILURE }) }),
    );
    expect(failed.message).toBe(`plan job success, execute job failure; ${FAILURE}`);
    const passed = json(
      evaluate(notify.details, { inputs, needs: needs({ outcome: 'success', results: '[]', failure: '' }) }),
    );
    expect(passed.message).toBe('plan job success, execute job success');
  });

  it("the example caller's checks parse and fit its schedule (5xx rate, p99 latency, RDS connections)", () => {
    const example = YAML.parse(
      fs.readFileSync(path.join(repoRoot, 'examples/ticket-service-rollback.yml'), 'utf8'),
    ) as { jobs: { rollback: { with: Record<string, string> } } };
    const given = example.jobs.rollback.with;
    const checks = parseChecks(given['monitor-checks']);
    expect(checks.map((check) => [check.name, check.source.kind])).toEqual([
      ['5xx rate', 'prometheus'],
      ['p99 latency (s)', 'prometheus'],
      ['RDS connections', 'cloudwatch'],
    ]);
    expect(() =>
      validateSchedule(checks, {
        durationMs: parseDuration(given['monitor-duration'])!,
        intervalMs: parseDuration(given['monitor-interval'])!,
      }),
    ).not.toThrow();
  });
});
