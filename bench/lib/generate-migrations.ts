// Writes a corpus of TypeScript Knex migrations for the benchmarks (rollback and
// verify-reversible share it). The corpus is deterministic: the same count always gives
// the same files, byte for byte, so figures from different runs compare like for like.
//
// Migrations come in groups of six around one table, so every kind of object the runbook's
// migrations create shows up in proportion and each down() only touches what its own up()
// made (rolling back in reverse order never meets a dependency it did not expect):
//   0 table (knex.schema builder, with an index and a foreign key to the previous table)
//   1 enum type (from a TypeScript enum) and a column of that type
//   2 row-level security enabled and forced, and a policy
//   3 view
//   4 trigger function and trigger
//   5 indexes (a plain and a partial one)
// Every down() is one knex.raw per statement, in exactly the order of `downSql`, so the
// same SQL can be replayed by psql as the floor of the rollback benchmark.
import fs from 'node:fs';
import path from 'node:path';

export interface GenerateMigrationsOptions {
  /** How many migrations to write; 200 when not given. */
  count?: number;
}

export interface GeneratedMigrations {
  /** Absolute paths of the migration files, in file-name (that is, Knex's) order. */
  files: string[];
  /** Per migration, in file order: the exact SQL its down() runs, statements separated by ";\n" and ending in ";". */
  downSql: string[];
}

const KINDS = ['table', 'enum', 'rls', 'view', 'trigger', 'index'] as const;

interface Migration {
  name: string;
  source: string;
  down: string[];
}

/**
 * Writes the migrations into `dir` (created if missing; files already there are left alone,
 * so give it an empty directory) and returns their paths and down SQL.
 */
export function generateMigrations(dir: string, options: GenerateMigrationsOptions = {}): GeneratedMigrations {
  const count = options.count ?? 200;
  if (!Number.isInteger(count) || count < 1) throw new Error(`count must be a positive integer, got ${count}`);
  fs.mkdirSync(dir, { recursive: true });
  const width = Math.max(4, String(count).length);
  const files: string[] = [];
  const downSql: string[] = [];
  for (let index = 0; index < count; index += 1) {
    const migration = build(index);
    const file = path.resolve(dir, `${String(index + 1).padStart(width, '0')}_${migration.name}.ts`);
    fs.writeFileSync(file, migration.source);
    files.push(file);
    downSql.push(migration.down.map((statement) => `${statement};`).join('\n'));
  }
  return { files, downSql };
}

function build(index: number): Migration {
  const group = Math.floor(index / KINDS.length);
  const kind = KINDS[index % KINDS.length];
  const table = `bench_t${group}`;
  switch (kind) {
    case 'table':
      return tableMigration(group, table);
    case 'enum':
      return enumMigration(group, table);
    case 'rls':
      return rlsMigration(table);
    case 'view':
      return viewMigration(table);
    case 'trigger':
      return triggerMigration(table);
    case 'index':
      return indexMigration(table);
  }
}

const header = "import { Knex } from 'knex';\n";

function downFunction(statements: string[]): string {
  const calls = statements.map((statement) => `  await knex.raw(${JSON.stringify(statement)});`).join('\n');
  return `export async function down(knex: Knex): Promise<void> {\n${calls}\n}\n`;
}

function tableMigration(group: number, table: string): Migration {
  // A foreign key to the previous group's table makes the reverse order matter, as in real projects.
  const reference =
    group > 0
      ? `    table.bigInteger('parent_id').references('id').inTable('bench_t${group - 1}').onDelete('SET NULL');\n`
      : '';
  const down = [`DROP TABLE ${table}`];
  const source = `${header}
export async function up(knex: Knex): Promise<void> {
  await knex.schema.createTable('${table}', (table) => {
    table.bigIncrements('id');
    table.uuid('tenant_id').notNullable();
    table.string('name', 200).notNullable();
    table.integer('quantity').notNullable().defaultTo(0);
${reference}    table.timestamp('updated_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
    table.index(['tenant_id', 'name']);
  });
}

${downFunction(down)}`;
  return { name: `create_${table}`, source, down };
}

function enumMigration(group: number, table: string): Migration {
  const type = `bench_state_${group}`;
  const down = [`ALTER TABLE ${table} DROP COLUMN state`, `DROP TYPE ${type}`];
  const source = `${header}
enum State {
  Draft = 'draft',
  Active = 'active',
  Archived = 'archived',
}

export async function up(knex: Knex): Promise<void> {
  const labels = Object.values(State).map((label) => \`'\${label}'\`).join(', ');
  await knex.raw(\`CREATE TYPE ${type} AS ENUM (\${labels})\`);
  await knex.raw(\`ALTER TABLE ${table} ADD COLUMN state ${type} NOT NULL DEFAULT '\${State.Draft}'\`);
}

${downFunction(down)}`;
  return { name: `add_${type}`, source, down };
}

function rlsMigration(table: string): Migration {
  const policy = `${table}_tenant_isolation`;
  const down = [
    `DROP POLICY ${policy} ON ${table}`,
    `ALTER TABLE ${table} NO FORCE ROW LEVEL SECURITY`,
    `ALTER TABLE ${table} DISABLE ROW LEVEL SECURITY`,
  ];
  const source = `${header}
export async function up(knex: Knex): Promise<void> {
  await knex.raw('ALTER TABLE ${table} ENABLE ROW LEVEL SECURITY');
  await knex.raw('ALTER TABLE ${table} FORCE ROW LEVEL SECURITY');
  await knex.raw(
    "CREATE POLICY ${policy} ON ${table} USING (tenant_id = current_setting('app.current_tenant_id', true)::uuid)",
  );
}

${downFunction(down)}`;
  return { name: `enable_rls_${table}`, source, down };
}

function viewMigration(table: string): Migration {
  const view = `${table}_active`;
  const down = [`DROP VIEW ${view}`];
  const source = `${header}
export async function up(knex: Knex): Promise<void> {
  await knex.raw(
    "CREATE VIEW ${view} AS SELECT id, tenant_id, name, quantity FROM ${table} WHERE state = 'active'",
  );
}

${downFunction(down)}`;
  return { name: `create_view_${view}`, source, down };
}

function triggerMigration(table: string): Migration {
  const fn = `${table}_touch`;
  const trigger = `${table}_touch_updated_at`;
  const down = [`DROP TRIGGER ${trigger} ON ${table}`, `DROP FUNCTION ${fn}()`];
  const source = `${header}
export async function up(knex: Knex): Promise<void> {
  await knex.raw(\`
    CREATE FUNCTION ${fn}() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
      NEW.updated_at := now();
      RETURN NEW;
    END
    $$\`);
  await knex.raw('CREATE TRIGGER ${trigger} BEFORE UPDATE ON ${table} FOR EACH ROW EXECUTE FUNCTION ${fn}()');
}

${downFunction(down)}`;
  return { name: `add_trigger_${trigger}`, source, down };
}

function indexMigration(table: string): Migration {
  const down = [`DROP INDEX ${table}_updated_at_idx`, `DROP INDEX ${table}_active_name_idx`];
  const source = `${header}
export async function up(knex: Knex): Promise<void> {
  await knex.schema.alterTable('${table}', (table) => {
    table.index(['updated_at'], '${table}_updated_at_idx');
  });
  await knex.raw("CREATE INDEX ${table}_active_name_idx ON ${table} (name) WHERE state = 'active'");
}

${downFunction(down)}`;
  return { name: `add_indexes_${table}`, source, down };
}
