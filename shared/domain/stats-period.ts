/**
 * Which counter buckets a stats period reads, and how their counts add up to the period's
 * totals. Pure: the stats service (shared/services/stats.ts) reads the buckets.
 *
 * Request counters are kept per UTC day (`yyyy-mm-dd`) and per UTC hour (`yyyy-mm-ddThh`),
 * each request in the hour and the day it was received (shared/domain/request-counts.ts).
 * A period is counted in whole hours: its start rounded down and its end rounded up to the
 * hour, so the period counted is the smallest run of hours that contains the one asked
 * for. The days it covers whole are read from their day buckets (one read each), the days
 * at its edges that it covers in part from the buckets of their hours (at most 23 each):
 * at most 46 hour buckets whatever the period's length.
 *
 * A part day whose hour buckets do not hold all its requests (some were received before
 * hour buckets were kept: `hoursComplete`) is counted whole from its day bucket, and the
 * period counted (`from`, `to` of the totals) widens to that whole day.
 *
 * Volunteers active are volunteer-days (a volunteer's first task of a UTC day counts them
 * on that day, in day buckets only), counted over every day the period touches, part days
 * too: the response's `active` is documented so; it does not widen `from`/`to`, which
 * are the request counters' period.
 */
import {
  type CounterAdds,
  dayBucket,
  hourBucket,
  RECEIVED_BY_HOUR,
  VOLUNTEERS_ACTIVE,
} from './request-counts.ts';

const HOUR = 3_600_000;
const DAY = 86_400_000;

/** A day the period covers in part, and the hour buckets of it that it covers. */
export interface PartDay {
  day: string;
  hours: string[];
}

export interface StatsPlan {
  /** The period's start rounded down to the hour. */
  from: Date;
  /** Its end rounded up to the hour (the period is [from, to)). */
  to: Date;
  /** The UTC days inside [from, to), read from their day buckets. */
  wholeDays: string[];
  /** The days at the edges that [from, to) covers in part (none, one or two), by hour. */
  partDays: PartDay[];
}

const iso = (t: number) => new Date(t).toISOString();

/** The buckets that count the period from `from` to `to` (see the module's comment). */
export function statsPlan(from: Date, to: Date): StatsPlan {
  const start = Math.floor(from.getTime() / HOUR) * HOUR;
  const end = Math.max(start, Math.ceil(to.getTime() / HOUR) * HOUR);
  const wholeDays: string[] = [];
  const partDays: PartDay[] = [];
  for (let d = Math.floor(start / DAY) * DAY; d < end; d += DAY) {
    const a = Math.max(d, start);
    const b = Math.min(d + DAY, end);
    if (a >= b) continue;
    if (a === d && b === d + DAY) {
      wholeDays.push(dayBucket(iso(d)));
      continue;
    }
    const hours: string[] = [];
    for (let h = a; h < b; h += HOUR) hours.push(hourBucket(iso(h)));
    partDays.push({ day: dayBucket(iso(d)), hours });
  }
  return { from: new Date(start), to: new Date(end), wholeDays, partDays };
}

/** The days a plan touches, whole or in part, in order. */
export const daysOf = (plan: StatsPlan) =>
  [...plan.wholeDays, ...plan.partDays.map((p) => p.day)].sort();

/**
 * Every bucket a plan reads: each day it touches (a part day's for its volunteers active
 * and to tell whether its hours are complete) and the hours of its part days.
 */
export const bucketsOf = (plan: StatsPlan) => [
  ...daysOf(plan),
  ...plan.partDays.flatMap((p) => p.hours),
];

/**
 * Whether a day's hour buckets hold every request its day bucket holds: each request
 * counted in its hour is marked in its day (RECEIVED_BY_HOUR), and every request counts
 * once in the day's `status.*` (a status move takes one out and puts one in). A day with
 * requests received before hour buckets were kept has fewer marks than requests.
 */
export function hoursComplete(day: CounterAdds): boolean {
  let received = 0;
  for (const [k, n] of Object.entries(day)) if (k.startsWith('status.')) received += n;
  return (day[RECEIVED_BY_HOUR] ?? 0) >= received;
}

export interface PeriodTotals {
  /** The start of the period counted: the plan's, or the first part day's start if it was counted whole. */
  from: Date;
  /** Its end: the plan's, or the last part day's end if it was counted whole. */
  to: Date;
  /** The counters summed over the period (RECEIVED_BY_HOUR left out). */
  totals: CounterAdds;
}

/**
 * The plan's counters summed: whole days from their day buckets; a part day from its
 * hours' buckets (request counters) and its day bucket's volunteers active, or, if its
 * hours are not complete, from its day bucket alone, the period counted widened to that
 * whole day. `read(bucket)` gives a bucket's counters (`{}` for none), for every bucket
 * of `bucketsOf(plan)`.
 */
export function periodTotals(plan: StatsPlan, read: (bucket: string) => CounterAdds): PeriodTotals {
  const totals: CounterAdds = {};
  const add = (counts: CounterAdds, only?: string) => {
    for (const [k, n] of Object.entries(counts)) {
      if (k === RECEIVED_BY_HOUR || (only !== undefined && k !== only)) continue;
      totals[k] = (totals[k] ?? 0) + n;
    }
  };
  let from = plan.from.getTime();
  let to = plan.to.getTime();
  for (const day of plan.wholeDays) add(read(day));
  for (const { day, hours } of plan.partDays) {
    const counts = read(day);
    if (hoursComplete(counts)) {
      for (const hour of hours) add(read(hour));
      add(counts, VOLUNTEERS_ACTIVE);
    } else {
      add(counts);
      const start = Date.parse(`${day}T00:00:00.000Z`);
      from = Math.min(from, start);
      to = Math.max(to, start + DAY);
    }
  }
  return { from: new Date(from), to: new Date(to), totals };
}
