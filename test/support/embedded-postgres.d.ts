export function freePort(): Promise<number>;
export function startEmbeddedPostgres(options?: {
  log?: (line: string) => void;
  fsync?: boolean;
  /** Called with stop() before PostgreSQL starts, so an interrupt during the start can clean up too. */
  register?: (stop: () => Promise<void>) => void;
  /** PEM certificate (chain) and key: the server then accepts TLS connections only. */
  tls?: { cert: string; key: string };
  /** Loopback addresses to listen on (default 127.0.0.1). */
  listen?: string[];
}): Promise<{
  adminUrl: string;
  port: number;
  stop: () => Promise<void>;
}>;
