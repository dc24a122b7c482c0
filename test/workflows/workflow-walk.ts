import fs from 'node:fs';
import path from 'node:path';
import YAML from 'yaml';

/**
 * A data-driven walk over this repository's workflows and action metadata: whatever
 * .github/workflows/*.yml, examples/*.yml and actions/*\/action.yml exist, it checks how they
 * fit together. Each rule returns findings (strings) rather than asserting, so the test can
 * also prove each rule fires on a workflow written to break it.
 */

export interface ActionInput {
  required: boolean;
  hasDefault: boolean;
}

export interface ActionMeta {
  name: string;
  file: string;
  inputs: Map<string, ActionInput>;
  outputs: Set<string>;
  /** Composite actions' steps, walked like a job's. */
  steps: Step[];
  /** Set when the file is not YAML at all. */
  error?: string;
}

type Mapping = Record<string, unknown>;
interface Step {
  id?: string;
  uses?: string;
  run?: string;
  with?: Mapping;
  env?: Mapping;
}
interface Job {
  environment?: string | { name?: string };
  needs?: string | string[];
  steps?: Step[];
  uses?: string;
  with?: Mapping;
  secrets?: Mapping | 'inherit';
  concurrency?: unknown;
}
export interface Workflow {
  file: string;
  on: Mapping;
  concurrency?: unknown;
  jobs: Record<string, Job>;
}

export function loadActions(root: string): Map<string, ActionMeta> {
  const actions = new Map<string, ActionMeta>();
  const dir = path.join(root, 'actions');
  if (!fs.existsSync(dir)) return actions;
  for (const name of fs.readdirSync(dir).sort()) {
    const file = path.join(dir, name, 'action.yml');
    if (!fs.existsSync(file)) continue;
    let doc: { inputs?: Record<string, Mapping | null>; outputs?: Record<string, unknown>; runs?: { steps?: Step[] } };
    try {
      doc = (YAML.parse(fs.readFileSync(file, 'utf8')) ?? {}) as typeof doc;
    } catch (error) {
      // Reported by the parser test; the walk goes on with the other actions.
      actions.set(name, {
        name,
        file: path.relative(root, file),
        inputs: new Map(),
        outputs: new Set(),
        steps: [],
        error: String(error),
      });
      continue;
    }
    const inputs = new Map<string, ActionInput>();
    for (const [key, spec] of Object.entries(doc.inputs ?? {})) {
      inputs.set(key, {
        required: spec?.required === true,
        hasDefault: spec !== null && spec !== undefined && 'default' in spec,
      });
    }
    actions.set(name, {
      name,
      file: path.relative(root, file),
      inputs,
      outputs: new Set(Object.keys(doc.outputs ?? {})),
      steps: doc.runs?.steps ?? [],
    });
  }
  return actions;
}

export function workflowFiles(root: string): string[] {
  const files: string[] = [];
  for (const dir of ['.github/workflows', 'examples']) {
    const full = path.join(root, dir);
    if (!fs.existsSync(full)) continue;
    for (const name of fs.readdirSync(full).sort()) if (/\.ya?ml$/.test(name)) files.push(path.join(dir, name));
  }
  return files;
}

/** A `with:` value as YAML gives it: a string, or a number or boolean written bare. */
function scalar(value: unknown): string | undefined {
  return typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean'
    ? String(value)
    : undefined;
}

export function loadWorkflow(root: string, file: string): Workflow {
  const doc = YAML.parse(fs.readFileSync(path.join(root, file), 'utf8')) as Mapping;
  const on = doc.on;
  const events: Mapping =
    typeof on === 'string'
      ? { [on]: null }
      : Array.isArray(on)
        ? Object.fromEntries((on as string[]).map((event) => [event, null]))
        : ((on ?? {}) as Mapping);
  return { file, on: events, concurrency: doc.concurrency, jobs: (doc.jobs ?? {}) as Record<string, Job> };
}

/** `$/actions/x`, `./actions/x` -> x; anything else (marketplace actions) -> undefined. */
export function ownActionName(uses: string | undefined): string | undefined {
  const match = /^(?:\$|\.)\/actions\/([^/@]+)\/?$/.exec(uses ?? '');
  return match?.[1];
}

