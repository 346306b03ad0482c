import { describe, expect, it } from 'vitest';
import {
  type CountedRequest,
  mergeAdds,
  requestCounts,
} from '../../shared/domain/request-counts.ts';

const DAY = '2026-12-03';
const HOUR = `${DAY}T08`;
const T0 = `${DAY}T08:00:00.000Z`;

/** The same adds in the hour and the day the request was received (as every request's are). */
const inHourAndDay = (adds: Record<string, number>) => ({ [HOUR]: adds, [DAY]: adds });

const req = (over: Partial<CountedRequest> = {}): CountedRequest => ({
  status: 'received',
  kind: 'groceries',
  communityId: 'east-garden',
  townId: 'east-town',
  scope: 'community',
  createdAt: T0,
  updatedAt: T0,
  delivered: 0,
  ...over,
});

/** `after` at `secondsLater` seconds after the request was received. */
const at = (secondsLater: number) => new Date(Date.parse(T0) + secondsLater * 1000).toISOString();

const countsOf = (before: CountedRequest | undefined, after: CountedRequest | undefined) =>
  Object.fromEntries(requestCounts(before, after));

describe('what a request change adds to the counters', () => {
  it('a new request: received, its kind, community and town, in the hour and on the day it was received; the day marks it counted by hour', () => {
    const adds = {
      'status.received': 1,
      'kind.groceries': 1,
      'community.east-garden': 1,
      'town.east-town': 1,
    };
    expect(countsOf(undefined, req())).toEqual({
      [HOUR]: adds,
      [DAY]: { ...adds, receivedByHour: 1 },
    });
  });

  it('the last slot taken: received → matched, with the time to match in its histogram bucket', () => {
    const before = req({ scope: 'town' });
    const after = req({ scope: 'town', status: 'matched', updatedAt: at(200) });
    expect(countsOf(before, after)).toEqual(
      inHourAndDay({ 'status.received': -1, 'status.matched': 1, 'toMatched.le300': 1 }),
    );
  });

  it('a slot taken that is not the last changes nothing counted', () => {
    expect(countsOf(req(), req({ updatedAt: at(5) }))).toEqual({});
  });

  it('a task delivered is a person-time; the last one also moves the request, with its time to delivery', () => {
    const matched = req({ status: 'matched' });
    expect(countsOf(matched, req({ status: 'matched', delivered: 1, updatedAt: at(50) }))).toEqual(
      inHourAndDay({ personTimes: 1 }),
    );
    const after = req({ status: 'delivered', delivered: 1, updatedAt: at(4000) });
    expect(countsOf(matched, after)).toEqual(
      inHourAndDay({
        'status.matched': -1,
        'status.delivered': 1,
        'toDelivered.le5400': 1,
        personTimes: 1,
      }),
    );
  });

  it('a confirm adds the minutes and points written onto the request with it', () => {
    const before = req({ status: 'delivered', delivered: 2 });
    const after = req({
      status: 'confirmed',
      delivered: 2,
      credit: { serviceMinutes: 75, points: 20 },
      updatedAt: at(9000),
    });
    expect(countsOf(before, after)).toEqual(
      inHourAndDay({
        'status.delivered': -1,
        'status.confirmed': 1,
        serviceMinutes: 75,
        points: 20,
      }),
    );
  });

  it('a request left to ops waits for dispatch (district-wide) until it leaves received', () => {
    const received = req({ scope: 'district' });
    const waiting = req({ scope: 'ops', updatedAt: at(60) });
    expect(countsOf(received, waiting)).toEqual({ all: { waitingForDispatch: 1 } });
    expect(countsOf(waiting, req({ scope: 'ops', status: 'cancelled' }))).toEqual({
      ...inHourAndDay({ 'status.received': -1, 'status.cancelled': 1 }),
      all: { waitingForDispatch: -1 },
    });
    expect(countsOf(waiting, req({ scope: 'ops', status: 'matched', updatedAt: at(600) }))).toEqual(
      {
        ...inHourAndDay({ 'status.received': -1, 'status.matched': 1, 'toMatched.le600': 1 }),
        all: { waitingForDispatch: -1 },
      },
    );
  });

  it('an expiry and a cancel move the status only', () => {
    expect(countsOf(req(), req({ status: 'expired' }))).toEqual(
      inHourAndDay({ 'status.received': -1, 'status.expired': 1 }),
    );
    expect(countsOf(req({ status: 'matched' }), req({ status: 'cancelled' }))).toEqual(
      inHourAndDay({ 'status.matched': -1, 'status.cancelled': 1 }),
    );
  });

  it('a request received yesterday counts in its hour and on its day of yesterday, whenever it moves', () => {
    const before = req({ createdAt: '2026-12-02T23:59:00.000Z', status: 'matched' });
    const after = { ...before, status: 'cancelled' as const, updatedAt: at(100) };
    expect([...requestCounts(before, after).keys()]).toEqual(['2026-12-02T23', '2026-12-02']);
  });

  it('the hour is the UTC hour of receipt: a request received at 00:00:00.000 is in hour 00, one at 23:59:59.999 in 23', () => {
    expect([
      ...requestCounts(undefined, req({ createdAt: '2026-12-03T00:00:00.000Z' })).keys(),
    ]).toEqual(['2026-12-03T00', '2026-12-03']);
    expect([
      ...requestCounts(undefined, req({ createdAt: '2026-12-03T23:59:59.999Z' })).keys(),
    ]).toEqual(['2026-12-03T23', '2026-12-03']);
  });

  it('a request deleted (its TTL) counts nothing: counters are history', () => {
    expect(countsOf(req({ status: 'confirmed' }), undefined)).toEqual({});
  });

  it('adds merge field by field, and fields that cancel out are dropped', () => {
    const sum = mergeAdds({ 'status.received': 1, 'kind.meal': 1 }, { 'status.received': -1 });
    expect(sum).toEqual({ 'kind.meal': 1 });
  });
});
