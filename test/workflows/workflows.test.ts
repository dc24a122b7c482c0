import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import YAML from 'yaml';
import { convertWorkflowTemplate, NoOperationTraceWriter, parseWorkflow } from '@actions/workflow-parser';
import { convertActionTemplate, parseAction } from '@actions/workflow-parser/actions/index';
import { repoRoot } from '../helpers/run-bundle.js';
import {
  checkConcurrency,
  checkGate,
  checkNoLocalActions,
  checkRunScripts,
  loadActions,
  loadWorkflow,
  walkAction,
  walkWorkflow,
  workflowFiles,
  type Workflow,
} from './workflow-walk.js';

// Data-driven over whatever exists: other actions' metadata appears while the suite grows.
const workflows = workflowFiles(repoRoot);
const actionFiles = [...loadActions(repoRoot).values()].map((action) => action.file);

interface WorkflowInput {
  type?: string;
  required?: boolean;
  default?: unknown;
  options?: string[];
}

/** The parts of a workflow or action file these tests read; YAML.parse itself knows no shape. */
interface WorkflowDoc {
  on: {
    workflow_call: {
      inputs: Record<string, WorkflowInput>;
      secrets: Record<string, unknown>;
      outputs: Record<string, unknown>;
    };
    workflow_dispatch: { inputs: Record<string, WorkflowInput> };
  };
  concurrency: { group: string; 'cancel-in-progress'?: boolean; queue?: string };
  permissions?: Record<string, string>;
  jobs: Record<string, Record<string, unknown>>;
  runs?: { steps?: Array<{ run?: string; shell?: string }> };
}

function readWorkflow(file: string): WorkflowDoc {
  return YAML.parse(fs.readFileSync(path.join(repoRoot, file), 'utf8')) as WorkflowDoc;
}

async function workflowErrors(name: string, content: string): Promise<string[]> {
  const parsed = parseWorkflow({ name, content }, new NoOperationTraceWriter());
  const errors = parsed.context.errors.getErrors().map((error) => error.message);
  if (parsed.value) {
    const template = await convertWorkflowTemplate(parsed.context, parsed.value);
    for (const error of template.errors ?? []) if (!errors.includes(error.Message)) errors.push(error.Message);
  }
  return errors;
}

function actionErrors(name: string, content: string): string[] {
  const parsed = parseAction({ name, content }, new NoOperationTraceWriter());
  if (parsed.value) convertActionTemplate(parsed.context, parsed.value);
  return parsed.context.errors.getErrors().map((error) => error.message);
}

describe("GitHub's own parser (@actions/workflow-parser)", () => {
  it('finds the workflows and actions to check', () => {
    expect(workflows).toEqual(
      expect.arrayContaining(['.github/workflows/migration-rollback.yml', '.github/workflows/rollback.yml']),
    );
    expect(workflows.some((file) => file.startsWith('examples/'))).toBe(true);
    expect(actionFiles).toEqual(
      expect.arrayContaining([
        'actions/notify/action.yml',
        'actions/record/action.yml',
        'actions/check-gate/action.yml',
      ]),
    );
  });

  it.each(workflows)('%s parses without error', async (file) => {
    expect(await workflowErrors(file, fs.readFileSync(path.join(repoRoot, file), 'utf8'))).toEqual([]);
  });

  it.each(actionFiles)('%s parses without error', (file) => {
    expect(actionErrors(file, fs.readFileSync(path.join(repoRoot, file), 'utf8'))).toEqual([]);
  });

  it('accepts the self-repository form $/actions/<name> and concurrency queue: max', async () => {
    const content = [
      'on: workflow_call',
      'concurrency: { group: g, cancel-in-progress: false, queue: max }',
      'jobs:',
      '  a:',
      '    runs-on: ubuntu-latest',
      '    steps:',
      '      - uses: $/actions/notify',
    ].join('\n');
    expect(await workflowErrors('ok.yml', content)).toEqual([]);
  });

  it('reports errors, so the checks above can fail', async () => {
    expect(
      await workflowErrors('bad.yml', 'on: push\njobs:\n  a:\n    runs-on: ubuntu-latest\n    stepz: []\n'),
    ).not.toEqual([]);
    expect(
      await workflowErrors(
        'bad.yml',
        'on: push\nconcurrency: { group: g, queue: forever }\njobs:\n  a:\n    runs-on: x\n    steps: [{run: echo}]\n',
      ),
    ).not.toEqual([]);
    expect(actionErrors('action.yml', 'name: x\ndescription: y\nruns:\n  using: node24\n')).not.toEqual([]);
  });
});

