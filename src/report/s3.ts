import { PutObjectCommand, S3Client } from '@aws-sdk/client-s3';

/**
 * The optional copy of the record to S3: artifacts expire (90 days by default), an audit
 * trail should not. Credentials come from the SDK's default chain (OIDC in the workflow).
 */

export interface S3Location {
  bucket: string;
  /** Key prefix, without a leading slash, ending with "/" when not empty. */
  prefix: string;
}

/** Parses s3://bucket/optional/prefix; undefined with a reason when it is not one. */
export function parseS3Uri(uri: string): S3Location | { error: string } {
  const match = /^s3:\/\/([^/]+)(?:\/(.*))?$/.exec(uri.trim());
  if (!match) return { error: 'it must look like s3://bucket or s3://bucket/prefix/' };
  const bucket = match[1];
  // S3's bucket naming rules: 3-63 characters, lower-case letters, digits, dots and hyphens.
  if (!/^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/.test(bucket))
    return { error: `"${bucket}" is not a valid bucket name (3-63 lower-case letters, digits, dots, hyphens)` };
  let prefix = (match[2] ?? '').replace(/^\/+/, '');
  if (prefix && !prefix.endsWith('/')) prefix += '/';
  return { bucket, prefix };
}

export interface UploadFile {
  name: string;
  body: string;
  contentType: string;
}

export interface UploadOptions {
  region?: string;
  /** A custom endpoint (MinIO, a test server); else AWS_ENDPOINT_URL_S3 / AWS_ENDPOINT_URL or AWS's own. */
  endpoint?: string;
  /** Path-style URLs (http://host/bucket/key), needed by most S3-compatible servers. */
  forcePathStyle?: boolean;
}

export async function uploadToS3(
  location: S3Location,
  files: UploadFile[],
  options: UploadOptions = {},
): Promise<string[]> {
  const endpoint = options.endpoint ?? process.env.AWS_ENDPOINT_URL_S3 ?? process.env.AWS_ENDPOINT_URL;
  const client = new S3Client({
    ...(options.region ? { region: options.region } : {}),
    ...(endpoint ? { endpoint } : {}),
    // A custom endpoint is almost always an S3-compatible server without virtual-hosted buckets.
    forcePathStyle: options.forcePathStyle ?? Boolean(endpoint),
  });
  try {
    const uris: string[] = [];
    for (const file of files) {
      const key = `${location.prefix}${file.name}`;
      await client.send(
        new PutObjectCommand({ Bucket: location.bucket, Key: key, Body: file.body, ContentType: file.contentType }),
      );
      uris.push(`s3://${location.bucket}/${key}`);
    }
    return uris;
  } finally {
    client.destroy();
  }
}
