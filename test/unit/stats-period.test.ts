import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  bucketsOf,
  daysOf,
  hoursComplete,
  periodTotals,
  statsPlan,
} from '../../shared/domain/stats-period.ts';

const t = (iso: string) => new Date(iso);
const hours = (day: string, from: number, to: number) =>
  Array.from({ length: to - from + 1 }, (_, i) => `${day}T${String(from + i).padStart(2, '0')}`);

describe('the buckets a stats period reads', () => {
  it('the default last 24 hours, spanning midnight: rounded out to whole hours, both days by hour', () => {
    const plan = statsPlan(t('2026-12-02T10:20:00.000Z'), t('2026-12-03T10:20:00.000Z'));
    expect(plan.from.toISOString()).toBe('2026-12-02T10:00:00.000Z');
    expect(plan.to.toISOString()).toBe('2026-12-03T11:00:00.000Z');
    expect(plan.wholeDays).toEqual([]);
    expect(plan.partDays).toEqual([
      { day: '2026-12-02', hours: hours('2026-12-02', 10, 23) },
      { day: '2026-12-03', hours: hours('2026-12-03', 0, 10) },
    ]);
    // The two days (volunteers active, and whether their hours are complete) and 25 hours.
    expect(bucketsOf(plan)).toHaveLength(2 + 25);
  });

  it('a period inside one day: its hours only', () => {
    const plan = statsPlan(t('2026-12-03T08:15:00Z'), t('2026-12-03T11:45:00Z'));
    expect([plan.from.toISOString(), plan.to.toISOString()]).toEqual([
      '2026-12-03T08:00:00.000Z',
      '2026-12-03T12:00:00.000Z',
    ]);
    expect(plan.wholeDays).toEqual([]);
    expect(plan.partDays).toEqual([{ day: '2026-12-03', hours: hours('2026-12-03', 8, 11) }]);
    expect(bucketsOf(plan)).toEqual(['2026-12-03', ...hours('2026-12-03', 8, 11)]);
  });

  it('a period of several days: the days inside whole, the edges by hour', () => {
    const plan = statsPlan(t('2026-12-01T22:30:00Z'), t('2026-12-05T01:10:00Z'));
    expect(plan.wholeDays).toEqual(['2026-12-02', '2026-12-03', '2026-12-04']);
    expect(plan.partDays).toEqual([
      { day: '2026-12-01', hours: ['2026-12-01T22', '2026-12-01T23'] },
      { day: '2026-12-05', hours: ['2026-12-05T00', '2026-12-05T01'] },
    ]);
    expect(daysOf(plan)).toEqual([
      '2026-12-01',
      '2026-12-02',
      '2026-12-03',
      '2026-12-04',
      '2026-12-05',
    ]);
  });

  it('exact hour boundaries stay as they are; `to` is excluded', () => {
    const plan = statsPlan(t('2026-12-03T08:00:00.000Z'), t('2026-12-03T10:00:00.000Z'));
    expect([plan.from.toISOString(), plan.to.toISOString()]).toEqual([
      '2026-12-03T08:00:00.000Z',
      '2026-12-03T10:00:00.000Z',
    ]);
    expect(plan.partDays).toEqual([
      { day: '2026-12-03', hours: ['2026-12-03T08', '2026-12-03T09'] },
    ]);
    // Midnight to midnight: whole days, no hour read.
    const days = statsPlan(t('2026-12-01T00:00:00Z'), t('2026-12-03T00:00:00Z'));
    expect(days).toMatchObject({ wholeDays: ['2026-12-01', '2026-12-02'], partDays: [] });
    expect(bucketsOf(days)).toEqual(['2026-12-01', '2026-12-02']);
    // A millisecond past the hour takes the hour.
    const past = statsPlan(t('2026-12-03T08:00:00.000Z'), t('2026-12-03T10:00:00.001Z'));
    expect(past.to.toISOString()).toBe('2026-12-03T11:00:00.000Z');
  });

  it('an empty period at an hour boundary reads nothing; an instant inside an hour reads that hour', () => {
    expect(bucketsOf(statsPlan(t('2026-12-03T08:00:00Z'), t('2026-12-03T08:00:00Z')))).toEqual([]);
    expect(bucketsOf(statsPlan(t('2026-12-03T08:30:00Z'), t('2026-12-03T08:30:00Z')))).toEqual([
      '2026-12-03',
      '2026-12-03T08',
    ]);
  });

  it('any period: the hours counted are the fewest that contain it, each read once, at most 46 hour buckets', () => {
    const start = Date.parse('2026-01-01T00:00:00Z');
    const span = 400 * 86_400_000;
    fc.assert(
      fc.property(fc.integer({ min: 0, max: span }), fc.integer({ min: 0, max: span }), (a, b) => {
        const from = new Date(start + Math.min(a, b));
        const to = new Date(start + Math.max(a, b));
        const plan = statsPlan(from, to);
        const H = 3_600_000;
        expect(plan.from.getTime() % H).toBe(0);
        expect(plan.to.getTime() % H).toBe(0);
        expect(plan.from <= from && plan.to >= to).toBe(true);
        expect(from.getTime() - plan.from.getTime()).toBeLessThan(H);
        expect(plan.to.getTime() - to.getTime()).toBeLessThan(H);
        // Every hour of [from, to) in exactly one bucket read for requests.
        const covered = [
          ...plan.wholeDays.flatMap((d) => hours(d, 0, 23)),
          ...plan.partDays.flatMap((p) => p.hours),
        ].sort();
        const expected: string[] = [];
        for (let h = plan.from.getTime(); h < plan.to.getTime(); h += H) {
          expected.push(new Date(h).toISOString().slice(0, 13));
        }
        expect(covered).toEqual(expected);
        expect(plan.partDays.length).toBeLessThanOrEqual(2);
        expect(plan.partDays.every((p) => p.hours.length > 0 && p.hours.length < 24)).toBe(true);
        expect(plan.partDays.flatMap((p) => p.hours).length).toBeLessThanOrEqual(46);
      }),
      { numRuns: 300 },
    );
  });
});

