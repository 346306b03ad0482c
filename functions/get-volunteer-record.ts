import { json } from '#shared/http/response.ts';
import { route } from '#shared/http/route.ts';
import { volunteerRecord } from '#shared/services/records.ts';

export const handler = route({ allow: ['ops', 'volunteer'] }, async ({ principal, params }) =>
  json(200, await volunteerRecord(principal, params.volunteerId)),
);
