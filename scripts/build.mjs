// Bundles each action with ncc: src/actions/<name>/index.ts -> dist/<name>/index.js.
// `node scripts/build.mjs` builds every action; `node scripts/build.mjs rollback smoke` builds those.
// dist/ is committed, and CI fails when a clean rebuild differs from it, so the output
// must be deterministic: no timestamps, no absolute paths, no source maps.
/* global process, console */
import { spawn } from 'node:child_process';
import os from 'node:os';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const actionsDir = path.join(root, 'src', 'actions');

/**
 * Files an action needs beside its bundle at run time, that ncc cannot see: a path, or
 * [path, name in dist/<action>/]. The SQL classifier runs libpg-query's glue in a child
 * process (src/sql/parser-process.ts); it is CommonJS, hence .cjs beside our ESM bundle.
 */
const libpgQuery = [
  'node_modules/libpg-query/wasm/libpg-query.wasm',
  ['node_modules/libpg-query/wasm/libpg-query.js', 'libpg-query.cjs'],
  ['node_modules/libpg-query/LICENSE', 'libpg-query.LICENSE'],
];
const extraFiles = {
  rollback: libpgQuery,
  'verify-reversible': libpgQuery,
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

// Bundles build side by side, one per core. (ncc's --transpile-only would skip its type
// check, but its isolated transpile emits CommonJS requires of ESM-only packages here.)
// Each bundle is written beside dist/<name> and swapped in only when complete, so an
// interrupted build (a timeout, Ctrl-C) leaves the committed dist/ as it was.
async function build(name) {
  const final = path.join(root, 'dist', name);
  const out = path.join(root, 'dist', `.${name}.partial`);
  fs.rmSync(out, { recursive: true, force: true });
  const started = Date.now();
  const args = [
    path.join(root, 'node_modules/@vercel/ncc/dist/ncc/cli.js'),
    'build',
    path.join(actionsDir, name, 'index.ts'),
    '-o',
    out,
    '--license',
    'licenses.txt',
    '--quiet',
  ];
  const code = await new Promise((resolve) =>
    spawn(process.execPath, args, { cwd: root, stdio: 'inherit' }).on('close', resolve),
  );
  if (code !== 0) throw new Error(`ncc failed for ${name} (exit ${code})`);
  for (const file of extraFiles[name] ?? []) {
    const [from, to] = Array.isArray(file) ? file : [file, path.basename(file)];
    fs.copyFileSync(path.join(root, from), path.join(out, to));
  }
  fs.rmSync(final, { recursive: true, force: true });
  fs.renameSync(out, final);
  console.log(`built dist/${name} in ${((Date.now() - started) / 1000).toFixed(1)}s`);
}

const queue = [...(wanted.length ? wanted : all)];
const workers = Math.max(1, Math.min(os.availableParallelism?.() ?? os.cpus().length, queue.length));
try {
  await Promise.all(
    Array.from({ length: workers }, async () => {
      for (let name = queue.shift(); name; name = queue.shift()) await build(name);
    }),
  );
} catch (error) {
  console.error(error instanceof Error ? error.message : String(error));
  process.exitCode = 1;
}
