import { spawn } from 'node:child_process';
import { silentLogger, type Logger } from '../common/logger.js';
import type { CheckResult } from './types.js';

export interface CommandOptions {
  command: string;
  cwd?: string;
  env?: NodeJS.ProcessEnv;
  /** Killed (with everything it started) after this long. */
  timeoutMs: number;
  logger?: Logger;
}

const TAIL_LINES = 20;

/**
 * Runs the smoke-test command (`npm run test:smoke:production`) in a shell, streaming its
 * output to the log and keeping the tail for the summary. It passes when it exits 0.
 */
export async function runCommand(options: CommandOptions): Promise<CheckResult> {
  const logger = options.logger ?? silentLogger;
  const started = performance.now();
  // Its own process group, so a timeout stops the whole tree (npm, jest, ...), not just the shell.
  const child = spawn(options.command, {
    shell: true,
    cwd: options.cwd,
    env: options.env ?? process.env,
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: true,
  });
  const tail: string[] = [];
  let partial = { stdout: '', stderr: '' };
  const collect = (stream: 'stdout' | 'stderr') => (chunk: Buffer) => {
    const lines = (partial[stream] + chunk.toString()).split('\n');
    partial = { ...partial, [stream]: lines.pop() ?? '' };
    for (const line of lines) emit(line);
  };
  const emit = (line: string) => {
    logger.info(line);
    tail.push(line);
    if (tail.length > TAIL_LINES) tail.shift();
  };
  child.stdout.on('data', collect('stdout'));
  child.stderr.on('data', collect('stderr'));
  let timedOut = false;
  const timer = setTimeout(
    () => {
      timedOut = true;
      try {
        process.kill(-child.pid!, 'SIGKILL');
      } catch {
        child.kill('SIGKILL');
      }
    },
    Math.max(1, options.timeoutMs),
  );
  const [code, spawnError] = await new Promise<[number | null, Error | undefined]>((resolve) => {
    child.on('error', (error) => resolve([null, error]));
    child.on('close', (exitCode) => resolve([exitCode, undefined]));
  });
  clearTimeout(timer);
  for (const rest of [partial.stdout, partial.stderr]) if (rest) emit(rest);
  const latencyMs = Math.round(performance.now() - started);
  const check = `command: ${options.command}`;
  if (code === 0 && !timedOut) return { check, kind: 'command', passed: true, attempts: 1, lastStatus: 0, latencyMs };
  const error = spawnError
    ? `could not start: ${spawnError.message}`
    : timedOut
      ? `killed after ${Math.round(options.timeoutMs / 1000)}s (the overall deadline)`
      : `exited with code ${code ?? 'none (killed by a signal)'}`;
  return {
    check,
    kind: 'command',
    passed: false,
    attempts: 1,
    ...(code !== null ? { lastStatus: code } : {}),
    latencyMs,
    error,
    snippet: tail.join('\n').slice(-1500),
  };
}
