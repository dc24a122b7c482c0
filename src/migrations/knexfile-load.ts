import { createRequire } from 'node:module';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { withKnexfileEnv } from './knexfile-env.js';
import { registerTypeScriptLoader, RETRY_PARAMETER } from './typescript-loader.js';

// A knexfile often validates its connection settings while it loads (`if (!process.env.DB_HOST)
// throw ...`, envalid's cleanEnv, a zod schema), and the runner that plans a rollback has none of
// them: this suite takes the connection from database-url and reads only the migrations block. So
// a knexfile that throws is loaded once more, as a fresh module, with every unset variable it reads
// answered by a placeholder. Its connection is then made of placeholders, which is harmless
// because nothing ever connects with it; the migrations block does not depend on them in practice.

/** Unset and left unset: Knex itself selects the environment by it, and a knexfile indexing by it should see what Knex sees. */
const NEVER_PLACEHOLDER = new Set(['NODE_ENV']);

export interface LoadedKnexfile {
  /** The export: default or module.exports, called when it is a function, awaited when a promise. */
  config: unknown;
  /** The unset environment variables the knexfile read as placeholders, in the order read (empty when it loaded as is). */
  placeholders: string[];
  /** The knexfile-env names that were unset, so set while it loaded (and removed after). */
  fromInput: string[];
}

let retries = 0;

/**
 * Loads a knexfile the way the Knex CLI does. When that throws (or the knexfile calls process.exit,
 * as envalid does on a missing variable), loads it again with placeholders for the unset variables
 * it reads; when that throws too, or read none, the first error stands. `variables` (knexfile-env)
 * are set, where unset, for both loads and for no longer.
 */
export async function loadKnexfile(
  absolute: string,
  variables: Readonly<Record<string, string>> = {},
): Promise<LoadedKnexfile> {
  // Registered for JavaScript knexfiles too: the hooks mark a retry's local imports as fresh.
  registerTypeScriptLoader();
  const { value, set } = await withKnexfileEnv(variables, () => loadWithPlaceholderRetry(absolute));
  return { ...value, fromInput: set };
}

async function loadWithPlaceholderRetry(absolute: string): Promise<Omit<LoadedKnexfile, 'fromInput'>> {
  const cache = createRequire(absolute).cache;
  const before = new Set(Object.keys(cache));
  const url = pathToFileURL(absolute);
  try {
    return { config: await withExitAsError(() => evaluate(url.href)), placeholders: [] };
  } catch (error) {
    // CommonJS modules that loaded before the throw hold what they read from process.env: forget them.
    for (const id of Object.keys(cache)) {
      if (!before.has(id) && !id.split(path.sep).includes('node_modules')) delete cache[id];
    }
    url.searchParams.set(RETRY_PARAMETER, String(++retries));
    const read: string[] = [];
    let config: unknown;
    try {
      config = await withPlaceholders(read, () => withExitAsError(() => evaluate(url.href)));
    } catch {
      throw error;
    }
    if (read.length === 0) throw error;
    return { config, placeholders: read };
  }
}

async function evaluate(href: string): Promise<unknown> {
  let loaded = (await import(/* webpackIgnore: true */ href)) as Record<string, unknown>;
  // CommonJS arrives as { default: module.exports }; a transpiled ESM default may be nested once more.
  let config: unknown = loaded.default ?? loaded;
  if (config && typeof config === 'object' && 'default' in config && !('migrations' in config)) {
    loaded = config;
    config = loaded.default ?? config;
  }
  if (typeof config === 'function') config = await (config as () => unknown)();
  // `module.exports = loadConfig()`: an exported promise, as the Knex CLI awaits it.
  if (isThenable(config)) config = await config;
  return config;
}

function isThenable(value: unknown): value is PromiseLike<unknown> {
  return typeof (value as { then?: unknown } | null)?.then === 'function';
}

/** Runs the load with process.exit throwing instead of ending the action (envalid exits on a missing variable). */
async function withExitAsError<T>(load: () => Promise<T>): Promise<T> {
  const exit = Reflect.get<typeof process, 'exit'>(process, 'exit');
  process.exit = (code?: number | string | null) => {
    throw new Error(`it called process.exit(${code ?? ''})`);
  };
  try {
    return await load();
  } finally {
    process.exit = exit;
  }
}

/**
 * Runs the load with process.env answering every unset name with a placeholder, recording the
 * names (never values) in `read`; the real process.env is back afterwards, also when the load throws.
 * Nothing else runs in the action while the knexfile loads, so no other code sees the placeholders.
 */
async function withPlaceholders<T>(read: string[], load: () => Promise<T>): Promise<T> {
  const real = process.env;
  process.env = new Proxy(real, {
    get(target, name) {
      if (typeof name !== 'string' || name in target || NEVER_PLACEHOLDER.has(name) || readByNode())
        return Reflect.get(target, name) as unknown;
      if (!read.includes(name)) read.push(name);
      return placeholderFor(name);
    },
  });
  try {
    return await load();
  } finally {
    process.env = real;
  }
}

/**
 * Whether Node itself reads the variable (its module loader reads WATCH_REPORT_DEPENDENCIES while
 * importing): Node must see the real environment, and the name is none of the knexfile's.
 */
function readByNode(): boolean {
  // Line 0 is the message, 1 this function, 2 the proxy's get, 3 whoever read process.env.
  const caller = new Error().stack?.split('\n')[3] ?? '';
  return /\(node:|at node:/.test(caller);
}

/**
 * A value that passes the usual validators for the name (envalid's port(), host() and url(), zod's
 * .url()), else a plain word. `.invalid` is reserved (RFC 2606): no such host can ever resolve.
 */
export function placeholderFor(name: string): string {
  if (/PORT$/i.test(name)) return '5432';
  if (/HOST(NAME)?$/i.test(name)) return 'placeholder.invalid';
  if (/(URL|URI|DSN)$/i.test(name)) return 'postgres://placeholder:placeholder@placeholder.invalid:5432/placeholder';
  return 'placeholder';
}
