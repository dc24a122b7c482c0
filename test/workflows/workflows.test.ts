import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
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
    const doc = YAML.parse(fs.readFileSync(path.join(repoRoot, file), 'utf8')) ?? {};
    const steps: Array<{ run?: string; shell?: string }> = [
      ...Object.values((doc.jobs ?? {}) as Record<string, { steps?: Array<{ run?: string; shell?: string }> }>).flatMap(
        (job) => job.steps ?? [],
      ),
      ...((doc.runs?.steps ?? []) as Array<{ run?: string; shell?: string }>),
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
  const pipeline = YAML.parse(fs.readFileSync(path.join(repoRoot, '.github/workflows/migration-rollback.yml'), 'utf8'));
  const jobs = pipeline.jobs as Record<string, Record<string, unknown>>;

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
    expect(Object.keys(call.outputs).sort()).toEqual(['result', 'rolled-back', 'snapshot-identifier']);
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
    // Outside comments, the plan job's credential is read once: by its plan step.
    const uses = text
      .split('\n')
      .filter((line) => !line.trim().startsWith('#') && line.includes('secrets.database-url'));
    expect(uses).toEqual(['          database-url: ${{ secrets.database-url }}']);
    const planStep = (jobs.plan.steps as Array<{ id?: string; with?: Record<string, string> }>).find(
      (step) => step.id === 'plan',
    );
    expect(planStep?.with?.['database-url']).toBe('${{ secrets.database-url }}');
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
    expect(production.map((step) => step.id)).toEqual(['plan', 'rollback', 'smoke', 'status-after']);
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
    const dispatch = YAML.parse(fs.readFileSync(path.join(repoRoot, '.github/workflows/rollback.yml'), 'utf8'));
    const inputs = dispatch.on.workflow_dispatch.inputs;
    expect(inputs.environment.type).toBe('choice');
    expect(inputs.method).toMatchObject({ type: 'choice', options: ['rollback', 'down', 'pitr'] });
    expect(inputs.steps.type).toBe('number');
    expect(inputs.reason).toMatchObject({ type: 'string', required: true });
    expect(inputs.ref.type).toBe('string');
    expect(dispatch.jobs.rollback.uses).toBe('./.github/workflows/migration-rollback.yml');
  });

  it('the example caller pins the pipeline by a 40-hex commit SHA', () => {
    const calls = workflows
      .filter((file) => file.startsWith('examples/'))
      .flatMap((file) =>
        Object.values(
          YAML.parse(fs.readFileSync(path.join(repoRoot, file), 'utf8')).jobs as Record<string, { uses?: string }>,
        ),
      )
      .map((job) => job.uses)
      .filter((uses): uses is string => Boolean(uses?.includes('migration-rollback.yml')));
    expect(calls.length).toBeGreaterThan(0);
    for (const uses of calls)
      expect(uses).toMatch(/^[\w.-]+\/[\w.-]+\/\.github\/workflows\/migration-rollback\.yml@[0-9a-f]{40}$/);
  });
});

function loadBad(content: string): Workflow {
  const doc = YAML.parse(content);
  return { file: 'bad.yml', on: doc.on, concurrency: doc.concurrency, jobs: doc.jobs };
}
