import crypto from 'node:crypto';
import fs from 'node:fs';
import knexPackage from 'knex/package.json' with { type: 'json' };
import actionPackage from '../../package.json' with { type: 'json' };
import type { MigrationSettings } from './knexfile.js';
import { hashLocalCode, localDependencies, type LocalCodeFile } from './local-code.js';
import type { PlannedMigration } from './plan.js';
import type { MigrationFile } from './source.js';

/** What the fingerprint covers for one planned migration. */
export interface FingerprintEntry {
  migration: PlannedMigration;
  /** The migration file's bytes (undefined when the file is missing). */
  content: Buffer | undefined;
}

/** The versions of the code that runs the downs besides the caller's: Knex's Migrator and this action. */
export interface RuntimeVersions {
  knex: string;
  action: string;
}

/** The code that runs the downs, besides the caller's: Knex's Migrator and this action, both bundled. */
export const RUNTIME_VERSIONS: Readonly<RuntimeVersions> = { knex: knexPackage.version, action: actionPackage.version };

/**
 * A hash over the rows to undo (id, name, batch, time applied, order), the content of their
 * files, every local file they load (a helper a down() imports) and the versions of Knex and
 * of this action. A plan reviewed earlier is only run if nothing it depends on changed: a newly
 * applied migration changes the rows, an edited migration or helper changes a content hash.
 */
export function planFingerprint(
  entries: readonly FingerprintEntry[],
  localCode: readonly LocalCodeFile[] = [],
  runtime: Readonly<RuntimeVersions> = RUNTIME_VERSIONS,
): string {
  const canonical = entries.map(({ migration, content }) => ({
    id: migration.id,
    name: migration.name,
    batch: migration.batch,
    migrationTime: migration.migrationTime,
    transaction: migration.transaction,
    file: content ? crypto.createHash('sha256').update(content).digest('hex') : null,
  }));
  return crypto
    .createHash('sha256')
    .update(JSON.stringify({ version: 2, migrations: canonical, localCode, runtime }))
    .digest('hex');
}

export const FINGERPRINT_PATTERN = /^[0-9a-f]{64}$/;

/** What a plan's fingerprint is taken over, and what it covers. */
export interface FingerprintedPlan {
  plan: PlannedMigration[];
  fingerprint: string;
  localCode: LocalCodeFile[];
}

/** The fingerprint over the plan's rows, its files and the local code they loaded so far (see local-code.ts). */
export function fingerprintPlan(
  plan: PlannedMigration[],
  files: readonly MigrationFile[],
  settings: MigrationSettings,
): Pick<FingerprintedPlan, 'fingerprint' | 'localCode'> {
  const planned = plan.map((migration) => files.find((file) => file.name === migration.name)!);
  const localCode = hashLocalCode(localDependencies(planned.map((file) => file.file)), settings.root ?? process.cwd());
  const fingerprint = planFingerprint(
    plan.map((migration, index) => ({ migration, content: fs.readFileSync(planned[index].file) })),
    localCode,
  );
  return { fingerprint, localCode };
}

/**
 * A down() can import a file only while it runs (a dynamic import()): no plan can know it. The
 * dry run's fingerprint is taken again after the downs so it covers such files (returned, with a
 * note); a real run gets a warning that the fingerprint it was checked against did not cover them.
 */
export function coverCodeLoadedByDowns(
  planned: FingerprintedPlan,
  files: readonly MigrationFile[],
  settings: MigrationSettings,
  dryRun: boolean,
): Partial<FingerprintedPlan> & { notes?: string[]; warnings?: string[] } {
  const known = new Set(planned.localCode.map((file) => file.path));
  const after = fingerprintPlan(planned.plan, files, settings);
  const loaded = after.localCode.filter((file) => !known.has(file.path)).map((file) => file.path);
  if (loaded.length === 0) return {};
  const them = loaded.length === 1 ? 'it' : 'them';
  if (dryRun) {
    return {
      ...after,
      notes: [
        `The downs loaded ${loaded.join(', ')} while they ran (a dynamic import()): this dry run's plan-fingerprint covers ${them}; a plan without dry-run (${planned.fingerprint.slice(0, 12)}…) cannot.`,
      ],
    };
  }
  return {
    warnings: [
      `The downs loaded ${loaded.join(', ')} while they ran (a dynamic import()); the plan-fingerprint checked before the run does not cover ${them}: only a dry run's fingerprint does.`,
    ],
  };
}
