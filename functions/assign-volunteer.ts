import { json } from '#shared/http/response.ts';
import { route } from '#shared/http/route.ts';
import { assignBody } from '#shared/schemas/api.ts';
import { assignVolunteer } from '#shared/services/slots.ts';

export const handler = route({ allow: ['ops'], body: assignBody }, async ({ params, body, now }) =>
  json(200, await assignVolunteer(params.requestId, body.volunteerId, now)),
);
