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

/**
 * The secrets in `Name: value` lines, for masking before they are parsed (so never throwing):
 * every value, and an Authorization value's credentials without the scheme, which a server may
 * echo alone.
 */
export function headerSecrets(text: string): string[] {
  const secrets: string[] = [];
  for (const line of text.split(/\r?\n/)) {
    const colon = line.indexOf(':');
    if (colon === -1) continue;
    const value = line.slice(colon + 1).trim();
    secrets.push(value);
    const scheme = /^\S+\s+(\S.*)$/.exec(value);
    if (scheme && /authorization$/i.test(line.slice(0, colon).trim())) secrets.push(scheme[1]);
  }
  return secrets.filter((secret) => secret.length >= 3);
}
