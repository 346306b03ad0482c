import { json } from '#shared/http/response.ts';
import { route } from '#shared/http/route.ts';
import { registerVolunteerBody } from '#shared/schemas/api.ts';
import { registerVolunteer } from '#shared/services/people.ts';

export const handler = route(
  { allow: ['ops'], body: registerVolunteerBody },
  async ({ event, body, rawBody, now }) =>
    json(
      201,
      await registerVolunteer(body, now, {
        key: event.headers?.['idempotency-key'],
        rawBody: JSON.parse(rawBody),
      }),
    ),
);
