import { json } from '#shared/http/response.ts';
import { route } from '#shared/http/route.ts';
import { credentialBody } from '#shared/schemas/api.ts';
import { recordCredential } from '#shared/services/people.ts';

export const handler = route(
  { allow: ['ops'], body: credentialBody },
  async ({ params, body, now }) =>
    json(200, await recordCredential(params.volunteerId, body.type, body.expiresAt, now)),
);
