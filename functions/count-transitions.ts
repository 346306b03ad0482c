import { countedChanges, type TableStreamEvent } from '#shared/adapters/request-stream.ts';
import { logger } from '#shared/observability.ts';
import { addToWindow, countWindow, hasCounts, windowState } from '#shared/services/counting.ts';

/**
 * Consumer of the table's stream: counts each request change (post, slots filled,
 * delivered, confirmed with its credit, cancelled, expired, left to ops; in the day and
 * the hour the request was received) and each volunteer's first task of a day into the
 * district's counters, once per tumbling window
 * (STREAM_CONSUMER.tumblingWindowSeconds) rather than once per batch: the counter writes
 * are most of this function's cost, and a quiet district's batches hold one change each.
 *
 * Each invocation of a window adds its batch to the window's `state` and returns it;
 * Lambda passes it to the window's next invocation, and retries a failed one with the
 * state it was given, so a batch is in the state once. The window's final invocation
 * (and one that ends a window early, its state over 1 MB) adds its own records and writes
 * the sums: per stream shard, each counter item carries the last sequence number it
 * counted, and its write is conditional on it, so a final invocation run again (Lambda
 * retries it until it succeeds, holding the shard) adds nothing twice. Counts therefore
 * appear up to a window plus the batching window after the change.
 *
 * The mapping's tumbling window is also the one way Lambda tells the function the shard
 * its records come from.
 */
export const handler = async (event: TableStreamEvent) => {
  const { changes, volunteers, lastSeq, unreadable } = countedChanges(event);
  if (unreadable > 0) logger.warn('request images without the counted fields', { unreadable });
  const state = addToWindow(windowState(event.state), changes, volunteers, lastSeq);
  const final = event.isFinalInvokeForWindow === true || event.isWindowTerminatedEarly === true;
  if (!hasCounts(state)) return { state: {} };
  if (!event.shardId) {
    throw new Error('no shardId in the event: the event source mapping needs a tumbling window');
  }
  if (!final) return { state };
  const written = await countWindow(event.shardId, state).catch((error: unknown) => {
    // Lambda retries it; should it ever give up, this says which window's counts are lost.
    logger.error('final invocation failed: the window is not counted yet', {
      shardId: event.shardId,
      window: event.window,
      first: state.first,
      end: state.end,
    });
    throw error;
  });
  const partly = Object.entries(written).filter(([, w]) => w === 'partly counted');
  if (partly.length > 0) {
    logger.error('counter items already hold part of this window: its counts were not added', {
      buckets: partly.map(([bucket]) => bucket),
      shardId: event.shardId,
      first: state.first,
      last: state.last,
    });
  }
  logger.debug('counted window', {
    written,
    window: event.window,
    batch: event.Records?.length ?? 0,
  });
  return { state: {} };
};
