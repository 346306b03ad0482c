import { addWindow, paddedSeq, type WindowSpan, type WindowWrite } from '../adapters/counters.ts';
import {
  type CounterAdds,
  type RequestChange,
  requestCounts,
  type VolunteerChange,
  volunteerCounts,
} from '../domain/request-counts.ts';

/**
 * A tumbling window's counts so far, as Lambda hands them from one invocation of the
 * window to the next (the event's `state`, at most 1 MB per shard): `<bucket>/<field>` →
 * the field's sum over the window's records (sums of zero left out), and, once a record
 * of the window counted, `first`, `last` and `end` (WindowSpan). Flat, numbers and
 * strings only, the shape Lambda documents for `state`. Its size is bounded by the fields
 * of the days and hours a window touches (a few dozen per bucket), not by the number of
 * records.
 */
export type WindowState = Record<string, string | number>;

const SPAN = ['first', 'last', 'end'] as const;

/** Lambda's `state` as this consumer wrote it; `{}` (or none) for a window's first invocation. */
export function windowState(raw: unknown): WindowState {
  if (raw === undefined || raw === null) return {};
  if (typeof raw !== 'object' || Array.isArray(raw)) throw new Error('window state: not an object');
  for (const [key, value] of Object.entries(raw)) {
    const ok = (SPAN as readonly string[]).includes(key)
      ? typeof value === 'string' && /^\d{40}$/.test(value)
      : key.includes('/') && typeof value === 'number' && Number.isFinite(value);
    if (!ok) throw new Error(`window state: unexpected ${key}`);
  }
  const present = SPAN.filter((k) => k in raw).length;
  if (present !== 0 && present !== SPAN.length) throw new Error('window state: partial span');
  return raw as WindowState;
}

const max = (a: string | number | undefined, b: string) =>
  a === undefined || String(a) < b ? b : String(a);
const min = (a: string | number | undefined, b: string) =>
  a === undefined || String(a) > b ? b : String(a);

/**
 * The window's state with a batch of request and volunteer changes added: each change's
 * adds (`requestCounts`, `volunteerCounts`) summed per bucket and field. Returns a new
 * object and leaves `state` as it was: Lambda retries a failed invocation with the state
 * it gave it, the one the last successful invocation returned, so returning the state is
 * what commits a batch to the window, and a retried batch is added once.
 * A record the window has counted already (at or before its `end`, delivered again) adds
 * nothing. `lastSeq` is the sequence number of the batch's last record, counted or not.
 */
export function addToWindow(
  state: WindowState,
  changes: RequestChange[],
  volunteers: VolunteerChange[],
  lastSeq: string | undefined,
): WindowState {
  const next: WindowState = { ...state };
  const counted = [
    ...changes.map((c) => ({ seq: c.seq, counts: requestCounts(c.before, c.after) })),
    ...volunteers.map((c) => ({ seq: c.seq, counts: volunteerCounts(c.before, c.after) })),
  ];
  const seen = state.end === undefined ? '' : String(state.end);
  for (const { seq, counts } of counted) {
    const padded = paddedSeq(seq);
    // A record at or before the window's end is in the state already: Lambda delivers a
    // shard in order the first time, and only a failed invocation's records again.
    if (counts.size === 0 || padded <= seen) continue;
    for (const [bucket, adds] of counts) {
      for (const [field, n] of Object.entries(adds)) {
        const key = `${bucket}/${field}`;
        const sum = Number(next[key] ?? 0) + n;
        if (sum === 0) delete next[key];
        else next[key] = sum;
      }
    }
    next.first = min(next.first, padded);
    next.last = max(next.last, padded);
    next.end = max(next.end, padded);
  }
  if (next.first !== undefined && lastSeq) next.end = max(next.end, paddedSeq(lastSeq));
  return next;
}

/** Whether a window's state holds anything its final invocation must write or mark. */
export const hasCounts = (state: WindowState) => state.first !== undefined;

/** The window's sums by bucket (a day, an hour or ALL_TIME). */
export function windowSums(state: WindowState): Map<string, CounterAdds> {
  const byBucket = new Map<string, CounterAdds>();
  for (const [key, n] of Object.entries(state)) {
    const slash = key.indexOf('/');
    if (slash < 0 || typeof n !== 'number' || n === 0) continue;
    const bucket = key.slice(0, slash);
    const adds = byBucket.get(bucket) ?? {};
    adds[key.slice(slash + 1)] = n;
    byBucket.set(bucket, adds);
  }
  return byBucket;
}

/**
 * Writes a window's counts on its final invocation: one conditional write per bucket
 * (`addWindow`), each window exactly once per bucket however often the final invocation
 * runs. Buckets whose adds cancelled out are not written. Returns each bucket's outcome.
 */
export async function countWindow(
  shardId: string,
  state: WindowState,
): Promise<Record<string, WindowWrite>> {
  if (!hasCounts(state)) return {};
  const span: WindowSpan = {
    first: String(state.first),
    last: String(state.last),
    end: String(state.end),
  };
  const written = await Promise.all(
    [...windowSums(state)].map(
      async ([bucket, sums]) => [bucket, await addWindow(bucket, shardId, sums, span)] as const,
    ),
  );
  return Object.fromEntries(written);
}
