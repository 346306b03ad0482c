import { json } from '#shared/http/response.ts';
import { route } from '#shared/http/route.ts';
import { cancelRequest } from '#shared/services/lifecycle.ts';

export const handler = route({ allow: ['ops', 'partner'] }, async ({ principal, params, now }) =>
  json(200, await cancelRequest(principal, params.requestId, now)),
);
