// What a database URL hides (its password, in every form) is src/postgres/url.ts's
// databaseUrlSecrets, and the one way to name a database is its describeTarget: they parse the
// URL as the connection does, so what is masked is what was used.

/** Replaces every secret in text with ***, longest first so a URL is not half-replaced by its password. */
export function scrub(text: string, secrets: readonly string[]): string {
  let result = text;
  for (const secret of [...secrets].sort((a, b) => b.length - a.length)) {
    if (secret) result = result.split(secret).join('***');
  }
  return result;
}
