import { addFromStream, paddedSeq, type SequencedAdds } from '../adapters/counters.ts';
import {
  type RequestChange,
  requestCounts,
  type VolunteerChange,
  volunteerCounts,
} from '../domain/request-counts.ts';

/**
 * Counts a batch of request and volunteer changes from one stream shard: each change's
 * adds (`requestCounts`, `volunteerCounts`) summed per bucket, one conditional write per
 * bucket, each record exactly once however often the batch is delivered (`addFromStream`).
 * `lastSeq` is the sequence number of the batch's last record, counted or not.
 */
export async function countChanges(
  shardId: string,
  changes: RequestChange[],
  volunteers: VolunteerChange[],
  lastSeq: string,
): Promise<{ records: number; buckets: number }> {
  const byBucket = new Map<string, SequencedAdds[]>();
  const ordered = [
    ...changes.map((c) => ({ seq: paddedSeq(c.seq), counts: requestCounts(c.before, c.after) })),
    ...volunteers.map((c) => ({
      seq: paddedSeq(c.seq),
      counts: volunteerCounts(c.before, c.after),
    })),
  ].sort((a, b) => (a.seq < b.seq ? -1 : a.seq > b.seq ? 1 : 0));
  for (const c of ordered) {
    for (const [bucket, adds] of c.counts) {
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
