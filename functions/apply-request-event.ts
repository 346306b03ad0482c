import { queueConsumer } from '#shared/queue-consumer.ts';
import { requestEvent } from '#shared/schemas/messages/events.ts';
import { applyEvent } from '#shared/services/events.ts';

/**
 * Idempotency: conditional writes, not Powertools idempotency. Offers are withdrawn on
 * `#status = :open`, tasks released on `accepted`, credit written once on
 * `attribute_not_exists(credited)` with the volunteer's version; notifications carry
 * ids fixed by the event (`taken:<task>`, `delivered:<request>`…): SMS deduplicated by
 * marker, a repeated push collapsed on the device by that id.
 * Events may arrive twice or out of order (e.g. task_delivered after the confirm).
 */
export const { handler, processor } = queueConsumer(requestEvent, (e) => applyEvent(e, new Date()));
