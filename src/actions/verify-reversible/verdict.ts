import type { MigrationCheck } from '../../reversibility/checker.js';
import type { FailOn } from './inputs.js';

// What fails the step and what is only annotated, by `fail-on`: a step that throws always
// fails; a schema difference fails unless `error`; a data warning fails only with `warning`.

export interface Annotation {
  check: MigrationCheck;
  level: 'error' | 'warning';
  title: string;
  message: string;
}

export interface Verdict {
  annotations: Annotation[];
  /** The migrations that fail the step. */
  failing: MigrationCheck[];
  /** What was let through, for the closing line: ` apart from 1 difference(s) (fail-on: error)`. */
  tolerated: string;
}

export function judge(checks: readonly MigrationCheck[], failOn: FailOn): Verdict {
  const annotations: Annotation[] = [];
  const failing = new Set<MigrationCheck>();
  const tolerated: string[] = [];
  for (const check of checks) {
    if (check.outcome !== 'exact') {
      const fails = check.outcome === 'error' || failOn !== 'error';
      if (fails) failing.add(check);
      else tolerated.push('difference');
      const level = fails ? 'error' : 'warning';
      annotations.push({ check, level, title: 'Migration not reversible', message: check.reason ?? check.outcome });
    }
    if (check.warnings.length) {
      const fails = failOn === 'warning';
      if (fails) failing.add(check);
      else tolerated.push('warning');
      const level = fails ? 'error' : 'warning';
      for (const warning of check.warnings)
        annotations.push({ check, level, title: 'down() and the data', message: warning });
    }
  }
  const count = (kind: string) => tolerated.filter((each) => each === kind).length;
  const parts = [
    count('difference') && `${count('difference')} difference(s)`,
    count('warning') && `${count('warning')} migration(s) with warnings`,
  ].filter(Boolean);
  return {
    annotations,
    failing: [...failing],
    tolerated: parts.length ? ` apart from ${parts.join(' and ')} (fail-on: ${failOn})` : '',
  };
}
