import { createHash } from 'node:crypto';
import type { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import { UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { unmarshall } from '@aws-sdk/util-dynamodb';
import { documents } from '../clients/dynamodb.ts';
import { ALL_TIME, type CounterAdds, mergeAdds } from '../domain/request-counts.ts';
import { isConditionFailure, queryAll, table } from './table.ts';

/**
 * The district's counters, per day (`STATS#<day>`) and district-wide (`STATS#all`). A
 * read sums every item of the partition, whoever wrote it:
 *
 * - request counters (statuses, kinds, durations, person-times, minutes, points, waiting
 *   for dispatch) are written by the stream consumer (functions/count-transitions.ts), one
 *   item per stream shard: `SHARD#<hash of the shard id>` (`addFromStream`);
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

/** The counter item a stream shard writes in a bucket (a day or ALL_TIME). */
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

/** One stream record's adds to a bucket, with its (padded) sequence number. */
export interface SequencedAdds {
  seq: string;
  adds: CounterAdds;
}

const MAX_ATTEMPTS = 5;

/**
 * Adds stream records' counts to the shard's item of a bucket, each record exactly once,
 * without a transaction: one UpdateItem ADDs the sum and SETs `seq` to the batch's last
 * sequence number (`last`), on condition that the item has seen none of these records
 * (`seq < first`). A batch delivered again (a retry after a crash past this write, a
 * bisected retry, a batch overlapping one already counted) fails the condition; the
 * item's `seq` comes back with the failure, and only the records after it are added.
 * Only this shard's invocations write the item, one at a time, so the retry converges.
 * Records must be in stream order. Returns how many records were added.
 */
export async function addFromStream(
  bucket: string,
  shardId: string,
  records: SequencedAdds[],
  last: string,
): Promise<number> {
  let pending = records;
  for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt++) {
    if (pending.length === 0) return 0;
    const sums = pending.reduce<CounterAdds>((acc, r) => mergeAdds(acc, r.adds), {});
    // Adds that cancel out (received then matched in one batch) write nothing; no record
    // is marked as counted either, so any later delivery of them adds the same zero.
    if (Object.keys(sums).length === 0) return 0;
    const { clause, names, values } = addClause(sums);
    try {
      await documents.send(
        new UpdateCommand({
          TableName: table(),
          Key: streamCounterKey(bucket, shardId),
          UpdateExpression: `${clause} SET #seq = :last`,
          ConditionExpression: 'attribute_not_exists(#seq) OR #seq < :first',
          ExpressionAttributeNames: { ...names, '#seq': 'seq' },
          ExpressionAttributeValues: { ...values, ':last': last, ':first': pending[0].seq },
          ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
        }),
      );
      return pending.length;
    } catch (e) {
      if (!isConditionFailure(e)) throw e;
      const old = (e as ConditionalCheckFailedException).Item;
      const seen = old ? String(unmarshall(old).seq ?? '') : '';
      pending = pending.filter((r) => r.seq > seen);
    }
  }
  throw new Error(`counters ${bucket}: ${MAX_ATTEMPTS} conditional writes refused`);
}

/** A day's counters: the sum of its items (stream shards, volunteer shards, a legacy `DAY`). */
export async function readDay(day: string): Promise<Record<string, number>> {
  const totals: Record<string, number> = {};
  const items = await queryAll({
    TableName: table(),
    KeyConditionExpression: 'pk = :pk',
    ExpressionAttributeValues: { ':pk': `STATS#${day}` },
  });
  for (const { pk, sk, seq, ...counts } of items) {
    for (const [k, n] of Object.entries(counts)) {
      if (typeof n === 'number') totals[k] = (totals[k] ?? 0) + n;
    }
  }
  return totals;
}
