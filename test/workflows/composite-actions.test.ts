import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import YAML from 'yaml';
import { node24, repoRoot } from '../helpers/run-bundle.js';

/**
 * Runs a composite action's script the way the runner does: bash, the inputs only in env (the
 * action passes them there), GITHUB_OUTPUT and GITHUB_STEP_SUMMARY files, Node 24 first on PATH.
 */
function runComposite(action: string, env: Record<string, string>, cwd?: string) {
  const doc = YAML.parse(fs.readFileSync(path.join(repoRoot, 'actions', action, 'action.yml'), 'utf8')) as {
    runs: { steps: Array<{ run: string; env: Record<string, string> }> };
  };
  const step = doc.runs.steps[0];
  // Every env value the action declares is an ${{ inputs.x }}: map each to the value the test gives.
  const declared = Object.keys(step.env);
  for (const key of Object.keys(env))
    if (!declared.includes(key) && key !== 'PATH') throw new Error(`${action} does not read ${key}`);
  const work = fs.mkdtempSync(path.join(os.tmpdir(), `composite-${action}-`));
  const output = path.join(work, 'output');
  const summary = path.join(work, 'summary');
  fs.writeFileSync(output, '');
  fs.writeFileSync(summary, '');
  const result = spawnSync('bash', ['-e', '-c', step.run], {
    cwd: cwd ?? work,
    encoding: 'utf8',
    timeout: 120_000,
    env: {
      PATH: `${path.dirname(node24)}:${path.join(repoRoot, 'node_modules', '.bin')}:${process.env.PATH}`,
      HOME: os.homedir(),
      GITHUB_OUTPUT: output,
      GITHUB_STEP_SUMMARY: summary,
      ...env,
    },
  });
  const outputs = Object.fromEntries(
    fs
      .readFileSync(output, 'utf8')
      .split('\n')
      .filter(Boolean)
      .map((line) => [line.slice(0, line.indexOf('=')), line.slice(line.indexOf('=') + 1)]),
  );
  const text = {
    code: result.status,
    stdout: result.stdout,
    stderr: result.stderr,
    outputs,
    summary: fs.readFileSync(summary, 'utf8'),
  };
  fs.rmSync(work, { recursive: true, force: true });
  return text;
}

describe('verify-still-rolled-back', () => {
  it('passes when none of the undone migrations is applied again', () => {
    const run = runComposite('verify-still-rolled-back', {
      ROLLED_BACK: '["007_a.ts","006_b.ts"]',
      APPLIED: '["001_x.ts","005_y.ts"]',
    });
    expect(run.code).toBe(0);
    expect(run.outputs.reapplied).toBe('[]');
    expect(run.summary).toContain('Still rolled back after the restart');
  });

  it('fails, naming them, when a restart re-applied undone migrations', () => {
    const run = runComposite('verify-still-rolled-back', {
      ROLLED_BACK: '["007_a.ts","006_b.ts"]',
      APPLIED: '["001_x.ts","006_b.ts","007_a.ts"]',
    });
    expect(run.code).toBe(1);
    expect(run.outputs.reapplied).toBe('["007_a.ts","006_b.ts"]');
    expect(run.stdout).toMatch(
      /::error::The rollback was undone after the restart: 007_a.ts, 006_b.ts are applied again.*migrate:latest/,
    );
  });

  it('fails on an input that is not a JSON array, and treats input text as data', () => {
    const run = runComposite('verify-still-rolled-back', {
      ROLLED_BACK: '$(touch /tmp/pwned-by-rollback) `id`',
      APPLIED: '[]',
    });
    expect(run.code).toBe(1);
    expect(run.stdout).toMatch(/::error::rolled-back is not a JSON array/);
    expect(fs.existsSync('/tmp/pwned-by-rollback')).toBe(false);
  });
});
