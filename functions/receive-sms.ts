import { queueConsumer } from '#shared/queue-consumer.ts';
import { inboundSms } from '#shared/schemas/messages/inbound.ts';
import { handleReply } from '#shared/services/inbound.ts';

/**
 * Replies to SMS, from the inbound SMS topic. Idempotent: accept, decline and confirm
 * are idempotent services, and the answer's id is the inbound message's id.
 */
export const { handler, processor } = queueConsumer(inboundSms, (m) => handleReply(m, new Date()));
