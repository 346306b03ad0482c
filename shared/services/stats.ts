import { ALL_TIME, readDay } from '../adapters/counters.ts';
import { BUCKET_BOUNDS_SECONDS, summarize } from '../domain/histograms.ts';
import { STATUSES } from '../domain/request.ts';
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
 * District totals for a period, read from daily counters (one item per day, kept by the
 * writes that change requests), never by scanning requests. Requests count on the day
 * they were received.
 */
export async function statsFor(query: Record<string, string | undefined>, now: Date) {
  const to = parseTime(query.to, 'to', now);
  const from = parseTime(query.from, 'from', new Date(to.getTime() - DAY));
  if (from > to) throw badRequest('from', 'must not be after to');
  const days: string[] = [];
  for (let t = Date.parse(from.toISOString().slice(0, 10)); t <= to.getTime(); t += DAY) {
    days.push(new Date(t).toISOString().slice(0, 10));
  }
  if (days.length > MAX_DAYS) throw badRequest('from', `period longer than ${MAX_DAYS} days`);
  const [allTime, ...perDay] = await Promise.all([readDay(ALL_TIME), ...days.map(readDay)]);
  const totals: Record<string, number> = {};
  for (const counts of perDay) {
    for (const [k, n] of Object.entries(counts)) totals[k] = (totals[k] ?? 0) + Number(n);
  }
  const group = (prefix: string) =>
    Object.fromEntries(
      Object.entries(totals)
        .filter(([k]) => k.startsWith(`${prefix}.`))
        .map(([k, n]) => [k.slice(prefix.length + 1), n]),
    );
  const byStatus = Object.fromEntries(STATUSES.map((s) => [s, totals[`status.${s}`] ?? 0]));
  return {
    from: from.toISOString(),
    to: to.toISOString(),
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
      /** Volunteer-days with at least one task: a volunteer active on two days counts twice. */
      active: totals.volunteersActive ?? 0,
    },
    personTimes: totals.personTimes ?? 0,
    serviceMinutes: totals.serviceMinutes ?? 0,
    points: totals.points ?? 0,
    /**
     * Of the period's requests: time from received to matched and to delivered, from
     * per-day histograms; each value is the upper bound of its bucket (`bucketsSeconds`).
     */
    durations: {
      toMatched: summarize(totals, 'toMatched'),
      toDelivered: summarize(totals, 'toDelivered'),
      bucketsSeconds: BUCKET_BOUNDS_SECONDS,
    },
  };
}
