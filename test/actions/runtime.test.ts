import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { defineAction, type Runtime } from '../../src/actions/common/action.js';
import { custom, flag, secret, text, type ParsedInputs } from '../../src/actions/common/inputs.js';
import { capSummary, SUMMARY_LIMIT_BYTES } from '../../src/actions/common/summary.js';
import { ConfigurationError } from '../../src/common/errors.js';
import { escapeForLog, silentLogger } from '../../src/common/logger.js';
import { Shutdown } from '../../src/common/shutdown.js';
import { parseFileCommand } from '../helpers/run-bundle.js';

// The runtime in this process, as the runner would see it: INPUT_* variables, GITHUB_OUTPUT and
// GITHUB_STEP_SUMMARY files, and what @actions/core prints on stdout.
interface Step {
  stdout: string;
  outputs: Record<string, string>;
  summary: string | undefined;
  exitCode: number | undefined;
}

async function runStep(
  start: () => Promise<void>,
  inputs: Record<string, string>,
  options: { summaryFile?: boolean } = {},
): Promise<Step> {
  const work = fs.mkdtempSync(path.join(os.tmpdir(), 'runtime-'));
  const saved = { ...process.env };
  const output = path.join(work, 'output');
  const summary = path.join(work, 'summary');
  fs.writeFileSync(output, '');
  process.env.GITHUB_OUTPUT = output;
  if (options.summaryFile !== false) {
    fs.writeFileSync(summary, '');
    process.env.GITHUB_STEP_SUMMARY = summary;
  } else delete process.env.GITHUB_STEP_SUMMARY;
  for (const [name, value] of Object.entries(inputs)) process.env[`INPUT_${name.toUpperCase()}`] = value;
  let stdout = '';
  const write = process.stdout.write.bind(process.stdout);
  const capture = (chunk: string | Uint8Array): boolean => {
    stdout += chunk.toString();
    return true;
  };
  process.stdout.write = capture;
  try {
    await start();
  } finally {
    process.stdout.write = write;
    process.env = saved;
  }
  const exitCode = process.exitCode === undefined ? undefined : Number(process.exitCode);
  process.exitCode = undefined;
  return {
    stdout,
    outputs: parseFileCommand(fs.readFileSync(output, 'utf8')),
    summary: fs.existsSync(summary) ? fs.readFileSync(summary, 'utf8') : undefined,
    exitCode,
  };
}

const demoInputs = {
  token: secret('token'),
  reason: text('reason'),
  loud: flag('loud', false),
  count: custom('count', (value, name) => {
    if (value !== undefined && !/^\d+$/.test(value)) throw new ConfigurationError(`Input "${name}" is "${value}".`);
    return Number(value ?? 0);
  }),
};

const demo = (run: (inputs: ParsedInputs<typeof demoInputs>, runtime: Runtime<'done' | 'items'>) => void) =>
  defineAction({
    name: 'demo',
    inputs: demoInputs,
    outputs: { done: 'false', items: '[]' },
    run: async (inputs, runtime) => {
      await Promise.resolve();
      run(inputs, runtime);
    },
  });

