import { json } from '#shared/http/response.ts';
import { route } from '#shared/http/route.ts';
import { deliveredBody } from '#shared/schemas/api.ts';
import { reportDelivered } from '#shared/services/slots.ts';

export const handler = route(
  { allow: ['volunteer'], body: deliveredBody, emptyBodyIsObject: true },
  async ({ principal, params, body, now }) =>
    json(200, await reportDelivered(params.taskId, principal.id, body.note, now)),
);
