// The provider's reply webhook only publishes the reply; applying it (inbound.ts) needs the
// table, queue and notification clients, which this module does not load.
import { createHash } from 'node:crypto';
import { inboundTopic } from '../adapters/inbound-topic.ts';
import { logger, maskPhone } from '../observability.ts';
import type { SmsReply } from '../schemas/sms-reply.ts';

/**
 * A reply delivered by the HTTPS SMS provider's webhook, published to the inbound SMS
 * topic in the shape End User Messaging SMS uses, so receive-sms applies it with the same
 * rules. Its id is derived from the reply itself: a provider that retries the webhook (or
 * a replay inside the signature's window) yields the same id, and receive-sms answers
 * each id once.
 */
export async function forwardProviderReply(reply: SmsReply): Promise<string> {
  const digest = createHash('sha256')
    .update(JSON.stringify([reply.from, reply.receivedAt, reply.text]))
    .digest('hex');
  const inboundMessageId = `https-${digest.slice(0, 32)}`;
  await inboundTopic.publish({
    originationNumber: reply.from,
    messageBody: reply.text,
    inboundMessageId,
  });
  logger.info('provider reply forwarded', { from: maskPhone(reply.from), inboundMessageId });
  return inboundMessageId;
}
