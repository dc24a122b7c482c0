import crypto from 'node:crypto';
import fs from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

// Which of the caller's files a migration runs. A down() that imports a local helper
// (`import { TABLES } from '../lib/tables'`) changes its SQL when the helper changes, so the
// plan's fingerprint must cover the helper too. The files are recorded as Node loads them,
// not guessed from the source: the module hooks (typescript-loader.ts) report every
// resolution, and CommonJS modules carry their own `children`. Both are needed: the hooks
// see ESM imports and dynamic import(), but Node's CommonJS loader skips resolution (and so
// the hook) when a sibling module already required the same specifier, while `children`
// lists every module a CommonJS module required, cached or not.

const edges = new Map<string, Set<string>>();

/** Called by the loader's resolve hook: `parent` imported or required `child` (both file: URLs or paths). */
export function recordDependency(parent: string | undefined, child: string): void {
  const from = toPath(parent);
  const to = toPath(child);
  if (!from || !to || from === to) return;
  let children = edges.get(from);
  if (!children) edges.set(from, (children = new Set()));
  children.add(to);
}

function toPath(location: string | undefined): string | undefined {
  if (!location) return undefined;
  if (location.startsWith('file:')) return fileURLToPath(location);
  return path.isAbsolute(location) ? location : undefined;
}

interface CommonJsModule {
  children?: Array<{ id: string; filename?: string }>;
}

function commonJsChildren(file: string): string[] {
  const cache = createRequire(file).cache as Record<string, CommonJsModule | undefined>;
  return (cache[file]?.children ?? []).map((child) => child.filename ?? child.id).filter((id) => path.isAbsolute(id));
}

/** Outside node_modules: the caller's own code, which can change between a plan and its execution. */
export function isLocalCode(file: string): boolean {
  return !file.split(path.sep).includes('node_modules') && fs.existsSync(file) && fs.statSync(file).isFile();
}

/**
 * Every local file the given files loaded, directly or through other local files, so far in
 * this process: their own dependencies outside node_modules. The files themselves are left out.
 * Dependencies inside node_modules are not followed: they are versioned by the lockfile.
 */
export function localDependencies(files: readonly string[]): string[] {
  const start = new Set(files);
  const seen = new Set<string>();
  const queue = [...files];
  while (queue.length > 0) {
    const file = queue.shift()!;
    for (const child of [...(edges.get(file) ?? []), ...commonJsChildren(file)]) {
      if (seen.has(child) || start.has(child) || !isLocalCode(child)) continue;
      seen.add(child);
      queue.push(child);
    }
  }
  return [...seen].sort();
}

/** One local file the plan runs, by its path relative to the project and the hash of its bytes. */
export interface LocalCodeFile {
  path: string;
  sha256: string;
}

export function hashLocalCode(files: readonly string[], root: string): LocalCodeFile[] {
  return files
    .map((file) => ({
      // Relative, with forward slashes: the plan and execute jobs may check out to different paths.
      path: path.relative(root, file).split(path.sep).join('/'),
      sha256: crypto.createHash('sha256').update(fs.readFileSync(file)).digest('hex'),
    }))
    .sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
}
