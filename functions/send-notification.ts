import { queueConsumer } from '#shared/queue-consumer.ts';
import { notifyMessage } from '#shared/schemas/messages/notify.ts';
import { deliverNotification } from '#shared/services/notifier.ts';

/**
 * Idempotency, per channel. SMS: a conditional marker per notification id written before
 * Publish (the id in its request's SMS counter, else `NOTE#<id>`), not Powertools
 * idempotency: after a Lambda timeout Powertools can let a side effect run again
 * (STACK-NOTES, their #8049).
 * A failed Publish deletes the marker so the retry sends; a crash after Publish keeps it:
 * at most once, never twice. Push: no marker, at least once; a repeat carries the same
 * collapse id (the notification id) and the device shows it once. Proven by
 * test/integration/faults-* and notifications.test.ts.
 */
export const { handler, processor } = queueConsumer(notifyMessage, (m) =>
  deliverNotification(m, new Date()),
);
