import type { Principal } from '../adapters/principals.ts';
import { enqueue } from '../adapters/queues.ts';
import { requests } from '../adapters/requests.ts';
import type { RequestStatus } from '../domain/request.ts';
import { conflict, notFound } from '../errors.ts';
import { creditTotals } from './credit.ts';
import { ownRequest } from './request-access.ts';

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
    // The first read is eventually consistent (half the read units): the transition is
    // conditional on the status read, and anything but a success is decided again on a
    // strongly consistent read, so a stale copy can cost a retry but never a wrong answer.
    const consistent = attempt > 0;
    const state = await requests.load(requestId, { consistent });
    const request = state && ownRequest(principal, state.request);
    if (!state || !request) {
      if (consistent) throw notFound('request');
      continue;
    }
    if (request.status === to) {
      await followUp(requestId, to, now);
      return { requestId, status: to };
    }
    if (!from.includes(request.status)) {
      if (consistent) throw refuse(request.status);
      continue;
    }
    // A confirm writes the credit's minutes and points onto the request, for the counters.
    const credit = to === 'confirmed' ? creditTotals(state) : undefined;
    if (await requests.transition(request, request.status, to, now, [], credit)) {
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
