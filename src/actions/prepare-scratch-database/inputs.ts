import { ConfigurationError } from '../../common/errors.js';
import { connectionSecrets } from '../../common/secrets.js';
import { resolveWorkingDirectory } from '../../common/working-directory.js';
import { getSecret, getString } from '../common/inputs.js';
import type { SecretRegistry } from '../common/run.js';

export interface PrepareScratchInputs {
  /** The scratch database (never production). */
  databaseUrl: string;
  /** Production's applied migrations, in the order applied. */
  applied: string[];
  /** Production's plan: name and batch of each migration to undo. */
  plan: Array<{ name: string; batch: number }>;
  /** The caller's project directory, absolute. */
  workingDirectory: string;
  knexfile?: string;
  knexEnvironment: string;
  migrationsDir?: string;
  migrationsTable?: string;
  schema?: string;
}

function jsonArray(name: string): unknown[] {
  const text = getString(name) ?? '[]';
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    value = undefined;
  }
  if (!Array.isArray(value)) {
    throw new ConfigurationError(
      `Input "${name}" is not a JSON array: ${JSON.stringify(text.slice(0, 200))}. Pass the rollback action's ${name} output.`,
    );
  }
  return value;
}

export function getInputs(secrets: SecretRegistry): PrepareScratchInputs {
  const databaseUrl = getSecret('database-url', { required: true });
  secrets.add(...connectionSecrets(databaseUrl));
  if (!/^postgres(ql)?:\/\//i.test(databaseUrl)) {
    throw new ConfigurationError(
      'Input "database-url" must be a PostgreSQL URL such as postgres://user:password@host:5432/database.',
    );
  }
  const applied = jsonArray('applied');
  if (!applied.every((name) => typeof name === 'string')) {
    throw new ConfigurationError(
      'Input "applied" must be a JSON array of migration names (the rollback action\'s applied output).',
    );
  }
  const plan = jsonArray('plan').filter(
    (step): step is { name: string; batch: number } =>
      typeof (step as { name?: unknown } | null)?.name === 'string' &&
      typeof (step as { batch?: unknown }).batch === 'number',
  );
  return {
    databaseUrl,
    applied: applied,
    plan,
    workingDirectory: resolveWorkingDirectory(getString('working-directory')),
    knexfile: getString('knexfile'),
    knexEnvironment: getString('knex-environment') ?? 'production',
    migrationsDir: getString('migrations-dir'),
    migrationsTable: getString('migrations-table'),
    schema: getString('schema'),
  };
}