describe('the walk over every workflow and action', () => {
  const actions = loadActions(repoRoot);

  it.each(workflows)(
    '%s: our actions exist, with: keys are inputs, required inputs given, gate, no ./actions in workflow_call, concurrency, no injection',
    (file) => {
      expect(walkWorkflow(repoRoot, loadWorkflow(repoRoot, file), actions)).toEqual([]);
    },
  );

  it.each(actionFiles)('%s: composite steps use real inputs and keep expressions out of run:', (file) => {
    const action = [...actions.values()].find((candidate) => candidate.file === file)!;
    expect(walkAction(action, actions)).toEqual([]);
  });

  it.each([...workflows, ...actionFiles])('%s: every run: script is valid bash', (file) => {
    const doc: Partial<WorkflowDoc> = (YAML.parse(fs.readFileSync(path.join(repoRoot, file), 'utf8')) ??
      {}) as Partial<WorkflowDoc>;
    const steps: Array<{ run?: string; shell?: string }> = [
      ...Object.values((doc.jobs ?? {}) as Record<string, { steps?: Array<{ run?: string; shell?: string }> }>).flatMap(
        (job) => job.steps ?? [],
      ),
      ...(doc.runs?.steps ?? []),
    ];
    for (const step of steps.filter(
      (candidate) => typeof candidate.run === 'string' && (candidate.shell ?? 'bash') === 'bash',
    )) {
      const check = spawnSync('bash', ['-n', '-c', step.run!], { encoding: 'utf8' });
      expect([step.run!.split('\n')[0], check.stderr]).toEqual([step.run!.split('\n')[0], '']);
    }
  });

  it('each rule fires on a workflow written to break it', () => {
    const bad = loadBad(`
on:
  workflow_call:
    inputs: { environment: { type: string } }
concurrency: { group: rollback, cancel-in-progress: true }
jobs:
  plan:
    runs-on: ubuntu-latest
    concurrency: just-a-group
    steps:
      - uses: ./actions/rollback
        with: { mode: rollback, bogus: 1 }
      - uses: $/actions/no-such-action
      - uses: $/actions/restart
        with: { workloads: x }
      - run: echo \${{ inputs.environment }} \${{ github.event.pull_request.title }}
      - run: echo "\${{ format('{0}', github.head_ref) }}"
  gate:
    runs-on: ubuntu-latest
    environment: production-rollback
    steps: [{ run: echo ok }]
  after:
    needs: gate
    runs-on: ubuntu-latest
    steps: [{ uses: $/actions/snapshot }]
`);
    const findings = walkWorkflow(repoRoot, bad, actions).join('\n');
    expect(findings).toMatch(/uses \.\/actions\/rollback in a workflow_call workflow/);
    expect(findings).toMatch(/with\.bogus is not an input of actions\/rollback\/action\.yml/);
    expect(findings).toMatch(/required input database-url of actions\/rollback\/action\.yml is not given/);
    expect(findings).toMatch(/actions\/no-such-action\/action\.yml does not exist/);
    expect(findings).toMatch(/required input namespace of actions\/restart\/action\.yml is not given/);
    expect(findings).toMatch(/job plan changes something .* but is not the gate job and does not need it/);
    expect(findings).not.toMatch(/job after changes something/);
    expect(findings).toMatch(/cancel-in-progress: false/);
    expect(findings).toMatch(/queue: max/);
    expect(findings).toMatch(/just-a-group/);
    expect(findings).toMatch(/\$\{\{ inputs\.environment \}\}; pass it through env/);
    expect(findings).toMatch(/github\.event\.pull_request\.title/);
    expect(findings).toMatch(/github\.head_ref/);
  });

  it('the rules accept what they should', () => {
    expect(checkConcurrency('x', { group: 'g', 'cancel-in-progress': false, queue: 'max' })).toEqual([]);
    expect(checkRunScripts('x', [{ run: 'echo "$REASON" ${{ steps.a.outputs.b }} ${{ env.INPUTS_X }}' }])).toEqual([]);
    const called: Workflow = {
      file: 'w.yml',
      on: { push: null },
      jobs: { a: { steps: [{ uses: './actions/notify' }] } },
    };
    expect(checkNoLocalActions(called)).toEqual([]);
    expect(
      checkGate(
        { file: 'w.yml', on: {}, jobs: { a: { steps: [{ uses: '$/actions/rollback', with: { mode: 'plan' } }] } } },
        actions,
      ),
    ).toEqual([]);
  });
});

