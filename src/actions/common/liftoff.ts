// The rollback action parses every statement its migrations send while its transaction holds
// its locks. In a process started with V8's `--liftoff-only`, PostgreSQL's parser (WebAssembly)
// runs in the action's own process, with no round trip to a helper process per statement
// (src/sql/parser-process.ts says why it needs that flag). The runner starts an action as
// `node index.js`, with no way to pass it: so the action starts itself again with it.
import { spawn } from 'node:child_process';
import os from 'node:os';
import { fileURLToPath } from 'node:url';

export const LIFTOFF_FLAG = '--liftoff-only';

/**
 * Runs `entry` again in a Node process with `--liftoff-only`, the same environment and the same
 * stdio, forwards SIGINT and SIGTERM to it (its own cleanups run there) and takes its exit code.
 * Returns false, and runs nothing, when this process already has the flag or the relaunch cannot start.
 */
export async function relaunchWithLiftoff(entry: string): Promise<boolean> {
  if (process.execArgv.includes(LIFTOFF_FLAG)) return false;
  const child = spawn(process.execPath, [LIFTOFF_FLAG, ...process.execArgv, fileURLToPath(entry)], {
    stdio: 'inherit',
    env: process.env,
  });
  const forward = (signal: NodeJS.Signals): void => {
    child.kill(signal);
  };
  const outcome = await new Promise<{ started: boolean; code: number }>((resolve) => {
    child.once('error', () => resolve({ started: false, code: 1 }));
    child.once('spawn', () => {
      process.on('SIGINT', forward);
      process.on('SIGTERM', forward);
    });
    child.once('exit', (code, signal) =>
      resolve({ started: true, code: code ?? 128 + (signal ? os.constants.signals[signal] : 0) }),
    );
  });
  process.off('SIGINT', forward);
  process.off('SIGTERM', forward);
  if (!outcome.started) return false;
  process.exitCode = outcome.code;
  return true;
}
