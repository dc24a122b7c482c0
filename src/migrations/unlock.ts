import { formatDuration } from '../common/duration.js';
import { describeHolder, holderChecks, isLockTimeout } from './lock.js';
import type { MigrationsTable } from './migrations-table.js';
import { RollbackFailure, type RollbackOptions, type RunFragment } from './run-types.js';
import type { MigrationFile } from './source.js';

/**
 * mode: unlock. Frees Knex's lock row only when no session holds the migration lock
 * (advisory lock or a write lock on the tables), and only with force-unlock: true.
 */
export async function unlock(
  table: MigrationsTable,
  options: RollbackOptions,
  files: MigrationFile[],
): Promise<RunFragment> {
  const before = await table.readStatus(files);
  const { lock } = before;
  const lockChecks = [
    lock.tableExists
      ? `${table.lockTable}: is_locked = ${lock.isLocked ? 1 : 0}`
      : `${table.lockTable} does not exist: Knex never took a lock here.`,
    ...holderChecks(lock.holders),
  ];
  const seen = { before, after: before, lockChecks };
  if (!lock.tableExists || !lock.isLocked) {
    return { ...seen, notes: ['Not locked: nothing to free, nothing was changed.'] };
  }
  if (lock.holders.length > 0) {
    throw new RollbackFailure(
      `Knex's migration lock is set and held: ${lock.holders.map(describeHolder).join('; ')}. A run is in progress; it was not freed. Wait for it to finish.`,
      seen,
    );
  }
  if (!options.forceUnlock) {
    throw new RollbackFailure(
      `Knex's migration lock (${table.lockTable}.is_locked = 1) is set and no session holds it: a crashed run left it. It was not freed because force-unlock is false. Re-run mode: unlock with force-unlock: true to free it.`,
      seen,
    );
  }
  // Hold the advisory lock while freeing, so no run of ours starts in between; re-check under the row lock.
  if (!(await table.tryAdvisoryLock())) {
    const holders = await table.holders();
    throw new RollbackFailure(
      `A run took the migration lock just now: ${holders.map(describeHolder).join('; ')}. Nothing was freed.`,
      { before, lockChecks },
    );
  }
  let freed: number;
  try {
    freed = await freeUnderRowLock(table, options).catch((error: unknown) => {
      if (error instanceof RollbackFailure) throw error.within({ before, lockChecks });
      throw error;
    });
  } finally {
    await table.releaseAdvisoryLock().catch(() => undefined);
  }
  return {
    before,
    committed: true,
    after: await table.readStatus(files),
    lockChecks: [
      ...lockChecks,
      `Re-checked under the row lock and the advisory lock: no holder. Set is_locked = 0 on ${freed} row(s).`,
    ],
    notes: [`Freed Knex's migration lock on ${table.lockTable}.`],
  };
}

async function freeUnderRowLock(table: MigrationsTable, options: RollbackOptions): Promise<number> {
  await table.begin();
  try {
    await table.readLockRow({ forUpdate: true });
    const holders = await table.holders();
    if (holders.length > 0)
      throw new RollbackFailure(
        `A session took the lock while unlocking: ${holders.map(describeHolder).join('; ')}. Nothing was freed.`,
      );
    const freed = await table.freeLockRow();
    await table.commit();
    return freed;
  } catch (error) {
    await table.rollback();
    if (isLockTimeout(error))
      throw new RollbackFailure(
        `Knex's lock row is locked by another session (waited ${formatDuration(options.lockTimeoutMs)}). Nothing was freed.`,
      );
    throw error;
  }
}
