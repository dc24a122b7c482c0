// The one logger every domain module takes (as Knex injects one `client.logger`). Actions pass the
// runtime's logger (src/actions/common), which writes through @actions/core; tests, the demo and the
// benchmarks pass their own or `silentLogger`. Domain code never imports @actions/core.

export interface Logger {
  debug(message: string): void;
  info(message: string): void;
  warning(message: string): void;
  error(message: string): void;
  /** Runs `body` inside a collapsible group (a `::group::` on GitHub); the result is the body's. */
  group<T>(name: string, body: () => Promise<T>): Promise<T>;
}

export const silentLogger: Logger = {
  debug: () => undefined,
  info: () => undefined,
  warning: () => undefined,
  error: () => undefined,
  group: (_name, body) => body(),
};
