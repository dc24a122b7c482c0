import { RDSClient } from '@aws-sdk/client-rds';

export interface RdsClientOptions {
  region: string;
  /**
   * An endpoint to talk to instead of AWS: the tests' local RDS server. The actions do not
   * pass it; there the SDK's own AWS_ENDPOINT_URL_RDS / AWS_ENDPOINT_URL variables do the same.
   */
  endpoint?: string;
  /** Total attempts per call, first one included (default 6). */
  maxAttempts?: number;
}

/**
 * An RDS client with the SDK's standard retry mode: throttling and 5xx answers are retried
 * with backoff (throttling with a longer base delay), so a busy control plane during an
 * incident slows a step down instead of failing it. Credentials come from the default chain
 * (in workflows: OIDC via aws-actions/configure-aws-credentials).
 */
export function createRdsClient(options: RdsClientOptions): RDSClient {
  return new RDSClient({
    region: options.region,
    retryMode: 'standard',
    maxAttempts: options.maxAttempts ?? 6,
    ...(options.endpoint ? { endpoint: options.endpoint } : {}),
  });
}

/** The error code of an SDK exception (`DBSnapshotNotFound`...), or undefined. */
export function awsErrorCode(error: unknown): string | undefined {
  if (error && typeof error === 'object') {
    const record = error as { name?: string; Code?: string; Error?: { Code?: string } };
    return record.Code ?? record.Error?.Code ?? record.name;
  }
  return undefined;
}

/** Is this the "does not exist" answer of a Describe call? */
export function isNotFound(error: unknown): boolean {
  const code = awsErrorCode(error) ?? '';
  return /NotFound/.test(code);
}
