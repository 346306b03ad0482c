import { json } from '#shared/http/response.ts';
import { route } from '#shared/http/route.ts';
import { updateVolunteerBody } from '#shared/schemas/api.ts';
import { updateVolunteer } from '#shared/services/volunteer-update.ts';

export const handler = route(
  { allow: ['ops', 'volunteer'], body: updateVolunteerBody },
  async ({ principal, params, body, now }) =>
    json(200, await updateVolunteer(principal, params.volunteerId, body, now)),
);
