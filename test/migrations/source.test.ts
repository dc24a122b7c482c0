import path from 'node:path';
import { listMigrationFiles } from '../../src/migrations/source.js';
import { repoRoot } from '../helpers/run-bundle.js';

const fixtures = path.join(repoRoot, 'test/fixtures/module-formats');

describe('listMigrationFiles', () => {
  it('sorts by file name across directories, as Knex does', () => {
    const files = listMigrationFiles([
      path.join(fixtures, 'esm-project/migrations'),
      path.join(fixtures, 'commonjs-project/migrations'),
    ]);
    expect(files.map((file) => file.name)).toEqual(['001_a.ts', '001_b.ts', '002_c.mjs', '002_d.js']);
  });

  it('keeps directory order with sortDirsSeparately', () => {
    const files = listMigrationFiles(
      [path.join(fixtures, 'esm-project/migrations'), path.join(fixtures, 'commonjs-project/migrations')],
      { sortDirsSeparately: true },
    );
    expect(files.map((file) => file.name)).toEqual(['001_b.ts', '002_c.mjs', '001_a.ts', '002_d.js']);
  });

  it('filters by loadExtensions', () => {
    const files = listMigrationFiles([path.join(fixtures, 'esm-project/migrations')], { loadExtensions: ['.mjs'] });
    expect(files.map((file) => file.name)).toEqual(['002_c.mjs']);
  });

  it('names a missing directory', () => {
    expect(() => listMigrationFiles(['/nonexistent/migrations'])).toThrow(
      'Migrations directory "/nonexistent/migrations" does not exist',
    );
  });
});
