import { randomUUID } from 'node:crypto';
import { photos } from '../adapters/photos.ts';
import { type RequestState, requests } from '../adapters/requests.ts';
import { conflict, notFound } from '../errors.ts';
import { parsePairId } from '../ids.ts';

const UPLOAD_SECONDS = 300;
const VIEW_SECONDS = 900;
const EXTENSIONS = { 'image/jpeg': 'jpg', 'image/png': 'png', 'image/webp': 'webp' } as const;
export type PhotoType = keyof typeof EXTENSIONS;
export const PHOTO_TYPES = Object.keys(EXTENSIONS) as PhotoType[];

/**
 * A volunteer attaches a proof photo (a door drop) to their task: a presigned S3 PUT URL
 * for one image, valid five minutes. Photos are shown to the request's partner and ops
 * only (GET /v1/requests/{id}), never to other volunteers; they expire with the bucket's
 * retention.
 */
export async function createPhotoUpload(
  volunteerId: string,
  taskId: string,
  contentType: PhotoType,
  now: Date,
) {
  const ids = parsePairId(taskId, 'tsk');
  if (!ids || ids.volunteerId !== volunteerId) throw notFound('task');
  const state = await requests.load(ids.requestId);
  const task = state?.tasks.find((t) => t.volunteerId === volunteerId);
  if (!task) throw notFound('task');
  if (task.status === 'cancelled')
    throw conflict('task_cancelled', 'taskId: the request was cancelled');
  const key = `photos/${ids.requestId}/${volunteerId}/${randomUUID()}.${EXTENSIONS[contentType]}`;
  if (!(await photos.attach(ids.requestId, volunteerId, key))) {
    throw conflict('too_many_photos', 'taskId: this task has as many photos as allowed');
  }
  return {
    taskId,
    photoKey: key,
    uploadUrl: await photos.uploadUrl(key, contentType, UPLOAD_SECONDS),
    method: 'PUT',
    headers: { 'content-type': contentType },
    expiresAt: new Date(now.getTime() + UPLOAD_SECONDS * 1000).toISOString(),
  };
}

/** Viewing URLs of each task's photos, by task id, for the partner and ops. */
export async function photoUrls(state: RequestState): Promise<Record<string, string[]>> {
  const out: Record<string, string[]> = {};
  for (const t of state.tasks) {
    const keys = t.photoKeys ?? [];
    if (keys.length)
      out[t.taskId] = await Promise.all(keys.map((k) => photos.viewUrl(k, VIEW_SECONDS)));
  }
  return out;
}
