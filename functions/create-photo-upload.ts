import { json } from '#shared/http/response.ts';
import { route } from '#shared/http/route.ts';
import { photoBody } from '#shared/schemas/api.ts';
import { createPhotoUpload } from '#shared/services/photos.ts';

export const handler = route(
  { allow: ['volunteer'], body: photoBody },
  async ({ principal, params, body, now }) =>
    json(201, await createPhotoUpload(principal.id, params.taskId, body.contentType, now)),
);
