import { ENV, type QueueName } from './resources.ts';

function required(name: string): string {
  const value = process.env[name];
  if (!value) throw new Error(`environment variable ${name} is not set`);
  return value;
}

export const tableName = () => required(ENV.table);
export const queueUrl = (q: QueueName) => required(ENV.queueUrl(q));
export const alertTopicArn = () => process.env[ENV.alertTopicArn];
export const notificationTopicArn = () => required(ENV.notificationTopicArn);
export const photoBucket = () => required(ENV.photoBucket);
export const inboundSmsTopicArn = () => required(ENV.inboundSmsTopicArn);
