import '../fixtures/env.ts';
import { describe, expect, it } from 'vitest';
import { COUNTER_SHARDS, counterUpdate } from '../../shared/adapters/counters.ts';

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
