import crypto from 'node:crypto';
import type { PlannedMigration } from './plan.js';

/** What the fingerprint covers for one planned migration. */
export interface FingerprintEntry {
  migration: PlannedMigration;
  /** The migration file's bytes (undefined when the file is missing). */
  content: Buffer | undefined;
}

/**
 * A hash over the rows to undo (id, name, batch, time applied, order) and the content of
 * their files. A plan reviewed earlier is only run if nothing it depends on changed:
 * a newly applied migration changes the rows, an edited file changes the content hash.
 */
export function planFingerprint(entries: readonly FingerprintEntry[]): string {
  const canonical = entries.map(({ migration, content }) => ({
    id: migration.id,
    name: migration.name,
    batch: migration.batch,
    migrationTime: migration.migrationTime,
    transaction: migration.transaction,
    file: content ? crypto.createHash('sha256').update(content).digest('hex') : null,
  }));
  return crypto
    .createHash('sha256')
    .update(JSON.stringify({ version: 1, migrations: canonical }))
    .digest('hex');
}

export const FINGERPRINT_PATTERN = /^[0-9a-f]{64}$/;
