import { json } from '#shared/http/response.ts';
import { route } from '#shared/http/route.ts';
import { statsFor } from '#shared/services/stats.ts';

export const handler = route({ allow: ['ops'] }, async ({ event, now }) =>
  json(200, await statsFor(event.queryStringParameters ?? {}, now)),
);
