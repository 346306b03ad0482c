import type { MiddlewareObj } from '@middy/core';
import type { APIGatewayProxyEventV2 } from 'aws-lambda';
import { type Principal, principals } from '../../adapters/principals.ts';
import { AppError } from '../../errors.ts';

export interface AuthenticateOptions {
  /** Kinds of principal allowed on the route. */
  allow: Principal['kind'][];
  resolve?: (secret: string) => Promise<Principal | undefined>;
}

const defaults = { resolve: principals.resolve };

export type AuthedEvent = APIGatewayProxyEventV2 & { principal: Principal };

/** Checks `Authorization: Bearer <key>`: 401 without a known key, 403 for the wrong kind. */
export const authenticate = (opts: AuthenticateOptions): MiddlewareObj<AuthedEvent> => {
  const { allow, resolve } = { ...defaults, ...opts };
  return {
    name: 'authenticate',
    before: async (request) => {
      const header = request.event.headers?.authorization ?? '';
      const match = /^Bearer\s+(\S+)\s*$/i.exec(header);
      if (!match) {
        throw new AppError(401, 'unauthorized', 'Authorization: a Bearer key is required');
      }
      const principal = await resolve(match[1]);
      if (!principal)
        throw new AppError(401, 'unauthorized', 'Authorization: unknown or revoked key');
      if (!allow.includes(principal.kind)) {
        throw new AppError(403, 'forbidden', `this route is for ${allow.join(' or ')} keys`);
      }
      request.event.principal = principal;
    },
  };
};
