// Who may see a request, read-only: apart from lifecycle.ts (whose transitions put work on
// the events queue), so get-request does not load the SQS client.
import type { Principal } from '../adapters/principals.ts';
import { requests } from '../adapters/requests.ts';
import type { HelpRequest } from '../domain/request.ts';
import { notFound } from '../errors.ts';

/** A partner sees only its own requests; anything else is 404, as if it did not exist. */
export async function requestFor(principal: Principal, requestId: string): Promise<HelpRequest> {
  const request = ownRequest(principal, await requests.get(requestId));
  if (!request) throw notFound('request');
  return request;
}

/** The request if the principal may see it: ops any, a partner its own, a volunteer none. */
export function ownRequest(principal: Principal, request: HelpRequest | undefined) {
  if (!request || principal.kind === 'volunteer') return undefined;
  if (principal.kind === 'partner' && request.partnerId !== principal.id) return undefined;
  return request;
}
