export function freePort(): Promise<number>;
export function startEmbeddedPostgres(options?: {
  log?: (line: string) => void;
  fsync?: boolean;
  /** Called with stop() before PostgreSQL starts, so an interrupt during the start can clean up too. */
  register?: (stop: () => Promise<void>) => void;
}): Promise<{
  adminUrl: string;
  port: number;
  stop: () => Promise<void>;
}>;
