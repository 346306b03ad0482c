import { type District, parseDistrict } from './district.ts';
import { ENV, type QueueName } from './resources.ts';

function required(name: string): string {
  const value = process.env[name];
  if (!value) throw new Error(`environment variable ${name} is not set`);
  return value;
}

let district: District | undefined;

/** The district this function serves: its config is bundled in (CDK) or set by the local stack. */
export function currentDistrict(): District {
  // A literal `process.env.DISTRICT_CONFIG`, so esbuild's `define` can bundle the config in.
  const raw = process.env.DISTRICT_CONFIG;
  if (!raw) throw new Error(`environment variable ${ENV.districtConfig} is not set`);
  district ??= parseDistrict(JSON.parse(raw), ENV.districtConfig);
  return district;
}

export const tableName = () => required(ENV.table);
export const queueUrl = (q: QueueName) => required(ENV.queueUrl(q));
export const alertTopicArn = () => process.env[ENV.alertTopicArn];
export const notificationTopicArn = () => required(ENV.notificationTopicArn);
export const photoBucket = () => required(ENV.photoBucket);
export const inboundSmsTopicArn = () => required(ENV.inboundSmsTopicArn);
