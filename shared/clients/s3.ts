import type { S3Client } from '@aws-sdk/client-s3';

let client: Promise<S3Client> | undefined;

/**
 * The S3 client, loaded and built on first use: only requests with proof photos need it,
 * and importing the S3 SDK costs every function that reaches this module its cold start.
 * Locally the endpoint is fauxqs, which serves buckets by path.
 */
export function s3(): Promise<S3Client> {
  client ??= import('@aws-sdk/client-s3').then(
    ({ S3Client }) =>
      new S3Client({
        endpoint: process.env.AWS_ENDPOINT_URL_S3,
        forcePathStyle: Boolean(process.env.AWS_ENDPOINT_URL_S3),
        maxAttempts: 3,
      }),
  );
  return client;
}
