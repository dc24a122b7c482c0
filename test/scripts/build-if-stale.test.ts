import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { node24, repoRoot } from '../helpers/run-bundle.js';

// scripts/build.mjs --if-stale is what keeps the bundle tests from running a stale dist/
// (test/helpers/run-bundle.ts ensureBundle). Run on a throwaway project holding the real script,
// the real tsconfig, lockfile and node_modules (ncc) and one tiny action, so editing a source here
// touches nothing of this repository; its stamps go to a temporary BUNDLE_STAMP_DIR.
describe('scripts/build.mjs --if-stale', () => {
  let project: string;
  let stamps: string;
  const greeting = () => path.join(project, 'src/common/greeting.ts');
  const bundle = () => path.join(project, 'dist/tiny/index.js');

  beforeAll(() => {
    project = fs.mkdtempSync(path.join(os.tmpdir(), 'build-if-stale-'));
    stamps = fs.mkdtempSync(path.join(os.tmpdir(), 'build-stamps-'));
    fs.mkdirSync(path.join(project, 'scripts'));
    for (const file of ['scripts/build.mjs', 'tsconfig.json', 'package-lock.json', 'package.json'])
      fs.copyFileSync(path.join(repoRoot, file), path.join(project, file));
    fs.symlinkSync(path.join(repoRoot, 'node_modules'), path.join(project, 'node_modules'), 'dir');
    fs.mkdirSync(path.join(project, 'src/actions/tiny'), { recursive: true });
    fs.mkdirSync(path.join(project, 'src/common'));
    fs.writeFileSync(
      path.join(project, 'src/actions/tiny/index.ts'),
      "import { greeting } from '../../common/greeting.js';\n\nconsole.log(greeting);\n",
    );
    fs.writeFileSync(greeting(), "export const greeting = 'first build';\n");
  });
  afterAll(() => {
    fs.rmSync(project, { recursive: true, force: true });
    fs.rmSync(stamps, { recursive: true, force: true });
  });

  const build = () =>
    execFileSync(process.execPath, [path.join(project, 'scripts/build.mjs'), '--if-stale', 'tiny'], {
      cwd: project,
      env: { ...process.env, BUNDLE_STAMP_DIR: stamps },
      encoding: 'utf8',
    });
  const runBuilt = () => execFileSync(node24, [bundle()], { encoding: 'utf8' }).trim();

  it('builds a bundle it has no stamp for, skips it while nothing changed, and rebuilds it when a source it imports changes', () => {
    expect(build()).toMatch(/^built dist\/tiny in /m);
    expect(runBuilt()).toBe('first build');
    const built = fs.statSync(bundle()).mtimeMs;

    expect(build()).toBe('');
    expect(fs.statSync(bundle()).mtimeMs).toBe(built);

    // Only the imported module changes, not the entry: the script follows the imports.
    fs.writeFileSync(greeting(), "export const greeting = 'second build';\n");
    expect(build()).toMatch(/^built dist\/tiny in /m);
    expect(runBuilt()).toBe('second build');
    expect(build()).toBe('');
  });

  it('rebuilds a bundle edited by hand although its sources did not change', () => {
    fs.appendFileSync(bundle(), '\nconsole.log("edited by hand");\n');
    expect(build()).toMatch(/^built dist\/tiny in /m);
    expect(runBuilt()).toBe('second build');
  });
});
