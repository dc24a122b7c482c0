import type { Tag } from '@aws-sdk/client-rds';
import { ConfigurationError } from '../../common/errors.js';
import { getBoolean, getLines, getString } from '../common/inputs.js';
import { DEFAULT_SNAPSHOT_IDENTIFIER, expandSnapshotIdentifier } from '../../rds/identifiers.js';
import type { DbTarget } from '../../rds/source.js';
import { parseTagLines } from '../../rds/tags.js';
import { checkIdentifier, getPollInterval, getRegion, getTarget, getTimeout } from '../rds-shared/inputs.js';

export interface SnapshotInputs {
  /** The RDS instance or Aurora cluster to snapshot. */
  target: DbTarget;
  /** AWS region of the source. */
  region: string;
  /** The snapshot's name, `{timestamp}` expanded (UTC YYYYMMDD-HHMMSS). */
  snapshotIdentifier: string;
  /** Why, as typed by the person who asked: cleaned into a tag, verbatim in the summary. */
  reason?: string;
  /** Extra `key=value` tags, already checked against RDS's tag rules. */
  tags: Tag[];
  /** Wait until the snapshot is available (else return once AWS accepted it). */
  wait: boolean;
  /** How long to wait, in ms. */
  timeoutMs: number;
  /** Time between two status checks while waiting, in ms. */
  pollIntervalMs: number;
}

export function getInputs(now: Date): SnapshotInputs {
  const target = getTarget();
  const snapshotIdentifier = expandSnapshotIdentifier(
    getString('snapshot-identifier') ?? DEFAULT_SNAPSHOT_IDENTIFIER,
    now,
  );
  checkIdentifier(
    'snapshot-identifier',
    target.kind === 'instance' ? 'DB snapshot' : 'DB cluster snapshot',
    snapshotIdentifier,
  );
  const { tags, problems } = parseTagLines(getLines('tags'));
  if (problems.length) {
    throw new ConfigurationError(
      `Input "tags" breaks RDS's tag rules (keys up to 128 and values up to 256 characters; letters, digits, spaces and _ . : / = + - @ only): ${problems.join('; ')}.`,
    );
  }
  return {
    target,
    region: getRegion(),
    snapshotIdentifier,
    reason: getString('reason'),
    tags,
    wait: getBoolean('wait', true),
    timeoutMs: getTimeout(),
    pollIntervalMs: getPollInterval(),
  };
}
