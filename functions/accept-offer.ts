import { json } from '#shared/http/response.ts';
import { route } from '#shared/http/route.ts';
import { acceptOffer } from '#shared/services/slots.ts';

export const handler = route({ allow: ['volunteer'] }, async ({ principal, params, now }) =>
  json(200, await acceptOffer(params.offerId, principal.id, now)),
);
