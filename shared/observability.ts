import { Logger } from '@aws-lambda-powertools/logger';

const serviceName = process.env.POWERTOOLS_SERVICE_NAME ?? 'volunteer-dispatch';
const district = process.env.DISTRICT_ID ?? 'local';

export const logger = new Logger({ serviceName, persistentKeys: { district } });

/** `+8613800138000` → `+86138****8000`: enough to tell numbers apart, not to call one. */
export function maskPhone(phone: string): string {
  if (phone.length < 8) return '****';
  return `${phone.slice(0, 6)}****${phone.slice(-4)}`;
}

/** Addresses are never logged; their length is enough to debug a truncation. */
export const maskAddress = (address: string) => `<address ${address.length} chars>`;
