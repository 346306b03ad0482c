import { json } from '#shared/http/response.ts';
import { route } from '#shared/http/route.ts';
import { postRequestBody } from '#shared/schemas/api.ts';
import { postRequest } from '#shared/services/intake.ts';

export const handler = route(
  { allow: ['partner'], body: postRequestBody },
  async ({ event, principal, body, rawBody, now }) => {
    const answer = await postRequest(
      principal.id,
      event.headers?.['idempotency-key'],
      body,
      JSON.parse(rawBody),
      now,
    );
    return json(202, answer);
  },
);