describe('the reusable pipeline', () => {
  const pipeline = readWorkflow('.github/workflows/migration-rollback.yml');
  const jobs = pipeline.jobs;
  type Step = { id?: string; with?: Record<string, string> };

  it('is called with the issue inputs, secrets and outputs', () => {
    const call = pipeline.on.workflow_call;
    for (const input of [
      'environment',
      'method',
      'ref',
      'steps',
      'to',
      'migration',
      'allow-destructive',
      'allow-non-atomic',
      'migrations-dir',
      'knexfile',
      'working-directory',
      'node-version',
      'runs-on',
      'db-instance-identifier',
      'db-cluster-identifier',
      'aws-region',
      'snapshot-wait',
      'target-identifier',
      'restore-time',
      'snapshot-identifier',
      'namespace',
      'workloads',
      'health-urls',
      'smoke-command',
      'expected-tables',
      'reason',
      'retention-days',
    ]) {
      expect(call.inputs).toHaveProperty([input]);
    }
    expect(call.inputs.reason.required).toBe(true);
    expect(call.inputs['runs-on'].default).toBe('"ubuntu-latest"');
    expect(Object.keys(call.secrets)).toEqual(
      expect.arrayContaining(['database-url', 'aws-role-arn', 'kubeconfig', 'slack-webhook-url']),
    );
    expect(Object.keys(call.outputs).sort()).toEqual(['preserve-id', 'result', 'rolled-back', 'snapshot-identifier']);
  });

  it('keeps what the rollback destroys and tells notify and record where it is', () => {
    const call = (pipeline as { on: { workflow_call: { inputs: Record<string, unknown> } } }).on.workflow_call;
    expect(call.inputs['preserve-data']).toMatchObject({ type: 'boolean', default: true });
    expect(call.inputs['preserve-data-max']).toMatchObject({ default: '256MB' });
    const steps = jobs.execute.steps as Array<{ id?: string; with?: Record<string, string> }>;
    expect(steps.find((step) => step.id === 'rollback')?.with).toMatchObject({
      'preserve-data': '${{ inputs.preserve-data }}',
      'preserve-data-max': '${{ inputs.preserve-data-max }}',
    });
    expect(jobs.execute.outputs).toMatchObject({
      'preserve-id': '${{ steps.rollback.outputs.preserve-id }}',
      preserved: '${{ steps.rollback.outputs.preserved }}',
    });
    const notify = (jobs['notify-finished'].steps as Array<{ with?: Record<string, string> }>)[0].with!;
    expect(notify.details).toMatch(/"preserve-id":\{9\}.*toJSON\(needs\.execute\.outputs\.preserve-id\)\) \}\}$/);
    const record = (jobs.record.steps as Array<{ id?: string; with?: Record<string, string> }>).find(
      (step) => step.id === 'record',
    )!;
    expect(record.with).toMatchObject({
      'preserve-id': '${{ needs.execute.outputs.preserve-id }}',
      preserved: '${{ needs.execute.outputs.preserved }}',
    });
  });

  it("sizes the dry run's destroying statements on production, read-only, before anyone approves", () => {
    type Step = { id?: string; if?: string; with?: Record<string, string> };
    const steps = jobs.plan.steps as Step[];
    const at = (id: string) => steps.findIndex((step) => step.id === id);
    const estimate = steps[at('preserve-estimate')];
    // After the scratch dry run that lists the statements; before the reviewer's summary.
    expect(at('dry-run')).toBeLessThan(at('preserve-estimate'));
    expect(at('preserve-estimate')).toBeLessThan(
      steps.findIndex((step) => /decision/.test(String((step as { name?: string }).name))),
    );
    expect(steps[at('dry-run')].with?.['preserve-data']).toBe('${{ inputs.preserve-data }}');
    expect(estimate.with).toMatchObject({
      'database-url': '${{ secrets.database-url }}',
      mode: 'estimate-data',
      'preserve-statements-file': '${{ steps.dry-run.outputs.preserve-statements-file }}',
      'preserve-data-max': '${{ inputs.preserve-data-max }}',
    });
    // Off with preserve-data: false, and when the dry run destroys nothing.
    expect(estimate.if).toContain('inputs.preserve-data');
    expect(estimate.if).toContain("steps.dry-run.outputs.preserve-statements-file != ''");
  });

  it('hands the destroying statements to the execute job, which sizes them again before the first down', () => {
    type Step = {
      id?: string;
      if?: string;
      uses?: string;
      run?: string;
      'continue-on-error'?: boolean;
      with?: Record<string, string>;
    };
    const plan = jobs.plan.steps as Step[];
    const keep = plan.find((step) => step.id === 'keep-destroying')!;
    expect(keep.if).toBe("steps.preserve-estimate.outcome == 'success'");
    expect(keep.with?.path).toBe('${{ runner.temp }}/destroying-statements/statements.json');
    // The dry run's file has a random name: a step before the upload gives it the one the execute job reads.
    const naming = plan[plan.indexOf(keep) - 1];
    expect(naming.run).toContain('cp "$STATEMENTS_FILE" "$RUNNER_TEMP/destroying-statements/statements.json"');
    const artifact = (jobs.plan.outputs as Record<string, string>)['destroying-statements'];
    expect(artifact).toContain("steps.keep-destroying.outcome == 'success'");
    expect(artifact).toContain("format('rollback-destroying-statements-{0}-{1}'");
    expect(keep.with?.name).toBe('rollback-destroying-statements-${{ github.run_id }}-${{ github.run_attempt }}');

    const execute = jobs.execute.steps as Step[];
    const download = execute.find((step) => step.id === 'destroying')!;
    expect(execute.indexOf(download)).toBe(execute.findIndex((step) => step.id === 'rollback') - 1);
    expect(download.with).toEqual({
      name: '${{ needs.plan.outputs.destroying-statements }}',
      path: '${{ runner.temp }}/destroying-statements',
    });
    // A missing artifact costs the early check, not the rollback: each copy is still checked.
    expect(download['continue-on-error']).toBe(true);
    expect(download.if).toContain('inputs.preserve-data');
    const rollback = execute.find((step) => step.id === 'rollback')!;
    expect(rollback.with?.['preserve-statements-file']).toBe(
      "${{ steps.destroying.outcome == 'success' && format('{0}/destroying-statements/statements.json', runner.temp) || '' }}",
    );
  });

  it("passes the lock inputs, statement-timeout and show-blocker-queries to the dry run and to the rollback, with the action's defaults", () => {
    const call = pipeline.on.workflow_call;
    const action = YAML.parse(fs.readFileSync(path.join(repoRoot, 'actions/rollback/action.yml'), 'utf8')) as {
      inputs: Record<string, { default?: string }>;
    };
    const steps = [...(jobs.plan.steps as Step[]), ...(jobs.execute.steps as Step[])];
    const dryRun = steps.find((step) => step.id === 'dry-run')!;
    const rollback = steps.find((step) => step.id === 'rollback')!;
    for (const input of [
      'lock-timeout',
      'lock-wait-budget',
      'session-idle-timeout',
      'statement-timeout',
      'show-blocker-queries',
    ]) {
      expect([input, String(call.inputs[input]?.default)]).toEqual([input, action.inputs[input].default]);
      expect([input, dryRun.with?.[input]]).toEqual([input, `\${{ inputs.${input} }}`]);
      expect([input, rollback.with?.[input]]).toEqual([input, `\${{ inputs.${input} }}`]);
    }
  });

  it('queues per environment and database and never cancels', () => {
    expect(pipeline.concurrency).toMatchObject({ 'cancel-in-progress': false, queue: 'max' });
    expect(pipeline.concurrency.group).toMatch(/inputs\.environment/);
    expect(pipeline.concurrency.group).toMatch(/inputs\.db-(instance|cluster)-identifier/);
  });

  it('gates one execute job with <environment>-rollback, after plan; notify and record always run', () => {
    expect(jobs.execute.environment).toEqual({ name: '${{ inputs.environment }}-rollback' });
    expect(jobs.execute.needs).toBe('plan');
    const gated = Object.entries(jobs)
      .filter(([, job]) => job.environment)
      .map(([id]) => id);
    expect(gated).toEqual(['execute']);
    for (const id of ['notify-requested', 'notify-finished', 'record']) expect(jobs[id].if).toBe('always()');
    const uses = (id: string) =>
      ((jobs[id].steps as Array<{ uses?: string }>) ?? []).map((step) => step.uses).filter(Boolean);
    expect(uses('execute')).toEqual(
      expect.arrayContaining([
        '$/actions/verify-backup',
        '$/actions/snapshot',
        '$/actions/rollback',
        '$/actions/restart',
        '$/actions/smoke',
        '$/actions/verify-still-rolled-back',
        '$/actions/restore',
      ]),
    );
    expect(uses('plan')).toEqual(
      expect.arrayContaining(['$/actions/check-gate', '$/actions/rollback', '$/actions/prepare-scratch-database']),
    );
    expect(uses('record')).toEqual(expect.arrayContaining(['$/actions/record', 'actions/upload-artifact@v5']));
  });

  it('passes allow-destructive and allow-non-atomic to the plan, the scratch dry run and the rollback', () => {
    type Step = { id?: string; with?: Record<string, string> };
    const steps = [...(jobs.plan.steps as Step[]), ...(jobs.execute.steps as Step[])];
    for (const id of ['plan', 'dry-run', 'rollback']) {
      const step = steps.find((candidate) => candidate.id === id)!;
      for (const name of ['allow-destructive', 'allow-non-atomic'])
        expect([id, name, step.with?.[name]]).toEqual([id, name, `\${{ inputs.${name} }}`]);
    }
  });

  it('checks the durations first, in the plan against production, with the values the rollback gets', () => {
    type Step = { id?: string; with?: Record<string, string> };
    const planStep = (jobs.plan.steps as Step[]).find((step) => step.id === 'plan')!;
    const rollback = (jobs.execute.steps as Step[]).find((step) => step.id === 'rollback')!;
    for (const name of ['lock-timeout', 'lock-wait-budget', 'session-idle-timeout', 'statement-timeout']) {
      expect([name, planStep.with?.[name]]).toEqual([name, `\${{ inputs.${name} }}`]);
      expect([name, rollback.with?.[name]]).toEqual([name, planStep.with?.[name]]);
    }
  });

  it('gives the rollback the approved fingerprint and dry-runs only on the scratch server', () => {
    const steps = jobs.execute.steps as Array<{ id?: string; with?: Record<string, string> }>;
    expect(steps.find((step) => step.id === 'rollback')?.with?.['expected-plan']).toBe(
      '${{ needs.plan.outputs.plan-fingerprint }}',
    );
    const planSteps = jobs.plan.steps as Array<{ id?: string; with?: Record<string, string> }>;
    const dryRun = planSteps.find((step) => step.id === 'dry-run')!;
    expect(dryRun.with?.['dry-run']).toBe('true');
    expect(dryRun.with?.['database-url']).toMatch(/localhost:\$\{\{ job\.services\.postgres\.ports\['5432'\] \}\}/);
    expect(planSteps.find((step) => step.id === 'plan')?.with?.mode).toBe('plan');
    expect(jobs.plan.services).toHaveProperty('postgres');
  });

  it("gives the execute job only the gate environment's DATABASE_URL, and fails its first step without it", () => {
    const text = fs.readFileSync(path.join(repoRoot, '.github/workflows/migration-rollback.yml'), 'utf8');
    const execute = jobs.execute as {
      env: Record<string, string>;
      steps: Array<{ run?: string; env?: Record<string, string> }>;
      environment: { name: string };
    };
    expect(execute.environment.name).toBe('${{ inputs.environment }}-rollback');
    expect(execute.env.DATABASE_URL).toBe('${{ secrets.DATABASE_URL }}');
    // No step of the execute job reaches the plan job's credential, under any spelling.
    const executeText = JSON.stringify(jobs.execute);
    expect(executeText).not.toMatch(/secrets\.database-url|secrets\[.database-url.\]/);
    // Outside comments, the plan job's credential is read twice: by its plan step and by the
    // read-only size of what preserve-data keeps (mode estimate-data).
    const uses = text
      .split('\n')
      .filter((line) => !line.trim().startsWith('#') && line.includes('secrets.database-url'));
    expect(uses).toEqual(Array(2).fill('          database-url: ${{ secrets.database-url }}'));
    const planSteps = (jobs.plan.steps as Array<{ id?: string; with?: Record<string, string> }>).filter(
      (step) => step.with?.['database-url'] === '${{ secrets.database-url }}',
    );
    expect(planSteps.map((step) => [step.id, step.with?.mode])).toEqual([
      ['plan', 'plan'],
      ['preserve-estimate', 'estimate-data'],
    ]);
    const first = execute.steps[0];
    expect(first.run).toMatch(/if \[ -z "\$DATABASE_URL" \]/);
    expect(first.run).toMatch(/has no secret DATABASE_URL/);
    expect(first.env?.GATE).toBe('${{ inputs.environment }}-rollback');
    expect(first.run).toContain('exit 1');
  });

  it('keeps the complete SQL (sql-file) of the dry run and of the rollback with the record', () => {
    type Step = { id?: string; uses?: string; if?: string; with?: Record<string, string> };
    const planUpload = (jobs.plan.steps as Step[]).find(
      (step) => step.with?.path === '${{ steps.dry-run.outputs.sql-file }}',
    );
    const executeUpload = (jobs.execute.steps as Step[]).find(
      (step) => step.with?.path === '${{ steps.rollback.outputs.sql-file }}',
    );
    for (const upload of [planUpload, executeUpload]) {
      expect(upload?.uses).toBe('actions/upload-artifact@v5');
      expect(upload?.if).toMatch(/^always\(\) && /);
      expect(upload?.with?.name).toMatch(
        /^rollback-sql-(plan|execute)-\$\{\{ github\.run_id \}\}-\$\{\{ github\.run_attempt \}\}$/,
      );
    }
    const recordSteps = jobs.record.steps as Step[];
    expect(recordSteps.find((step) => step.id === 'sql-files')?.with?.pattern).toBe(
      'rollback-sql-*-${{ github.run_id }}-${{ github.run_attempt }}',
    );
    expect(recordSteps.find((step) => step.id === 'record')?.with?.['sql-file']).toBe(
      '${{ steps.sql-list.outputs.files }}',
    );
  });

  it('passes ssl-ca and iam-auth to every step that reaches production, never to the scratch database', () => {
    const call = (
      pipeline as { on: { workflow_call: { secrets: Record<string, unknown>; inputs: Record<string, unknown> } } }
    ).on.workflow_call;
    expect(Object.keys(call.secrets)).toEqual(expect.arrayContaining(['ssl-ca', 'aws-plan-role-arn']));
    expect(call.inputs['iam-auth']).toMatchObject({ type: 'boolean', default: false });
    const connecting = (id: string) =>
      (jobs[id].steps as Array<{ id?: string; uses?: string; with?: Record<string, string> }>).filter(
        (step) => step.with?.['database-url'] !== undefined,
      );
    const production = [...connecting('plan'), ...connecting('execute')].filter(
      (step) => !step.with?.['database-url'].includes('localhost'),
    );
    expect(production.map((step) => step.id)).toEqual([
      'plan',
      'preserve-estimate',
      'rollback',
      'smoke',
      'status-after',
    ]);
    for (const step of production)
      expect([step.id, step.with?.['ssl-ca'], step.with?.['iam-auth'], step.with?.['aws-region']]).toEqual([
        step.id,
        '${{ secrets.ssl-ca }}',
        '${{ inputs.iam-auth }}',
        '${{ inputs.aws-region }}',
      ]);
    for (const step of connecting('plan').filter((s) => s.with?.['database-url'].includes('localhost'))) {
      expect(step.with).not.toHaveProperty('iam-auth');
      expect(step.with).not.toHaveProperty('ssl-ca');
    }
    // The plan job signs its token with its own read-only role, before the plan step.
    const planSteps = jobs.plan.steps as Array<{ id?: string; uses?: string; with?: Record<string, string> }>;
    const credentials = planSteps.findIndex((step) => step.uses?.startsWith('aws-actions/configure-aws-credentials@'));
    expect(planSteps[credentials].with?.['role-to-assume']).toBe('${{ secrets.aws-plan-role-arn }}');
    expect(credentials).toBeLessThan(planSteps.findIndex((step) => step.id === 'plan'));
  });

  it('sets least-privilege permissions on every job: id-token only where AWS is called', () => {
    expect(pipeline.permissions).toEqual({});
    for (const [id, job] of Object.entries(jobs)) {
      expect(job).toHaveProperty('permissions');
      const callsAws = ((job.steps as Array<{ uses?: string }>) ?? []).some((step) =>
        step.uses?.startsWith('aws-actions/configure-aws-credentials@'),
      );
      expect([id, (job.permissions as Record<string, string>)['id-token'] === 'write']).toEqual([id, callsAws]);
      const permissions = job.permissions as Record<string, string>;
      for (const [scope, level] of Object.entries(permissions))
        if (scope !== 'id-token') expect([id, scope, level]).toEqual([id, scope, 'read']);
    }
  });
});