describe('defineAction', () => {
  it('sets every output default, then the values the action sets', async () => {
    const action = demo((_inputs, runtime) => runtime.setOutput('done', true));
    const step = await runStep(() => action.start(), {});
    expect(step.outputs).toEqual({ done: 'true', items: '[]' });
    expect(step.exitCode).toBeUndefined();
  });

  it('leaves the defaults when the inputs are refused, and reports the mistake without a stack', async () => {
    let ran = false;
    const action = demo(() => {
      ran = true;
    });
    const step = await runStep(() => action.start(), { count: 'many' });
    expect(ran).toBe(false);
    expect(step.outputs).toEqual({ done: 'false', items: '[]' });
    expect(step.exitCode).toBe(1);
    expect(step.stdout).toContain('::error::Input "count" is "many".');
    expect(step.stdout).not.toContain('::debug::');
  });

  it('reports our own bug with its stack under debug', async () => {
    const action = demo(() => {
      throw new TypeError('undefined is not a function');
    });
    const step = await runStep(() => action.start(), {});
    expect(step.stdout).toContain('::error::undefined is not a function');
    expect(step.stdout).toMatch(/::debug::TypeError: undefined is not a function%0A {4}at /);
  });

  it('masks a secret input before anything is logged and scrubs it from messages, outputs and the summary', async () => {
    const action = demo(({ token }, runtime) => {
      runtime.logger.info(`token is ${token ?? ''}`);
      runtime.setOutput('items', JSON.stringify([token]));
      runtime.summary.paragraph(`sent with ${token ?? ''}`);
      throw new Error(`server said: bad token ${token ?? ''}`);
    });
    const step = await runStep(() => action.start(), { token: 's3cr3t-value' });
    expect(step.stdout.indexOf('::add-mask::s3cr3t-value')).toBe(0);
    const everything = `${step.stdout.replace('::add-mask::s3cr3t-value', '')}${JSON.stringify(step.outputs)}${step.summary}`;
    expect(everything).not.toContain('s3cr3t-value');
    expect(step.stdout).toContain('::error::server said: bad token ***');
    expect(step.summary).toContain('sent with ***');
  });

  it('escapes what a person typed in the summary: no fake heading, no link', async () => {
    const action = demo(({ reason }, { summary }) => {
      summary
        .table([['Reason', reason ?? '']])
        .list([reason ?? ''])
        .heading(reason ?? '');
    });
    const step = await runStep(() => action.start(), {
      reason: '<h1>FAKE: rollback approved</h1><a href="https://evil.example">approve</a>',
    });
    expect(step.summary).not.toMatch(/<h1>FAKE|<a href/);
    expect(step.summary).toContain('&lt;h1&gt;FAKE: rollback approved&lt;/h1&gt;&lt;a href="https://evil.example"&gt;');
  });

  it('keeps a typed code fence from swallowing the rest of the summary', async () => {
    const action = demo(({ reason }, { summary }) => {
      summary.paragraph(reason ?? '').table([['Reason', reason ?? '']]);
    });
    const step = await runStep(() => action.start(), { reason: 'late\n\n```\nstill the reason' });
    expect(step.summary).not.toContain('`');
    expect(step.summary).toContain('<p>late\n\n&#96;&#96;&#96;\nstill the reason</p>');
  });

  it('turns a summary that cannot be written into a warning, never the step failing', async () => {
    const action = demo((_inputs, { summary, logger }) => {
      summary.paragraph('written nowhere');
      logger.info('done');
    });
    const step = await runStep(() => action.start(), {}, { summaryFile: false });
    expect(step.exitCode).toBeUndefined();
    expect(step.stdout).toMatch(/::warning::The job summary was not written: GITHUB_STEP_SUMMARY is not set/);
  });

  it('keeps the real error when the summary cannot be written either', async () => {
    const action = demo((_inputs, { summary }) => {
      summary.paragraph('partial');
      throw new ConfigurationError('the real problem');
    });
    const step = await runStep(() => action.start(), {}, { summaryFile: false });
    expect(step.stdout).toContain('::error::the real problem');
  });

  it('logs a file name holding a newline and a workflow command as text, not as a command', async () => {
    const action = demo((_inputs, { logger }) => {
      logger.info('applying 001_x.ts\n::error::forged annotation\r::add-mask::x');
    });
    const step = await runStep(() => action.start(), {});
    expect(step.stdout.split('\n').filter((line) => line.trim().startsWith('::'))).toEqual([]);
    expect(step.stdout).toContain('applying 001_x.ts\n\\::error::forged annotation\\r::add-mask::x');
  });
});

describe('escapeForLog', () => {
  it('shows control characters as escapes and keeps plain line breaks', () => {
    expect(escapeForLog('a\u0007b\u001b[31mc\u2028d')).toBe('a\\x07b\\x1b[31mc\\u2028d');
    expect(escapeForLog('line one\nline two')).toBe('line one\nline two');
    expect(escapeForLog('::warning::x\n  ::group::y')).toBe('\\::warning::x\n  \\::group::y');
  });
});

describe('capSummary', () => {
  it('cuts a summary over 1 MiB on a character boundary and says so', () => {
    const big = 'é'.repeat(SUMMARY_LIMIT_BYTES);
    const capped = capSummary(big);
    expect(Buffer.byteLength(capped, 'utf8')).toBeLessThanOrEqual(SUMMARY_LIMIT_BYTES);
    expect(capped).toMatch(/^é+\n\n<p><em>The summary was cut here: GitHub shows at most 1 MiB/);
    expect(capSummary('small')).toBe('small');
  });
});

describe('Shutdown', () => {
  it('runs the cleanups still registered in reverse order, once, then exits 143 on SIGTERM', async () => {
    const ran: string[] = [];
    const warnings: string[] = [];
    const exits: number[] = [];
    const shutdown = new Shutdown({
      logger: { ...silentLogger, warning: (message) => warnings.push(message) },
      exit: (code) => exits.push(code),
    });
    shutdown.register('closing the server', () => ran.push('server'));
    const done = shutdown.register('cancelling the statement', () => ran.push('statement'));
    shutdown.register('dropping the scratch database(s)', () => {
      ran.push('database');
      throw new Error('connection refused');
    });
    done();
    await Promise.all([shutdown.stop('SIGTERM'), shutdown.stop('SIGINT')]);
    expect(ran).toEqual(['database', 'server']);
    expect(exits).toEqual([143]);
    expect(warnings[0]).toBe('Received SIGTERM: dropping the scratch database(s), closing the server and stopping.');
    expect(warnings).toContain('Cleanup "dropping the scratch database(s)" failed: connection refused');
  });

  it('stops waiting for a cleanup that hangs after the time allowed, then exits 130 on SIGINT', async () => {
    const exits: number[] = [];
    const warnings: string[] = [];
    const shutdown = new Shutdown({
      logger: { ...silentLogger, warning: (message) => warnings.push(message) },
      timeoutMs: 20,
      exit: (code) => exits.push(code),
    });
    shutdown.register('waiting forever', () => new Promise(() => undefined));
    await shutdown.stop('SIGINT');
    expect(exits).toEqual([130]);
    expect(warnings.at(-1)).toBe('Cleanups still running after 0.02s; stopping without them.');
  });
});
