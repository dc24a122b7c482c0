import { ConfigurationError } from '../../common/errors.js';
import { describeSettings, resolveMigrationSettings, settingsTable } from '../../migrations/knexfile.js';
import { migrateScratchDatabase } from '../../migrations/migrate-up.js';
import { defineAction } from '../common/action.js';
import { inputs } from './inputs.js';

/**
 * Migrates the plan job's scratch PostgreSQL to exactly what production has applied, with the
 * settings and the loader the rollback action uses, so the dry run shows the real downs' SQL.
 */
export const action = defineAction({
  name: 'prepare-scratch-database',
  inputs,
  outputs: { applied: '[]' },
  async run(given, runtime) {
    const { logger, summary } = runtime;
    // As the Knex CLI runs from the project: a knexfile's dotenv and a migration's relative paths see the service.
    process.chdir(given.workingDirectory);
    const settings = await resolveMigrationSettings({
      knexfile: given.knexfile,
      knexEnvironment: given.knexEnvironment,
      knexfileEnv: given.knexfileEnv,
      migrationsDir: given.migrationsDir,
      migrationsTable: given.migrationsTable,
      schema: given.schema,
      cwd: given.workingDirectory,
    });
    for (const line of describeSettings(settings)) logger.info(`${line.setting}: ${line.value} (${line.from})`);
    const result = await migrateScratchDatabase({
      databaseUrl: given.databaseUrl,
      settings,
      applied: given.applied,
      plan: given.plan,
      logger,
    });
    runtime.setOutput('applied', JSON.stringify(result.applied));
    summary.markdown(
      [
        '### Scratch database',
        '',
        `Migrated to production's ${result.applied.length} applied migration(s).`,
        '',
        ...settingsTable(settings),
      ].join('\n'),
    );
    if (result.missing.length > 0 || result.extra.length > 0) {
      throw new ConfigurationError(
        `The scratch database does not match production: missing ${JSON.stringify(result.missing)}, extra ${JSON.stringify(result.extra)}. The dry run would not show the real SQL.`,
      );
    }
    logger.info(`The scratch database has the ${result.applied.length} migrations production has applied.`);
  },
});
