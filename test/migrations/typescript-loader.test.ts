import { execFileSync } from 'node:child_process';
import path from 'node:path';
import { node24, repoRoot } from '../helpers/run-bundle.js';

// Jest's sandbox refuses module hooks, so the real loader (sucrase through
// module.registerHooks) is exercised in a Node 24 process of its own.
function loadOutside(file: string): { result: string; config?: unknown } {
  const script = `
    import { loadMigrationModule } from ${JSON.stringify(path.join(repoRoot, 'src/migrations/source.ts'))};
    const migration = await loadMigrationModule(${JSON.stringify(file)});
    console.log(JSON.stringify({ result: await migration.up({}), config: migration.config }));
  `;
  const out = execFileSync(
    node24,
    ['--import', path.join(repoRoot, 'scripts/register-ts.mjs'), '--input-type=module', '-e', script],
    {
      cwd: '/',
      encoding: 'utf8',
    },
  );
  return JSON.parse(out.trim().split('\n').pop()!) as { result: string; config?: unknown };
}

const fixtures = path.join(repoRoot, 'test/fixtures/module-formats');

describe('the TypeScript migration loader on Node 24', () => {
  it("compiles a CommonJS project's .ts migration with enums, type-only Knex import and an extensionless import", () => {
    expect(loadOutside(path.join(fixtures, 'commonjs-project/migrations/001_a.ts'))).toEqual({
      result: 'widgets:retired:object:function',
      config: { transaction: false },
    });
  });

  it("loads an ESM project's .ts migration importing a .ts helper as .js", () => {
    expect(loadOutside(path.join(fixtures, 'esm-project/migrations/001_b.ts')).result).toBe('esm ts:H:object');
  });

  it('loads .mjs and CommonJS .js migrations', () => {
    expect(loadOutside(path.join(fixtures, 'esm-project/migrations/002_c.mjs')).result).toBe('esm mjs');
    expect(loadOutside(path.join(fixtures, 'commonjs-project/migrations/002_d.js')).result).toBe('commonjs js');
  });

  it('loads every ticket-service migration', () => {
    const dir = path.join(repoRoot, 'test/fixtures/ticket-service/migrations');
    const script = `
      import fs from 'node:fs';
      import { loadMigrationModule } from ${JSON.stringify(path.join(repoRoot, 'src/migrations/source.ts'))};
      const names = [];
      for (const name of fs.readdirSync(${JSON.stringify(dir)}).sort()) {
        const m = await loadMigrationModule(${JSON.stringify(dir)} + '/' + name);
        if (typeof m.up === 'function' && typeof m.down === 'function') names.push(name);
      }
      console.log(JSON.stringify(names));
    `;
    const out = execFileSync(
      node24,
      ['--import', path.join(repoRoot, 'scripts/register-ts.mjs'), '--input-type=module', '-e', script],
      { encoding: 'utf8' },
    );
    expect(JSON.parse(out)).toHaveLength(7);
  });
});
