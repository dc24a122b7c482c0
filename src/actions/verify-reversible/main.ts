import os from 'node:os';
import path from 'node:path';
import * as core from '@actions/core';
import { ConfigurationError } from '../../common/errors.js';
import { connectionSecrets, scrub } from '../../common/secrets.js';
import { listMigrationFiles } from '../../migrations/source.js';
import { checkReversibility } from '../../reversibility/checker.js';
import { buildReport, summaryMarkdown, writeReport, type ReversibilityReport } from '../../reversibility/report.js';
import { CheckCancelled } from '../../reversibility/scratch-database.js';
import { runAction } from '../common/run.js';
import { Outputs } from './constants.js';
import { judge } from './verdict.js';
import { getInputs } from './inputs.js';

/**
 * Runs every migration up, down and up again on a scratch database and reports each
 * down() that does not undo its up(). Fails the step according to `fail-on`.
 */
export async function run(): Promise<void> {
  const reportFile = path.join(process.env.RUNNER_TEMP ?? os.tmpdir(), 'verify-reversible-report.json');
  // Every output is set before anything can fail, and the report file always exists.
  core.setOutput(Outputs.Checked, '0');
  core.setOutput(Outputs.Irreversible, '[]');
  core.setOutput(Outputs.Warnings, '[]');
  core.setOutput(Outputs.Report, reportFile);
  writeReport(reportFile, emptyReport());
  const cancel = cancelOnSignal();
  // A migration that fires a query without awaiting it can have it rejected after its
  // transaction ended ("Transaction query already complete"). That is a finding about the
  // migration, not a reason for Node to kill the check half-way: say so and go on.
  const onStrayRejection = (reason: unknown) =>
    core.warning(
      scrub(
        `A promise nobody awaited was rejected (an un-awaited query in a migration?): ${reason instanceof Error ? reason.message : String(reason)}`,
        connectionSecrets(core.getInput('database-url')),
      ),
    );
  process.on('unhandledRejection', onStrayRejection);

  try {
    await runAction(async (secrets) => {
      const inputs = getInputs();
      secrets.add(...connectionSecrets(inputs.databaseUrl));

      const files = listMigrationFiles([inputs.migrationsDir]);
      if (files.length === 0) {
        throw new ConfigurationError(
          `Input "migrations-dir" is "${inputs.migrationsDirInput}", which holds no migration files (.js, .cjs, .mjs, .ts).`,
        );
      }
      const result = await core.group(`Checking ${inputs.only.length || files.length} migration(s): up, down, up`, () =>
        checkReversibility({
          serverUrl: inputs.databaseUrl,
          files,
          only: inputs.only,
          migrationsTable: inputs.migrationsTable,
          schema: inputs.schema,
          signal: cancel.signal,
          logger: {
            info: (message) => core.info(secrets.scrub(message)),
            debug: (message) => core.debug(secrets.scrub(message)),
            warning: (message) => core.warning(secrets.scrub(message)),
            error: (message) => core.error(secrets.scrub(message)),
            group: (name, body) => core.group(secrets.scrub(name), body),
          },
        }),
      );

      const report = buildReport(result);
      writeReport(reportFile, report);
      core.setOutput(Outputs.Checked, String(report.checked));
      core.setOutput(Outputs.Irreversible, JSON.stringify(report.irreversible));
      core.setOutput(Outputs.Warnings, JSON.stringify(report.warnings));
      await core.summary
        .addRaw(
          secrets.scrub(summaryMarkdown(report, { migrationsDir: inputs.migrationsDirInput, schema: inputs.schema })),
        )
        .write();

      const verdict = judge(result.checks, inputs.failOn);
      for (const { check, level, title, message } of verdict.annotations) {
        (level === 'error' ? core.error : core.warning)(secrets.scrub(`${check.name}: ${message}`), {
          title,
          file: annotationPath(inputs.migrationsDir, check.name),
        });
      }
      if (verdict.failing.length) {
        throw new ConfigurationError(
          `${verdict.failing.length} of ${report.checked} migration(s) cannot be rolled back cleanly: ${verdict.failing.map((check) => check.name).join(', ')}. ` +
            `Fix their down() so it undoes exactly what up() does (see the job summary for each difference${inputs.failOn === 'warning' ? ' and warning' : ''}).`,
        );
      }
      core.info(`All ${report.checked} checked migration(s) are reversible${verdict.tolerated}.`);
    });
  } finally {
    cancel.stop();
    process.off('unhandledRejection', onStrayRejection);
  }
  // Cancelled: the check dropped its databases before it rejected; exit as the signal asks.
  if (cancel.signal.aborted) process.exit(cancel.exitCode());
}

/** Annotations need the file relative to the repository root to land on the pull request's diff. */
function annotationPath(migrationsDir: string, name: string): string {
  return path
    .relative(process.env.GITHUB_WORKSPACE ?? process.cwd(), path.join(migrationsDir, name))
    .split(path.sep)
    .join('/');
}

function emptyReport(): ReversibilityReport {
  return {
    checked: 0,
    exact: [],
    irreversible: [],
    warnings: [],
    appliedUnchecked: [],
    notReached: [],
    migrations: [],
    rebuilds: 0,
    durationMs: 0,
  };
}

/**
 * A cancelled run gets SIGINT, then SIGTERM, from the runner. The first one aborts the check:
 * it starts nothing more, drops every scratch database it created (ending a down() still
 * running on one) and rejects; run() then exits. Should that take longer than the runner
 * waits before it kills the process, exit anyway.
 */
function cancelOnSignal(): { signal: AbortSignal; stop(): void; exitCode(): number } {
  const controller = new AbortController();
  let received: NodeJS.Signals | undefined;
  // `on`, not `once`: the runner's SIGTERM follows its SIGINT, and must not kill the drop half-way.
  const handler = (signal: NodeJS.Signals) => {
    if (received) return;
    received = signal;
    core.warning(`Received ${signal}: starting no more checks, dropping the scratch database(s) and stopping.`);
    controller.abort(new CheckCancelled(`Cancelled by ${signal}`).message);
    setTimeout(() => process.exit(exitCode()), 6_000).unref();
  };
  const exitCode = () => (received === 'SIGINT' ? 130 : 143);
  process.on('SIGTERM', handler);
  process.on('SIGINT', handler);
  return {
    signal: controller.signal,
    exitCode,
    stop: () => {
      process.off('SIGTERM', handler);
      process.off('SIGINT', handler);
    },
  };
}
