import middy, { type MiddlewareObj } from '@middy/core';
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2 } from 'aws-lambda';
import type { z } from 'zod/mini';
import { logger } from '../observability.ts';
import { jsonBody } from './middlewares/json-body.ts';
import { jsonErrors } from './middlewares/json-errors.ts';
import { type VerifySignatureOptions, verifySignature } from './middlewares/verify-signature.ts';

type HttpMiddleware = MiddlewareObj<APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2>;

export interface SignedRouteInput<B> {
  event: APIGatewayProxyEventV2;
  body: B;
  now: Date;
}

/**
 * A webhook route called by a service, not a key holder (the SMS provider): errors in the
 * contract's shape, then the body signature, then body validation, then the handler.
 * There is no principal: the services that take one never see a webhook caller.
 */
export function signedRoute<S extends z.ZodMiniType>(
  opts: { body: S; signature: VerifySignatureOptions },
  fn: (input: SignedRouteInput<z.infer<S>>) => Promise<APIGatewayProxyStructuredResultV2>,
) {
  return middy<APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2>()
    .use(jsonErrors())
    .use(verifySignature(opts.signature) as unknown as HttpMiddleware)
    .use(jsonBody({ schema: opts.body }) as unknown as HttpMiddleware)
    .handler(async (event) => {
      logger.resetKeys();
      logger.appendKeys({ routeKey: event.routeKey, principal: 'sms-provider' });
      const e = event as APIGatewayProxyEventV2 & { parsedBody: z.infer<S> };
      return fn({ event, body: e.parsedBody, now: new Date() });
    });
}