describe('the callers', () => {
  it('rollback.yml is a workflow_dispatch with typed inputs that calls the pipeline', () => {
    const dispatch = readWorkflow('.github/workflows/rollback.yml');
    const inputs = dispatch.on.workflow_dispatch.inputs;
    expect(inputs.environment.type).toBe('choice');
    expect(inputs.method).toMatchObject({ type: 'choice', options: ['rollback', 'down', 'pitr'] });
    expect(inputs.steps.type).toBe('number');
    expect(inputs.reason).toMatchObject({ type: 'string', required: true });
    expect(inputs.ref.type).toBe('string');
    expect(dispatch.jobs.rollback.uses).toBe('./.github/workflows/migration-rollback.yml');
  });

  // The callers of the pipeline in this repository: the button and the example for other repositories.
  const callers = ['.github/workflows/rollback.yml', 'examples/ticket-service-rollback.yml'];
  const pipelineCall = (file: string) => {
    const caller = readWorkflow(file);
    const job = Object.values(caller.jobs).find((candidate) =>
      String(candidate.uses).includes('migration-rollback.yml'),
    ) as { with: Record<string, unknown>; secrets?: unknown };
    return { dispatch: caller.on.workflow_dispatch.inputs, job };
  };
  // Set once per repository (a variable, or the caller's own policy), not chosen per dispatch.
  const CONFIGURATION_FLAGS = ['iam-auth', 'show-blocker-queries'];

  it.each(callers)(
    '%s lets the requester set every boolean safety input of the pipeline (allow-*, preserve-data)',
    (file) => {
      const pipelineInputs = readWorkflow('.github/workflows/migration-rollback.yml').on.workflow_call.inputs;
      const safety = Object.entries(pipelineInputs)
        .filter(([name, input]) => input.type === 'boolean' && !CONFIGURATION_FLAGS.includes(name))
        .map(([name]) => name);
      expect(safety).toEqual(expect.arrayContaining(['allow-destructive', 'allow-non-atomic', 'preserve-data']));
      expect(Object.keys(pipelineInputs).filter((name) => name.startsWith('allow-'))).toEqual(
        expect.arrayContaining(safety.filter((name) => name.startsWith('allow-'))),
      );
      // The dry run's refusal says "re-dispatch with <input>: true": the button must have it.
      const { dispatch, job } = pipelineCall(file);
      for (const name of safety) {
        expect([name, dispatch[name]?.type, dispatch[name]?.default]).toEqual([
          name,
          'boolean',
          pipelineInputs[name].default,
        ]);
        expect([name, job.with[name]]).toEqual([name, `\${{ inputs.${name} }}`]);
      }
    },
  );

  it.each(callers)(
    "%s passes secrets by name, the plan job's as READONLY_DATABASE_URL, never secrets: inherit",
    (file) => {
      const { job } = pipelineCall(file);
      // inherit would hand the pipeline a repository secret DATABASE_URL, which the execute job
      // would read as the gate environment's when the environment has none.
      expect(job.secrets).not.toBe('inherit');
      expect(job.secrets).toMatchObject({ 'database-url': '${{ secrets.READONLY_DATABASE_URL }}' });
      expect(fs.readFileSync(path.join(repoRoot, file), 'utf8')).not.toMatch(/secrets:\s*inherit/);
    },
  );

  it('the example caller refers to the pipeline by the major version or a 40-hex commit SHA', () => {
    const calls = workflows
      .filter((file) => file.startsWith('examples/'))
      .flatMap((file) => Object.values(readWorkflow(file).jobs as Record<string, { uses?: string }>))
      .map((job) => job.uses)
      .filter((uses): uses is string => Boolean(uses?.includes('migration-rollback.yml')));
    expect(calls.length).toBeGreaterThan(0);
    for (const uses of calls)
      expect(uses).toMatch(/^[\w.-]+\/[\w.-]+\/\.github\/workflows\/migration-rollback\.yml@(v\d+|[0-9a-f]{40})$/);
  });
});

