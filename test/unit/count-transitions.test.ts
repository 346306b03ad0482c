import '../fixtures/env.ts';
import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import { TransactWriteCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { marshall } from '@aws-sdk/util-dynamodb';
import type { DynamoDBRecord } from 'aws-lambda';
import { beforeEach, describe, expect, it } from 'vitest';
import { handler } from '../../functions/count-transitions.ts';
import type { TableStreamEvent } from '../../shared/adapters/request-stream.ts';
import { ddb, resetAws } from '../fixtures/aws.ts';

/**
 * The table as the counter writes find it: each UpdateItem is applied only if its
 * condition holds, as DynamoDB would (`attribute_not_exists(seq) OR seq < :first`), and a
 * refused one returns the item (ReturnValuesOnConditionCheckFailure ALL_OLD). `failWrites`
 * fails that many of the next writes to the district-wide bucket before they are applied.
 */
let items: Map<string, Record<string, unknown>>;
let writes: number;
let failWrites: number;

function fakeTable() {
  items = new Map();
  writes = 0;
  failWrites = 0;
  ddb.on(UpdateCommand).callsFake((input) => {
    if (input.Key.pk === 'STATS#all' && failWrites > 0) {
      failWrites--;
      throw new Error('fault injection: the write of the second bucket failed');
    }
    const id = `${input.Key.pk}|${input.Key.sk}`;
    const item = items.get(id);
    const values = input.ExpressionAttributeValues;
    const guarded = input.ConditionExpression === 'attribute_not_exists(#seq) OR #seq < :first';
    if (guarded && item?.seq !== undefined && !(String(item.seq) < values[':first'])) {
      throw new ConditionalCheckFailedException({
        message: 'The conditional request failed',
        $metadata: {},
        Item: marshall(item),
      });
    }
    writes++;
    const next: Record<string, unknown> = { ...(item ?? input.Key) };
    for (const [alias, field] of Object.entries<string>(input.ExpressionAttributeNames)) {
      if (field === 'seq') continue;
      next[field] = Number(next[field] ?? 0) + values[`:${alias.slice(1)}`];
    }
    next.seq = values[':end'];
    items.set(id, next);
    return {};
  });
}

/** The counters of a bucket summed over its items, as GET /v1/stats reads them (zeros left out). */
function totals(bucket: string) {
  const sum: Record<string, number> = {};
  for (const item of items.values()) {
    if (item.pk !== `STATS#${bucket}`) continue;
    for (const [k, v] of Object.entries(item)) {
      if (typeof v === 'number') sum[k] = (sum[k] ?? 0) + v;
    }
  }
  return Object.fromEntries(Object.entries(sum).filter(([, n]) => n !== 0));
}

const DAY = '2026-12-03';
/** The hour the request of these tests was received: its counts go to it and to DAY. */
const HOUR = `${DAY}T08`;
const request = (over: Record<string, unknown> = {}) => ({
  pk: 'REQ#req_1',
  sk: 'REQ',
  type: 'request',
  requestId: 'req_1',
  status: 'received',
  kind: 'groceries',
  communityId: 'east-garden',
  townId: 'east-town',
  scope: 'community',
  slots: 1,
  filled: 0,
  delivered: 0,
  history: [],
  createdAt: `${DAY}T08:00:00.000Z`,
  updatedAt: `${DAY}T08:00:00.000Z`,
  ...over,
});

/** A stream record with DynamoDB Local's 21-digit sequence numbers. */
function record(
  seq: number,
  before: Record<string, unknown> | undefined,
  after: Record<string, unknown> | undefined,
  keys = { pk: 'REQ#req_1', sk: 'REQ' },
): DynamoDBRecord {
  return {
    eventName: !before ? 'INSERT' : !after ? 'REMOVE' : 'MODIFY',
    eventSource: 'aws:dynamodb',
    dynamodb: {
      Keys: marshall(keys) as never,
      OldImage: before ? (marshall(before) as never) : undefined,
      NewImage: after ? (marshall(after) as never) : undefined,
      SequenceNumber: String(seq).padStart(21, '0'),
      StreamViewType: 'NEW_AND_OLD_IMAGES',
    },
  };
}

type State = Record<string, string | number>;

/** A non-final invocation of a window, with the state the window's last invocation returned. */
const event = (
  records: DynamoDBRecord[],
  state: State = {},
  shardId = 'shardId-0001',
): TableStreamEvent => ({
  Records: records,
  shardId,
  window: { start: `${DAY}T08:00:00Z`, end: `${DAY}T08:01:00Z` },
  state,
  isFinalInvokeForWindow: false,
  isWindowTerminatedEarly: false,
});

/** The window's final invocation: its state, and any records Lambda still delivers with it. */
const final = (state: State, records: DynamoDBRecord[] = [], shardId?: string) => ({
  ...event(records, state, shardId),
  isFinalInvokeForWindow: true,
});

/** Invokes the handler as Lambda does through one window: each batch with the state the last returned, then the final invocation. */
async function window(batches: DynamoDBRecord[][], shardId?: string) {
  let state: State = {};
  for (const batch of batches) state = (await handler(event(batch, state, shardId))).state;
  return handler(final(state, [], shardId));
}

/** A deep copy that throws on any write (the handler must leave Lambda's state alone). */
function frozen<T>(value: T): T {
  const copy = structuredClone(value);
  const freeze = (v: unknown) => {
    if (v && typeof v === 'object') {
      for (const x of Object.values(v)) freeze(x);
      Object.freeze(v);
    }
  };
  freeze(copy);
  return copy;
}

/** One request's life: post, matched, delivered, confirmed with its credit. */
const life = [
  record(1, undefined, request()),
  record(
    2,
    request(),
    request({ status: 'matched', filled: 1, updatedAt: `${DAY}T08:01:00.000Z` }),
  ),
  record(
    3,
    request({ status: 'matched', filled: 1 }),
    request({ status: 'delivered', filled: 1, delivered: 1, updatedAt: `${DAY}T08:30:00.000Z` }),
  ),
  record(
    4,
    request({ status: 'delivered', filled: 1, delivered: 1 }),
    request({
      status: 'confirmed',
      filled: 1,
      delivered: 1,
      credit: { serviceMinutes: 29, points: 10 },
      updatedAt: `${DAY}T09:00:00.000Z`,
    }),
  ),
];

const lifeCounted = {
  'status.confirmed': 1,
  'kind.groceries': 1,
  'community.east-garden': 1,
  'town.east-town': 1,
  'toMatched.le60': 1,
  'toDelivered.le1800': 1,
  personTimes: 1,
  serviceMinutes: 29,
  points: 10,
};
/** The day's: the same, and the request marked counted in its hour too. */
const lifeCountedDay = { ...lifeCounted, receivedByHour: 1 };

beforeEach(() => {
  resetAws();
  fakeTable();
});

describe('count-transitions (table stream consumer), once per tumbling window', () => {
  it('a window’s non-final invocations write nothing and hand on the summed state; its final invocation writes the day and the hour once each', async () => {
    let state: State = {};
    for (const r of life) {
      const out = await handler(event([r], state));
      expect(Object.keys(out)).toEqual(['state']);
      state = out.state;
    }
    expect(ddb).not.toHaveReceivedCommand(UpdateCommand);
    // The whole life summed: the moves through matched and delivered cancel out.
    const summed = (bucket: string) =>
      Object.fromEntries(Object.entries(lifeCounted).map(([k, n]) => [`${bucket}/${k}`, n]));
    expect(state).toEqual({
      ...summed(DAY),
      [`${DAY}/receivedByHour`]: 1,
      ...summed(HOUR),
      first: '1'.padStart(40, '0'),
      last: '4'.padStart(40, '0'),
      end: '4'.padStart(40, '0'),
    });

    expect(await handler(final(state))).toEqual({ state: {} });
    expect(totals(DAY)).toEqual(lifeCountedDay);
    expect(totals(HOUR)).toEqual(lifeCounted);
    expect(writes).toBe(2);
    expect(ddb).not.toHaveReceivedCommand(TransactWriteCommand);
    const written = [...items.values()];
    expect(written.map((i) => i.pk).sort()).toEqual([`STATS#${DAY}`, `STATS#${HOUR}`]);
    for (const item of written) {
      expect(item.sk).toMatch(/^SHARD#[0-9a-f]{16}$/);
      expect(item.seq).toBe('4'.padStart(40, '0'));
    }
  });

  it('the state carries across invocations: batch by batch or all at once, the same counts', async () => {
    const byBatch = await handler(
      event(life.slice(2), (await handler(event(life.slice(0, 2)))).state),
    );
    const atOnce = await handler(event(life));
    expect(byBatch).toEqual(atOnce);
  });

  it('records delivered with the final invocation itself are counted too', async () => {
    const { state } = await handler(event(life.slice(0, 2)));
    await handler(final(state, life.slice(2)));
    expect(totals(DAY)).toEqual(lifeCountedDay);
    expect(totals(HOUR)).toEqual(lifeCounted);
    expect(writes).toBe(2);
  });

  it('a final invocation run again (Lambda retries it until it succeeds) adds nothing', async () => {
    const { state } = await handler(event(life));
    await handler(final(state));
    await handler(final(state));
    expect(totals(DAY)).toEqual(lifeCountedDay);
    expect(totals(HOUR)).toEqual(lifeCounted);
    expect(writes).toBe(2);
  });

  it('a final invocation that wrote one bucket and failed on the other: its retry writes only the other', async () => {
    const toOps = record(
      2,
      request({ scope: 'district' }),
      request({ scope: 'ops', updatedAt: `${DAY}T08:10:00.000Z` }),
    );
    const { state } = await handler(
      event([record(1, undefined, request({ scope: 'district' })), toOps]),
    );
    failWrites = 1;
    await expect(handler(final(state))).rejects.toThrow(/second bucket/);
    const received = {
      'status.received': 1,
      'kind.groceries': 1,
      'community.east-garden': 1,
      'town.east-town': 1,
    };
    expect(totals(DAY)).toEqual({ ...received, receivedByHour: 1 });
    expect(totals(HOUR)).toEqual(received);
    expect(totals('all')).toEqual({});

    await handler(final(state));
    await handler(final(state));
    expect(totals(DAY)['status.received']).toBe(1);
    expect(totals(HOUR)['status.received']).toBe(1);
    expect(totals('all')).toEqual({ waitingForDispatch: 1 });
    expect(writes).toBe(3);
  });

  it('a non-final invocation retried with the state it was given adds its batch once, and never changes that state', async () => {
    const { state: before } = await handler(event(life.slice(0, 2)));
    const given = frozen(before);
    // The first run fails after returning nothing Lambda keeps (a timeout, say): the retry
    // gets the same state.
    const first = await handler(event(life.slice(2), given));
    const retried = await handler(event(life.slice(2), given));
    expect(retried).toEqual(first);
    expect(given).toEqual(before);
    await handler(final(retried.state));
    expect(totals(DAY)).toEqual(lifeCountedDay);
    expect(totals(HOUR)).toEqual(lifeCounted);
  });

  it('consecutive windows each add their own records; a late repeat of an earlier window’s final adds nothing', async () => {
    const { state: first } = await handler(event(life.slice(0, 2)));
    await handler(final(first));
    await window([life.slice(2)]);
    expect(totals(DAY)).toEqual(lifeCountedDay);
    await handler(final(first));
    expect(totals(DAY)).toEqual(lifeCountedDay);
    expect(totals(HOUR)).toEqual(lifeCounted);
    // Two windows, each writing the day and the hour.
    expect(writes).toBe(4);
  });

  it('an item holding part of a window (the per-batch writes of before): nothing added, never twice', async () => {
    // The first two records were counted by a per-batch write; the window holds all four.
    const { state: early } = await handler(event(life.slice(0, 2)));
    await handler(final(early));
    const { state } = await handler(event(life));
    await handler(final(state));
    const partly = {
      'status.matched': 1,
      'kind.groceries': 1,
      'community.east-garden': 1,
      'town.east-town': 1,
      'toMatched.le60': 1,
    };
    expect(totals(DAY)).toEqual({ ...partly, receivedByHour: 1 });
    expect(totals(HOUR)).toEqual(partly);
  });

  it('a window ended early (its state too large) writes as a final invocation does', async () => {
    const { state } = await handler(event(life));
    await handler({ ...event([], state), isWindowTerminatedEarly: true });
    expect(totals(DAY)).toEqual(lifeCountedDay);
    expect(totals(HOUR)).toEqual(lifeCounted);
  });

  it('compares sequence numbers as numbers (AWS’s are up to 40 digits, of varying length)', async () => {
    const aws = (r: DynamoDBRecord, seq: string) => ({
      ...r,
      dynamodb: { ...r.dynamodb, SequenceNumber: seq },
    });
    await window([[aws(life[0], '9')]]);
    await window([[aws(life[1], '10')]]);
    expect(totals(DAY)).toMatchObject({ 'status.matched': 1 });
    expect(totals(DAY)['status.received']).toBeUndefined();
  });

  it('waiting for dispatch counts in the district-wide bucket; left to ops and taken in one window, nothing', async () => {
    const posted = record(1, undefined, request({ scope: 'district' }));
    const toOps = record(2, request({ scope: 'district' }), request({ scope: 'ops' }));
    // The second batch repeats a record the window counted already.
    await window([[posted, toOps], [toOps]]);
    expect(totals('all')).toEqual({ waitingForDispatch: 1 });
    fakeTable();
    const taken = record(
      3,
      request({ scope: 'ops' }),
      request({ scope: 'ops', status: 'matched', filled: 1 }),
    );
    await window([[posted, toOps], [taken]]);
    expect(totals('all')).toEqual({});
    // The day and the hour; nothing for `all`.
    expect(writes).toBe(2);
  });

  it('a window touching two hours writes each hour once and the day once; its final run again adds nothing', async () => {
    const at = (id: string, createdAt: string) =>
      record(
        Number(id),
        undefined,
        request({ pk: `REQ#req_${id}`, requestId: `req_${id}`, createdAt, updatedAt: createdAt }),
        { pk: `REQ#req_${id}`, sk: 'REQ' },
      );
    const late = at('1', `${DAY}T08:59:59.999Z`);
    const early = at('2', `${DAY}T09:00:00.000Z`);
    // Received yesterday at 23:30, cancelled now: moves yesterday's hour and day.
    const yesterday = request({ createdAt: '2026-12-02T23:30:00.000Z' });
    const cancelled = record(3, yesterday, { ...yesterday, status: 'cancelled' });
    const { state } = await handler(event([late, early, cancelled]));
    await handler(final(state));
    await handler(final(state));
    const received = {
      'status.received': 1,
      'kind.groceries': 1,
      'community.east-garden': 1,
      'town.east-town': 1,
    };
    expect(totals(`${DAY}T08`)).toEqual(received);
    expect(totals(`${DAY}T09`)).toEqual(received);
    expect(totals(DAY)).toEqual({
      'status.received': 2,
      'kind.groceries': 2,
      'community.east-garden': 2,
      'town.east-town': 2,
      receivedByHour: 2,
    });
    const moved = { 'status.received': -1, 'status.cancelled': 1 };
    expect(totals('2026-12-02T23')).toEqual(moved);
    expect(totals('2026-12-02')).toEqual(moved);
    expect(writes).toBe(5);
  });

  it('ignores offers, tasks and other items, and deleted requests', async () => {
    const offer = { pk: 'REQ#req_1', sk: 'OFFER#vol_1', status: 'open' };
    const out = await window([
      [
        record(1, undefined, offer, { pk: 'REQ#req_1', sk: 'OFFER#vol_1' }),
        record(2, request({ status: 'confirmed' }), undefined),
      ],
    ]);
    expect(out).toEqual({ state: {} });
    expect(ddb).not.toHaveReceivedCommand(UpdateCommand);
  });

  it('a volunteer’s first task of a day counts them active that day once; a second task, a delivery or a repeat adds nothing', async () => {
    const vol = (over: Record<string, unknown>) => ({
      pk: 'VOL#vol_1',
      sk: 'VOL',
      type: 'volunteer',
      active: 0,
      tasksDay: '2026-12-02',
      tasksToday: 3,
      ...over,
    });
    const keys = { pk: 'VOL#vol_1', sk: 'VOL' };
    const first = record(5, vol({}), vol({ tasksDay: DAY, tasksToday: 1, active: 1 }), keys);
    const second = record(
      6,
      vol({ tasksDay: DAY, tasksToday: 1, active: 1 }),
      vol({ tasksDay: DAY, tasksToday: 2, active: 2 }),
      keys,
    );
    const delivered = record(
      7,
      vol({ tasksDay: DAY, tasksToday: 2, active: 2 }),
      vol({ tasksDay: DAY, tasksToday: 2, active: 1 }),
      keys,
    );
    const { state } = await handler(event([first, second, delivered]));
    await handler(final(state));
    await handler(final(state));
    expect(totals(DAY)).toEqual({ volunteersActive: 1 });
    // A newly registered volunteer has no task yet: not active.
    await window([[record(8, undefined, vol({ tasksDay: '0000-00-00', tasksToday: 0 }), keys)]]);
    expect(totals(DAY)).toEqual({ volunteersActive: 1 });
    expect(totals('0000-00-00')).toEqual({});
  });

  it('a request’s move and its volunteer’s first task in one window: one write for the day (and one for the request’s hour)', async () => {
    const keys = { pk: 'VOL#vol_1', sk: 'VOL' };
    const taken = record(
      3,
      { pk: 'VOL#vol_1', sk: 'VOL', tasksDay: '2026-12-01', tasksToday: 2 },
      { pk: 'VOL#vol_1', sk: 'VOL', tasksDay: DAY, tasksToday: 1 },
      keys,
    );
    await window([[life[0]], [life[1]], [taken]]);
    expect(writes).toBe(2);
    expect(totals(DAY)).toMatchObject({ 'status.matched': 1, volunteersActive: 1 });
    // Volunteers active are per day only.
    expect(totals(HOUR)).toMatchObject({ 'status.matched': 1 });
    expect(totals(HOUR).volunteersActive).toBeUndefined();
  });

  it('fails the batch without a shard id (the mapping needs its tumbling window), writing nothing', async () => {
    const { shardId, ...plain } = event(life);
    await expect(handler(plain)).rejects.toThrow(/tumbling window/);
    await expect(handler({ ...plain, isFinalInvokeForWindow: true })).rejects.toThrow(
      /tumbling window/,
    );
    expect(ddb).not.toHaveReceivedCommand(UpdateCommand);
  });

  it('fails on a state it did not write rather than count from it', async () => {
    await expect(handler(event(life, { first: 'x' }))).rejects.toThrow(/window state/);
    await expect(handler(event(life, { 'status.received': '1' } as State))).rejects.toThrow(
      /window state/,
    );
  });
});
