import { sweep } from '#shared/services/sweeper.ts';

/**
 * Runs on a schedule. Idempotency: conditional writes; overlapping or repeated runs are
 * safe. It only queues messages whose consumers are idempotent (match, window timer) and
 * confirms on `#status = :delivered`, queueing the credit event before the transition.
 */
export const handler = async () => sweep(new Date());
