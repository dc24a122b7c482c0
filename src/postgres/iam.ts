import { Signer, type SignerConfig } from '@aws-sdk/rds-signer';
import { ConfigurationError, errorMessage } from '../common/errors.js';

// RDS IAM database authentication: the password is a token signed with the job's AWS
// credentials (environment variables, or OIDC through aws-actions/configure-aws-credentials),
// valid 15 minutes. pg calls the password function for every new connection, so a pool that
// opens a connection after 15 minutes signs a fresh token instead of reusing a dead one.

export interface IamAuthRequest {
  host: string;
  port: number;
  user: string;
  /** The `aws-region` input; else AWS_REGION, AWS_DEFAULT_REGION, then the RDS endpoint's own region. */
  region?: string;
  /** Called with every token signed, before pg sends it: the action masks it. */
  onToken?: (token: string) => void;
  /** Credentials to sign with; the default provider chain (environment, OIDC web identity) when absent. */
  credentials?: SignerConfig['credentials'];
  env?: NodeJS.ProcessEnv;
}

const RDS_ENDPOINT_REGION = /\.([a-z]{2}(?:-[a-z]+)+-\d+)\.rds\.amazonaws\.com(?:\.cn)?$/;

/** The region the token is signed for; refuses when none can be found. */
export function iamRegion(request: Pick<IamAuthRequest, 'region' | 'host' | 'env'>): string {
  const env = request.env ?? process.env;
  const region =
    request.region || env.AWS_REGION || env.AWS_DEFAULT_REGION || RDS_ENDPOINT_REGION.exec(request.host)?.[1];
  if (!region)
    throw new ConfigurationError(
      'Input "iam-auth" is true but no AWS region is known: give input "aws-region" (the database\'s region) or set AWS_REGION (aws-actions/configure-aws-credentials does).',
    );
  return region;
}

/** pg's password function: a new token for every connection. */
export function iamAuthPassword(request: IamAuthRequest): () => Promise<string> {
  const signer = new Signer({
    hostname: request.host,
    port: request.port,
    username: request.user,
    region: iamRegion(request),
    ...(request.credentials ? { credentials: request.credentials } : {}),
  });
  return async () => {
    let token: string;
    try {
      token = await signer.getAuthToken();
    } catch (error) {
      throw new ConfigurationError(
        `Input "iam-auth": could not sign an RDS authentication token: ${errorMessage(error)}. The job needs AWS credentials: ` +
          'aws-actions/configure-aws-credentials with a role that may rds-db:connect (and permissions: id-token: write), or AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY.',
      );
    }
    request.onToken?.(token);
    return token;
  };
}
