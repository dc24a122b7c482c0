// What a check finds: the checker produces it, the steps fill it in, the report reads it.

export type Outcome = 'exact' | 'difference' | 'error';

/** The verdict on one migration. */
export interface MigrationCheck {
  name: string;
  outcome: Outcome;
  /** Why it is not reversible; undefined when exact. */
  reason?: string;
  /** Objects or properties down() left behind (`index tickets_state_idx`). */
  left: string[];
  /** Objects or properties down() lost (`column tickets.priority: NOT NULL`). */
  lost: string[];
  /**
   * What down() does that the schema cannot show, whatever the outcome: rows of an older
   * table it deletes or overwrites, queries it builds and never runs or does not wait for.
   */
  warnings: string[];
  /** The step that threw and its error (Knex puts the statement first: `DROP TABLE x - table "x" does not exist`). */
  failure?: { step: 'up' | 'down' | 'up after down'; error: string };
  durationMs: number;
}

export interface CheckResult {
  /** Every checked migration, in order. */
  checks: MigrationCheck[];
  /** Applied first, unchecked, because `only` named a later migration. */
  appliedUnchecked: string[];
  /** Never reached: an up() failed, so nothing after it could be applied. */
  notReached: string[];
  /** How often the state after a migration's up() had to be rebuilt after a failed check. */
  rebuilds: number;
  durationMs: number;
}
