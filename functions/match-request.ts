import { queueConsumer } from '#shared/queue-consumer.ts';
import { matchMessage } from '#shared/schemas/messages.ts';
import { matchRequest } from '#shared/services/matcher.ts';

/** Idempotent by re-reading: offers are conditional puts, one per request and volunteer. */
export const { handler, processor } = queueConsumer(matchMessage, (m, info) =>
  matchRequest(m.requestId, new Date(), { retry: info.receiveCount > 1 }),
);
