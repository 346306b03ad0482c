import { UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { beforeEach, describe, expect, it } from 'vitest';
import { LeasedCounter, leaseSize } from '../../shared/adapters/leased-counter.ts';
import { conditionFailed, ddb, resetAws } from '../fixtures/aws.ts';

const now = new Date('2026-12-03T09:00:00Z');

/** A fake counter item: the conditional ADD DynamoDB would apply. */
function givenCounter(start = 0) {
  const item = { n: start };
  ddb.on(UpdateCommand).callsFake((input) => {
    const { ':n': n, ':room': room } = input.ExpressionAttributeValues;
    if (item.n > room) throw conditionFailed();
    item.n += n;
    return {};
  });
  return item;
}

describe('a leased counter', () => {
  let counter: LeasedCounter;
  beforeEach(() => {
    resetAws();
    counter = new LeasedCounter({ key: (s) => ({ pk: `C#${s}`, sk: 'C' }), ttlSeconds: 60 });
  });

  it('leases a fiftieth of the cap, 1 to 10', () => {
    expect([5, 50, 100, 300, 600, 1_000_000].map(leaseSize)).toEqual([1, 1, 2, 6, 10, 10]);
  });

  it('spends a lease in memory: 10 units of a cap of 600 cost one write', async () => {
    const item = givenCounter();
    for (let i = 0; i < 10; i++) expect(await counter.take('a', 600, now)).toBe(true);
    expect(ddb.commandCalls(UpdateCommand)).toHaveLength(1);
    expect(item.n).toBe(10);
  });

  it('never lets the item pass the cap: a whole lease while it fits, then one at a time', async () => {
    const item = givenCounter(595);
    const taken: boolean[] = [];
    for (let i = 0; i < 7; i++) taken.push(await counter.take('a', 600, now));
    expect(taken).toEqual([true, true, true, true, true, false, false]);
    expect(item.n).toBe(600);
  });

  it('a unit given back is spent again without a write', async () => {
    givenCounter();
    const small = 'b';
    expect(await counter.take(small, 5, now)).toBe(true);
    counter.giveBack(small);
    expect(await counter.take(small, 5, now)).toBe(true);
    expect(ddb.commandCalls(UpdateCommand)).toHaveLength(1);
  });

  it('two containers share the cap through the item', async () => {
    const item = givenCounter();
    const other = new LeasedCounter({ key: (s) => ({ pk: `C#${s}`, sk: 'C' }), ttlSeconds: 60 });
    let taken = 0;
    for (let i = 0; i < 40; i++) {
      if (await counter.take('a', 25, now)) taken++;
      if (await other.take('a', 25, now)) taken++;
    }
    expect(taken).toBe(25);
    expect(item.n).toBe(25);
  });
});
