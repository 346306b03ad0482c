import { requests } from '#shared/adapters/requests.ts';
import { json } from '#shared/http/response.ts';
import { route } from '#shared/http/route.ts';
import { photoUrls } from '#shared/services/photos.ts';
import { requestFor } from '#shared/services/request-access.ts';
import { requestView } from '#shared/services/views.ts';

export const handler = route({ allow: ['ops', 'partner'] }, async ({ principal, params }) => {
  await requestFor(principal, params.requestId);
  const state = await requests.load(params.requestId);
  const view = requestView(state!);
  // Proof photos: short-lived viewing URLs, for the request's partner and ops only.
  const photos = await photoUrls(state!);
  return json(200, {
    ...view,
    tasks: view.tasks.map((t) => (photos[t.taskId] ? { ...t, photos: photos[t.taskId] } : t)),
  });
});
