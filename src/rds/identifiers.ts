// RDS naming rules, checked before any call so a typo fails in a second with the rule it broke,
// not minutes into an incident with an InvalidParameterValue from AWS.

export type IdentifierKind = 'DB instance' | 'DB cluster' | 'DB snapshot' | 'DB cluster snapshot';

/** Maximum length per kind (RDS API reference: CreateDBInstance, CreateDBCluster, CreateDBSnapshot, CreateDBClusterSnapshot). */
const MAX_LENGTH: Record<IdentifierKind, number> = {
  'DB instance': 63,
  'DB cluster': 63,
  'DB snapshot': 255,
  'DB cluster snapshot': 63,
};

/**
 * The first rule the identifier breaks, as a sentence, or undefined when it is valid.
 * Rules: 1 to N letters, digits or hyphens; first character a letter; no two consecutive
 * hyphens; no trailing hyphen.
 */
export function identifierProblem(kind: IdentifierKind, value: string): string | undefined {
  const max = MAX_LENGTH[kind];
  if (value.length === 0) return `a ${kind} identifier cannot be empty`;
  if (value.length > max) return `a ${kind} identifier is at most ${max} characters; this one has ${value.length}`;
  const bad = /[^A-Za-z0-9-]/.exec(value);
  if (bad)
    return `a ${kind} identifier may contain only letters, digits and hyphens; "${bad[0]}" at position ${bad.index + 1} is not allowed`;
  if (!/^[A-Za-z]/.test(value)) return `a ${kind} identifier must start with a letter`;
  if (value.includes('--')) return `a ${kind} identifier cannot contain two consecutive hyphens`;
  if (value.endsWith('-')) return `a ${kind} identifier cannot end with a hyphen`;
  return undefined;
}

/** An RDS snapshot ARN, accepted where a snapshot shared from another account is referenced. */
export function isSnapshotArn(value: string): boolean {
  return /^arn:aws[a-z-]*:rds:[a-z0-9-]+:\d{12}:(snapshot|cluster-snapshot):[A-Za-z][A-Za-z0-9-]*$/.test(value);
}

/** UTC `YYYYMMDD-HHMMSS`, the runbook's `date +%Y%m%d-%H%M%S`. */
export function snapshotTimestamp(date: Date): string {
  const iso = date.toISOString(); // 2026-11-29T03:07:31.123Z
  return `${iso.slice(0, 4)}${iso.slice(5, 7)}${iso.slice(8, 10)}-${iso.slice(11, 13)}${iso.slice(14, 16)}${iso.slice(17, 19)}`;
}

/** Expands `{timestamp}` in a snapshot identifier template (default `pre-rollback-{timestamp}`). */
export function expandSnapshotIdentifier(template: string, now: Date): string {
  return template.replace(/\{timestamp\}/g, snapshotTimestamp(now));
}

export const DEFAULT_SNAPSHOT_IDENTIFIER = 'pre-rollback-{timestamp}';
