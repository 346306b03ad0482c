import { json } from '#shared/http/response.ts';
import { route } from '#shared/http/route.ts';
import { rotateKeyBody } from '#shared/schemas/api.ts';
import { rotateVolunteerToken } from '#shared/services/people.ts';

export const handler = route(
  { allow: ['ops'], body: rotateKeyBody, emptyBodyIsObject: true },
  async ({ params, body, now }) =>
    json(201, await rotateVolunteerToken(params.volunteerId, body.graceMinutes, now)),
);
