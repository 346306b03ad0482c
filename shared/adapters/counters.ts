import { GetCommand } from '@aws-sdk/lib-dynamodb';
import { documents } from '../clients/dynamodb.ts';
import { table } from './table.ts';

/**
 * Daily counters of requests, bucketed by the day a request was received. Each update
 * rides in the same transaction as the change it counts, so a retried or repeated
 * change that does not happen is not counted either.
 */
/** The bucket of district-wide totals that are not per day (volunteers registered, on duty). */
export const ALL_TIME = 'all';

export const counterKey = (day: string) => ({ pk: `STATS#${day}`, sk: 'DAY' });

export function counterUpdate(day: string, adds: Record<string, number>) {
  const names: Record<string, string> = {};
  const values: Record<string, number> = {};
  const parts = Object.entries(adds).map(([field, n], i) => {
    names[`#c${i}`] = field;
    values[`:c${i}`] = n;
    return `#c${i} :c${i}`;
  });
  return {
    TableName: table(),
    Key: counterKey(day),
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

export async function readDay(day: string): Promise<Record<string, number>> {
  const { Item } = await documents.send(
    new GetCommand({ TableName: table(), Key: counterKey(day) }),
  );
  if (!Item) return {};
  const { pk, sk, ...counts } = Item;
  return counts as Record<string, number>;
}
