// The table of risks, in one place: what each verdict means, how verdicts rank, and which of
// them a run refuses without allow-destructive. The classifier produces them; the rollback
// core, its report and the action read them from here.

/**
 * - `destructive`: loses data or what the data depends on (a DROP TABLE, a DELETE, a call whose effect cannot be read)
 * - `security`: widens or removes access control (a GRANT, a dropped policy, DISABLE ROW LEVEL SECURITY)
 * - `warning`: loses no rows, but a reviewer should see it (a dropped index or view)
 * - `bookkeeping`: reads or writes only the migration bookkeeping tables
 * - `safe`: none of the above
 */
export type StatementRisk = 'bookkeeping' | 'destructive' | 'security' | 'warning' | 'safe';

/** The risks a finding can carry, most serious first. */
export type Severity = Exclude<StatementRisk, 'bookkeeping' | 'safe'>;
export const SEVERITY_ORDER: readonly Severity[] = ['destructive', 'security', 'warning'];

/** Least to most serious. */
const RISK_ORDER: readonly StatementRisk[] = ['bookkeeping', 'safe', 'warning', 'security', 'destructive'];

export interface ClassifiedStatement {
  /** The text of this one statement, as it appeared in the input (trimmed, without its `;`). */
  sql: string;
  risk: StatementRisk;
  /** One readable sentence per finding, naming the object: `drops table public.tickets and all its rows`. */
  reasons: string[];
  /** What the guard must know beyond the risk (absent when there is nothing to say). */
  effects?: StatementEffects;
}

/** Facts about a statement the parse tree alone cannot rank: the guard (migrations/guard.ts) acts on them. */
export interface StatementEffects {
  /** BEGIN, COMMIT, ROLLBACK, SAVEPOINT, PREPARE TRANSACTION...: ends or splits the run's transaction. */
  transactionControl?: boolean;
  /** Why a ROLLBACK would not undo it (a sequence change, a program run, a library loaded): a dry run must not send it. */
  irreversible?: string[];
  /** Functions the statement itself evaluates, as written (`['pg_temp', 'tidy']`, `['now']`): resolved against the catalog by the guard. */
  calls?: string[][];
  /** CREATE OR REPLACE FUNCTION: the function it may replace. */
  replacesFunction?: string[];
  /** Code it runs whose effect the statement does not show (`a DO block`, `procedure archive`, `function tidy`). */
  opaqueCode?: string[];
}

export interface ClassifyOptions {
  /**
   * The migration bookkeeping tables, schema-qualified (`public.knex_migrations`,
   * `public.knex_migrations_lock`). Reading and writing only these is `bookkeeping`, not a
   * risk. An unqualified table name in the SQL counts as `public`.
   */
  bookkeepingTables?: string[];
}

/** Splits each input into statements and classifies them, keeping each input's verdicts apart (classify.ts's classifyEach). */
export type BatchClassifier = (
  statements: readonly string[],
  options?: ClassifyOptions,
) => Promise<ClassifiedStatement[][]>;

/** Destroys data or removes security: what a run refuses to commit without allow-destructive. */
export function needsAllowDestructive(risk: StatementRisk | undefined): boolean {
  return risk === 'destructive' || risk === 'security';
}

/** Worth a reviewer's note: anything but bookkeeping and safe. */
export function isFlagged(risk: StatementRisk | undefined): risk is Severity {
  return risk === 'destructive' || risk === 'security' || risk === 'warning';
}

export function rankOf(risk: StatementRisk | undefined): number {
  return risk ? RISK_ORDER.indexOf(risk) : -1;
}

/** The most serious of several verdicts, or undefined for none. */
export function worstOf<T extends { risk: StatementRisk }>(verdicts: readonly T[]): T | undefined {
  return verdicts.reduce<T | undefined>(
    (current, verdict) => (rankOf(verdict.risk) > rankOf(current?.risk) ? verdict : current),
    undefined,
  );
}
