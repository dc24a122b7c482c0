// mode prune-data: drops the copies older than a given age, with their catalog rows, in one
// transaction, and lists what it dropped. A dry run lists without dropping.
import type { Session } from '../migrations/lock.js';
import { catalogExists, catalogSql, copySql } from './store.js';
import type { PruneReport } from './types.js';

export async function pruneData(
  session: Session,
  schema: string,
  olderThanMs: number,
  dryRun: boolean,
): Promise<PruneReport> {
  const report: PruneReport = { schema, olderThanMs, dropped: [] };
  if (!(await catalogExists(session, schema))) return report;
  await session.query('BEGIN');
  try {
    const { rows } = await session.query<{
      preserve_id: string;
      copy_table: string;
      source: string;
      created_at: Date;
      bytes: string;
    }>(
      `SELECT preserve_id, copy_table, source_schema || '.' || source_table AS source, created_at, bytes
         FROM ${catalogSql(schema)}
        WHERE created_at < now() - make_interval(secs => $1::float8 / 1000)
        ORDER BY created_at, preserve_id, position
        FOR UPDATE`,
      [olderThanMs],
    );
    for (const row of rows) {
      if (!dryRun) await session.query(`DROP TABLE IF EXISTS ${copySql(schema, row.copy_table)}`);
      report.dropped.push({
        id: row.preserve_id,
        copy: row.copy_table,
        source: row.source,
        createdAt: row.created_at.toISOString(),
        bytes: Number(row.bytes),
      });
    }
    if (!dryRun && rows.length > 0)
      await session.query(
        `DELETE FROM ${catalogSql(schema)} WHERE (preserve_id, copy_table) IN (SELECT * FROM unnest($1::text[], $2::text[]))`,
        [rows.map((row) => row.preserve_id), rows.map((row) => row.copy_table)],
      );
    await session.query(dryRun ? 'ROLLBACK' : 'COMMIT');
    return report;
  } catch (error) {
    await session.query('ROLLBACK').catch(() => undefined);
    throw error;
  }
}
