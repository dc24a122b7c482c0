// The one logger every domain module takes (as Knex injects one `client.logger`). Actions pass the
// runtime's logger (src/actions/common), which writes through @actions/core; tests, the demo and the
// benchmarks pass their own or `silentLogger`. Domain code never imports @actions/core.

// Members are function-typed properties, not methods: a logger's functions are passed around
// unbound (`log: { warn: logger.debug }` for Knex), and nothing here depends on `this`.
export interface Logger {
  debug: (message: string) => void;
  info: (message: string) => void;
  warning: (message: string) => void;
  error: (message: string) => void;
  /** Runs `body` inside a collapsible group (a `::group::` on GitHub); the result is the body's. */
  group: <T>(name: string, body: () => Promise<T>) => Promise<T>;
}

export const silentLogger: Logger = {
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
export function escapeForLog(text: string): string {
  const escaped = text.replace(
    // eslint-disable-next-line no-control-regex -- matching control characters is the point
    /[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u2028\u2029]/g,
    (character) => {
      if (character === '\r') return '\\r';
      const code = character.charCodeAt(0);
      return code <= 0xff ? `\\x${code.toString(16).padStart(2, '0')}` : `\\u${code.toString(16).padStart(4, '0')}`;
    },
  );
  return escaped.replace(/^(\s*)::/gm, '$1\\::');
}