/** Actions whose use changes production (or reaches it with write credentials). */
export function changes(step: Step): boolean {
  const uses = step.uses ?? '';
  const own = ownActionName(uses);
  if (own && ['snapshot', 'restore', 'restart', 'smoke'].includes(own)) return true;
  if (own === 'rollback') {
    const mode = scalar(step.with?.mode) ?? 'plan';
    // estimate-data reads in a READ ONLY transaction (test/preserve/estimate.test.ts runs it as a read-only user).
    return !['plan', 'status', 'estimate-data'].includes(mode);
  }
  if (own === 'notify') return scalar(step.with?.status) === 'started';
  if (!uses.startsWith('aws-actions/configure-aws-credentials@')) return false;
  // The plan job's own role (aws-plan-role-arn) may only rds-db:connect as the read-only user: it reads.
  const role = scalar(step.with?.['role-to-assume']);
  return !(role !== undefined && /secrets\.aws-plan-role-arn/.test(role));
}

export function checkActionUses(where: string, steps: Step[], actions: Map<string, ActionMeta>): string[] {
  const findings: string[] = [];
  steps.forEach((step, index) => {
    const name = ownActionName(step.uses);
    if (!name) return;
    const label = `${where} step ${step.id ?? index + 1} (${step.uses})`;
    const action = actions.get(name);
    if (!action) {
      findings.push(`${label}: actions/${name}/action.yml does not exist`);
      return;
    }
    if (action.error) {
      findings.push(`${label}: ${action.file} is not valid YAML (${action.error.split('\n')[0]})`);
      return;
    }
    const given = Object.keys(step.with ?? {});
    for (const key of given)
      if (!action.inputs.has(key))
        findings.push(
          `${label}: with.${key} is not an input of ${action.file} (inputs: ${[...action.inputs.keys()].join(', ')})`,
        );
    for (const [key, input] of action.inputs)
      if (input.required && !input.hasDefault && !given.includes(key))
        findings.push(`${label}: required input ${key} of ${action.file} is not given`);
  });
  return findings;
}

/**
 * Script injection: an expression expanded inside a run: script is pasted into the shell before it
 * runs. Flags every `${{ ... }}` in a run: that reads inputs, the event payload or the head ref
 * (`${{ inputs.x }}`, and also `${{ format('{0}', inputs.x) }}`).
 */
export function checkRunScripts(where: string, steps: Step[]): string[] {
  const findings: string[] = [];
  steps.forEach((step, index) => {
    if (typeof step.run !== 'string') return;
    for (const expression of step.run.match(/\$\{\{[\s\S]*?\}\}/g) ?? []) {
      if (/(^|[^\w.-])(inputs\.|github\.event\.|github\.head_ref)/.test(expression.slice(3, -2))) {
        findings.push(
          `${where} step ${step.id ?? index + 1}: run: contains ${expression}; pass it through env: instead`,
        );
      }
    }
  });
  return findings;
}

function needsOf(job: Job): string[] {
  return job.needs === undefined ? [] : Array.isArray(job.needs) ? job.needs : [job.needs];
}

/** Every job that changes something is the gate (names an environment) or needs, directly or not, a gate job. */
export function checkGate(workflow: Workflow, actions: Map<string, ActionMeta>): string[] {
  const findings: string[] = [];
  const isGate = (id: string) => Boolean(workflow.jobs[id]?.environment);
  const reachesGate = (id: string, seen = new Set<string>()): boolean => {
    if (seen.has(id)) return false;
    seen.add(id);
    return needsOf(workflow.jobs[id] ?? {}).some((need) => isGate(need) || reachesGate(need, seen));
  };
  for (const [id, job] of Object.entries(workflow.jobs)) {
    const steps = job.steps ?? [];
    // A composite action changes something when one of its own steps does.
    const changing = steps.filter(
      (step) => changes(step) || (actions.get(ownActionName(step.uses) ?? '')?.steps ?? []).some(changes),
    );
    if (changing.length && !isGate(id) && !reachesGate(id)) {
      findings.push(
        `${workflow.file} job ${id} changes something (${changing.map((step) => step.id ?? step.uses).join(', ')}) but is not the gate job and does not need it`,
      );
    }
  }
  return findings;
}

