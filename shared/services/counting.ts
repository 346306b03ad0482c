import { addFromStream, paddedSeq, type SequencedAdds } from '../adapters/counters.ts';
import { type RequestChange, requestCounts } from '../domain/request-counts.ts';

/**
 * Counts a batch of request changes from one stream shard: each change's adds
 * (`requestCounts`) summed per bucket, one conditional write per bucket, each record
 * exactly once however often the batch is delivered (`addFromStream`). `lastSeq` is the
 * sequence number of the batch's last record, counted or not.
 */
export async function countChanges(
  shardId: string,
  changes: RequestChange[],
  lastSeq: string,
): Promise<{ records: number; buckets: number }> {
  const byBucket = new Map<string, SequencedAdds[]>();
  const ordered = changes
    .map((c) => ({ ...c, seq: paddedSeq(c.seq) }))
    .sort((a, b) => (a.seq < b.seq ? -1 : a.seq > b.seq ? 1 : 0));
  for (const c of ordered) {
    for (const [bucket, adds] of requestCounts(c.before, c.after)) {
      const list = byBucket.get(bucket) ?? [];
      list.push({ seq: c.seq, adds });
      byBucket.set(bucket, list);
    }
  }
  const last = paddedSeq(lastSeq);
  const applied = await Promise.all(
    [...byBucket].map(([bucket, records]) => addFromStream(bucket, shardId, records, last)),
  );
  return { records: applied.reduce((a, b) => a + b, 0), buckets: byBucket.size };
}
