import type { TestDatabase } from './database.js';

/**
 * What `pg_dump --schema-only` would show, read from the catalogs by SQL, plus every table's
 * row count and every sequence's value. (Debian's pg_dump 15 refuses the newer embedded server,
 * so the comparison is made in SQL.) Two snapshots are equal when nothing a down() could have
 * changed did: relations and their columns, functions, types, policies, rules, triggers and
 * their enabled state, grants (ACLs), row-level security flags, and Knex's own tables' rows.
 */
export async function catalogSnapshot(db: TestDatabase): Promise<Record<string, unknown>> {
  const user = "n.nspname NOT IN ('pg_catalog', 'information_schema', 'pg_toast') AND n.nspname NOT LIKE 'pg_temp%'";
  const relations = await db.query<{ name: string; kind: string; acl: string | null; rls: boolean }>(
    `SELECT n.nspname || '.' || c.relname AS name, c.relkind AS kind, c.relacl::text AS acl,
            c.relrowsecurity AS rls
       FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE ${user} ORDER BY 1`,
  );
  const columns = await db.query(
    `SELECT c.relname, a.attname, format_type(a.atttypid, a.atttypmod) AS type, a.attnotnull,
            pg_get_expr(d.adbin, d.adrelid) AS default
       FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid JOIN pg_namespace n ON n.oid = c.relnamespace
       LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
      WHERE ${user} AND a.attnum > 0 AND NOT a.attisdropped ORDER BY 1, 2`,
  );
  const functions = await db.query(
    `SELECT p.oid::regprocedure::text AS name, md5(p.prosrc) AS body, p.proacl::text AS acl
       FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace WHERE ${user} ORDER BY 1`,
  );
  const types = await db.query(
    `SELECT t.typname, string_agg(e.enumlabel, ',' ORDER BY e.enumsortorder) AS labels
       FROM pg_type t JOIN pg_namespace n ON n.oid = t.typnamespace LEFT JOIN pg_enum e ON e.enumtypid = t.oid
      WHERE ${user} AND t.typtype IN ('e', 'd', 'c') GROUP BY 1 ORDER BY 1`,
  );
  const policies = await db.query(
    'SELECT tablename, policyname, permissive, roles::text, cmd, qual, with_check FROM pg_policies ORDER BY 1, 2',
  );
  const rules = await db.query(
    "SELECT tablename, rulename, definition FROM pg_rules WHERE schemaname NOT IN ('pg_catalog') ORDER BY 1, 2",
  );
  const triggers = await db.query(
    'SELECT tgrelid::regclass::text AS relation, tgname, tgenabled FROM pg_trigger WHERE NOT tgisinternal ORDER BY 1, 2',
  );
  const defaultAcls = await db.query(
    'SELECT defaclrole::regrole::text, defaclobjtype, defaclacl::text FROM pg_default_acl ORDER BY 1, 2',
  );
  const counts: Record<string, unknown> = {};
  for (const relation of relations) {
    if (relation.kind === 'r')
      counts[relation.name] = (
        await db.query<{ n: number }>(`SELECT count(*)::int AS n FROM ${quoted(relation.name)}`)
      )[0].n;
    if (relation.kind === 'S')
      counts[relation.name] = (await db.query(`SELECT last_value, is_called FROM ${quoted(relation.name)}`))[0];
  }
  const knex = relations.some((relation) => relation.name === 'public.knex_migrations')
    ? {
        migrations: await db.query('SELECT name, batch FROM knex_migrations ORDER BY id'),
        lock: await db.query('SELECT is_locked FROM knex_migrations_lock'),
      }
    : {};
  return { relations, columns, functions, types, policies, rules, triggers, defaultAcls, counts, knex };
}

function quoted(name: string): string {
  return name
    .split('.')
    .map((part) => `"${part.replace(/"/g, '""')}"`)
    .join('.');
}
