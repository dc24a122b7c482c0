import { ConfigurationError } from '../common/errors.js';

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
export function parseKnexfileEnv(text: string, input = 'knexfile-env'): Record<string, string> {
  const variables: Record<string, string> = {};
  const lineOf = new Map<string, number>();
  text.split(/\r?\n/).forEach((raw, index) => {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) return;
    const number = index + 1;
    const equals = line.indexOf('=');
    const name = equals === -1 ? '' : line.slice(0, equals).trim();
    if (!NAME.test(name)) {
      throw new ConfigurationError(
        `Input "${input}" line ${number} is not NAME=value (${equals === -1 ? 'no =' : 'the part before = is not a variable name'}). Write one variable a line, such as DB_POOL_MAX=10, where NAME is letters, digits and _ and does not start with a digit.`,
      );
    }
    const first = lineOf.get(name);
    if (first !== undefined) {
      throw new ConfigurationError(
        `Input "${input}" line ${number} sets ${name} again (first on line ${first}). Give each variable once.`,
      );
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
export function knexfileEnvSecrets(text: string): string[] {
  const secrets: string[] = [];
  for (const line of text.split(/\r?\n/)) {
    const equals = line.indexOf('=');
    if (equals === -1 || line.trim().startsWith('#')) continue;
    const value = line.slice(equals + 1).trim();
    if (value.length >= 3 && !PLAIN.test(value)) secrets.push(value);
  }
  return secrets;
}

/**
 * Runs `load` with the variables that are unset in process.env set to the given values, and
 * removes them afterwards, also when it throws: the rest of the process never sees them, and a
 * variable the environment already sets keeps its value. One the load itself changed (a dotenv
 * with override) is the load's, and stays. Returns the names that were set.
 */
export async function withKnexfileEnv<T>(
  variables: Readonly<Record<string, string>>,
  load: () => Promise<T>,
): Promise<{ value: T; set: string[] }> {
  const set = Object.entries(variables).filter(([name]) => process.env[name] === undefined);
  for (const [name, value] of set) process.env[name] = value;
  try {
    return { value: await load(), set: set.map(([name]) => name) };
  } finally {
    for (const [name, value] of set) if (process.env[name] === value) delete process.env[name];
  }
}
