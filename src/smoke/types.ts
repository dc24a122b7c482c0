/** One check's verdict, as the `results` output and the summary show it. */
export interface CheckResult {
  /** The URL, `command: ...` or `database tables`. */
  check: string;
  kind: 'url' | 'command' | 'database';
  passed: boolean;
  /** The check did not run because an earlier one failed. */
  skipped?: boolean;
  attempts: number;
  /** The last HTTP status, or the command's exit code. */
  lastStatus?: number;
  /** Duration of the last attempt. */
  latencyMs?: number;
  /** Why the last attempt failed. */
  error?: string;
  /** The start of the last failing body or output. */
  snippet?: string;
  /** The database check's differences. */
  missingTables?: string[];
  unexpectedTables?: string[];
}
