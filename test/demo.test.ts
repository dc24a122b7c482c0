import { spawn } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { node24, repoRoot } from './helpers/run-bundle.js';

// `npm run demo` is the README's first command: it must pass, and leave nothing running,
// also when interrupted.
interface DemoRun {
  code: number | null;
  output: string;
}

/**
 * `group: true` interrupts as Ctrl-C in a terminal does: SIGINT to the whole process group, so
 * PostgreSQL and the bundles get it too, not only the demo.
 */
function runDemo(options: { interruptWhen?: RegExp; group?: boolean; tmpdir?: string } = {}): Promise<DemoRun> {
  return new Promise((resolve) => {
    const child = spawn(node24, ['--import', './scripts/register-ts.mjs', 'scripts/demo.ts'], {
      cwd: repoRoot,
      env: {
        PATH: process.env.PATH ?? '',
        HOME: process.env.HOME ?? '/root',
        ...(options.tmpdir ? { TMPDIR: options.tmpdir } : {}),
      },
      stdio: ['ignore', 'pipe', 'pipe'],
      detached: options.group === true,
    });
    let output = '';
    let interrupted = false;
    const collect = (chunk: Buffer) => {
      output += chunk.toString();
      if (options.interruptWhen && !interrupted && options.interruptWhen.test(output)) {
        interrupted = true;
        if (options.group) process.kill(-child.pid!, 'SIGINT');
        else child.kill('SIGINT');
      }
    };
    child.stdout.on('data', collect);
    child.stderr.on('data', collect);
    child.on('close', (code) => resolve({ code, output }));
  });
}

/**
 * Runs the demo with a temporary directory of its own and returns the PostgreSQL folders it left
 * there: the shared /tmp also holds the folders of other suites' and other people's servers.
 */
async function runDemoInPrivateTmp(
  options: { interruptWhen?: RegExp; group?: boolean } = {},
): Promise<DemoRun & { leftBehind: string[] }> {
  const tmpdir = fs.mkdtempSync(path.join(os.tmpdir(), 'demo-tmp-'));
  // PostgreSQL runs as the unprivileged "postgres" user when we are root: it must reach its folder.
  fs.chmodSync(tmpdir, 0o755);
  try {
    const run = await runDemo({ ...options, tmpdir });
    return { ...run, leftBehind: fs.readdirSync(tmpdir).filter((name) => name.startsWith('db-rollback-pg-')) };
  } finally {
    fs.rmSync(tmpdir, { recursive: true, force: true });
  }
}

function portOf(output: string): number {
  const match = /PostgreSQL 127\.0\.0\.1:(\d+)/.exec(output);
  if (!match) throw new Error(`the demo did not print its PostgreSQL port:\n${output}`);
  return Number(match[1]);
}

function accepts(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect(port, '127.0.0.1');
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

describe('npm run demo', () => {
  it('rolls back 007 and 006 through every step and stops PostgreSQL', async () => {
    const run = await runDemo();
    expect(run.output).toContain('Demo finished');
    expect(run.code).toBe(0);
    expect(run.output).toMatch(/006_add_ticket_state_machine\.ts\s+batch 2\s+rolled back/);
    expect(run.output).toMatch(/007_add_security_tables\.ts\s+batch 2\s+rolled back/);
    expect(run.output).toMatch(/005_add_idempotency_keys\.ts\s+batch 1\s+applied/);
    for (const action of [
      'notify',
      'check-gate',
      'rollback',
      'verify-backup',
      'snapshot',
      'restart',
      'smoke',
      'monitor',
      'record',
    ]) {
      expect(run.output).toContain(`(actions/${action})`);
    }
    expect(run.output).toContain('Approved by | second-engineer');
    // The monitor step read the ticket service's own figures through Prometheus and CloudWatch.
    expect(run.output).toMatch(/✅ Every check held its threshold: \d+ sample\(s\) each/);
    expect(run.output).toMatch(/RDS connections \| cloudwatch: AWS\/RDS DatabaseConnections .*\| ✅ passed/);
    expect(run.output).toContain('xychart-beta');
    expect(await accepts(portOf(run.output))).toBe(false);
  });

  it('stops every server and PostgreSQL when interrupted with Ctrl-C', async () => {
    const run = await runDemoInPrivateTmp({ interruptWhen: /▶ Verify backup/ });
    expect(run.output).toContain('SIGINT: stopping');
    expect(run.code).toBe(130);
    expect(run.output).not.toContain('Demo finished');
    expect(await accepts(portOf(run.output))).toBe(false);
    expect(run.leftBehind).toEqual([]);
  });

  it.each([
    ['in the middle of the pipeline', /▶ Verify backup/],
    ['while PostgreSQL starts', /Setting up "production"/],
  ])(
    'leaves no /tmp/db-rollback-pg-* folder after a terminal Ctrl-C (the whole process group) %s',
    async (_when, interruptWhen) => {
      const run = await runDemoInPrivateTmp({ interruptWhen, group: true });
      expect(run.output).toContain('SIGINT: stopping');
      expect(run.code).toBe(130);
      expect(run.leftBehind).toEqual([]);
    },
  );
});
