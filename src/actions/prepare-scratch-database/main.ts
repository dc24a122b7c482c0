import * as core from '@actions/core';
import { ConfigurationError } from '../../common/errors.js';
import { escapeHtml } from '../../common/html.js';
import { describeSettings, resolveMigrationSettings } from '../../migrations/knexfile.js';
import { migrateScratchDatabase } from '../../migrations/migrate-up.js';
import { runAction } from '../common/run.js';
import { getInputs } from './inputs.js';

/**
 * Migrates the plan job's scratch PostgreSQL to exactly what production has applied, with the
 * settings and the loader the rollback action uses, so the dry run shows the real downs' SQL.
 */
export async function run(): Promise<void> {
  core.setOutput('applied', '[]');
  await runAction(async (secrets) => {
    const inputs = getInputs(secrets);
    // As the Knex CLI runs from the project: a knexfile's dotenv and a migration's relative paths see the service.
    process.chdir(inputs.workingDirectory);
    const settings = await resolveMigrationSettings({
      knexfile: inputs.knexfile,
      knexEnvironment: inputs.knexEnvironment,
      migrationsDir: inputs.migrationsDir,
      migrationsTable: inputs.migrationsTable,
      schema: inputs.schema,
      cwd: inputs.workingDirectory,
    });
    const lines = describeSettings(settings);
    for (const line of lines) core.info(`${line.setting}: ${line.value} (${line.from})`);
    const logger = {
      debug: (message: string) => core.debug(secrets.scrub(message)),
      info: (message: string) => core.info(secrets.scrub(message)),
      warning: (message: string) => core.warning(secrets.scrub(message)),
      error: (message: string) => core.error(secrets.scrub(message)),
      group: <T>(name: string, body: () => Promise<T>) => core.group(name, body),
    };
    const result = await migrateScratchDatabase({
      databaseUrl: inputs.databaseUrl,
      settings,
      applied: inputs.applied,
      plan: inputs.plan,
      logger,
    });
    core.setOutput('applied', JSON.stringify(result.applied));
    const table = lines.map((line) => `| ${line.setting} | \`${escapeHtml(line.value)}\` | ${escapeHtml(line.from)} |`);
    try {
      await core.summary
        .addRaw(
          [
            '### Scratch database',
            '',
            `Migrated to production's ${result.applied.length} applied migration(s).`,
            '',
            '| Setting | Value | From |',
            '|---|---|---|',
            ...table,
            '',
          ].join('\n'),
        )
        .write();
    } catch (error) {
      core.debug(`job summary not written: ${String(error)}`);
    }
    if (result.missing.length > 0 || result.extra.length > 0) {
      throw new ConfigurationError(
        `The scratch database does not match production: missing ${JSON.stringify(result.missing)}, extra ${JSON.stringify(result.extra)}. The dry run would not show the real SQL.`,
      );
    }
    core.info(`The scratch database has the ${result.applied.length} migrations production has applied.`);
  });
}
