/**
 * The strings that must never reach a log, an output or a summary for one
 * connection string: the URL itself, its password, and their URL-encoded and
 * decoded forms (a driver may print either).
 */
export function connectionSecrets(connectionString: string): string[] {
  const secrets = new Set<string>();
  if (!connectionString) return [];
  secrets.add(connectionString);
  try {
    const url = new URL(connectionString);
    if (url.password) {
      secrets.add(url.password);
      secrets.add(safeDecode(url.password));
      secrets.add(encodeURIComponent(safeDecode(url.password)));
    }
    const query = url.searchParams.get('password');
    if (query) secrets.add(query);
  } catch {
    // libpq key/value form: password=... ; take the value as the secret.
    const match = /password\s*=\s*('(?:[^'\\]|\\.)*'|\S+)/i.exec(connectionString);
    if (match) secrets.add(match[1].replace(/^'|'$/g, ''));
  }
  return [...secrets].filter((secret) => secret.length >= 3);
}

function safeDecode(value: string): string {
  try {
    return decodeURIComponent(value);
  } catch {
    return value;
  }
}

/** Replaces every secret in text with ***, longest first so a URL is not half-replaced by its password. */
export function scrub(text: string, secrets: readonly string[]): string {
  let result = text;
  for (const secret of [...secrets].sort((a, b) => b.length - a.length)) {
    if (secret) result = result.split(secret).join('***');
  }
  return result;
}

/** The connection string with its password replaced, for messages that must name the server. */
export function redactConnectionString(connectionString: string): string {
  try {
    const url = new URL(connectionString);
    if (url.password) url.password = '***';
    if (url.searchParams.has('password')) url.searchParams.set('password', '***');
    return url.toString();
  } catch {
    return '(connection string)';
  }
}
