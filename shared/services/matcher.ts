import { notify } from '../adapters/notification-topic.ts';
import { alertOps, sendOnce } from '../adapters/notifications.ts';
import { enqueue } from '../adapters/queues.ts';
import { replyCodes } from '../adapters/reply-codes.ts';
import { offers, type RequestState, requests } from '../adapters/requests.ts';
import { volunteers } from '../adapters/volunteers.ts';
import { pushAvailable } from '../district.ts';
import { fitsRequest, NO_RULES, offersWanted, rankCandidates } from '../domain/matching.ts';
import {
  liveTasks,
  nextScope,
  type Offer,
  openOffers,
  type Scope,
  scopeWentUnanswered,
} from '../domain/request.ts';
import { KIND_LABELS } from '../domain/texts.ts';
import type { AvailableVolunteer } from '../domain/volunteer.ts';
import { offerIdOf } from '../ids.ts';
import { logger } from '../observability.ts';
import type { NotifyMessage } from '../schemas/messages.ts';
import { districtView } from './context.ts';

/** Most index items read in one community per match (pages stop earlier when enough are found). */
const MAX_READ_PER_COMMUNITY = 200;

export interface MatchOutcome {
  offered: string[];
  scope: Scope;
}

/**
 * Makes the offers a received request still needs. Safe to run any number of times:
 * it re-reads the request, offers only to volunteers not yet offered, and each offer is
 * a conditional put. Widens the scope at once when nobody in the current one took the
 * request before its offers expired (`scopeWentUnanswered`), and when the current one
 * has nobody left and no offer is still open; after the last scope, ops are alerted for
 * manual dispatch. Each widening is conditional on the scope read, so repeated or
 * concurrent runs widen once and skip none.
 */
export async function matchRequest(
  requestId: string,
  now: Date,
  opts: { retry?: boolean; first?: boolean } = {},
): Promise<MatchOutcome> {
  const state = await loadForMatch(requestId, opts.first === true);
  if (state?.request.status !== 'received') {
    return { offered: [], scope: state?.request.scope ?? 'ops' };
  }
  const { district } = districtView();
  const { request } = state;
  const open = openOffers(state.offers, now);
  // A retried run may have stored offers and died before queueing their messages;
  // sending them again is safe, as notifications and expiries are idempotent.
  if (opts.retry && open.length > 0) await announceOffers(state, open);
  const openSlots = request.slots - liveTasks(state.tasks).length;
  let wanted = offersWanted(openSlots, district.offers.batchSize, open.length);
  if (wanted === 0) return { offered: [], scope: request.scope };

  let scope = request.scope;
  if (scope !== 'ops' && scopeWentUnanswered(state.offers, scope, now)) {
    // The scope's remaining volunteers are not lost: a wider scope reads the request's
    // own community first (communitiesInScope), so they are still offered first.
    const next = nextScope(scope, district.escalation);
    if (!(await requests.widen(requestId, scope, next, now))) return { offered: [], scope };
    logger.info('scope widened', { requestId, from: scope, to: next, reason: 'unanswered' });
    scope = next;
  }
  while (scope !== 'ops') {
    const chosen = await findCandidates(state, scope, wanted, now);
    if (chosen.length > 0) {
      const made = await makeOffers(state, chosen, scope, now);
      return { offered: made, scope };
    }
    if (open.length > 0) return { offered: [], scope };
    const next = nextScope(scope, district.escalation);
    if (!(await requests.widen(requestId, scope, next, now))) {
      // Another worker moved the scope on; its run makes the offers.
      return { offered: [], scope };
    }
    logger.info('scope widened', { requestId, from: scope, to: next, reason: 'nobody_left' });
    scope = next;
    wanted = offersWanted(openSlots, district.offers.batchSize, 0);
  }
  await alertDispatch(state, now);
  return { offered: [], scope };
}

/**
 * The request with its offers and tasks, strongly consistent: a later match must see
 * every offer made before it, or it offers the slots again. The post's own match, first
 * delivered, reads eventually consistent (half the read units): no offer can exist yet,
 * and a copy that does not show the request yet is read again strongly. A copy that
 * misses a cancel made meanwhile only leads to offers that read withdrawn.
 */
async function loadForMatch(requestId: string, first: boolean) {
  const stale = first ? await requests.load(requestId, { consistent: false }) : undefined;
  return stale ?? (await requests.load(requestId));
}

/** Asks ops to dispatch by hand, once per request however often matching runs. */
async function alertDispatch(state: RequestState, now: Date): Promise<void> {
  const { request } = state;
  await sendOnce(
    `alert:dispatch:${request.requestId}`,
    () =>
      alertOps(
        `需人工派单 ${request.requestId}`,
        `求助 ${request.requestId}（${KIND_LABELS[request.kind]}，${request.communityId}）在全区无可接单志愿者，请人工派单。`,
      ),
    now,
  );
}

/**
 * The best `wanted` candidates in a scope. Reads the availability index community by
 * community, nearest first, a page at a time, and stops once it has enough to rank:
 * the items read per match depend on `wanted` and the communities in scope, not on the
 * number of volunteers in the district. A skilled request reads the per-skill entries
 * of its first skill, so volunteers without it are never read. Every entry read is of
 * a volunteer on duty with free capacity (the index holds no others), so what is left
 * to check is the request's fit.
 */
