// Bundles each action with ncc: src/actions/<name>/index.ts -> dist/<name>/index.js.
// `node scripts/build.mjs` builds every action; `node scripts/build.mjs rollback smoke` builds those;
// `--if-stale` builds only those whose sources changed since their last build (the bundle tests call
// it through test/helpers/run-bundle.ts, so they never run a stale dist/).
// dist/ is committed, and CI fails when a clean rebuild differs from it, so the output
// must be deterministic: no timestamps, no absolute paths, no source maps.
import { spawn } from 'node:child_process';
import crypto from 'node:crypto';
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
const ifStale = process.argv.includes('--if-stale');
const wanted = process.argv.slice(2).filter((arg) => arg !== '--if-stale');
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
  // Hashed before the build: a source edited while ncc runs leaves the stamp stale, not wrongly fresh.
  const sources = sourcesHash(name);
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
  writeStamp(name, { sources, bundle: bundleHash(name) });
  console.log(`built dist/${name} in ${((Date.now() - started) / 1000).toFixed(1)}s`);
}

// Freshness stamps live outside dist/ (under node_modules/.cache, never committed): a stamp says which
// sources the bundle on disk was built from. A bundle is fresh only when both the sources and the
// bundle itself still hash as the stamp says, so a hand-edited or checked-out dist/ is rebuilt too.
const stampDir = process.env.BUNDLE_STAMP_DIR ?? path.join(root, 'node_modules', '.cache', 'db-rollback-actions');
const shared = ['package-lock.json', 'tsconfig.json', 'scripts/build.mjs'];

/** Every file under src/ that the action's entry reaches through relative imports. */
function sourceFiles(name) {
  const seen = new Set();
  const pending = [path.join(actionsDir, name, 'index.ts')];
  const specifier = /(?:from\s*|import\s*\(\s*|require\s*\(\s*|^import\s+)['"](\.{1,2}\/[^'"]+)['"]/gm;
  while (pending.length) {
    const file = pending.pop();
    if (seen.has(file) || !fs.existsSync(file)) continue;
    seen.add(file);
    if (!/\.[cm]?[jt]s$/.test(file)) continue;
    for (const match of fs.readFileSync(file, 'utf8').matchAll(specifier)) {
      const target = path.resolve(path.dirname(file), match[1]);
      const typescript = target.replace(/\.([cm]?)js$/, '.$1ts');
      pending.push(fs.existsSync(typescript) ? typescript : target);
    }
  }
  return [...seen].sort();
}

function hashFiles(files, base) {
  const hash = crypto.createHash('sha256');
  for (const file of files) {
    hash.update(path.relative(base, file).split(path.sep).join('/'));
    hash.update('\0');
    hash.update(fs.readFileSync(file));
    hash.update('\0');
  }
  return hash.digest('hex');
}

function sourcesHash(name) {
  const extras = (extraFiles[name] ?? []).map((file) => path.join(root, Array.isArray(file) ? file[0] : file));
  return hashFiles([...shared.map((file) => path.join(root, file)), ...sourceFiles(name), ...extras], root);
}

function bundleHash(name) {
  const dir = path.join(root, 'dist', name);
  if (!fs.existsSync(dir)) return '';
  const files = fs
    .readdirSync(dir, { recursive: true })
    .map((file) => path.join(dir, String(file)))
    .filter((file) => fs.statSync(file).isFile())
    .sort();
  return hashFiles(files, dir);
}

const stampFile = (name) => path.join(stampDir, `${name}.json`);

function writeStamp(name, stamp) {
  fs.mkdirSync(stampDir, { recursive: true });
  fs.writeFileSync(stampFile(name), JSON.stringify(stamp));
}

function isFresh(name) {
  try {
    const stamp = JSON.parse(fs.readFileSync(stampFile(name), 'utf8'));
    return stamp.sources === sourcesHash(name) && stamp.bundle === bundleHash(name);
  } catch {
    return false;
  }
}

/**
 * Test files run side by side: one builds a bundle while the others that need it wait, then find
 * it fresh. The lock is a directory (mkdir is atomic); one left by a killed build expires.
 */
async function withLock(name, body) {
  fs.mkdirSync(stampDir, { recursive: true });
  const lock = path.join(stampDir, `${name}.lock`);
  for (;;) {
    try {
      fs.mkdirSync(lock);
      break;
    } catch (error) {
      if (error.code !== 'EEXIST') throw error;
      const age = Date.now() - (fs.statSync(lock, { throwIfNoEntry: false })?.mtimeMs ?? Date.now());
      if (age > 10 * 60_000) fs.rmSync(lock, { recursive: true, force: true });
      else await new Promise((resolve) => setTimeout(resolve, 250));
    }
  }
  try {
    return await body();
  } finally {
    fs.rmSync(lock, { recursive: true, force: true });
  }
}

async function buildIfStale(name) {
  if (isFresh(name)) return;
  await withLock(name, async () => {
    if (!isFresh(name)) await build(name);
  });
}

const queue = [...(wanted.length ? wanted : all)];
const workers = Math.max(1, Math.min(os.availableParallelism?.() ?? os.cpus().length, queue.length));
try {
  await Promise.all(
    Array.from({ length: workers }, async () => {
      for (let name = queue.shift(); name; name = queue.shift()) await (ifStale ? buildIfStale(name) : build(name));
    }),
  );
} catch (error) {
  console.error(error instanceof Error ? error.message : String(error));
  process.exitCode = 1;
}
