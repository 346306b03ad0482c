import { LogFormatter, Logger, LogItem } from '@aws-lambda-powertools/logger';
import type { LogAttributes, UnformattedAttributes } from '@aws-lambda-powertools/logger/types';

const serviceName = process.env.POWERTOOLS_SERVICE_NAME ?? 'volunteer-dispatch';
const district = process.env.DISTRICT_ID ?? 'local';

/** `+8613800138000` → `+86138****8000`: enough to tell numbers apart, not to call one. */
export function maskPhone(phone: string): string {
  if (phone.length < 8) return '****';
  return `${phone.slice(0, 6)}****${phone.slice(-4)}`;
}

/**
 * Every phone-like run of digits (7 to 15, an optional `+`, not inside a word) in a text
 * masked as `maskPhone` masks a number: `… +8613800138000 is not valid` → `…
 * +86138****8000 is not valid`. For texts we did not write (errors from AWS, a provider,
 * a CSV).
 */
export const maskPhones = (text: string) =>
  // Not a run inside a word: random ids (`off_k7p2…`) may hold seven digits in a row.
  text.replace(/(?<![A-Za-z0-9_])\+?\d{7,15}(?![A-Za-z0-9_])/g, (n) =>
    n.length < 8 ? '****' : `${n.slice(0, n.length - 8)}****${n.slice(-4)}`,
  );

/** Addresses are never logged; their length is enough to debug a truncation. */
export const maskAddress = (address: string) => `<address ${address.length} chars>`;

/** `maskPhones` on every string in a formatted error: arrays and plain objects within too. */
function maskStrings(value: unknown, depth = 0): unknown {
  if (typeof value === 'string') return maskPhones(value);
  if (depth > 8 || typeof value !== 'object' || value === null) return value;
  if (Array.isArray(value)) return value.map((v) => maskStrings(v, depth + 1));
  const proto = Object.getPrototypeOf(value);
  // Other objects (an Error among the properties, a Date…) are left to the serializer,
  // which formats any Error it meets with `formatError` below.
  if (proto !== Object.prototype && proto !== null) return value;
  return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, maskStrings(v, depth + 1)]));
}

/**
 * Powertools' default log structure (its PowertoolsLogFormatter, which the package does
 * not export), with every error masked: an error's message, stack and properties, and
 * its `cause`, often quote what failed (SNS: `Invalid parameter: PhoneNumber Reason:
 * +8613800138000 is not valid to publish to`), so phone-like digit runs in them are
 * masked whoever logs the error (`logger.warn('…', { error })`, `logger.error('…', error)`).
 */
export class MaskingLogFormatter extends LogFormatter {
  formatAttributes(attributes: UnformattedAttributes, additional: LogAttributes): LogItem {
    const base: LogAttributes = {
      level: attributes.logLevel,
      message: attributes.message,
      timestamp: this.formatTimestamp(attributes.timestamp),
      service: attributes.serviceName,
      cold_start: attributes.lambdaContext?.coldStart,
      function_arn: attributes.lambdaContext?.invokedFunctionArn,
      function_memory_size: attributes.lambdaContext?.memoryLimitInMB,
      function_name: attributes.lambdaContext?.functionName,
      function_request_id: attributes.lambdaContext?.awsRequestId,
      sampling_rate: attributes.sampleRateValue,
      xray_trace_id: attributes.xRayTraceId,
      tenant_id: attributes.lambdaContext?.tenantId,
    };
    return new LogItem({ attributes: base }).addAttributes(additional);
  }

  override formatError(error: Error): LogAttributes {
    // The default formats `cause` with this method too: a nested error is masked as well.
    return maskStrings(super.formatError(error)) as LogAttributes;
  }
}

export const logger = new Logger({
  serviceName,
  persistentKeys: { district },
  logFormatter: new MaskingLogFormatter(),
});
