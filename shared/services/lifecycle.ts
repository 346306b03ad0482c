import type { Principal } from '../adapters/principals.ts';
import { enqueue } from '../adapters/queues.ts';
import { requests } from '../adapters/requests.ts';
import type { HelpRequest, RequestStatus } from '../domain/request.ts';
import { conflict, notFound } from '../errors.ts';

/** A partner sees only its own requests; anything else is 404, as if it did not exist. */
export async function requestFor(principal: Principal, requestId: string): Promise<HelpRequest> {
  const request = await requests.get(requestId);
  if (!request) throw notFound('request');
  if (principal.kind === 'partner' && request.partnerId !== principal.id) {
    throw notFound('request');
  }
  if (principal.kind === 'volunteer') throw notFound('request');
  return request;
}

/**
 * Cancels a request before delivery; repeating it is 200 with the same status. Open
 * offers are withdrawn and assigned volunteers told, by the follow-up event.
 */
export async function cancelRequest(principal: Principal, requestId: string, now: Date) {
  return finish(principal, requestId, ['received', 'matched'], 'cancelled', now, (s) =>
    s === 'expired'
      ? conflict('request_expired', 'requestId: the request has expired')
      : conflict('already_delivered', 'requestId: a delivered request cannot be cancelled'),
  );
}

/** The requester (through its partner) or ops confirm a delivered request. */
export async function confirmRequest(principal: Principal, requestId: string, now: Date) {
  return finish(principal, requestId, ['delivered'], 'confirmed', now, (s) =>
    conflict('not_delivered', `requestId: the request is ${s}, not delivered`),
  );
}

async function finish(
  principal: Principal,
  requestId: string,
  from: RequestStatus[],
  to: 'cancelled' | 'confirmed',
  now: Date,
  refuse: (status: RequestStatus) => Error,
) {
  for (let attempt = 0; attempt < 5; attempt++) {
    const request = await requestFor(principal, requestId);
    if (request.status === to) {
      await followUp(requestId, to, now);
      return { requestId, status: to };
    }
    if (!from.includes(request.status)) throw refuse(request.status);
    if (await requests.transition(request, request.status, to, now)) {
      await followUp(requestId, to, now);
      return { requestId, status: to };
    }
  }
  throw conflict('busy', 'requestId: changed concurrently; retry');
}

const followUp = (requestId: string, to: 'cancelled' | 'confirmed', now: Date) =>
  enqueue('events', {
    type: to === 'cancelled' ? 'request_closed' : 'request_confirmed',
    requestId,
    at: now.toISOString(),
  });
