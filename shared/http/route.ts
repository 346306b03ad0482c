import middy, { type MiddlewareObj } from '@middy/core';
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2 } from 'aws-lambda';
import type { z } from 'zod/mini';
import type { Principal } from '../adapters/principals.ts';
import { logger } from '../observability.ts';
import { authenticate } from './middlewares/authenticate.ts';
import { bodyLimit } from './middlewares/body-limit.ts';
import { jsonBody } from './middlewares/json-body.ts';
import { jsonErrors } from './middlewares/json-errors.ts';

export interface RouteInput<B> {
  event: APIGatewayProxyEventV2;
  principal: Principal;
  body: B;
  /** The body as sent, for idempotency hashing. */
  rawBody: string;
  params: Record<string, string>;
  now: Date;
}

interface RouteOptions<S extends z.ZodMiniType | undefined> {
  allow: Principal['kind'][];
  body?: S;
  emptyBodyIsObject?: boolean;
}

type HttpMiddleware = MiddlewareObj<APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2>;

type Body<S> = S extends z.ZodMiniType ? z.infer<S> : undefined;

/**
 * An authenticated JSON route (webhooks signed by a service: signed-route.ts, which loads
 * no key lookup and so no table client): errors in the contract's shape, then auth, then body
 * validation, then the handler. Handlers get plain inputs and return a response.
 */
export function route<S extends z.ZodMiniType | undefined = undefined>(
  opts: RouteOptions<S>,
  fn: (input: RouteInput<Body<S>>) => Promise<APIGatewayProxyStructuredResultV2>,
) {
  const handler = middy<APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2>()
    .use(jsonErrors())
    .use(authenticate({ allow: opts.allow }) as unknown as HttpMiddleware)
    .handler(async (event) => {
      const e = event as APIGatewayProxyEventV2 & {
        principal: Principal;
        parsedBody: Body<S>;
        rawBodyText?: string;
      };
      // Temporary keys: cleared per invocation so they never leak into the next one.
      logger.resetKeys();
      logger.appendKeys({ routeKey: event.routeKey, principal: e.principal.kind });
      return fn({
        event,
        principal: e.principal,
        body: e.parsedBody,
        rawBody: e.rawBodyText ?? '',
        params: (event.pathParameters ?? {}) as Record<string, string>,
        now: new Date(),
      });
    });
  handler.use(
    opts.body
      ? (jsonBody({
          schema: opts.body,
          emptyIsObject: opts.emptyBodyIsObject,
        }) as unknown as HttpMiddleware)
      : (bodyLimit() as unknown as HttpMiddleware),
  );
  return handler;
}
