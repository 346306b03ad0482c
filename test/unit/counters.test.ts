import '../fixtures/env.ts';
import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import { UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { marshall } from '@aws-sdk/util-dynamodb';
import { beforeEach, describe, expect, it } from 'vitest';
import {
  addWindow,
  COUNTER_SHARDS,
  counterUpdate,
  paddedSeq,
  streamCounterKey,
} from '../../shared/adapters/counters.ts';
import type { HelpRequest } from '../../shared/domain/request.ts';
import type { CountedRequest } from '../../shared/domain/request-counts.ts';
import { addToWindow, windowState, windowSums } from '../../shared/services/counting.ts';
import { ddb, resetAws } from '../fixtures/aws.ts';

beforeEach(() => resetAws());

describe('day counters', () => {
  it('spread their updates over the day’s shard items, so concurrent transactions rarely meet on one', () => {
    const keys = Array.from({ length: 200 }, () => counterUpdate('2026-12-03', { x: 1 }).Key);
    for (const key of keys) {
      expect(key.pk).toBe('STATS#2026-12-03');
      expect(key.sk).toMatch(/^DAY#\d+$/);
      expect(Number(key.sk.slice(4))).toBeLessThan(COUNTER_SHARDS);
    }
    expect(new Set(keys.map((k) => k.sk)).size).toBeGreaterThan(COUNTER_SHARDS / 2);
  });

  it('add every field of one change in one update of one item', () => {
    const u = counterUpdate('2026-12-03', { 'status.received': 1, 'kind.meal': 1 }, 4);
    expect(u.Key).toEqual({ pk: 'STATS#2026-12-03', sk: 'DAY#4' });
    expect(u.UpdateExpression).toBe('ADD #c0 :c0, #c1 :c1');
    expect(u.ExpressionAttributeNames).toEqual({ '#c0': 'status.received', '#c1': 'kind.meal' });
    expect(u.ExpressionAttributeValues).toEqual({ ':c0': 1, ':c1': 1 });
  });
});

describe('stream counters, once per tumbling window', () => {
  const span = { first: paddedSeq('100'), last: paddedSeq('180'), end: paddedSeq('200') };
  const refused = (seq: string) =>
    new ConditionalCheckFailedException({
      message: 'The conditional request failed',
      $metadata: {},
      Item: marshall({ pk: 'STATS#2026-12-03', sk: 'SHARD#x', seq: paddedSeq(seq) }),
    });

  it('a window’s sums for a bucket: one UpdateItem that ADDs them and moves seq to the window’s end, only if the item has none of its records', async () => {
    ddb.on(UpdateCommand).resolves({});
    const sums = { 'status.received': 3, 'kind.meal': 2 };
    expect(await addWindow('2026-12-03', 'shardId-1', sums, span)).toBe('added');
    expect(ddb).toHaveReceivedCommandTimes(UpdateCommand, 1);
    const input = ddb.commandCalls(UpdateCommand)[0].args[0].input;
    expect(input.Key).toEqual(streamCounterKey('2026-12-03', 'shardId-1'));
    expect(input.UpdateExpression).toBe('ADD #c0 :c0, #c1 :c1 SET #seq = :end');
    expect(input.ConditionExpression).toBe('attribute_not_exists(#seq) OR #seq < :first');
    expect(input.ExpressionAttributeValues).toEqual({
      ':c0': 3,
      ':c1': 2,
      ':end': span.end,
      ':first': span.first,
    });
  });

  it('refused by an item at or past the window’s last counted record: already counted; before it: partly, and nothing is added either way', async () => {
    ddb.on(UpdateCommand).rejects(refused('200'));
    expect(await addWindow('2026-12-03', 's', { x: 1 }, span)).toBe('already counted');
    ddb.on(UpdateCommand).rejects(refused('180'));
    expect(await addWindow('2026-12-03', 's', { x: 1 }, span)).toBe('already counted');
    ddb.on(UpdateCommand).rejects(refused('150'));
    expect(await addWindow('2026-12-03', 's', { x: 1 }, span)).toBe('partly counted');
    // One attempt each: a refusal is an answer, not something to retry.
    expect(ddb).toHaveReceivedCommandTimes(UpdateCommand, 3);
  });

  it('any other failure is thrown, so Lambda runs the final invocation again', async () => {
    ddb.on(UpdateCommand).rejects(new Error('ProvisionedThroughputExceededException'));
    await expect(addWindow('2026-12-03', 's', { x: 1 }, span)).rejects.toThrow(/Throughput/);
  });

  it('a window’s state sums each field per bucket (the hour and the day) across batches, drops sums of zero, and leaves the given state as it was', () => {
    const day = '2026-12-03';
    const req = (status: HelpRequest['status']): CountedRequest => ({
      status,
      kind: 'meal',
      communityId: 'c',
      townId: 't',
      scope: 'community',
      createdAt: `${day}T08:00:00.000Z`,
      updatedAt: `${day}T08:00:30.000Z`,
    });
    const one = addToWindow({}, [{ seq: '7', after: req('received') }], [], '9');
    const given = structuredClone(one);
    const two = addToWindow(
      one,
      [{ seq: '12', before: req('received'), after: req('cancelled') }],
      [],
      '15',
    );
    expect(one).toEqual(given);
    const hour = `${day}T08`;
    expect(two).toEqual({
      [`${hour}/status.cancelled`]: 1,
      [`${hour}/kind.meal`]: 1,
      [`${hour}/community.c`]: 1,
      [`${hour}/town.t`]: 1,
      [`${day}/status.cancelled`]: 1,
      [`${day}/kind.meal`]: 1,
      [`${day}/community.c`]: 1,
      [`${day}/town.t`]: 1,
      [`${day}/receivedByHour`]: 1,
      first: paddedSeq('7'),
      last: paddedSeq('12'),
      end: paddedSeq('15'),
    });
    const cancelled: Record<string, number> = {
      'status.cancelled': 1,
      'kind.meal': 1,
      'community.c': 1,
      'town.t': 1,
    };
    expect(windowSums(two)).toEqual(
      new Map([
        [hour, cancelled],
        [day, { ...cancelled, receivedByHour: 1 }],
      ]),
    );
    // The state survives Lambda's JSON round trip as it is.
    expect(windowState(JSON.parse(JSON.stringify(two)))).toEqual(two);
  });
});
