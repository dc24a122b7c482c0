import { ConfigurationError } from '../common/errors.js';

/** Which HTTP statuses count as healthy: `200`, `200,204`, `200-299`, `2xx`, or a mix. */
export interface StatusMatcher {
  matches(status: number): boolean;
  /** As the user wrote it, normalised: `200, 204` or `200-299`. */
  text: string;
}

/**
 * Parses the `expected-status` input: codes, ranges `a-b` and classes `2xx`, separated by
 * commas or spaces. Anything else is refused with what is allowed, before any request.
 */
export function parseExpectedStatus(text: string, input = 'expected-status'): StatusMatcher {
  const terms = text.split(/[\s,]+/).filter(Boolean);
  if (terms.length === 0)
    throw new ConfigurationError(
      `Input "${input}" is empty: give a status such as 200, a list such as 200,204 or a range such as 200-299.`,
    );
  const ranges: Array<[number, number]> = [];
  for (const term of terms) {
    let match: RegExpExecArray | null;
    if ((match = /^(\d{3})$/.exec(term))) {
      ranges.push([Number(match[1]), Number(match[1])]);
    } else if ((match = /^(\d{3})-(\d{3})$/.exec(term))) {
      const [low, high] = [Number(match[1]), Number(match[2])];
      if (low > high)
        throw new ConfigurationError(
          `Input "${input}" has the range "${term}", whose start is above its end; write it low-high, such as 200-299.`,
        );
      ranges.push([low, high]);
    } else if ((match = /^([1-5])xx$/i.exec(term))) {
      const hundred = Number(match[1]) * 100;
      ranges.push([hundred, hundred + 99]);
    } else {
      throw new ConfigurationError(
        `Input "${input}" has "${term}", which is not an HTTP status. Valid values are: a status (200), a list (200,204), a range (200-299) or a class (2xx).`,
      );
    }
  }
  for (const [low, high] of ranges) {
    if (low < 100 || high > 599)
      throw new ConfigurationError(
        `Input "${input}" has ${low === high ? low : `${low}-${high}`}: HTTP statuses run from 100 to 599.`,
      );
  }
  return {
    matches: (status) => ranges.some(([low, high]) => status >= low && status <= high),
    text: terms.join(', '),
  };
}
