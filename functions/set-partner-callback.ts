import { json } from '#shared/http/response.ts';
import { route } from '#shared/http/route.ts';
import { callbackBody } from '#shared/schemas/api.ts';
import { setPartnerCallback } from '#shared/services/partner-callback.ts';

export const handler = route(
  { allow: ['partner'], body: callbackBody },
  async ({ principal, body, now }) =>
    json(200, await setPartnerCallback(principal.id, body.url, now)),
);
