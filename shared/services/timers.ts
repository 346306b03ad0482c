import { notify } from '../adapters/notification-topic.ts';
import { alertOps, sendOnce } from '../adapters/notifications.ts';
import { enqueue } from '../adapters/queues.ts';
import { offers, requests } from '../adapters/requests.ts';
import { KIND_LABELS } from '../domain/texts.ts';
import type { TimerMessage } from '../schemas/messages.ts';
import { offerNotice } from './matcher.ts';

import { MAX_DELAY } from './window-timer.ts';

type OfferTimer = Extract<TimerMessage, { type: 'offer_expiry' | 'offer_sms' }>;

/** The offers a timer is for: its batch, or the one offer of a timer queued before batches. */
const volunteerIdsOf = (t: OfferTimer) => t.volunteerIds ?? (t.volunteerId ? [t.volunteerId] : []);

/**
 * A timer fired. Offer expiry: close every offer of the batch still open and past its time,
 * note each in the history, and match again (which widens the scope at once when nobody
 * in it accepted: its offers expired unanswered).
 * Window end: a request still waiting for volunteers expires; its offers are withdrawn
 * and ops are told. All are conditional writes, so a repeated timer does nothing.
 */
export async function handleTimer(timer: TimerMessage, now: Date): Promise<void> {
  if (timer.type === 'offer_sms') return urgentOfferSms(timer, now);
  if (timer.type === 'offer_expiry') return expireOffers(timer, now);

  const left = (Date.parse(timer.at) - now.getTime()) / 1000;
  if (left > 0) {
    await enqueue('timers', timer, Math.min(MAX_DELAY, left));
    return;
  }
  const request = await requests.get(timer.requestId);
  if (!request) return;
  if (request.status === 'received') {
    await requests.transition(request, 'received', 'expired', now);
    request.status = (await requests.get(timer.requestId))?.status ?? request.status;
  }
  if (request.status !== 'expired') return;
  await sendOnce(
    `alert:expired:${timer.requestId}`,
    () =>
      alertOps(
        `求助已过期 ${timer.requestId}`,
        `求助 ${timer.requestId}（${KIND_LABELS[request.kind]}，${request.communityId}）时间窗已过，仍有空缺，已标记为过期。`,
      ),
    now,
  );
  await enqueue('events', {
    type: 'request_closed',
    requestId: timer.requestId,
    at: now.toISOString(),
  });
}

/**
 * The batch's expiry. Read first (the request with its offers, one query): most expiry
 * timers find their offers accepted or withdrawn, and a failed conditional transaction
 * would still be billed for every item in it. Eventually consistent: the timer fires a
 * whole offer timeout after the offers were made, and each expiry below is conditional on
 * its offer being open and past its time and on its request still taking volunteers (its
 * own transaction with its history note: a repeat or a crash can neither lose nor double
 * one).
 */
async function expireOffers(timer: OfferTimer, now: Date): Promise<void> {
  const { requestId } = timer;
  const state = await requests.load(requestId, { consistent: false });
  // A request that takes no more volunteers has its open offers withdrawn: nothing to free.
  if (state?.request.status !== 'received') return;
  const ids = new Set(volunteerIdsOf(timer));
  const batch = state.offers.filter((o) => ids.has(o.volunteerId));
  const early: string[] = [];
  let soonest = Number.POSITIVE_INFINITY;
  let freed = false;
  for (const offer of batch) {
    if (offer.status === 'open') {
      const left = (Date.parse(offer.expiresAt) - now.getTime()) / 1000;
      if (left > 0) {
        // Fired early (clock skew, or offers of several batches announced again together).
        early.push(offer.volunteerId);
        soonest = Math.min(soonest, left);
        continue;
      }
      await offers.expire(requestId, offer.volunteerId, now);
      freed = true;
    } else if (offer.status === 'expired') {
      // Expired by an earlier run that died before queueing the match.
      freed = true;
    }
    // Accepted, declined (its own event re-matches) or withdrawn: nothing to free.
  }
  if (early.length > 0) {
    await enqueue(
      'timers',
      { type: 'offer_expiry', requestId, volunteerIds: early },
      Math.min(MAX_DELAY, Math.max(1, soonest)),
    );
  }
  // One match for the batch, however many of its offers expired.
  if (freed) await enqueue('match', { requestId });
}

/**
 * An urgent batch, sent by push, may still be open: send its open offers by SMS too. Each
 * SMS shares its offer's SMS marker, so a volunteer already reached by SMS gets no second
 * one. One strong read of the request's partition for the whole batch.
 */
async function urgentOfferSms(timer: OfferTimer, now: Date) {
  const state = await requests.load(timer.requestId);
  if (state?.request.status !== 'received') return;
  const ids = new Set(volunteerIdsOf(timer));
  const open = state.offers.filter(
    (o) => ids.has(o.volunteerId) && o.status === 'open' && Date.parse(o.expiresAt) > now.getTime(),
  );
  await notify.publishAll(open.map((o) => offerNotice(state.request, o, 'sms')));
}
