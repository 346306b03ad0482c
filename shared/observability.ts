import { LogFormatter, Logger, LogItem } from '@aws-lambda-powertools/logger';
import type { LogAttributes, UnformattedAttributes } from '@aws-lambda-powertools/logger/types';
import { maskPhones } from './masking.ts';

const serviceName = process.env.POWERTOOLS_SERVICE_NAME ?? 'volunteer-dispatch';
const district = process.env.DISTRICT_ID ?? 'local';

export { maskAddress, maskLength, maskPhone, maskPhones } from './masking.ts';

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
