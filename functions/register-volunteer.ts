import { json } from '#shared/http/response.ts';
import { route } from '#shared/http/route.ts';
import { registerVolunteerBody } from '#shared/schemas/api.ts';
import { registerVolunteer } from '#shared/services/people.ts';

export const handler = route(
  { allow: ['ops'], body: registerVolunteerBody },
  async ({ body, now }) => json(201, await registerVolunteer(body, now)),
);
