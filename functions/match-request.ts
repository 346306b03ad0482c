import { queueConsumer } from '#shared/queue-consumer.ts';
import { matchMessage } from '#shared/schemas/messages/match.ts';
import { matchRequest } from '#shared/services/matcher.ts';

/**
 * Idempotency: conditional writes, not Powertools idempotency (a match is re-run on
 * purpose after declines and expiries, so its result must not be cached). Each run
 * re-reads the request; offers are conditional puts keyed by request and volunteer, the
 * scope widens on `#scope = :from`, the dispatch alert has its own marker. A redelivered
 * message (receive count > 1) re-announces the open offers: their SMS are deduplicated
 * by marker, their pushes collapse on the device, their expiry timer is conditional. Proven by test/integration/faults-*.
 */
export const { handler, processor } = queueConsumer(matchMessage, (m, info) =>
  matchRequest(m.requestId, new Date(), {
    retry: info.receiveCount > 1,
    first: m.first === true && info.receiveCount === 1,
  }),
);
