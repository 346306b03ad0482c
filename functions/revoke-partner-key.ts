import { json } from '#shared/http/response.ts';
import { route } from '#shared/http/route.ts';
import { revokePartnerKeys } from '#shared/services/partner-keys.ts';

export const handler = route({ allow: ['ops'] }, async ({ params, now }) =>
  json(200, await revokePartnerKeys(params.partnerId, now)),
);
