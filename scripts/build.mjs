// Bundles each action with ncc: src/actions/<name>/index.ts -> dist/<name>/index.js.
// `node scripts/build.mjs` builds every action; `node scripts/build.mjs rollback smoke` builds those.
// dist/ is committed, and CI fails when a clean rebuild differs from it, so the output
// must be deterministic: no timestamps, no absolute paths, no source maps.
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const actionsDir = path.join(root, 'src', 'actions');

/** Files an action needs beside its bundle at run time, that ncc cannot see. */
const extraFiles = {
  rollback: ['node_modules/libpg-query/wasm/libpg-query.wasm'],
};

const all = fs
  .readdirSync(actionsDir)
  .filter((name) => fs.existsSync(path.join(actionsDir, name, 'index.ts')))
  .sort();
const wanted = process.argv.slice(2);
for (const name of wanted) {
  if (!all.includes(name)) {
    console.error(`Unknown action "${name}". Valid values are: [${all.join(', ')}].`);
    process.exit(2);
  }
}

for (const name of wanted.length ? wanted : all) {
  const out = path.join(root, 'dist', name);
  fs.rmSync(out, { recursive: true, force: true });
  const started = Date.now();
  execFileSync(
    process.execPath,
    [path.join(root, 'node_modules/@vercel/ncc/dist/ncc/cli.js'), 'build', path.join(actionsDir, name, 'index.ts'), '-o', out, '--license', 'licenses.txt', '--quiet'],
    { cwd: root, stdio: 'inherit' },
  );
  for (const file of extraFiles[name] ?? []) fs.copyFileSync(path.join(root, file), path.join(out, path.basename(file)));
  console.log(`built dist/${name} in ${((Date.now() - started) / 1000).toFixed(1)}s`);
}
