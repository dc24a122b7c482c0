// Where the rollback core meets preservation (src/preserve/): the guard's hook for a run
// that keeps what it destroys, what the run reports about it, the two modes that work on the
// copies (restore-data, prune-data), and estimate-data, which sizes a dry run's copies here.
import { ConfigurationError } from '../common/errors.js';
import { formatDuration } from '../common/duration.js';
import { estimateData } from '../preserve/estimate.js';
import { formatSize } from '../preserve/size.js';
import { describePreserveError, Preserver } from '../preserve/preserver.js';
import { pruneData } from '../preserve/prune.js';
import { restoreData } from '../preserve/restore.js';
import type { PreserveOptions } from '../preserve/types.js';
import type { StatementGuard } from './guard.js';
import type { Session } from './lock.js';
import { RollbackFailure, type RollbackOptions, type RunFragment } from './run-types.js';

export function attachPreserver(guard: StatementGuard, options: PreserveOptions): Preserver {
  const preserver = new Preserver(options);
  guard.beforeDestroy = (statements, migration, session, mode) =>
    preserver.beforeDestroy(statements, migration, session, mode).catch((error: unknown) => {
      // The cause stays attached: a lock timeout is still recognisable as one.
      throw new Error(describePreserveError(error), { cause: error });
    });
  return preserver;
}

/** What the run kept; nothing to say when the run destroyed nothing (or preservation is off). */
export function keptBy(preserver: Preserver | undefined, committed: boolean): RunFragment {
  if (!preserver) return {};
  const kept = preserver.report(committed);
  if (kept.copies.length === 0 && kept.notKept.length === 0) return {};
  return { preservation: { kept } };
}

export async function preservedDataMode(session: Session, options: RollbackOptions): Promise<RunFragment> {
  const preserve = options.preserve;
  if (!preserve) throw new ConfigurationError(`Mode ${options.mode} needs the preserve-schema input.`);
  if (options.mode === 'restore-data') {
    if (!preserve.id) {
      throw new ConfigurationError(
        'Mode restore-data needs input "preserve-id": the preserve-id output of the rollback whose data to put back.',
      );
    }
    const restored = await options.logger.group(`Restoring ${preserve.id} from ${preserve.schema}`, () =>
      restoreData(session, preserve.schema, preserve.id!, options.dryRun),
    );
    for (const copy of restored.copies)
      options.logger.info(
        `${copy.source} (${copy.kind}, ${copy.copy}): ${copy.restored} back, ${copy.skipped} skipped`,
      );
    const total = restored.copies.reduce((sum, copy) => sum + copy.restored, 0);
    const notes = [
      restored.dryRun
        ? `Dry run: ${total} row(s) would come back; the transaction was rolled back, nothing was changed.`
        : `Restored ${total} row(s) from ${restored.copies.length} copy(ies) of ${preserve.id}, in one transaction.`,
    ];
    return { preservation: { restored }, notes, committed: !restored.dryRun };
  }
  if (preserve.olderThanMs === undefined) {
    throw new ConfigurationError(
      'Mode prune-data needs input "older-than": an age such as 30d; older copies are dropped.',
    );
  }
  const pruned = await pruneData(session, preserve.schema, preserve.olderThanMs, options.dryRun);
  for (const copy of pruned.dropped)
    options.logger.info(
      `${options.dryRun ? 'would drop' : 'dropped'} ${preserve.schema}.${copy.copy} (${copy.id}, from ${copy.source}, ${copy.createdAt})`,
    );
  const notes = [
    `${options.dryRun ? 'Dry run: would drop' : 'Dropped'} ${pruned.dropped.length} copy(ies) older than ${formatDuration(preserve.olderThanMs)} from ${preserve.schema}.`,
  ];
  return { preservation: { pruned }, notes, committed: !options.dryRun && pruned.dropped.length > 0 };
}

/**
 * mode estimate-data: what a real run would keep here, from another database's dry run (the
 * pipeline's scratch database), read-only. Over preserve-data-max it fails, as the real run
 * would, so that nobody approves a rollback that is bound to be refused.
 */
export async function estimateDataMode(session: Session, options: RollbackOptions): Promise<RunFragment> {
  const preserve = options.preserve;
  const statements = options.destroyingStatements;
  if (!preserve || !statements) {
    throw new ConfigurationError(
      'Mode estimate-data needs input "preserve-statements-file": the preserve-statements-file output of a dry run.',
    );
  }
  const { kept, overLimit } = await options.logger.group(
    `Estimating what preserve-data keeps for ${statements.length} destroying statement(s)`,
    () => estimateData(session, statements, preserve),
  );
  for (const copy of kept.copies)
    options.logger.info(`${copy.kind} ${copy.source}: about ${copy.rows} row(s), ${formatSize(copy.bytes)}`);
  for (const line of kept.notKept) options.logger.info(`not kept (the snapshot is the way back): ${line}`);
  const fragment: RunFragment = {
    preservation: { kept },
    notes: [
      `Estimated on this database, read-only: preserve-data would keep about ${formatSize(kept.estimatedBytes)} in ${kept.copies.length} copy(ies) for the ${statements.length} destroying statement(s) of the dry run (preserve-data-max ${formatSize(kept.maxBytes)}). Nothing was changed.`,
    ],
  };
  if (overLimit) throw new RollbackFailure(overLimit, fragment);
  return fragment;
}

/**
 * rollback, down, given the dry run's destroying statements (preserve-statements-file): their
 * copies sized here before the first down runs or locks anything. Over preserve-data-max the run
 * is refused then, with nothing run, instead of after the downs before the copy that crosses it
 * (which held their locks until the rollback). Each copy is still checked as it is made, on the
 * data as it is then.
 */
export async function checkPreserveLimitFirst(session: Session, options: RollbackOptions): Promise<RunFragment> {
  const { destroyingStatements: statements, preserve } = options;
  if (!statements || !preserve?.enabled || options.dryRun) return {};
  const { kept, overLimit } = await options.logger.group(
    `Sizing what preserve-data keeps for the dry run's ${statements.length} destroying statement(s), before the first down`,
    () => estimateData(session, statements, preserve, 'Refused before the first down ran or locked anything'),
  );
  if (overLimit) throw new RollbackFailure(overLimit, { preservation: { kept } });
  return {
    notes: [
      `Before the first down: the dry run's ${statements.length} destroying statement(s) were sized here at about ${formatSize(kept.estimatedBytes)} to keep, under preserve-data-max (${formatSize(kept.maxBytes)}); each copy was checked again as it was made.`,
    ],
  };
}
