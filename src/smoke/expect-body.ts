import { ConfigurationError } from '../common/errors.js';

/** What a healthy response body must show. */
export interface BodyExpectation {
  /** As written, for messages and the summary. */
  text: string;
  /** Undefined when the body satisfies it, otherwise why not. */
  check(body: string): string | undefined;
}

type Segment = string | number;

/**
 * Parses the `expect-body` input. Starting with `$` it is a JSON path, alone (the value
 * must exist) or compared with `==`/`!=` to a JSON value: `$.status == "ok"`,
 * `$.checks[0].healthy == true`, `$.database.latency != null`. Anything else is a
 * substring the body must contain.
 */
export function parseExpectBody(text: string, input = 'expect-body'): BodyExpectation {
  const expression = text.trim();
  if (!expression.startsWith('$')) {
    return {
      text: expression,
      check: (body) => (body.includes(expression) ? undefined : `the body does not contain "${expression}"`),
    };
  }
  const operatorAt = /\s*(==|!=)\s*/.exec(expression);
  const pathText = operatorAt ? expression.slice(0, operatorAt.index) : expression;
  const path = parsePath(pathText, input, expression);
  if (!operatorAt) {
    return {
      text: expression,
      check: (body) =>
        withJson(body, (json) => (resolve(json, path) === undefined ? `${pathText} is not in the body` : undefined)),
    };
  }
  const operator = operatorAt[1];
  const valueText = expression.slice(operatorAt.index + operatorAt[0].length).trim();
  let expected: unknown;
  try {
    if (valueText === '') throw new Error('empty');
    expected = JSON.parse(valueText);
  } catch {
    throw new ConfigurationError(
      `Input "${input}" is "${text}": the value after ${operator} must be JSON: a "double-quoted string", a number, true, false or null (for example $.status == "ok").`,
    );
  }
  return {
    text: expression,
    check: (body) =>
      withJson(body, (json) => {
        const actual = resolve(json, path);
        const equal = actual !== undefined && JSON.stringify(actual) === JSON.stringify(expected);
        if (operator === '==' && !equal)
          return `${pathText} is ${actual === undefined ? 'missing' : JSON.stringify(actual)}, expected ${JSON.stringify(expected)}`;
        if (operator === '!=' && equal) return `${pathText} is ${JSON.stringify(actual)}, expected anything else`;
        return undefined;
      }),
  };
}

function withJson(body: string, judge: (json: unknown) => string | undefined): string | undefined {
  let json: unknown;
  try {
    json = JSON.parse(body);
  } catch {
    return 'the body is not JSON';
  }
  return judge(json);
}

/** `$`, `.name`, `['name']`, `["name"]`, `[0]`: the dot-and-bracket subset of JSONPath, no wildcards. */
function parsePath(pathText: string, input: string, whole: string): Segment[] {
  const segments: Segment[] = [];
  const pattern = /\.([A-Za-z_][\w-]*)|\[(\d+)\]|\['([^']*)'\]|\["([^"]*)"\]/y;
  let at = 1;
  while (at < pathText.length) {
    pattern.lastIndex = at;
    const match = pattern.exec(pathText);
    if (!match) {
      throw new ConfigurationError(
        `Input "${input}" is "${whole}": "${pathText}" is not a JSON path this action reads (stopped at "${pathText.slice(at)}"). Use $.field, $.list[0] or $['odd key'], optionally followed by == or != and a JSON value.`,
      );
    }
    segments.push(match[1] ?? (match[2] !== undefined ? Number(match[2]) : (match[3] ?? match[4])));
    at = pattern.lastIndex;
  }
  return segments;
}

function resolve(json: unknown, path: Segment[]): unknown {
  let value: unknown = json;
  for (const segment of path) {
    if (value === null || typeof value !== 'object') return undefined;
    if (typeof segment === 'number' && !Array.isArray(value)) return undefined;
    value = (value as Record<string | number, unknown>)[segment];
  }
  return value;
}
