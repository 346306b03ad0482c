import { enqueue } from '../adapters/queues.ts';
import { type IdempotencyRecord, requests } from '../adapters/requests.ts';
import type { HelpRequest } from '../domain/request.ts';
import { AppError, badRequest, conflict } from '../errors.ts';
import { canonicalHash, checkIdempotencyKey, requestIdOf } from '../ids.ts';
import type { PostRequestBody } from '../schemas/api.ts';
import { districtView } from './context.ts';
import { checkRateLimit } from './rate-limit.ts';
import { scheduleWindowEnd } from './window-timer.ts';

/**
 * Accepts a partner's request: validate against the district, store it with its
 * idempotency record, then queue it for matching. The write comes first; if queueing
 * fails the partner's retry (same key) queues it again, and the sweeper repairs the rest.
 */
export async function postRequest(
  partnerId: string,
  idempotencyKey: string | undefined,
  body: PostRequestBody,
  rawBody: unknown,
  now: Date,
): Promise<{ requestId: string; status: 'received' }> {
  if (!idempotencyKey) throw badRequest('Idempotency-Key', 'header is required');
  checkIdempotencyKey(idempotencyKey);
  const requestId = requestIdOf(partnerId, idempotencyKey);
  const bodyHash = canonicalHash(rawBody);
  const view = districtView();
  let townId: string;
  try {
    await checkRateLimit(partnerId, now);
    const community = view.community(body.communityId);
    if (!community) {
      throw badRequest('communityId', `is not a community of district ${view.district.id}`);
    }
    townId = community.townId;
    if (body.window && Date.parse(body.window.end) <= now.getTime()) {
      throw badRequest('window.end', 'has already passed');
    }
  } catch (e) {
    // A retry of a request already accepted gets its first answer, whatever changed since
    // (its window passed, the partner's rate, the district's communities): only a refusal
    // pays for this read, never an accepted post.
    const existing = e instanceof AppError ? await requests.findIdempotent(requestId) : undefined;
    if (existing) return replay(existing, bodyHash);
    throw e;
  }
  // No read first: the request's id is derived from the key, so the put's condition on
  // the request item finds a repeated key, and only then is it read.

  const at = now.toISOString();
  const request: HelpRequest = {
    requestId,
    partnerId,
    status: 'received',
    kind: body.kind,
    communityId: body.communityId,
    townId,
    address: body.address,
    requester: body.requester,
    slots: body.slots,
    filled: 0,
    delivered: 0,
    skills: body.skills,
    urgency: body.urgency,
    location: body.location,
    window: body.window,
    notes: body.notes,
    scope: view.district.escalation[0],
    history: [{ status: 'received', at }],
    createdAt: at,
    updatedAt: at,
  };
  const stored = await requests.create(
    request,
    { key: idempotencyKey, bodyHash },
    view.district.retentionDays,
    now,
  );
  if (!stored.created) return replay(stored.existing, bodyHash);
  await enqueue('match', { requestId: request.requestId, first: true });
  if (request.window) await scheduleWindowEnd(request.requestId, request.window.end, now);
  return { requestId: request.requestId, status: 'received' };
}

/** A repeated key: the first answer for the same body (re-queued if still waiting), else 409. */
async function replay(previous: IdempotencyRecord, bodyHash: string) {
  if (previous.bodyHash !== bodyHash) {
    throw conflict('idempotency_key_reused', 'Idempotency-Key: already used with a different body');
  }
  // The first attempt may have stored the request and then failed to queue it.
  if (previous.status === 'received') await enqueue('match', { requestId: previous.requestId });
  return { requestId: previous.requestId, status: 'received' as const };
}
