import type { MiddlewareObj } from '@middy/core';
import type { APIGatewayProxyEventV2 } from 'aws-lambda';
import { AppError } from '../../errors.ts';

export interface BodyLimitOptions {
  /** Largest body accepted, in bytes; the contract says 64 KiB. */
  maxBytes?: number;
}

export const bodyLimitDefaults = { maxBytes: 64 * 1024 };

/** The body as text (decoded when API Gateway sent it base64), or 413 when too big. */
export function boundedBodyText(event: APIGatewayProxyEventV2, maxBytes: number): string {
  const text = event.body
    ? event.isBase64Encoded
      ? Buffer.from(event.body, 'base64').toString('utf8')
      : event.body
    : '';
  if (Buffer.byteLength(text, 'utf8') > maxBytes) {
    throw new AppError(413, 'payload_too_large', `body: larger than ${maxBytes} bytes`);
  }
  return text;
}

/**
 * 413 for a body over the limit on a route that reads no body: the contract's limit holds
 * on every route, not only where `jsonBody` parses one.
 */
export const bodyLimit = (opts: BodyLimitOptions = {}): MiddlewareObj<APIGatewayProxyEventV2> => {
  const { maxBytes } = { ...bodyLimitDefaults, ...opts };
  return {
    name: 'bodyLimit',
    before: (request) => {
      boundedBodyText(request.event, maxBytes);
    },
  };
};
