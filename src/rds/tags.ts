// RDS tag rules. A tag that breaks them makes CreateDBSnapshot fail with InvalidParameterValue,
// which in the middle of an incident means no snapshot; so user tags are checked up front and
// free text (the reason someone typed) is cleaned to fit instead of rejected.
import type { Tag } from '@aws-sdk/client-rds';

export const MAX_TAG_KEY_LENGTH = 128;
export const MAX_TAG_VALUE_LENGTH = 256;
/** Unicode letters, digits, white space and _ . : / = + - @ (the RDS API reference's Java regex). */
const ALLOWED = /^[\p{L}\p{Z}\p{N}_.:/=+\-@]*$/u;
const DISALLOWED_CHARACTER = /[^\p{L}\p{Z}\p{N}_.:/=+\-@]/u;
const RESERVED_PREFIX = /^(aws|rds):/i;

/** Keys this suite writes; `run` finds what an earlier attempt of the same workflow run created. */
export const TAG_PREFIX = 'db-rollback:';
export const RUN_TAG = `${TAG_PREFIX}run`;

/** The first rule a tag key breaks, or undefined. */
export function tagKeyProblem(key: string): string | undefined {
  if (key.length === 0) return 'a tag key cannot be empty';
  if (key.length > MAX_TAG_KEY_LENGTH)
    return `a tag key is at most ${MAX_TAG_KEY_LENGTH} characters; "${key.slice(0, 20)}..." has ${key.length}`;
  if (RESERVED_PREFIX.test(key)) return `tag key "${key}" starts with "aws:" or "rds:", which are reserved`;
  const bad = DISALLOWED_CHARACTER.exec(key);
  if (bad) return `tag key "${key}" contains "${bad[0]}"; only letters, digits, spaces and _ . : / = + - @ are allowed`;
  return undefined;
}

/** The first rule a tag value breaks, or undefined. */
export function tagValueProblem(key: string, value: string): string | undefined {
  if (value.length > MAX_TAG_VALUE_LENGTH)
    return `the value of tag "${key}" is at most ${MAX_TAG_VALUE_LENGTH} characters; it has ${value.length}`;
  if (RESERVED_PREFIX.test(value)) return `the value of tag "${key}" starts with "aws:" or "rds:", which are reserved`;
  const bad = DISALLOWED_CHARACTER.exec(value);
  if (bad)
    return `the value of tag "${key}" contains "${bad[0]}"; only letters, digits, spaces and _ . : / = + - @ are allowed`;
  return undefined;
}

/**
 * Free text made into a valid tag value: characters RDS refuses become spaces, runs of
 * spaces collapse, and the result is cut to the limit with "..." so a reader sees it was cut.
 * `007 broke checkout (see #123), roll back NOW!` -> `007 broke checkout see 123 roll back NOW`.
 */
export function cleanTagValue(text: string, max = MAX_TAG_VALUE_LENGTH): string {
  let value = [...text.normalize('NFC')]
    .map((character) => (ALLOWED.test(character) ? character : ' '))
    .join('')
    .replace(/\s+/gu, ' ')
    .trim();
  value = value.replace(RESERVED_PREFIX, '');
  const characters = [...value];
  if (characters.length > max)
    value = `${characters
      .slice(0, max - 3)
      .join('')
      .trimEnd()}...`;
  return value;
}

/**
 * Parses `key=value` lines (the `tags` input). Returns the problems instead of throwing so the
 * caller can name its input; a line without `=` is a key with an empty value.
 */
export function parseTagLines(lines: readonly string[]): { tags: Tag[]; problems: string[] } {
  const tags: Tag[] = [];
  const problems: string[] = [];
  for (const line of lines) {
    const at = line.indexOf('=');
    const key = (at === -1 ? line : line.slice(0, at)).trim();
    const value = at === -1 ? '' : line.slice(at + 1).trim();
    const problem = tagKeyProblem(key) ?? tagValueProblem(key, value);
    if (problem) problems.push(`line "${line}": ${problem}`);
    else tags.push({ Key: key, Value: value });
  }
  return { tags, problems };
}

/** Later tags win by key (user tags over copied ones, ours over both), keeping first-seen order. */
export function mergeTags(...lists: ReadonlyArray<readonly Tag[] | undefined>): Tag[] {
  const byKey = new Map<string, Tag>();
  for (const list of lists)
    for (const tag of list ?? []) if (tag.Key) byKey.set(tag.Key, { Key: tag.Key, Value: tag.Value ?? '' });
  return [...byKey.values()];
}

/** Who asked and why, as tags every resource this suite creates carries. */
export interface RunContext {
  repository: string;
  /** https://github.com/<repo>/actions/runs/<id>: the same for every attempt of a run. */
  runUrl: string;
  actor: string;
}

export function runContextFromEnv(env: NodeJS.ProcessEnv = process.env): RunContext {
  const server = env.GITHUB_SERVER_URL ?? 'https://github.com';
  const repository = env.GITHUB_REPOSITORY ?? 'unknown/unknown';
  const runId = env.GITHUB_RUN_ID ?? 'local';
  return { repository, runUrl: `${server}/${repository}/actions/runs/${runId}`, actor: env.GITHUB_ACTOR ?? 'unknown' };
}

/** The tags the actions always add: repository, run URL (also the re-run key), actor and reason. */
export function standardTags(context: RunContext, reason: string | undefined): Tag[] {
  const tags: Tag[] = [
    { Key: `${TAG_PREFIX}repository`, Value: cleanTagValue(context.repository) },
    { Key: RUN_TAG, Value: cleanTagValue(context.runUrl) },
    { Key: `${TAG_PREFIX}actor`, Value: cleanTagValue(context.actor) },
  ];
  if (reason) tags.push({ Key: `${TAG_PREFIX}reason`, Value: cleanTagValue(reason) });
  return tags;
}

/** Tags copied from a source resource: AWS-reserved keys cannot be written back. */
export function copyableTags(tags: readonly Tag[] | undefined): Tag[] {
  return (tags ?? []).filter((tag) => tag.Key && !RESERVED_PREFIX.test(tag.Key) && !tag.Key.startsWith(TAG_PREFIX));
}

export function tagValue(tags: readonly Tag[] | undefined, key: string): string | undefined {
  return tags?.find((tag) => tag.Key === key)?.Value;
}
