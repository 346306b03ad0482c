import { queueConsumer } from '#shared/queue-consumer.ts';
import { timerMessage } from '#shared/schemas/messages/timers.ts';
import { handleTimer } from '#shared/services/timers.ts';

/**
 * Idempotency: conditional writes, not Powertools idempotency. One timer per offer batch;
 * each offer of it expires (with its history note, one transaction per offer) only while
 * open and past its time; a request expires on
 * `#status = :received`; the ops alert has its own marker. A repeat re-queues a match,
 * which is itself idempotent.
 */
export const { handler, processor } = queueConsumer(timerMessage, (t) =>
  handleTimer(t, new Date()),
);
