import os from 'node:os';
import path from 'node:path';
import * as core from '@actions/core';
import { ConfigurationError } from '../../common/errors.js';
import { getSecret, getString } from '../common/inputs.js';
import type { RecordFields } from '../../report/record.js';
import { parseS3Uri, type S3Location } from '../../report/s3.js';
import { Inputs } from './constants.js';

/** The record's fields as inputs give them (approvals and job timings come from the GitHub API), and where to write it. */
export interface RecordInputs extends Omit<RecordFields, 'approvals' | 'jobs' | 'unparsed'> {
  /** JSON inputs that did not parse, kept verbatim. */
  unparsed: Record<string, string>;
  githubToken?: string;
  gateEnvironment?: string;
  /** Where the files are written. */
  directory: string;
  s3?: { uri: string; location: S3Location; region?: string };
}

/**
 * JSON from earlier jobs: a job that failed leaves its outputs empty or cut short. That must
 * not cost the record, so what does not parse is kept verbatim and warned about.
 */
function json(name: Inputs, unparsed: Record<string, string>): unknown {
  const text = getString(name);
  if (text === undefined) return undefined;
  try {
    return JSON.parse(text);
  } catch {
    core.warning(`Input "${name}" is not valid JSON; it is kept verbatim in the record.`);
    unparsed[name] = text;
    return undefined;
  }
}

export function getInputs(): RecordInputs {
  const unparsed: Record<string, string> = {};
  const s3Uri = getString(Inputs.S3Uri);
  let s3: RecordInputs['s3'];
  if (s3Uri) {
    const parsed = parseS3Uri(s3Uri);
    if ('error' in parsed) throw new ConfigurationError(`Input "${Inputs.S3Uri}" is "${s3Uri}": ${parsed.error}.`);
    s3 = {
      uri: s3Uri,
      location: parsed,
      region: getString(Inputs.S3Region) ?? process.env.AWS_REGION ?? process.env.AWS_DEFAULT_REGION,
    };
  }
  const startedAt = getString(Inputs.StartedAt);
  if (startedAt !== undefined && Number.isNaN(Date.parse(startedAt))) {
    throw new ConfigurationError(
      `Input "${Inputs.StartedAt}" is "${startedAt}": it must be an ISO 8601 time such as 2026-11-29T03:15:00Z.`,
    );
  }
  const details = json(Inputs.Details, unparsed);
  if (details !== undefined && (details === null || typeof details !== 'object' || Array.isArray(details))) {
    throw new ConfigurationError(
      `Input "${Inputs.Details}" must be a JSON object such as {"restore-endpoint": "..."}.`,
    );
  }
  const directory = path.resolve(
    getString(Inputs.Directory) ?? path.join(process.env.RUNNER_TEMP ?? os.tmpdir(), 'rollback-record'),
  );
  return {
    result: getString(Inputs.Result),
    environment: getString(Inputs.Environment),
    database: getString(Inputs.Database),
    method: getString(Inputs.Method),
    ref: getString(Inputs.Ref),
    reason: getString(Inputs.Reason),
    requestedBy: getString(Inputs.RequestedBy) ?? process.env.GITHUB_TRIGGERING_ACTOR ?? process.env.GITHUB_ACTOR,
    plan: json(Inputs.Plan, unparsed),
    planFingerprint: getString(Inputs.PlanFingerprint),
    sql: core.getInput(Inputs.Sql) || undefined,
    snapshotIdentifier: getString(Inputs.SnapshotIdentifier),
    appliedBefore: json(Inputs.AppliedBefore, unparsed),
    appliedAfter: json(Inputs.AppliedAfter, unparsed),
    rolledBack: json(Inputs.RolledBack, unparsed),
    steps: json(Inputs.Steps, unparsed),
    startedAt,
    details: details as Record<string, unknown> | undefined,
    unparsed,
    githubToken: getSecret(Inputs.GitHubToken),
    gateEnvironment: getString(Inputs.GateEnvironment),
    directory,
    s3,
  };
}
