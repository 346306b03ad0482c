import { countedChanges, type TableStreamEvent } from '#shared/adapters/request-stream.ts';
import { logger } from '#shared/observability.ts';
import { countChanges } from '#shared/services/counting.ts';

/**
 * Consumer of the table's stream: counts each request change (post, slots filled,
 * delivered, confirmed with its credit, cancelled, expired, left to ops) and each
 * volunteer's first task of a day into the district's counters, batched. Idempotency: per stream shard, each counter item carries
 * the last sequence number it counted, and its write is conditional on it, so a batch
 * delivered again (retry, bisected retry, crash after the write) counts each record once.
 * An error fails the whole batch: the event source mapping retries it (bisecting).
 *
 * The response carries `state` because the mapping has a tumbling window, the one way
 * Lambda tells the function the shard its records come from; the window's state is unused.
 */
export const handler = async (event: TableStreamEvent) => {
  const { changes, volunteers, lastSeq, unreadable } = countedChanges(event);
  if (unreadable > 0) logger.warn('request images without the counted fields', { unreadable });
  if (!lastSeq || changes.length + volunteers.length === 0) return { state: {} };
  if (!event.shardId) {
    throw new Error('no shardId in the event: the event source mapping needs a tumbling window');
  }
  const counted = await countChanges(event.shardId, changes, volunteers, lastSeq);
  logger.debug('counted', { ...counted, batch: event.Records.length });
  return { state: {} };
};
