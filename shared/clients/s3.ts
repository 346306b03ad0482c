import { S3Client } from '@aws-sdk/client-s3';

/** Locally the endpoint is fauxqs, which serves buckets by path. */
export const s3 = new S3Client({
  endpoint: process.env.AWS_ENDPOINT_URL_S3,
  forcePathStyle: Boolean(process.env.AWS_ENDPOINT_URL_S3),
  maxAttempts: 3,
});
