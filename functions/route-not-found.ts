import type { APIGatewayProxyEventV2 } from 'aws-lambda';
import { errorResponse } from '#shared/http/response.ts';
import { ROUTES } from '#shared/resources.ts';

const patterns = ROUTES.map((r) => ({
  method: r.method,
  regex: new RegExp(`^${r.path.replace(/\{[^/]+\}/g, '[^/]+')}$`),
}));

/** Every unmatched path: 405 when the path is known under another method, else 404. */
export const handler = async (event: APIGatewayProxyEventV2) => {
  const path = event.rawPath ?? event.requestContext?.http?.path ?? '';
  const methods = patterns.filter((p) => p.regex.test(path)).map((p) => p.method);
  if (methods.length > 0) {
    return {
      ...errorResponse(
        405,
        'method_not_allowed',
        `${event.requestContext.http.method} ${path}: use ${methods.join(', ')}`,
      ),
      headers: { 'content-type': 'application/json; charset=utf-8', allow: methods.join(', ') },
    };
  }
  return errorResponse(404, 'not_found', `${path}: no such route`);
};
