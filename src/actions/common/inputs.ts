import { ConfigurationError } from '../../common/errors.js';
import { formatDuration, parseDuration } from '../../common/duration.js';

// An action's inputs, declared once: the name in action.yml, the default action.yml gives, whether it
// is required or a secret, and the parser that turns the text into a typed value. Every failure names
// the input and what is allowed (gradle/actions' "Valid values are"), so every action reports bad
// input the same way. test/actions/contracts.test.ts holds each action.yml to these declarations.

export interface InputSpec<T> {
  /** The name in action.yml. */
  readonly name: string;
  readonly required: boolean;
  /** action.yml's default: used when the input is empty, unless it is an expression such as ${{ github.token }}. */
  readonly default?: string;
  /** Masked (core.setSecret) before any input is parsed or anything is logged. */
  readonly secret: boolean;
  /**
   * The secrets inside the value, masked as early: a connection string's password and its
   * encodings, a header's value. Without `secret` only these are masked, not the value itself
   * (a database given by name or by URL). It must not throw: the value is not parsed yet.
   */
  readonly derive?: (value: string) => string[];
  /** Turns the trimmed text (undefined when empty and there is no default) into the value. */
  readonly parse: (value: string | undefined, name: string) => T;
}

interface Options {
  default?: string;
  required?: boolean;
  secret?: boolean;
  derive?: (value: string) => string[];
}

function spec<T>(name: string, options: Options, parse: (value: string | undefined, name: string) => T): InputSpec<T> {
  return {
    name,
    required: options.required ?? false,
    default: options.default,
    secret: options.secret ?? false,
    derive: options.derive,
    parse,
  };
}

function required(value: string | undefined, name: string): string {
  if (value === undefined) throw new ConfigurationError(`Input "${name}" is required and was not given.`);
  return value;
}

/** The text, or undefined when empty. */
export function text(name: string, options: Options & { required: true }): InputSpec<string>;
export function text(name: string, options: Options & { default: string }): InputSpec<string>;
export function text(name: string, options?: Options): InputSpec<string | undefined>;
export function text(name: string, options: Options = {}): InputSpec<string | undefined> {
  return spec(name, options, (value, input) => (options.required ? required(value, input) : value));
}

/** A secret: masked first, then like `text`. */
export function secret(name: string, options: Options & { required: true }): InputSpec<string>;
export function secret(name: string, options?: Options): InputSpec<string | undefined>;
export function secret(name: string, options: Options = {}): InputSpec<string | undefined> {
  return text(name, { ...options, secret: true });
}

/** `true` or `false`; the default is action.yml's. */
export function flag(name: string, fallback: boolean): InputSpec<boolean> {
  return spec(name, { default: String(fallback) }, (value, input) => {
    if (value === undefined) return fallback;
    const lower = value.toLowerCase();
    if (lower === 'true') return true;
    if (lower === 'false') return false;
    throw new ConfigurationError(`Input "${input}" is "${value}". Valid values are: [true, false].`);
  });
}

/** One of `allowed`. */
export function choice<T extends string>(name: string, allowed: readonly T[], fallback?: T): InputSpec<T> {
  return spec(name, { default: fallback, required: fallback === undefined }, (value, input) => {
    if (value === undefined) {
      if (fallback !== undefined) return fallback;
      throw new ConfigurationError(`Input "${input}" is required. Valid values are: [${allowed.join(', ')}].`);
    }
    if (!(allowed as readonly string[]).includes(value)) {
      throw new ConfigurationError(`Input "${input}" is "${value}". Valid values are: [${allowed.join(', ')}].`);
    }
    return value as T;
  });
}

/** A whole number within [min, max]. */
export function integer(name: string, options: { min?: number; max?: number; default: number }): InputSpec<number>;
export function integer(name: string, options?: { min?: number; max?: number }): InputSpec<number | undefined>;
export function integer(
  name: string,
  options: { min?: number; max?: number; default?: number } = {},
): InputSpec<number | undefined> {
  const fallback = options.default === undefined ? undefined : String(options.default);
  return spec(name, { default: fallback }, (value, input) => {
    if (value === undefined) return undefined;
    const { min = Number.MIN_SAFE_INTEGER, max = Number.MAX_SAFE_INTEGER } = options;
    const range =
      max === Number.MAX_SAFE_INTEGER ? `a whole number of at least ${min}` : `a whole number from ${min} to ${max}`;
    if (!/^[-+]?\d+$/.test(value)) throw new ConfigurationError(`Input "${input}" is "${value}": it must be ${range}.`);
    const number = Number(value);
    if (number < min || number > max)
      throw new ConfigurationError(`Input "${input}" is ${number}: it must be ${range}.`);
    return number;
  });
}

/** A duration (`5s`, `15m`, `1h`) in milliseconds; with `max`, an error names the range allowed. */
export function duration(
  name: string,
  fallback: string,
  options: { min?: number; max?: number; why?: string } = {},
): InputSpec<number> {
  return spec(name, { default: fallback }, (value, input) => {
    const given = value ?? fallback;
    const ms = parseDuration(given);
    const min = options.min ?? 0;
    if (ms === undefined || ms < min || (options.max !== undefined && ms > options.max)) {
      const range =
        options.max === undefined
          ? ''
          : ` from ${min}ms to ${options.max}ms (${formatDuration(options.max)})${options.why ? `, ${options.why}` : ''}`;
      throw new ConfigurationError(
        `Input "${input}" is "${given}": it must be a duration${range}, such as 30s, 5m, 1h or 1h30m (units ms, s, m, h, d).`,
      );
    }
    return ms;
  });
}

/** Non-empty trimmed lines; comments starting with # are dropped. */
export function lines(name: string, options: Options = {}): InputSpec<string[]> {
  return spec(name, options, (value) => splitLines(value ?? ''));
}

export function splitLines(value: string): string[] {
  return value
    .split(/\r?\n/)
    .map((line) => line.trim())
    .filter((line) => line !== '' && !line.startsWith('#'));
}

/** Any other parser: gets the text (undefined when empty) and the input's name for its messages. */
export function custom<T>(
  name: string,
  parse: (value: string | undefined, name: string) => T,
  options: Options = {},
): InputSpec<T> {
  return spec(name, options, parse);
}

export type InputSpecs = Record<string, InputSpec<unknown>>;
export type ParsedInputs<S extends InputSpecs> = { [K in keyof S]: S[K] extends InputSpec<infer T> ? T : never };

/**
 * Reads every declared input: secrets are masked first (each line of a multi-line one too, and
 * what `derive` finds in it), then each input is parsed in declaration order, so the first
 * mistake reported is the first input's.
 */
export function readInputs<S extends InputSpecs>(
  specs: S,
  getInput: (name: string) => string,
  mask: (secret: string) => void,
): ParsedInputs<S> {
  for (const input of Object.values(specs)) {
    if (!input.secret && !input.derive) continue;
    const raw = getInput(input.name);
    if (!raw) continue;
    if (input.secret) {
      mask(raw);
      for (const line of raw.split(/\r?\n/)) if (line.trim().length >= 3) mask(line.trim());
    }
    for (const derived of input.derive?.(raw.trim()) ?? []) mask(derived);
  }
  const parsed: Record<string, unknown> = {};
  for (const [key, input] of Object.entries(specs)) {
    const given = getInput(input.name).trim();
    const fallback = input.default !== undefined && !input.default.includes('${{') ? input.default : undefined;
    parsed[key] = input.parse(given === '' ? fallback : given, input.name);
  }
  return parsed as ParsedInputs<S>;
}