export function checkNoLocalActions(workflow: Workflow): string[] {
  if (!('workflow_call' in workflow.on)) return [];
  const findings: string[] = [];
  for (const [id, job] of Object.entries(workflow.jobs)) {
    for (const step of job.steps ?? []) {
      if (/^\.\.?\//.test(step.uses ?? ''))
        findings.push(
          `${workflow.file} job ${id}: uses ${step.uses} in a workflow_call workflow; it resolves in the caller's checkout. Use $/${(step.uses ?? '').replace(/^\.\//, '')}`,
        );
    }
  }
  return findings;
}

export function checkConcurrency(where: string, concurrency: unknown): string[] {
  if (concurrency === undefined || concurrency === null) return [];
  if (typeof concurrency === 'string')
    return [
      `${where}: concurrency "${concurrency}" is a bare group: a pending run would be cancelled by the next one; give cancel-in-progress: false and queue: max`,
    ];
  const setting = concurrency as Mapping;
  const findings: string[] = [];
  if (setting['cancel-in-progress'] !== false)
    findings.push(
      `${where}: concurrency must say cancel-in-progress: false (got ${JSON.stringify(setting['cancel-in-progress'])})`,
    );
  if (setting.queue !== 'max')
    findings.push(
      `${where}: concurrency must say queue: max, or a second pending run cancels the first (got ${JSON.stringify(setting.queue)})`,
    );
  return findings;
}

/** A job that calls a reusable workflow of this repository: with/secrets keys must be declared, required inputs given. */
export function checkReusableCalls(root: string, workflow: Workflow): string[] {
  const findings: string[] = [];
  for (const [id, job] of Object.entries(workflow.jobs)) {
    const match = /^\.\/(\.github\/workflows\/[^@]+)$/.exec(job.uses ?? '');
    if (!match) continue;
    const file = path.join(root, match[1]);
    if (!fs.existsSync(file)) {
      findings.push(`${workflow.file} job ${id}: ${match[1]} does not exist`);
      continue;
    }
    const called = loadWorkflow(root, match[1]);
    const call = (called.on.workflow_call ?? {}) as {
      inputs?: Record<string, Mapping>;
      secrets?: Record<string, Mapping>;
    };
    const inputs = call.inputs ?? {};
    const given = Object.keys(job.with ?? {});
    for (const key of given)
      if (!(key in inputs)) findings.push(`${workflow.file} job ${id}: with.${key} is not an input of ${match[1]}`);
    for (const [key, spec] of Object.entries(inputs))
      if (spec?.required === true && !given.includes(key))
        findings.push(`${workflow.file} job ${id}: required input ${key} of ${match[1]} is not given`);
    if (job.secrets && job.secrets !== 'inherit') {
      for (const key of Object.keys(job.secrets))
        if (!(key in (call.secrets ?? {})))
          findings.push(`${workflow.file} job ${id}: secret ${key} is not declared by ${match[1]}`);
    }
  }
  return findings;
}

/** Every rule over one workflow. */
export function walkWorkflow(root: string, workflow: Workflow, actions: Map<string, ActionMeta>): string[] {
  const findings = [
    ...checkNoLocalActions(workflow),
    ...checkGate(workflow, actions),
    ...checkConcurrency(`${workflow.file} (workflow)`, workflow.concurrency),
    ...checkReusableCalls(root, workflow),
  ];
  for (const [id, job] of Object.entries(workflow.jobs)) {
    const steps = job.steps ?? [];
    findings.push(...checkActionUses(`${workflow.file} job ${id}`, steps, actions));
    findings.push(...checkRunScripts(`${workflow.file} job ${id}`, steps));
    findings.push(...checkConcurrency(`${workflow.file} job ${id}`, job.concurrency));
  }
  return findings;
}

/** The rules that apply inside composite actions. */
export function walkAction(action: ActionMeta, actions: Map<string, ActionMeta>): string[] {
  const findings = [
    ...checkActionUses(action.file, action.steps, actions),
    ...checkRunScripts(action.file, action.steps),
  ];
  // A composite action runs in the caller's workspace too: ./actions would not resolve there.
  for (const step of action.steps)
    if (/^\.\.?\//.test(step.uses ?? ''))
      findings.push(`${action.file}: uses ${step.uses}; use $/${(step.uses ?? '').replace(/^\.\//, '')}`);
  return findings;
}
