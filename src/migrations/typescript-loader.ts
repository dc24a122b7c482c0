import fs from 'node:fs';
import module from 'node:module';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { transform } from 'sucrase';
import { recordDependency } from './local-code.js';

// Knex projects write migrations in TypeScript and run them with ts-node. The runner
// has no ts-node, and Node 24's own type stripping rejects what typical migrations
// contain (enums, `import { Knex } from 'knex'` used only as a type under
// verbatim-module rules). So the action carries a pure-JS transpiler (sucrase) and
// teaches Node's loader, in-thread through module.registerHooks, to load .ts files:
// as CommonJS, the way ts-node compiles them, unless the caller's package is
// "type": "module" or the file is .mts. The files stay where they are, so their own
// imports resolve from the caller's repository. The same hooks record which file loads
// which (local-code.ts), for every migration, TypeScript or not.

const TYPESCRIPT = /\.(c|m)?ts$/;
/** Marks a knexfile's retry and the local modules it imports, so they load afresh (see freshForRetry). */
export const RETRY_PARAMETER = 'knexfile-retry';
let registered = false;
let active = false;

/**
 * Teaches this process to load TypeScript. Returns whether our hooks are in charge: false
 * under a host with a module system of its own (jest's runtime), which compiles TypeScript
 * itself and must be left to load the files.
 */
export function registerTypeScriptLoader(): boolean {
  if (registered) return active;
  registered = true;
  if (typeof module.registerHooks !== 'function') {
    throw new Error(`Loading TypeScript migrations needs Node.js 22.15 or newer (running ${process.version}).`);
  }
  try {
    installHooks();
    active = true;
  } catch (error) {
    if (
      (error as NodeJS.ErrnoException).code !== 'ERR_HOOKS_UNSUPPORTED' &&
      !/not supported|unsupported/i.test(String(error))
    )
      throw error;
  }
  return active;
}

function installHooks(): void {
  module.registerHooks({
    resolve(specifier, context, nextResolve) {
      let resolved;
      try {
        resolved = nextResolve(specifier, context);
      } catch (error) {
        const alternative = typeScriptAlternative(specifier, context.parentURL);
        if (!alternative) throw error;
        resolved = { url: alternative, shortCircuit: true };
      }
      // What each file loads is what the plan fingerprint covers (local-code.ts).
      recordDependency(context.parentURL, resolved.url);
      return freshForRetry(resolved, context.parentURL);
    },
    load(url, context, nextLoad) {
      if (!url.startsWith('file:') || !TYPESCRIPT.test(new URL(url).pathname)) return nextLoad(url, context);
      const file = fileURLToPath(url);
      const format = typeScriptFormat(file);
      // CommonJS without a source goes to the CommonJS loader, and so to the extension
      // handler below. Handing it the compiled source instead would make Node 24 run its
      // own type stripper over the already-compiled JavaScript: a second parse per file.
      if (format === 'commonjs') return { format, shortCircuit: true };
      return { format, source: compileTypeScript(fs.readFileSync(file, 'utf8'), file, format), shortCircuit: true };
    },
  });
  const extensions = (module as unknown as { _extensions: Record<string, CommonJsHandler> })._extensions;
  for (const extension of ['.ts', '.cts']) {
    const previous = extensions[extension];
    extensions[extension] = (loading, filename) => {
      if (typeScriptFormat(filename) !== 'commonjs' && previous) return previous(loading, filename);
      loading._compile(compileTypeScript(fs.readFileSync(filename, 'utf8'), filename, 'commonjs'), filename);
    };
  }
}

/**
 * A knexfile loaded again after it threw (knexfile-load.ts) carries a retry mark in its URL; the local
 * ES modules it imports get the same mark, so the loader evaluates them afresh instead of handing
 * back the module that threw (ESM keeps failed modules). Files in node_modules stay shared.
 */
function freshForRetry<T extends { url: string }>(resolved: T, parentURL: string | undefined): T {
  if (!parentURL?.startsWith('file:') || !resolved.url.startsWith('file:')) return resolved;
  const mark = new URL(parentURL).searchParams.get(RETRY_PARAMETER);
  if (!mark || fileURLToPath(resolved.url).split(path.sep).includes('node_modules')) return resolved;
  const url = new URL(resolved.url);
  url.searchParams.set(RETRY_PARAMETER, mark);
  return { ...resolved, url: url.href };
}

type CommonJsHandler = (loading: { _compile(code: string, filename: string): void }, filename: string) => void;

/** `./helper` or `./helper.js` written in a TypeScript file means `./helper.ts`, as tsc resolves it. */
function typeScriptAlternative(specifier: string, parentURL: string | undefined): string | undefined {
  if (!parentURL?.startsWith('file:')) return undefined;
  if (!(specifier.startsWith('.') || specifier.startsWith('/') || specifier.startsWith('file:'))) return undefined;
  const base = specifier.startsWith('file:')
    ? fileURLToPath(specifier)
    : path.resolve(path.dirname(fileURLToPath(parentURL)), specifier);
  const stem = base.replace(/\.(c|m)?js$/, '');
  const candidates = [`${stem}.ts`, `${stem}.mts`, `${stem}.cts`, path.join(base, 'index.ts')];
  const found = candidates.find((candidate) => fs.existsSync(candidate) && fs.statSync(candidate).isFile());
  return found ? pathToFileURL(found).href : undefined;
}

export function typeScriptFormat(file: string): 'module' | 'commonjs' {
  if (file.endsWith('.mts')) return 'module';
  if (file.endsWith('.cts')) return 'commonjs';
  return nearestPackageType(path.dirname(file)) === 'module' ? 'module' : 'commonjs';
}

const packageTypes = new Map<string, string | undefined>();

function nearestPackageType(directory: string): string | undefined {
  if (!packageTypes.has(directory)) packageTypes.set(directory, readPackageType(directory));
  return packageTypes.get(directory);
}

function readPackageType(directory: string): string | undefined {
  for (let dir = directory; ; dir = path.dirname(dir)) {
    const manifest = path.join(dir, 'package.json');
    if (fs.existsSync(manifest)) {
      try {
        return (JSON.parse(fs.readFileSync(manifest, 'utf8')) as { type?: string }).type ?? 'commonjs';
      } catch {
        return undefined;
      }
    }
    if (path.dirname(dir) === dir) return undefined;
  }
}

export function compileTypeScript(source: string, file: string, format: 'module' | 'commonjs'): string {
  return transform(source, {
    transforms: format === 'commonjs' ? ['typescript', 'imports'] : ['typescript'],
    filePath: file,
    // Keep line numbers so a stack trace points at the caller's own line.
    keepUnusedImports: false,
    disableESTransforms: true,
    production: true,
  }).code;
}
