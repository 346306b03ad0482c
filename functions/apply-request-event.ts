import { queueConsumer } from '#shared/queue-consumer.ts';
import { requestEvent } from '#shared/schemas/messages.ts';
import { applyEvent } from '#shared/services/events.ts';

/** Idempotent: every step is a conditional write or a notification with a fixed id. */
export const { handler, processor } = queueConsumer(requestEvent, (e) => applyEvent(e, new Date()));
