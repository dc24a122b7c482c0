import { ConfigurationError } from '../common/errors.js';

/** Parses `Name: value` lines (curl's -H form). Returns the headers and the values, which may be secrets. */
export function parseHeaders(lines: readonly string[], input = 'headers'): Record<string, string> {
  const headers: Record<string, string> = {};
  for (const line of lines) {
    const colon = line.indexOf(':');
    const name = colon === -1 ? '' : line.slice(0, colon).trim();
    if (!name || !/^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/.test(name)) {
      // Never echo the line: its value may be a token.
      throw new ConfigurationError(
        `Input "${input}" has a line that is not "Name: value" (${name ? `"${name}" is not a header name` : 'no colon'}). Write one header a line, such as Authorization: Bearer \${{ secrets.TOKEN }}.`,
      );
    }
    headers[name] = line.slice(colon + 1).trim();
  }
  return headers;
}
