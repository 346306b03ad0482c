import { json } from '#shared/http/response.ts';
import { route } from '#shared/http/route.ts';
import { createPartnerBody } from '#shared/schemas/api.ts';
import { createPartner } from '#shared/services/people.ts';

export const handler = route({ allow: ['ops'], body: createPartnerBody }, async ({ body, now }) =>
  json(201, await createPartner(body.name, now)),
);
