import { SNSClient } from '@aws-sdk/client-sns';

export const sns = new SNSClient({ endpoint: process.env.AWS_ENDPOINT_URL_SNS, maxAttempts: 3 });
