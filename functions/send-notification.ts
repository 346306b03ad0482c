import { queueConsumer } from '#shared/queue-consumer.ts';
import { notifyMessage } from '#shared/schemas/messages.ts';
import { deliverNotification } from '#shared/services/notifier.ts';

/** Idempotent by a conditional marker per notification id, written before Publish. */
export const { handler, processor } = queueConsumer(notifyMessage, (m) =>
  deliverNotification(m, new Date()),
);
