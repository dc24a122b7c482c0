export function freePort(): Promise<number>;
export function startEmbeddedPostgres(options?: { log?: (line: string) => void; fsync?: boolean }): Promise<{
  adminUrl: string;
  port: number;
  stop: () => Promise<void>;
}>;
