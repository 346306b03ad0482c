import { SQSClient } from '@aws-sdk/client-sqs';

export const sqs = new SQSClient({ endpoint: process.env.AWS_ENDPOINT_URL_SQS, maxAttempts: 5 });
