export function freePort(): Promise<number>;
export function startEmbeddedPostgres(options?: {
  log?: (line: string) => void;
  fsync?: boolean;
  /** PEM certificate (chain) and key: the server then accepts TLS connections only. */
  tls?: { cert: string; key: string };
  /** Loopback addresses to listen on (default 127.0.0.1). */
  listen?: string[];
}): Promise<{
  adminUrl: string;
  port: number;
  stop: () => Promise<void>;
}>;
