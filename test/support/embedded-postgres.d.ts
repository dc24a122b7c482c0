export function freePort(): Promise<number>;
export function startEmbeddedPostgres(options?: { log?: (line: string) => void }): Promise<{
  adminUrl: string;
  port: number;
  stop: () => Promise<void>;
}>;
