import { json } from '#shared/http/response.ts';
import { route } from '#shared/http/route.ts';
import { myOffers } from '#shared/services/people.ts';

export const handler = route({ allow: ['volunteer'] }, async ({ principal, now }) =>
  json(200, { offers: await myOffers(principal.id, now) }),
);
