import os from 'node:os';
import path from 'node:path';
import { ConfigurationError } from '../../common/errors.js';
import type { Logger } from '../../common/logger.js';
import type { RecordFields } from '../../report/record.js';
import { parseS3Uri, type S3Location } from '../../report/s3.js';
import { databaseUrlSecrets } from '../../postgres/url.js';
import type { ParsedInputs } from '../common/inputs.js';
import { custom, lines, secret, text } from '../common/inputs.js';

/** The record action's inputs as action.yml declares them. The JSON ones are parsed by `recordInputs`. */
export const inputs = {
  result: text('result'),
  environment: text('environment'),
  /** A name, or a connection URL: then its password is masked before anything runs, and only host:port/database kept. */
  database: text('database', { derive: (value) => (isDatabaseUrl(value) ? databaseUrlSecrets(value) : []) }),
  method: text('method'),
  ref: text('ref'),
  reason: text('reason'),
  requestedBy: text('requested-by'),
  plan: text('plan'),
  planFingerprint: text('plan-fingerprint'),
  sql: text('sql'),
  sqlFile: lines('sql-file'),
  snapshotIdentifier: text('snapshot-identifier'),
  preserveId: text('preserve-id'),
  preserved: text('preserved'),
  appliedBefore: text('applied-before'),
  appliedAfter: text('applied-after'),
  rolledBack: text('rolled-back'),
  steps: text('steps'),
  startedAt: custom('started-at', (value, name) => {
    if (value !== undefined && Number.isNaN(Date.parse(value)))
      throw new ConfigurationError(
        `Input "${name}" is "${value}": it must be an ISO 8601 time such as 2026-11-29T03:15:00Z.`,
      );
    return value;
  }),
  details: text('details'),
  githubToken: secret('github-token', { default: '${{ github.token }}' }),
  gateEnvironment: text('gate-environment'),
  /** Where the files are written. */
  directory: text('directory'),
  s3Uri: custom('s3-uri', (value, name) => {
    if (value === undefined) return undefined;
    const parsed = parseS3Uri(value);
    if ('error' in parsed) throw new ConfigurationError(`Input "${name}" is "${value}": ${parsed.error}.`);
    return { uri: value, location: parsed };
  }),
  s3Region: text('s3-region'),
};

/** A record's `database` given as a connection URL rather than a name. */
export function isDatabaseUrl(value: string): boolean {
  return /^postgres(ql)?:\/\//i.test(value.trim());
}

/** The record's fields as inputs give them (approvals and job timings come from the GitHub API), and where to write it. */
export interface RecordInputs extends Omit<RecordFields, 'approvals' | 'jobs' | 'unparsed' | 'sqlFiles'> {
  /** The rollback's sql-file outputs (the complete SQL), one path a line: copied beside the record. */
  sqlFile: string[];
  /** JSON inputs that did not parse, kept verbatim. */
  unparsed: Record<string, string>;
  githubToken?: string;
  gateEnvironment?: string;
  directory: string;
  s3?: { uri: string; location: S3Location; region?: string };
}

/**
 * JSON from earlier jobs: a job that failed leaves its outputs empty or cut short. That must
 * not cost the record, so what does not parse is kept verbatim and warned about.
 */
export function recordInputs(given: ParsedInputs<typeof inputs>, logger: Logger): RecordInputs {
  const unparsed: Record<string, string> = {};
  const json = (name: string, value: string | undefined): unknown => {
    if (value === undefined) return undefined;
    try {
      return JSON.parse(value);
    } catch {
      logger.warning(`Input "${name}" is not valid JSON; it is kept verbatim in the record.`);
      unparsed[name] = value;
      return undefined;
    }
  };
  const details = json('details', given.details);
  if (details !== undefined && (details === null || typeof details !== 'object' || Array.isArray(details))) {
    throw new ConfigurationError(`Input "details" must be a JSON object such as {"restore-endpoint": "..."}.`);
  }
  return {
    result: given.result,
    environment: given.environment,
    database: given.database,
    method: given.method,
    ref: given.ref,
    reason: given.reason,
    requestedBy: given.requestedBy ?? process.env.GITHUB_TRIGGERING_ACTOR ?? process.env.GITHUB_ACTOR,
    plan: json('plan', given.plan),
    planFingerprint: given.planFingerprint,
    sql: given.sql,
    sqlFile: given.sqlFile,
    snapshotIdentifier: given.snapshotIdentifier,
    preserveId: given.preserveId,
    preserved: json('preserved', given.preserved),
    appliedBefore: json('applied-before', given.appliedBefore),
    appliedAfter: json('applied-after', given.appliedAfter),
    rolledBack: json('rolled-back', given.rolledBack),
    steps: json('steps', given.steps),
    startedAt: given.startedAt,
    details: details as Record<string, unknown> | undefined,
    unparsed,
    githubToken: given.githubToken,
    gateEnvironment: given.gateEnvironment,
    directory: path.resolve(given.directory ?? path.join(process.env.RUNNER_TEMP ?? os.tmpdir(), 'rollback-record')),
    s3: given.s3Uri && {
      ...given.s3Uri,
      region: given.s3Region ?? process.env.AWS_REGION ?? process.env.AWS_DEFAULT_REGION,
    },
  };
}
