import { notify } from '../adapters/notification-topic.ts';
import { alertOps, sendOnce } from '../adapters/notifications.ts';
import { enqueue } from '../adapters/queues.ts';
import { offers, requests } from '../adapters/requests.ts';
import { KIND_LABELS } from '../domain/texts.ts';
import type { TimerMessage } from '../schemas/messages.ts';
import { offerNotice } from './matcher.ts';

/** SQS holds a message back for at most 15 minutes; longer timers hop. */
const MAX_DELAY = 900;

export async function enqueueTimers(timers: TimerMessage[], delaySeconds: number): Promise<void> {
  if (timers.length === 0) return;
  if (timers.length === 1) return enqueue('timers', timers[0], delaySeconds);
  // Batches carry no per-message delay in our helper; send one by one with the delay.
  await Promise.all(timers.map((t) => enqueue('timers', t, delaySeconds)));
}

export async function scheduleWindowEnd(requestId: string, end: string, now: Date) {
  const seconds = (Date.parse(end) - now.getTime()) / 1000;
  await enqueue('timers', { type: 'window_end', requestId, at: end }, Math.min(MAX_DELAY, seconds));
}

/**
 * A timer fired. Offer expiry: close the offer if it is still open and past its time,
 * note it in the history, and match again (which widens the scope when nobody is left).
 * Window end: a request still waiting for volunteers expires; its offers are withdrawn
 * and ops are told. Both are conditional writes, so a repeated timer does nothing.
 */
export async function handleTimer(timer: TimerMessage, now: Date): Promise<void> {
  if (timer.type === 'offer_sms') return urgentOfferSms(timer.requestId, timer.volunteerId, now);
  if (timer.type === 'offer_expiry') {
    // Read first: most expiry timers find their offer accepted or withdrawn, and a
    // failed conditional transaction would still be billed for every item in it.
    // Eventually consistent: the timer fires a whole offer timeout after the offer was
    // made, and the expiry below is conditional on the offer being open.
    const offer = await offers.get(timer.requestId, timer.volunteerId, { consistent: false });
    if (!offer) return;
    if (offer.status === 'open') {
      const left = (Date.parse(offer.expiresAt) - now.getTime()) / 1000;
      if (left > 0) {
        // Fired early (clock skew): wait for the rest of the offer's time.
        await enqueue('timers', timer, Math.max(1, left));
        return;
      }
      // The offer's close and its history note are one transaction (conditional on the
      // offer being open and past its time): a repeat or a crash cannot lose or double it.
      await offers.expire(timer.requestId, timer.volunteerId, now);
    } else if (offer.status !== 'expired') {
      // Accepted, declined (its own event re-matches) or withdrawn: nothing to free.
      return;
    }
    // Expired now, or by an earlier run that died before queueing: match again.
    await enqueue('match', { requestId: timer.requestId });
    return;
  }

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
 * An urgent offer, sent by push, is still open: send it by SMS too. Its SMS shares the
 * offer's SMS marker, so a volunteer already reached by SMS gets no second one.
 */
async function urgentOfferSms(requestId: string, volunteerId: string, now: Date) {
  const [offer, request] = await Promise.all([
    offers.get(requestId, volunteerId),
    requests.get(requestId),
  ]);
  if (!offer || !request || offer.status !== 'open' || request.status !== 'received') return;
  if (Date.parse(offer.expiresAt) <= now.getTime()) return;
  await notify.publish(offerNotice(request, offer, 'sms'));
}
