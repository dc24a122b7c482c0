import { getBoolean, getDuration, getString } from '../common/inputs.js';
import type { DbTarget } from '../../rds/source.js';
import { checkSnapshotReference, getRegion, getTarget } from '../rds-shared/inputs.js';

export interface VerifyBackupInputs {
  /** The RDS instance or Aurora cluster whose backups are checked. */
  target: DbTarget;
  /** AWS region of the source. */
  region: string;
  /** The newest available automated snapshot (or the named one) must be younger than this, in ms. */
  maxAgeMs: number;
  /** Verify this one snapshot instead of the newest automated one. */
  snapshotIdentifier?: string;
  /** Also require point-in-time recovery: backups on and a restore window reaching to within max-restore-lag. */
  requirePitr: boolean;
  /** How far LatestRestorableTime may trail now, in ms. */
  maxRestoreLagMs: number;
}

export function getInputs(): VerifyBackupInputs {
  const target = getTarget();
  const snapshotIdentifier = getString('snapshot-identifier');
  if (snapshotIdentifier) checkSnapshotReference('snapshot-identifier', target.kind, snapshotIdentifier);
  return {
    target,
    region: getRegion(),
    maxAgeMs: getDuration('max-age', '24h', { min: 1 }),
    snapshotIdentifier,
    requirePitr: getBoolean('require-pitr', true),
    maxRestoreLagMs: getDuration('max-restore-lag', '15m', { min: 1 }),
  };
}
