import { createHash } from 'node:crypto';
import type { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import { UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { unmarshall } from '@aws-sdk/util-dynamodb';
import { documents } from '../clients/dynamodb.ts';
import { ALL_TIME, type CounterAdds } from '../domain/request-counts.ts';
import { isConditionFailure, queryAll, table } from './table.ts';

/**
 * The district's counters, per UTC day (`STATS#<yyyy-mm-dd>`), per UTC hour
 * (`STATS#<yyyy-mm-ddThh>`, request counters only) and district-wide (`STATS#all`): the
 * buckets. A read sums every item of the partition, whoever wrote it:
 *
 * - request counters (statuses, kinds, durations, person-times, minutes, points, in the
 *   day and the hour of the request's receipt; waiting for dispatch in `all`) are written
 *   by the stream consumer (functions/count-transitions.ts), one item per stream shard:
 *   `SHARD#<hash of the shard id>`, once per tumbling window (`addWindow`);
 * - volunteer counters (registered, on duty, active that day) ride in the volunteer's own
 *   transaction, on one of COUNTER_SHARDS items `DAY#<n>` at random (`counterUpdate`): on
 *   AWS, DynamoDB cancels a transaction that touches an item another transaction is
 *   writing (TransactionConflict), and one item would be the one every accept meets on.
 *   DynamoDB Local does not model this. (A `DAY` item written before sharding is summed too.)
 */
export const COUNTER_SHARDS = 10;

export { ALL_TIME };

export const counterKey = (day: string, shard: number) => ({
  pk: `STATS#${day}`,
  sk: `DAY#${shard}`,
});

const anyShard = () => Math.floor(Math.random() * COUNTER_SHARDS);

/** Names and values of an `ADD` of each field (counter names hold dots: always by name). */
function addClause(adds: CounterAdds) {
  const names: Record<string, string> = {};
  const values: Record<string, number> = {};
  const parts = Object.entries(adds).map(([field, n], i) => {
    names[`#c${i}`] = field;
    values[`:c${i}`] = n;
    return `#c${i} :c${i}`;
  });
  return { clause: `ADD ${parts.join(', ')}`, names, values };
}

/** An update of a volunteer counter, to ride in the volunteer's transaction. */
export function counterUpdate(day: string, adds: CounterAdds, shard = anyShard()) {
  const { clause, names, values } = addClause(adds);
  return {
    TableName: table(),
    Key: counterKey(day, shard),
    UpdateExpression: clause,
    ExpressionAttributeNames: names,
    ExpressionAttributeValues: values,
  };
}

/** The counter item a stream shard writes in a bucket (a day, an hour or ALL_TIME). */
export const streamCounterKey = (bucket: string, shardId: string) => ({
  pk: `STATS#${bucket}`,
  sk: `SHARD#${createHash('sha256').update(shardId).digest('hex').slice(0, 16)}`,
});

/**
 * Stream sequence numbers as strings that compare in order: DynamoDB Local's are 21
 * digits, AWS's numeric strings of up to 40, so padded to 40 a string comparison (in a
 * condition expression too) is a numeric one.
 */
export const paddedSeq = (seq: string) => seq.padStart(40, '0');

/** The stream records a tumbling window counted, by padded sequence number. */
export interface WindowSpan {
  /** The window's first counted record: the item must have counted nothing from here on. */
  first: string;
  /** Its last counted record: an item at or past it holds the whole window. */
  last: string;
  /** The window's last record, counted or not: where the item's `seq` moves to. */
  end: string;
}

/**
 * What a window's write did to one bucket: added its sums; found them there already (a
 * final invocation retried after this write); or found an item that holds only part of the
 * window, whose sums cannot be split, so nothing was added.
 */
export type WindowWrite = 'added' | 'already counted' | 'partly counted';

/**
 * Adds a tumbling window's sums for one bucket to the shard's item, once, without a
 * transaction: one UpdateItem ADDs them and SETs `seq` to the window's end, on condition
 * that the item has counted none of the window's records (`seq < first`). A final
 * invocation retried after this write (it failed on the other bucket, or before
 * returning) is refused; the refusal returns the item, whose `seq` at or past `last` says
 * the window is in it. Only this shard's invocations write the item, one window after
 * the other, so its `seq` is before the window or at its end; anything between (the
 * per-batch writes of the code before windows, retried into a window) is reported, not
 * guessed at: the counters may then lack part of a window, never hold one twice.
 */
export async function addWindow(
  bucket: string,
  shardId: string,
  sums: CounterAdds,
  span: WindowSpan,
): Promise<WindowWrite> {
  const { clause, names, values } = addClause(sums);
  try {
    await documents.send(
      new UpdateCommand({
        TableName: table(),
        Key: streamCounterKey(bucket, shardId),
        UpdateExpression: `${clause} SET #seq = :end`,
        ConditionExpression: 'attribute_not_exists(#seq) OR #seq < :first',
        ExpressionAttributeNames: { ...names, '#seq': 'seq' },
        ExpressionAttributeValues: { ...values, ':end': span.end, ':first': span.first },
        ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
      }),
    );
    return 'added';
  } catch (e) {
    if (!isConditionFailure(e)) throw e;
    const old = (e as ConditionalCheckFailedException).Item;
    const seen = old ? String(unmarshall(old).seq ?? '') : '';
    return seen >= span.last ? 'already counted' : 'partly counted';
  }
}

/**
 * A bucket's counters (a day, an hour or ALL_TIME): the sum of its items (stream shards,
 * volunteer shards, a legacy `DAY`); `{}` for a bucket nothing was counted in.
 */
export async function readBucket(bucket: string): Promise<Record<string, number>> {
  const totals: Record<string, number> = {};
  const items = await queryAll({
    TableName: table(),
    KeyConditionExpression: 'pk = :pk',
    ExpressionAttributeValues: { ':pk': `STATS#${bucket}` },
  });
  for (const { pk, sk, seq, ...counts } of items) {
    for (const [k, n] of Object.entries(counts)) {
      if (typeof n === 'number') totals[k] = (totals[k] ?? 0) + n;
    }
  }
  return totals;
}
