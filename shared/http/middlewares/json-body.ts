import type { MiddlewareObj } from '@middy/core';
import type { APIGatewayProxyEventV2 } from 'aws-lambda';
import type { z } from 'zod/mini';
import { badRequest } from '../../errors.ts';
import { describeIssue } from '../../schemas/issues.ts';
import { bodyLimitDefaults, boundedBodyText } from './body-limit.ts';

export interface JsonBodyOptions<S extends z.ZodMiniType> {
  schema: S;
  /** Largest body accepted, in bytes; the contract says 64 KiB. */
  maxBytes?: number;
  /** Treat a missing body as `{}` (routes whose fields are all optional). */
  emptyIsObject?: boolean;
}

const defaults = { ...bodyLimitDefaults, emptyIsObject: false };

export type BodyEvent<B> = APIGatewayProxyEventV2 & { parsedBody: B; rawBodyText: string };

/** Parses and validates the JSON body: 413 when too big, 400 naming the field otherwise. */
export const jsonBody = <S extends z.ZodMiniType>(
  opts: JsonBodyOptions<S>,
): MiddlewareObj<BodyEvent<z.infer<S>>> => {
  const { schema, maxBytes, emptyIsObject } = { ...defaults, ...opts };
  return {
    name: 'jsonBody',
    before: (request) => {
      const event = request.event;
      const text = boundedBodyText(event, maxBytes);
      let raw: unknown;
      if (text.trim() === '') {
        if (!emptyIsObject) throw badRequest('body', 'a JSON object is required');
        raw = {};
      } else {
        try {
          raw = JSON.parse(text);
        } catch {
          throw badRequest('body', 'is not valid JSON', 'invalid_json');
        }
      }
      if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) {
        throw badRequest('body', 'must be a JSON object');
      }
      const result = schema.safeParse(raw);
      if (!result.success) {
        const { field, message } = describeIssue(result.error);
        throw badRequest(field, message);
      }
      event.parsedBody = result.data;
      event.rawBodyText = text;
    },
  };
};
