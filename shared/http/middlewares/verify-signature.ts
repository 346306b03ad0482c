import type { MiddlewareObj } from '@middy/core';
import type { APIGatewayProxyEventV2 } from 'aws-lambda';
import {
  PROVIDER_SIGNATURE_HEADER,
  PROVIDER_TIMESTAMP_HEADER,
  providerSignatureMatches,
} from '../../domain/signature.ts';
import { AppError } from '../../errors.ts';
import { logger } from '../../observability.ts';

export interface VerifySignatureOptions {
  /** The secrets a signature may be made with; none configured refuses every call. */
  secrets: () => Promise<string[]>;
  /** Largest difference between the signed timestamp and now: older calls are replays. */
  toleranceSeconds?: number;
  nowSeconds?: () => number;
}

const defaults = {
  toleranceSeconds: 300,
  nowSeconds: () => Math.floor(Date.now() / 1000),
};

const unauthorized = (message: string) => new AppError(401, 'unauthorized', message);

/**
 * Authenticates a webhook by its body signature (`X-Signature: sha256=<hex>` of
 * `<X-Timestamp>.<body>`, see signProviderBody) instead of a Bearer key: 401 when a header
 * is missing, the timestamp is more than the tolerance away from now, or the signature
 * does not match. Runs before the body is parsed, so nothing unsigned is even read.
 */
export const verifySignature = (
  opts: VerifySignatureOptions,
): MiddlewareObj<APIGatewayProxyEventV2> => {
  const { secrets, toleranceSeconds, nowSeconds } = { ...defaults, ...opts };
  return {
    name: 'verifySignature',
    before: async (request) => {
      const { headers = {}, body, isBase64Encoded } = request.event;
      const signature = headers[PROVIDER_SIGNATURE_HEADER];
      const timestamp = headers[PROVIDER_TIMESTAMP_HEADER];
      if (!signature || !/^sha256=[0-9a-f]{64}$/i.test(signature)) {
        throw unauthorized(
          'X-Signature: sha256=<hex HMAC-SHA256 of "<timestamp>.<body>"> is required',
        );
      }
      if (!timestamp || !/^\d{1,12}$/.test(timestamp)) {
        throw unauthorized('X-Timestamp: Unix seconds are required');
      }
      if (Math.abs(nowSeconds() - Number(timestamp)) > toleranceSeconds) {
        throw unauthorized(`X-Timestamp: more than ${toleranceSeconds} s from now`);
      }
      const keys = await secrets();
      if (keys.length === 0) {
        // Misconfigured, not an attack: say so to ops, and still refuse the call.
        logger.error('no SMS provider secret is configured: every reply webhook is refused');
        throw unauthorized('X-Signature: does not match');
      }
      const bytes = Buffer.from(body ?? '', isBase64Encoded ? 'base64' : 'utf8');
      if (!providerSignatureMatches(keys, timestamp, bytes, signature.toLowerCase())) {
        throw unauthorized('X-Signature: does not match');
      }
    },
  };
};
