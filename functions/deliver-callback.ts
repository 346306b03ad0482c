import { queueConsumer } from '#shared/queue-consumer.ts';
import { callbackMessage } from '#shared/schemas/messages/callbacks.ts';
import { deliverCallback } from '#shared/services/callbacks.ts';

/** Idempotent by a sent marker per event id; retries are new delayed messages. */
export const { handler, processor } = queueConsumer(callbackMessage, (m) =>
  deliverCallback(m, new Date()),
);
