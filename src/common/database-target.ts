// Until wip-connect's src/postgres/url.ts lands: the same describeDatabaseUrl, so that
// reconciling is an import change. Names a database as host:port/database only.

/**
 * Names a database as `host:port/database`: no user, no password, no query parameter (those
 * carry `password`, `sslkey`). The one way every log line, summary and record names a target.
 */
export function describeDatabaseUrl(text: string): string {
  try {
    const url = new URL(text);
    if (!/^postgres(ql)?:$/i.test(url.protocol) || !url.hostname) throw new Error('not a database URL');
    const host = url.hostname;
    const database = decodeURIComponent(url.pathname.replace(/^\//, '')) || 'postgres';
    return `${host}:${url.port || '5432'}/${database}`;
  } catch {
    return '(the database URL, which could not be parsed)';
  }
}

/** Whether a value given as a database name is a connection URL (its secrets must be scrubbed, its target shown). */
export function isDatabaseUrl(text: string): boolean {
  return /^postgres(ql)?:\/\//i.test(text.trim());
}
