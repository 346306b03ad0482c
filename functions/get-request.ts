import { requests } from '#shared/adapters/requests.ts';
import { json } from '#shared/http/response.ts';
import { route } from '#shared/http/route.ts';
import { requestFor } from '#shared/services/lifecycle.ts';
import { requestView } from '#shared/services/views.ts';

export const handler = route({ allow: ['ops', 'partner'] }, async ({ principal, params }) => {
  await requestFor(principal, params.requestId);
  const state = await requests.load(params.requestId);
  return json(200, requestView(state!));
});