describe('the totals of a period from its buckets', () => {
  const plan = statsPlan(t('2026-12-01T22:00:00Z'), t('2026-12-03T02:00:00Z'));
  // 12-01 22–23 and 12-03 00–01 by hour, 12-02 whole.
  const complete = {
    '2026-12-01': {
      'status.received': 3,
      'kind.meal': 3,
      personTimes: 5,
      receivedByHour: 3,
      volunteersActive: 2,
    },
    '2026-12-01T08': { 'status.received': 2, 'kind.meal': 2, personTimes: 4 },
    '2026-12-01T22': { 'status.received': 1, 'kind.meal': 1, personTimes: 1 },
    '2026-12-02': {
      'status.confirmed': 4,
      'kind.medicine': 4,
      receivedByHour: 4,
      volunteersActive: 3,
    },
    '2026-12-03': { 'status.matched': 2, 'kind.meal': 2, receivedByHour: 2, volunteersActive: 1 },
    '2026-12-03T01': { 'status.matched': 1, 'kind.meal': 1 },
    '2026-12-03T05': { 'status.matched': 1, 'kind.meal': 1 },
  } as Record<string, Record<string, number>>;
  const read = (buckets: Record<string, Record<string, number>>) => (b: string) => buckets[b] ?? {};

  it('whole days from the day, part days from their hours in the period; volunteers active from every day touched', () => {
    expect(periodTotals(plan, read(complete))).toEqual({
      from: t('2026-12-01T22:00:00Z'),
      to: t('2026-12-03T02:00:00Z'),
      totals: {
        'status.received': 1,
        'status.confirmed': 4,
        'status.matched': 1,
        'kind.meal': 2,
        'kind.medicine': 4,
        personTimes: 1,
        volunteersActive: 6,
      },
    });
  });

  it('a part day whose requests were partly received before hour buckets: counted whole from its day, and the period says so', () => {
    // 12-01: 3 requests, 1 of them counted by hour (received after the upgrade).
    const upgraded = {
      ...complete,
      '2026-12-01': { ...complete['2026-12-01'], receivedByHour: 1 },
    };
    const out = periodTotals(plan, read(upgraded));
    expect(out.from).toEqual(t('2026-12-01T00:00:00Z'));
    expect(out.to).toEqual(t('2026-12-03T02:00:00Z'));
    expect(out.totals).toMatchObject({ 'status.received': 3, 'kind.meal': 4, personTimes: 5 });
    // Before hour buckets at all (no mark): the same; both edges before it, both widen.
    const old = statsPlan(t('2022-04-01T10:00:00Z'), t('2022-04-02T05:00:00Z'));
    const legacy = {
      '2022-04-01': { 'status.received': 1, 'kind.groceries': 1 },
      '2022-04-02': { 'status.received': 1, 'kind.medicine': 1 },
      '2022-04-02T03': { 'status.delivered': -1, 'status.confirmed': 1 },
    };
    expect(periodTotals(old, read(legacy))).toEqual({
      from: t('2022-04-01T00:00:00Z'),
      to: t('2022-04-03T00:00:00Z'),
      totals: { 'status.received': 2, 'kind.groceries': 1, 'kind.medicine': 1 },
    });
  });

  it('a day’s hours are complete when every request of the day is marked counted by hour', () => {
    expect(hoursComplete({})).toBe(true);
    expect(hoursComplete({ volunteersActive: 4 })).toBe(true);
    expect(hoursComplete({ 'status.received': 1, 'status.confirmed': 2, receivedByHour: 3 })).toBe(
      true,
    );
    expect(hoursComplete({ 'status.received': 1, 'status.confirmed': 2, receivedByHour: 2 })).toBe(
      false,
    );
    expect(hoursComplete({ 'status.received': 1 })).toBe(false);
  });
});
