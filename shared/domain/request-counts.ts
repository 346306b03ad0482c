/**
 * What a change of one request adds to the district's counters, computed from the request
 * as it was before the change and as it is after (the two images of a stream record).
 * Pure: the stream consumer (functions/count-transitions.ts) sums these per counter item.
 *
 * Requests count in the hour and on the day they were received (`createdAt`): every add
 * goes to both the hour bucket (`yyyy-mm-ddThh`, UTC) and the day bucket (`yyyy-mm-dd`),
 * so a request received yesterday at 23:10 and delivered today moves yesterday's and
 * yesterday 23:00's counts. Stats read whole days from day buckets and the partial days
 * at a period's edges from hour buckets (shared/domain/stats-period.ts).
 * `waitingForDispatch` is a district-wide "now" figure and counts in the `all` bucket.
 */
import { durationAdds } from './histograms.ts';
import type { HelpRequest } from './request.ts';

/** The bucket of district-wide figures that are not per day. */
export const ALL_TIME = 'all';

/** The day bucket of a time (ISO 8601, UTC): `yyyy-mm-dd`. */
export const dayBucket = (iso: string) => iso.slice(0, 10);

/** The hour bucket of a time (ISO 8601, UTC): `yyyy-mm-ddThh`. */
export const hourBucket = (iso: string) => iso.slice(0, 13);

/**
 * Added to the day bucket (only) with each new request whose adds also went to its hour
 * bucket. Requests received before hour buckets existed lack it, so a day whose count of
 * it is below its number of requests received (the sum of its `status.*`, which each
 * status move keeps) has incomplete hour buckets: stats count that day from its day bucket
 * (`hoursComplete` in shared/domain/stats-period.ts). Not reported.
 */
export const RECEIVED_BY_HOUR = 'receivedByHour';

/**
 * The minutes and points a confirm credits (the request's delivered tasks), written onto
 * the request by the confirm so the stream image carries them to the counters.
 */
export interface CreditTotals {
  serviceMinutes: number;
  points: number;
}

/** The fields of a request the counters read; everything else in an image is ignored. */
export type CountedRequest = Pick<
  HelpRequest,
  'status' | 'kind' | 'communityId' | 'townId' | 'scope' | 'createdAt' | 'updatedAt'
> & {
  delivered?: number;
  credit?: CreditTotals;
};

export type CounterAdds = Record<string, number>;

/** One change of a request, as a stream record carries it. */
export interface RequestChange {
  /** The record's stream sequence number. */
  seq: string;
  before?: CountedRequest;
  after?: CountedRequest;
}

/** What the volunteer counters read from a volunteer: the day of their tasks today. */
export interface CountedVolunteer {
  tasksDay?: string;
  tasksToday: number;
}

/** One change of a volunteer, as a stream record carries it. */
export interface VolunteerChange {
  seq: string;
  before?: CountedVolunteer;
  after?: CountedVolunteer;
}

/** Volunteers active on a day (day buckets only): see `volunteerCounts`. */
export const VOLUNTEERS_ACTIVE = 'volunteersActive';

/**
 * A volunteer's first task of a day counts them active that day: the accept moves their
 * `tasksDay` to the day and `tasksToday` to 1 or more. Any other change (delivery, duty,
 * a second task the same day) leaves `tasksDay` as it was and counts nothing.
 */
export function volunteerCounts(
  before: CountedVolunteer | undefined,
  after: CountedVolunteer | undefined,
): Map<string, CounterAdds> {
  const out = new Map<string, CounterAdds>();
  if (after?.tasksDay && after.tasksToday >= 1 && before?.tasksDay !== after.tasksDay) {
    out.set(after.tasksDay, { [VOLUNTEERS_ACTIVE]: 1 });
  }
  return out;
}

/** Counter fields for a status move: into `to`, out of `from`. */
export const statusMove = (from: string | undefined, to: string): CounterAdds =>
  from ? { [`status.${from}`]: -1, [`status.${to}`]: 1 } : { [`status.${to}`]: 1 };

/** Received and left to ops: the requests ops must dispatch by hand. */
const waiting = (r: CountedRequest | undefined) => r?.status === 'received' && r.scope === 'ops';

/**
 * The adds of one change, by bucket: the same per-period adds in the hour and the day the
 * request was received (`yyyy-mm-ddThh`, `yyyy-mm-dd`; the day's also count the request
 * as RECEIVED_BY_HOUR when it is new), and ALL_TIME's. `before` is
 * undefined for a new request; `after` undefined for a deleted one (TTL), which counts
 * nothing: counts are history, not the table's current contents. A change that moves
 * nothing the counters follow (an offer noted in the history, a slot taken that is not
 * the last) gives no adds.
 */
export function requestCounts(
  before: CountedRequest | undefined,
  after: CountedRequest | undefined,
): Map<string, CounterAdds> {
  const out = new Map<string, CounterAdds>();
  if (!after) return out;
  const period: CounterAdds = {};
  const add = (adds: CounterAdds) => {
    for (const [k, n] of Object.entries(adds)) period[k] = (period[k] ?? 0) + n;
  };
  if (!before) {
    add(statusMove(undefined, after.status));
    add({
      [`kind.${after.kind}`]: 1,
      [`community.${after.communityId}`]: 1,
      [`town.${after.townId}`]: 1,
    });
  } else if (before.status !== after.status) {
    add(statusMove(before.status, after.status));
    const at = new Date(after.updatedAt);
    if (before.status === 'received' && after.status === 'matched')
      add(durationAdds('toMatched', after.createdAt, at));
    if (before.status === 'matched' && after.status === 'delivered')
      add(durationAdds('toDelivered', after.createdAt, at));
    if (after.status === 'confirmed' && after.credit) {
      add({ serviceMinutes: after.credit.serviceMinutes, points: after.credit.points });
    }
  }
  // Each task reported delivered is one person-time, whether or not it completes the request.
  const deliveredTasks = (after.delivered ?? 0) - (before?.delivered ?? 0);
  if (deliveredTasks > 0) add({ personTimes: deliveredTasks });

  const nonZero = Object.entries(period).filter(([, n]) => n !== 0);
  if (nonZero.length) {
    out.set(hourBucket(after.createdAt), Object.fromEntries(nonZero));
    const day: CounterAdds = Object.fromEntries(nonZero);
    if (!before) day[RECEIVED_BY_HOUR] = 1;
    out.set(dayBucket(after.createdAt), day);
  }
  const waitingNow = Number(waiting(after)) - Number(waiting(before));
  if (waitingNow !== 0) out.set(ALL_TIME, { waitingForDispatch: waitingNow });
  return out;
}

/** Sums adds into `into` (per field), dropping fields that sum to zero. */
export function mergeAdds(into: CounterAdds, adds: CounterAdds): CounterAdds {
  for (const [k, n] of Object.entries(adds)) {
    const sum = (into[k] ?? 0) + n;
    if (sum === 0) delete into[k];
    else into[k] = sum;
  }
  return into;
}
