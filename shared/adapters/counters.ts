import { queryAll, table } from './table.ts';

/**
 * Daily counters of requests, bucketed by the day a request was received. Each update
 * rides in the same transaction as the change it counts, so a retried or repeated
 * change that does not happen is not counted either.
 *
 * A day's counters are spread over COUNTER_SHARDS items (`STATS#<day>` / `DAY#<n>`), each
 * update to one of them at random, and a read sums the day's items. On AWS, DynamoDB
 * cancels a transaction that touches an item another transaction is writing
 * (TransactionConflict): with one item per day, every intake, accept and delivery of the
 * district would meet on it during a burst. DynamoDB Local does not model this.
 */
export const COUNTER_SHARDS = 10;

/** The bucket of district-wide totals that are not per day (volunteers registered, on duty). */
export const ALL_TIME = 'all';

export const counterKey = (day: string, shard: number) => ({
  pk: `STATS#${day}`,
  sk: `DAY#${shard}`,
});

const anyShard = () => Math.floor(Math.random() * COUNTER_SHARDS);

export function counterUpdate(day: string, adds: Record<string, number>, shard = anyShard()) {
  const names: Record<string, string> = {};
  const values: Record<string, number> = {};
  const parts = Object.entries(adds).map(([field, n], i) => {
    names[`#c${i}`] = field;
    values[`:c${i}`] = n;
    return `#c${i} :c${i}`;
  });
  return {
    TableName: table(),
    Key: counterKey(day, shard),
    UpdateExpression: `ADD ${parts.join(', ')}`,
    ExpressionAttributeNames: names,
    ExpressionAttributeValues: values,
  };
}

/**
 * Counter updates for several days' changes, one per day: a transaction may not touch
 * the same item twice.
 */
export function counterUpdates(changes: [day: string, adds: Record<string, number>][]) {
  const byDay = new Map<string, Record<string, number>>();
  for (const [day, adds] of changes) {
    const merged = byDay.get(day) ?? {};
    for (const [k, n] of Object.entries(adds)) merged[k] = (merged[k] ?? 0) + n;
    byDay.set(day, merged);
  }
  return [...byDay].map(([day, adds]) => counterUpdate(day, adds));
}

/** Counter fields for a status move: into `to`, out of `from`. */
export const statusMove = (from: string | undefined, to: string): Record<string, number> =>
  from ? { [`status.${from}`]: -1, [`status.${to}`]: 1 } : { [`status.${to}`]: 1 };

/** A day's counters: the sum of its items (the shards, and a `DAY` item written before them). */
export async function readDay(day: string): Promise<Record<string, number>> {
  const totals: Record<string, number> = {};
  const items = await queryAll({
    TableName: table(),
    KeyConditionExpression: 'pk = :pk',
    ExpressionAttributeValues: { ':pk': `STATS#${day}` },
  });
  for (const { pk, sk, ...counts } of items) {
    for (const [k, n] of Object.entries(counts)) {
      if (typeof n === 'number') totals[k] = (totals[k] ?? 0) + n;
    }
  }
  return totals;
}
