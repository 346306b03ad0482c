import { ALL_TIME, readBucket } from '../adapters/counters.ts';
import { BUCKET_BOUNDS_SECONDS, summarize } from '../domain/histograms.ts';
import { STATUSES } from '../domain/request.ts';
import { bucketsOf, daysOf, periodTotals, statsPlan } from '../domain/stats-period.ts';
import { badRequest } from '../errors.ts';

const DAY = 86_400_000;
const MAX_DAYS = 366;

function parseTime(value: string | undefined, field: string, fallback: Date): Date {
  if (value === undefined || value === '') return fallback;
  const t = Date.parse(value);
  if (Number.isNaN(t)) throw badRequest(field, 'must be an ISO 8601 time');
  return new Date(t);
}

/**
 * District totals for a period, read from counters (kept from the table's stream per UTC
 * day and per UTC hour), never by scanning requests. Requests count in the hour they were
 * received. The period is counted in whole hours, `from` rounded down and `to` up (the
 * default: the 24 hours before `to`, `to` now), from the day buckets of the days it covers
 * whole and the hour buckets of the days at its edges (shared/domain/stats-period.ts): at
 * most 366 days plus 46 hours plus `all` read, one Query each. `from` and `to` answer the
 * period actually counted: hour boundaries, or a whole edge day for a day whose requests
 * were partly received before hour buckets were kept.
 */
export async function statsFor(query: Record<string, string | undefined>, now: Date) {
  const asked = parseTime(query.to, 'to', now);
  const from = parseTime(query.from, 'from', new Date(asked.getTime() - DAY));
  if (from > asked) throw badRequest('from', 'must not be after to');
  const tooLong = () => badRequest('from', `period longer than ${MAX_DAYS} days`);
  // Checked before the plan lists its days: a period of centuries would list them all.
  if (asked.getTime() - from.getTime() > (MAX_DAYS + 1) * DAY) throw tooLong();
  const plan = statsPlan(from, asked);
  if (daysOf(plan).length > MAX_DAYS) throw tooLong();
  const buckets = bucketsOf(plan);
  const [allTime, ...read] = await Promise.all([readBucket(ALL_TIME), ...buckets.map(readBucket)]);
  const byBucket = new Map(buckets.map((b, i) => [b, read[i]]));
  const counted = periodTotals(plan, (bucket) => byBucket.get(bucket) ?? {});
  const totals = counted.totals;
  const group = (prefix: string) =>
    Object.fromEntries(
      Object.entries(totals)
        .filter(([k]) => k.startsWith(`${prefix}.`))
        .map(([k, n]) => [k.slice(prefix.length + 1), n]),
    );
  const byStatus = Object.fromEntries(STATUSES.map((s) => [s, totals[`status.${s}`] ?? 0]));
  return {
    from: counted.from.toISOString(),
    to: counted.to.toISOString(),
    requests: {
      byStatus,
      byKind: group('kind'),
      byCommunity: group('community'),
      byTown: group('town'),
      /** Now (not per period): requests whose matching reached ops and that are still received. */
      waitingForDispatch: allTime.waitingForDispatch ?? 0,
    },
    volunteers: {
      registered: allTime.registered ?? 0,
      onDuty: allTime.onDuty ?? 0,
      /**
       * Volunteer-days with at least one task, over every UTC day the period touches (a
       * part day too: a volunteer is counted on the day of their first task that day, not
       * by hour); a volunteer active on two days counts twice.
       */
      active: totals.volunteersActive ?? 0,
    },
    personTimes: totals.personTimes ?? 0,
    serviceMinutes: totals.serviceMinutes ?? 0,
    points: totals.points ?? 0,
    /**
     * Of the period's requests: time from received to matched and to delivered, from
     * per-day and per-hour histograms; each value is the upper bound of its bucket
     * (`bucketsSeconds`).
     */
    durations: {
      toMatched: summarize(totals, 'toMatched'),
      toDelivered: summarize(totals, 'toDelivered'),
      bucketsSeconds: BUCKET_BOUNDS_SECONDS,
    },
  };
}
