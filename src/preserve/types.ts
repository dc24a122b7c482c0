// What preservation keeps and reports: the shapes shared by the copy, the restore and the prune,
// and read by the rollback's result, the action's outputs and its summary.

/** The inputs that govern preservation, as the rollback action reads them. */
export interface PreserveOptions {
  /** Copy what the rollback destroys before it is destroyed (false: the snapshot alone is the way back). */
  enabled: boolean;
  /** The most the copies of one run may take, in bytes (estimated before each copy). */
  maxBytes: number;
  /** The schema the copies and their catalog live in. */
  schema: string;
  /** mode restore-data: the run whose copies to put back. */
  id?: string;
  /** mode prune-data: copies older than this many ms are dropped. */
  olderThanMs?: number;
}

/** What destroys data, as the copy and the restore treat it. */
export type PreserveKind = 'drop-column' | 'drop-table' | 'delete' | 'update' | 'truncate' | 'alter-type';

/** One copy: made (rollback), would be made (dry run), or found in the catalog (restore, prune). */
export interface CopyReport {
  /** The copy's table in the preserve schema; empty in a dry run. */
  copy: string;
  migration: string;
  statement: string;
  /** schema.table the data came from. */
  source: string;
  kind: PreserveKind;
  /** The key the restore matches rows by; empty when the table has none: whole rows are kept and restored by hand. */
  keyColumns: string[];
  /** The columns kept (besides the key): every column for a whole-row copy. */
  columns: string[];
  rows: number;
  bytes: number;
  /** Counts from the planner (dry run) rather than from the copy. */
  estimated: boolean;
}

/** A statement a dry run saw destroy data: what mode estimate-data sizes on another database. */
export interface DestroyingStatement {
  migration: string;
  /** As sent, parameters rendered in: the same text the guard classified. */
  sql: string;
  /** Whether its migration ran inside the run's transaction (else no copy is made for it). */
  inTransaction: boolean;
}

/** What a rollback kept, or a dry run would keep. */
export interface PreservationReport {
  id: string;
  schema: string;
  copies: CopyReport[];
  /** The estimate checked against preserve-data-max: the planner's, before each copy. */
  estimatedBytes: number;
  maxBytes: number;
  /** Statements that destroy data in a way no copy is made for: the snapshot is the way back for them. */
  notKept: string[];
  /** A dry run's: every statement that would destroy data, in order (the preserve-statements-file output). */
  statements?: DestroyingStatement[];
  /** mode estimate-data: the estimate was made here for this many statements of another database's dry run. */
  estimatedFor?: number;
}

/** What restore-data did (or, in a dry run, would do) with one copy. */
export interface RestoredCopy {
  copy: string;
  source: string;
  kind: PreserveKind;
  /** Rows written back. */
  restored: number;
  /** Rows left alone: a row with that key exists (or holds a value written since), or no row has that key. */
  skipped: number;
  /** Why rows were skipped, or why the copy is for a human to restore. */
  note?: string;
}

export interface RestoreReport {
  id: string;
  schema: string;
  dryRun: boolean;
  copies: RestoredCopy[];
  /** Sequences moved past the restored keys. */
  sequences: string[];
}

export interface PruneReport {
  schema: string;
  olderThanMs: number;
  /** Copies dropped (or, in a dry run, that would be). */
  dropped: { id: string; copy: string; source: string; createdAt: string; bytes: number }[];
}

/** What a run reports about preservation, whichever mode it was. */
export interface PreservationResult {
  kept?: PreservationReport;
  restored?: RestoreReport;
  pruned?: PruneReport;
}
