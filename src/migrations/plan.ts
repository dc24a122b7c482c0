import { ConfigurationError } from '../common/errors.js';

/** One row of knex_migrations. */
export interface AppliedMigration {
  id: number;
  name: string;
  batch: number;
  /** ISO time the migration was applied. */
  migrationTime: string;
}

/** What the caller asked to undo. */
export type PlanRequest =
  { kind: 'steps'; steps: number } | { kind: 'all' } | { kind: 'to'; to: string } | { kind: 'down'; migration: string };

/** One migration the run undoes. */
export interface PlannedMigration {
  name: string;
  batch: number;
  id: number;
  migrationTime: string;
  /** Whether its down() runs inside the run's transaction (false: config.transaction = false). */
  transaction: boolean;
}

/** A stretch of the plan run as one unit: transactional stretches atomically, a non-transactional migration alone. */
export interface Segment {
  transactional: boolean;
  migrations: string[];
}

/** Which migrations to undo, in the order Knex undoes them, before their files are looked at. */
export interface Selection {
  rows: AppliedMigration[];
  warnings: string[];
}

export function describeRequest(request: PlanRequest): string {
  switch (request.kind) {
    case 'steps':
      return `the last ${request.steps} batch${request.steps === 1 ? '' : 'es'}`;
    case 'all':
      return 'every applied migration';
    case 'to':
      return `every migration applied after ${request.to}`;
    case 'down':
      return `the single migration ${request.migration}`;
  }
}

/**
 * Picks the rows to undo. Batches follow Knex's own rollback: the newest batch first and,
 * inside a batch, knex_migrations.id descending (Migrator._getLastBatch). `to` follows the
 * order of application (id), which is what was actually done to the database.
 * Names are compared as data; nothing here builds SQL.
 */
export function selectMigrations(
  applied: readonly AppliedMigration[],
  fileNames: readonly string[],
  request: PlanRequest,
): Selection {
  const byIdDesc = [...applied].sort((a, b) => b.id - a.id);
  const warnings: string[] = [];
  const unknownOrNotApplied = (input: string, name: string): ConfigurationError => {
    const known = fileNames.includes(name);
    const appliedNames = byIdDesc.slice(0, 10).map((row) => row.name);
    return new ConfigurationError(
      known
        ? `Input "${input}" names ${JSON.stringify(name)}, which is not applied (its file exists but knex_migrations has no row for it). Applied migrations, newest first: ${appliedNames.join(', ') || '(none)'}.`
        : `Input "${input}" names ${JSON.stringify(name)}, which is neither applied nor a file in the migrations directory. Applied migrations, newest first: ${appliedNames.join(', ') || '(none)'}.`,
    );
  };
  switch (request.kind) {
    case 'steps': {
      const batches = [...new Set(byIdDesc.map((row) => row.batch))].sort((a, b) => b - a).slice(0, request.steps);
      const rows = batches.flatMap((batch) => byIdDesc.filter((row) => row.batch === batch));
      return { rows, warnings };
    }
    case 'all': {
      const batches = [...new Set(byIdDesc.map((row) => row.batch))].sort((a, b) => b - a);
      return { rows: batches.flatMap((batch) => byIdDesc.filter((row) => row.batch === batch)), warnings };
    }
    case 'to': {
      const target = applied.find((row) => row.name === request.to);
      if (!target) throw unknownOrNotApplied('to', request.to);
      const rows = byIdDesc.filter((row) => row.id > target.id);
      const byName = [...rows].sort((a, b) => (a.name < b.name ? 1 : a.name > b.name ? -1 : 0));
      if (rows.some((row, index) => row.name !== byName[index].name)) {
        warnings.push(
          `The order these migrations were applied in (knex_migrations.id) differs from their file-name order; they are undone newest-applied first: ${rows.map((row) => row.name).join(', ')}.`,
        );
      }
      return { rows, warnings };
    }
    case 'down': {
      const target = applied.find((row) => row.name === request.migration);
      if (!target) throw unknownOrNotApplied('migration', request.migration);
      const later = byIdDesc.filter((row) => row.id > target.id);
      if (later.length > 0) {
        warnings.push(
          `${target.name} is not the newest applied migration: ${later.map((row) => row.name).join(', ')} ${later.length === 1 ? 'was' : 'were'} applied after it and stay applied. Check they do not depend on what its down() removes.`,
        );
      }
      return { rows: [target], warnings };
    }
  }
}

/** Splits the plan into the units it runs in: consecutive transactional migrations together, each non-transactional one alone. */
export function buildSegments(migrations: readonly PlannedMigration[]): Segment[] {
  const segments: Segment[] = [];
  for (const migration of migrations) {
    const last = segments.at(-1);
    if (migration.transaction && last?.transactional) last.migrations.push(migration.name);
    else segments.push({ transactional: migration.transaction, migrations: [migration.name] });
  }
  return segments;
}

/** Batches in the order they are undone, each once. */
export function batchesOf(migrations: readonly PlannedMigration[]): number[] {
  return [...new Set(migrations.map((migration) => migration.batch))];
}
/** Batches whose every applied migration is now undone. */
export function completedBatches(plan: PlannedMigration[], undone: string[], applied: AppliedMigration[]): number[] {
  return batchesOf(plan).filter((batch) =>
    applied.filter((row) => row.batch === batch).every((row) => undone.includes(row.name)),
  );
}
