import { queueConsumer } from '#shared/queue-consumer.ts';
import { timerMessage } from '#shared/schemas/messages.ts';
import { handleTimer } from '#shared/services/timers.ts';

/** Idempotent: expiries are conditional on the offer or request still being open. */
export const { handler, processor } = queueConsumer(timerMessage, (t) =>
  handleTimer(t, new Date()),
);
