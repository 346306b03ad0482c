import type { MiddlewareObj } from '@middy/core';
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2 } from 'aws-lambda';
import { AppError } from '../../errors.ts';
import { logger } from '../../observability.ts';
import { errorResponse } from '../response.ts';

export interface JsonErrorsOptions {
  /** Logged for unexpected errors; never the request body (it holds personal data). */
  log?: (error: unknown, event: APIGatewayProxyEventV2) => void;
}

const defaults: Required<JsonErrorsOptions> = {
  log: (error, event) =>
    logger.error('unexpected error', { error: error as Error, routeKey: event.routeKey }),
};

/** Turns every error into the contract's `{"error": {code, message}}`; unknown ones are 500. */
export const jsonErrors = (
  opts: JsonErrorsOptions = {},
): MiddlewareObj<APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2> => {
  const { log } = { ...defaults, ...opts };
  return {
    name: 'jsonErrors',
    onError: (request) => {
      const e = request.error;
      if (e instanceof AppError) {
        request.response = errorResponse(e.status, e.code, e.message, e.details);
        return;
      }
      log(e, request.event);
      request.response = errorResponse(500, 'internal', 'internal error; it is safe to retry');
    },
  };
};
