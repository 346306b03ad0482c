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
 * refused one returns the item (ReturnValuesOnConditionCheckFailure ALL_OLD).
 */
let items: Map<string, Record<string, unknown>>;
let writes: number;

function fakeTable() {
  items = new Map();
  writes = 0;
  ddb.on(UpdateCommand).callsFake((input) => {
    const id = `${input.Key.pk}|${input.Key.sk}`;
    const item = items.get(id);
    const values = input.ExpressionAttributeValues;
    if (item?.seq !== undefined && !(String(item.seq) < values[':first'])) {
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
    next.seq = values[':last'];
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

const event = (records: DynamoDBRecord[], shardId = 'shardId-0001'): TableStreamEvent => ({
  Records: records,
  shardId,
  window: { start: `${DAY}T08:00:00Z`, end: `${DAY}T08:15:00Z` },
  state: {},
  isFinalInvokeForWindow: false,
  isWindowTerminatedEarly: false,
});

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

beforeEach(() => {
  resetAws();
  fakeTable();
});

describe('count-transitions (table stream consumer)', () => {
  it('counts a batch of request changes into the shard’s item of the day, in one write, no transaction', async () => {
    expect(await handler(event(life))).toEqual({ state: {} });
    expect(totals(DAY)).toEqual(lifeCounted);
    expect(writes).toBe(1);
    expect(ddb).not.toHaveReceivedCommand(TransactWriteCommand);
    const [key] = [...items.values()].map((i) => i.sk);
    expect(key).toMatch(/^SHARD#[0-9a-f]{16}$/);
  });

  it('the same batch delivered twice counts once (a retry after a crash past the write)', async () => {
    await handler(event(life));
    await handler(event(life));
    expect(totals(DAY)).toEqual(lifeCounted);
    expect(writes).toBe(1);
  });

  it('a batch overlapping one already counted adds only the records after it', async () => {
    await handler(event(life.slice(0, 2)));
    await handler(event(life.slice(1)));
    expect(totals(DAY)).toEqual(lifeCounted);
  });

  it('a bisected retry of a counted batch adds nothing; records are counted once, batch by batch', async () => {
    await handler(event(life));
    await handler(event(life.slice(0, 2)));
    await handler(event(life.slice(2)));
    expect(totals(DAY)).toEqual(lifeCounted);
    // And batch by batch, each record once.
    fakeTable();
    for (const r of life) await handler(event([r]));
    await handler(event(life));
    expect(totals(DAY)).toEqual(lifeCounted);
  });

  it('compares sequence numbers as numbers (AWS’s are up to 40 digits, of varying length)', async () => {
    const aws = (r: DynamoDBRecord, seq: string) => ({
      ...r,
      dynamodb: { ...r.dynamodb, SequenceNumber: seq },
    });
    await handler(event([aws(life[0], '9')]));
    await handler(event([aws(life[1], '10')]));
    expect(totals(DAY)).toMatchObject({ 'status.matched': 1 });
    expect(totals(DAY)['status.received']).toBeUndefined();
  });

  it('waiting for dispatch counts in the district-wide bucket', async () => {
    const toOps = record(2, request({ scope: 'district' }), request({ scope: 'ops' }));
    await handler(event([record(1, undefined, request({ scope: 'district' })), toOps]));
    await handler(event([toOps]));
    expect(totals('all')).toEqual({ waitingForDispatch: 1 });
  });

  it('ignores offers, tasks and other items, and deleted requests', async () => {
    const offer = { pk: 'REQ#req_1', sk: 'OFFER#vol_1', status: 'open' };
    const out = await handler(
      event([
        record(1, undefined, offer, { pk: 'REQ#req_1', sk: 'OFFER#vol_1' }),
        record(2, request({ status: 'confirmed' }), undefined),
      ]),
    );
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
    await handler(event([first, second, delivered]));
    await handler(event([first, second, delivered]));
    expect(totals(DAY)).toEqual({ volunteersActive: 1 });
    // A newly registered volunteer has no task yet: not active.
    await handler(
      event([record(8, undefined, vol({ tasksDay: '0000-00-00', tasksToday: 0 }), keys)]),
    );
    expect(totals(DAY)).toEqual({ volunteersActive: 1 });
    expect(totals('0000-00-00')).toEqual({});
  });

  it('a request’s move and its volunteer’s first task in one batch: one write for the day', async () => {
    const keys = { pk: 'VOL#vol_1', sk: 'VOL' };
    const taken = record(
      3,
      { pk: 'VOL#vol_1', sk: 'VOL', tasksDay: '2026-12-01', tasksToday: 2 },
      { pk: 'VOL#vol_1', sk: 'VOL', tasksDay: DAY, tasksToday: 1 },
      keys,
    );
    await handler(event([life[0], life[1], taken]));
    expect(writes).toBe(1);
    expect(totals(DAY)).toMatchObject({ 'status.matched': 1, volunteersActive: 1 });
  });

  it('fails the batch without a shard id (the mapping needs its tumbling window), writing nothing', async () => {
    const { shardId, ...plain } = event(life);
    await expect(handler(plain)).rejects.toThrow(/tumbling window/);
    expect(ddb).not.toHaveReceivedCommand(UpdateCommand);
  });
});