function loadBad(content: string): Workflow {
  const doc = YAML.parse(content) as Pick<Workflow, 'on' | 'concurrency' | 'jobs'>;
  return { file: 'bad.yml', on: doc.on, concurrency: doc.concurrency, jobs: doc.jobs };
}

describe('the release workflow', () => {
  interface ReleaseWorkflow {
    on: unknown;
    jobs: Record<string, { needs?: string; permissions?: unknown; steps: Array<{ name?: string; run?: string }> }>;
  }
  const release = YAML.parse(
    fs.readFileSync(path.join(repoRoot, '.github/workflows/release.yml'), 'utf8'),
  ) as ReleaseWorkflow;
  const runs = (job: string) => release.jobs[job].steps.map((step) => step.run ?? '').join('\n');

  it('runs on version tags only, and releases only after the full CI passed on the tagged commit', () => {
    expect(workflows).toContain('.github/workflows/release.yml');
    expect(release.on).toEqual({ push: { tags: ['v[0-9]+.[0-9]+.[0-9]+'] } });
    expect(runs('ci')).toMatch(/bash \.ci\/run/);
    expect(runs('ci')).toMatch(/git status --porcelain -- dist/);
    expect(release.jobs.release.needs).toBe('ci');
    expect(release.jobs.ci.permissions).toEqual({ contents: 'read' });
    expect(release.jobs.release.permissions).toEqual({ contents: 'write' });
  });

  it('creates the release with notes that give the SHA pin, and moves the major tag only forward', () => {
    expect(runs('release')).toMatch(/gh release create "\$TAG" --verify-tag .*--notes-file/);
    expect(runs('release')).toMatch(/migration-rollback\.yml@\$sha # \$TAG/);
    expect(runs('release')).toMatch(/git tag --force "\$major"/);
    expect(runs('release')).toMatch(/if \[ "\$newest" != "\$TAG" \]/);
  });

  it('moves v1 to the newest v1 release, and leaves it when an older one is tagged later', () => {
    const step = release.jobs.release.steps.find((candidate) => candidate.name === 'Move the major tag')!;
    const work = fs.mkdtempSync(path.join(os.tmpdir(), 'release-tags-'));
    const git = (cwd: string, ...args: string[]) =>
      spawnSync('git', args, { cwd, encoding: 'utf8', env: { ...process.env, ...identity } }).stdout.trim();
    const identity = {
      GIT_AUTHOR_NAME: 't',
      GIT_AUTHOR_EMAIL: 't@t',
      GIT_COMMITTER_NAME: 't',
      GIT_COMMITTER_EMAIL: 't@t',
    };
    try {
      const origin = path.join(work, 'origin.git');
      const clone = path.join(work, 'clone');
      git(work, 'init', '--bare', '-q', origin);
      git(work, 'clone', '-q', origin, clone);
      const commits: string[] = [];
      for (const version of ['v1.0.0', 'v1.1.0', 'v1.2.0']) {
        git(clone, 'commit', '-q', '--allow-empty', '-m', version);
        commits.push(git(clone, 'rev-parse', 'HEAD'));
      }
      git(clone, 'tag', 'v1.0.0', commits[0]);
      git(clone, 'tag', 'v1.1.0', commits[1]);
      const move = (tag: string) =>
        spawnSync('bash', ['-e', '-c', step.run!], {
          cwd: clone,
          encoding: 'utf8',
          env: { ...process.env, ...identity, TAG: tag, GITHUB_STEP_SUMMARY: path.join(work, 'summary') },
        });
      expect(move('v1.1.0').status).toBe(0);
      expect(git(origin, 'rev-parse', 'v1^{commit}')).toBe(commits[1]);
      // v1.0.1 tagged after v1.1.0 (a fix on an old line): v1 must not go back.
      git(clone, 'tag', 'v1.0.1', commits[0]);
      const older = move('v1.0.1');
      expect(older.status).toBe(0);
      expect(older.stdout).toContain('v1 stays at v1.1.0');
      expect(git(origin, 'rev-parse', 'v1^{commit}')).toBe(commits[1]);
      git(clone, 'tag', 'v1.2.0', commits[2]);
      expect(move('v1.2.0').status).toBe(0);
      expect(git(origin, 'rev-parse', 'v1^{commit}')).toBe(commits[2]);
    } finally {
      fs.rmSync(work, { recursive: true, force: true });
    }
  });
});

describe('the pipeline pins ref to one commit', () => {
  interface Step {
    id?: string;
    name?: string;
    run?: string;
    uses?: string;
    with?: Record<string, string>;
  }
  const pipeline = YAML.parse(
    fs.readFileSync(path.join(repoRoot, '.github/workflows/migration-rollback.yml'), 'utf8'),
  ) as { jobs: Record<string, { outputs?: Record<string, string>; steps: Step[] }> };
  const { plan, execute } = pipeline.jobs;

  it('the execute job checks out the SHA the plan job resolved, and every project step gets working-directory', () => {
    expect(plan.outputs?.sha).toBe('${{ steps.ref.outputs.sha }}');
    const checkout = execute.steps.find((step) => step.uses?.startsWith('actions/checkout'));
    expect(checkout?.with?.ref).toBe('${{ needs.plan.outputs.sha }}');
    const project = [...plan.steps, ...execute.steps].filter((step) =>
      ['$/actions/rollback', '$/actions/prepare-scratch-database', '$/actions/smoke'].includes(step.uses ?? ''),
    );
    expect(project.length).toBe(7);
    for (const step of project) expect(step.with?.['working-directory']).toBe('${{ inputs.working-directory }}');
  });

  it('gives knexfile-env to every step that loads the knexfile, as a string input defaulting to empty', () => {
    const input = (readWorkflow('.github/workflows/migration-rollback.yml').on.workflow_call.inputs ?? {})[
      'knexfile-env'
    ];
    expect({ type: input?.type, default: input?.default }).toEqual({ type: 'string', default: '' });
    const loading = Object.values(pipeline.jobs)
      .flatMap((job) => job.steps ?? [])
      .filter((step) => step.with?.knexfile !== undefined);
    expect(loading.map((step) => step.id ?? step.name)).toEqual([
      'plan',
      "Migrate the scratch database to production's applied list",
      'dry-run',
      'preserve-estimate',
      'rollback',
      'status-after',
    ]);
    for (const step of loading) {
      expect({ step: step.id ?? step.name, env: step.with?.['knexfile-env'] }).toEqual({
        step: step.id ?? step.name,
        env: '${{ inputs.knexfile-env }}',
      });
    }
  });

  it('resolves ref to its commit and warns when it is not on the default branch', () => {
    const step = plan.steps.find((candidate) => candidate.id === 'ref')!;
    const work = fs.mkdtempSync(path.join(os.tmpdir(), 'resolve-ref-'));
    const identity = {
      GIT_AUTHOR_NAME: 't',
      GIT_AUTHOR_EMAIL: 't@t',
      GIT_COMMITTER_NAME: 't',
      GIT_COMMITTER_EMAIL: 't@t',
    };
    const git = (cwd: string, ...args: string[]) =>
      spawnSync('git', args, { cwd, encoding: 'utf8', env: { ...process.env, ...identity } }).stdout.trim();
    try {
      const origin = path.join(work, 'origin');
      fs.mkdirSync(origin);
      git(origin, 'init', '-q', '-b', 'main');
      git(origin, 'commit', '-q', '--allow-empty', '-m', 'deployed');
      const merged = git(origin, 'rev-parse', 'HEAD');
      git(origin, 'checkout', '-q', '-b', 'experiment');
      git(origin, 'commit', '-q', '--allow-empty', '-m', 'never merged');
      const unmerged = git(origin, 'rev-parse', 'HEAD');
      const clone = path.join(work, 'clone');
      git(work, 'clone', '-q', origin, clone);
      const resolve = (ref: string) => {
        git(clone, 'checkout', '-q', ref);
        const output = path.join(work, 'output');
        fs.writeFileSync(output, '');
        const run = spawnSync('bash', ['-e', '-c', step.run!], {
          cwd: clone,
          encoding: 'utf8',
          env: { ...process.env, REF: ref, DEFAULT_BRANCH: 'main', GITHUB_OUTPUT: output },
        });
        return { code: run.status, stdout: run.stdout, outputs: fs.readFileSync(output, 'utf8') };
      };
      const onMain = resolve('main');
      expect(onMain.code).toBe(0);
      expect(onMain.outputs).toBe(`sha=${merged}\non-default-branch=yes\n`);
      expect(onMain.stdout).not.toContain('::warning::');
      const branch = resolve('origin/experiment');
      expect(branch.outputs).toBe(`sha=${unmerged}\non-default-branch=no\n`);
      expect(branch.stdout).toContain(
        `::warning::ref origin/experiment (${unmerged}) is not an ancestor of the default branch main`,
      );
    } finally {
      fs.rmSync(work, { recursive: true, force: true });
    }
  });
});