export async function findCandidates(
  state: RequestState,
  scope: Exclude<Scope, 'ops'>,
  wanted: number,
  now: Date,
): Promise<AvailableVolunteer[]> {
  const { request } = state;
  const excluded = new Set([
    ...state.offers.map((o) => o.volunteerId),
    ...state.tasks.map((t) => t.volunteerId),
  ]);
  const view = districtView();
  const rules = { ...NO_RULES, ...view.district.kinds[request.kind] };
  const enough = wanted * 2;
  const found: AvailableVolunteer[] = [];
  for (const communityId of view.communitiesInScope(scope, request.communityId)) {
    let startKey: Record<string, unknown> | undefined;
    let read = 0;
    do {
      const limit = enough + excluded.size;
      const page = await volunteers.availableIn(communityId, request.skills, limit, startKey);
      found.push(...page.available.filter((v) => fitsRequest(v, request, excluded, rules, now)));
      read += limit;
      startKey = page.nextKey;
    } while (startKey && found.length < enough && read < MAX_READ_PER_COMMUNITY);
    // Nearer communities come first; with locations every community in scope is ranked.
    if (found.length >= enough && !request.location) break;
  }
  return rankCandidates(found, request, now, rules).slice(0, wanted);
}

async function makeOffers(
  state: RequestState,
  chosen: AvailableVolunteer[],
  scope: Scope,
  now: Date,
): Promise<string[]> {
  const { district } = districtView();
  const { request } = state;
  const timeout = district.offers.timeoutSeconds;
  const expiresAt = new Date(now.getTime() + timeout * 1000).toISOString();
  const made: Offer[] = [];
  // A reply code is only any use in an SMS: claim one for the volunteers the offer will
  // reach by SMS (no push endpoint, or an urgent request's SMS reminder), not for the
  // others (a REPLY# item per offer is a write unit each). A push that fails because the
  // endpoint is disabled falls back to an SMS without a code, asking to open the app.
  // No push in an HTTPS-provider district (China regions): an endpoint stored anyway is
  // ignored, and the volunteer is offered by SMS as one without.
  const endpointOf = (v: AvailableVolunteer) =>
    pushAvailable(district) ? v.pushEndpoint : undefined;
  const smsLikely = (v: AvailableVolunteer) =>
    !v.smsOptOut && (!endpointOf(v) || request.urgency === 'urgent');
  for (const v of chosen) {
    const endpoint = endpointOf(v);
    const code = smsLikely(v)
      ? await replyCodes.claim(
          { kind: 'offer', requestId: request.requestId, volunteerId: v.volunteerId },
          v.phone,
          new Date(expiresAt),
          now,
        )
      : undefined;
    const offer: Offer = {
      offerId: offerIdOf(request.requestId, v.volunteerId),
      requestId: request.requestId,
      volunteerId: v.volunteerId,
      status: 'open',
      scope,
      kind: request.kind,
      communityId: request.communityId,
      createdAt: now.toISOString(),
      expiresAt,
      code,
      ...(endpoint ? { push: { endpoint, ...(v.language ? { language: v.language } : {}) } } : {}),
    };
    if (await offers.create(offer, district.retentionDays)) made.push(offer);
  }
  await announceOffers(state, made);
  return made.map((o) => o.offerId);
}

/**
 * The notification of an offer, or (`sms`) its urgent SMS reminder. Both use the SMS
 * marker `offer:<offerId>`, so a volunteer gets at most one offer SMS however reached.
 */
export function offerNotice(
  request: Pick<RequestState['request'], 'requestId' | 'kind' | 'communityId'>,
  o: Offer,
  channel: 'auto' | 'sms' = 'auto',
): NotifyMessage {
  const { district, community } = districtView();
  return {
    notificationId: channel === 'sms' ? `offer-urgent:${o.offerId}` : `offer:${o.offerId}`,
    ...(channel === 'sms' ? { smsKey: `offer:${o.offerId}` } : {}),
    to: { kind: 'volunteer', volunteerId: o.volunteerId },
    template: 'offer',
    params: {
      community: community(request.communityId)?.name ?? request.communityId,
      kind: request.kind,
      kindLabel: KIND_LABELS[request.kind],
      minutes: Math.max(1, Math.round(district.offers.timeoutSeconds / 60)),
      ...(o.code ? { code: o.code } : {}),
    },
    channel,
    // The offer itself goes push first, to the endpoint the offer was made with: no read.
    ...(channel === 'auto' && o.push ? { push: o.push } : {}),
    requestId: request.requestId,
  };
}

/**
 * Publishes each offer's notification and queues one expiry timer for the batch (its
 * offers share their expiry); for an urgent request also one timer that sends the batch's
 * offers still open by SMS after push had its chance. A timer per batch, not per offer:
 * each SQS message is a send, a receive, a delete and an invocation.
 */
async function announceOffers(state: RequestState, made: Offer[]): Promise<void> {
  if (made.length === 0) return;
  const { district } = districtView();
  const { request } = state;
  const timeout = district.offers.timeoutSeconds;
  await notify.publishAll(made.map((o) => offerNotice(request, o)));
  const batch = { requestId: request.requestId, volunteerIds: made.map((o) => o.volunteerId) };
  await enqueue('timers', { type: 'offer_expiry', ...batch }, timeout);
  const smsAfter = district.notifications.urgentSmsAfterSeconds;
  if (request.urgency === 'urgent' && smsAfter < timeout) {
    await enqueue('timers', { type: 'offer_sms', ...batch }, smsAfter);
  }
}
